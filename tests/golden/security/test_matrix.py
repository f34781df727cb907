"""The coverage matrix: every (CWE class, language) cell has a rule or a written reason."""

from __future__ import annotations

import pytest

from slm_lsp.security import SecurityEngine, matrix


def test_no_cell_is_missing() -> None:
    cells = matrix.build(SecurityEngine().rules())
    assert len(cells) == len(matrix.ROWS) * len(matrix.COLUMNS) == 17 * 9
    missing = [k for k, c in cells.items() if c.status == "missing"]
    assert not missing, missing
    # the injection classes are covered by rules in every language that can have them
    for row in (
        "78 OS command injection",
        "89 SQL injection",
        "22 path traversal",
        "601 open redirect",
    ):
        assert all(
            cells[(row, lang)].rules
            for lang, _ in matrix.COLUMNS
            if (row, lang) != ("601 open redirect", "c")
        )


def test_rules_matrix_command(capsys: pytest.CaptureFixture[str]) -> None:
    from slm_lsp.cli import main

    assert main(["rules", "--matrix"]) == 0
    out = capsys.readouterr().out
    assert (
        "78 OS command injection" in out
        and "0 missing" in out
        and "PY-T078" not in out.split("\n")[0]
    )
