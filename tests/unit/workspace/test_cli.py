"""``slm-lsp index``: the report as text and JSON (no progress bar when piped)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slm_lsp.cli import main

from .helpers import write_tree


def test_index_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(
        tmp_path / "ws",
        {"a.py": "def alpha():\n    pass\n", "b.go": "package b\n\nfunc Beta() {}\n"},
    )
    assert (
        main(
            ["index", str(tmp_path / "ws"), "--json", "--set", f"index.cache_dir={tmp_path / 'c'}"]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert (
        report["files"] == 2
        and report["symbols"] == 2
        and report["languages"] == {"go": 1, "python": 1}
    )
    assert report["cache_path"].startswith(str(tmp_path / "c")) and report["from_cache"] is False
    assert (
        main(
            ["index", str(tmp_path / "ws"), "--json", "--set", f"index.cache_dir={tmp_path / 'c'}"]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["from_cache"] is True


def test_index_text_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(tmp_path / "ws", {"a.py": "def alpha():\n    pass\n"})
    assert main(["index", str(tmp_path / "ws"), "--search", "alp"]) == 0
    out = capsys.readouterr()
    assert "symbols    1" in out.out and "alpha" in out.out and "indexing" not in out.err
    assert main(["index", str(tmp_path / "missing")]) == 2
