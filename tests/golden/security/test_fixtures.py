"""Every fixture file yields exactly the (rule, line) pairs its ``expect:`` markers name."""

from __future__ import annotations

from pathlib import Path

import pytest

from slm_lsp.security import SecurityEngine

from .conftest import FIXTURES, expected_pairs, fixture_files

FILES = fixture_files()


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixture(engine: SecurityEngine, path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    findings = engine.check(text, str(path))
    got = {(f.rule_id, f.start_line) for f in findings}
    want = expected_pairs(text)
    missing = sorted(want - got, key=lambda p: p[1])
    extra = sorted(got - want, key=lambda p: p[1])
    assert not missing and not extra, (
        f"missing (rule, 0-based line): {missing}\nunexpected: {extra}"
    )


def test_every_rule_has_a_fixture() -> None:
    """Each rule is demonstrated by at least one ``expect:`` marker."""
    seen: set[str] = set()
    for p in FILES:
        seen |= {rid for rid, _ in expected_pairs(p.read_text(encoding="utf-8"))}
    missing = sorted(r.id for r in SecurityEngine().rules() if r.id not in seen)
    assert not missing, f"rules without a fixture: {missing}"
