"""Every quick fix offered on the fixtures removes its finding and leaves code that still parses."""

from __future__ import annotations

from pathlib import Path

import pytest

from slm_lsp import languages
from slm_lsp.security import Finding, Fix, SecurityEngine, apply_fix
from slm_lsp.security.model import Edit

from .conftest import fixture_files

FILES = fixture_files()

#: Fixes the issue asks for: rule → a word that must appear in one of its fix titles
REQUIRED = {
    "PY-B506": "safe_load",
    "PY-B602": "without a shell",
    "PY-B501": "verify",
    "PY-B324": "sha256",
    "PY-B311": "secrets",
    "PY-B306": "mkstemp",
    "PY-B113": "timeout",
    "PY-B201": "debug",
    "PY-B701": "autoescape",
    "C-S002": "snprintf",
    "GO-S003": "InsecureSkipVerify",
    "JS-S010": "rejectUnauthorized",
    "JS-S006": "textContent",
}


def _shifted_line(f: Finding, fix: Fix) -> int:
    """The finding's line after the fix's edits above it moved it."""
    delta = 0
    for e in fix.edits:
        if e.end_line < f.start_line or (
            e.end_line == f.start_line
            and e.new_text.endswith("\n")
            and e.start_col == 0
            and e.start_line == e.end_line
        ):
            delta += e.new_text.count("\n") - (e.end_line - e.start_line)
    return f.start_line + delta


def _parses(text: str, lang: str) -> bool:
    return not languages.parser(lang).parse(text.encode("utf-8")).root_node.has_error


def _all_fixes(engine: SecurityEngine) -> list[tuple[Path, Finding, Fix]]:
    out = []
    for p in FILES:
        for f in engine.check(p.read_text(encoding="utf-8"), str(p)):
            for fix in f.fixes:
                out.append((p, f, fix))
    return out


def test_required_fixes_are_offered(engine: SecurityEngine) -> None:
    titles: dict[str, list[str]] = {}
    for _, f, fix in _all_fixes(engine):
        titles.setdefault(f.rule_id, []).append(fix.title)
    for rid, word in REQUIRED.items():
        assert any(word.lower() in t.lower() for t in titles.get(rid, [])), (
            f"{rid}: no fix mentioning {word!r} (got {titles.get(rid)})"
        )
    assert any("usedforsecurity" in t for t in titles["PY-B324"]), (
        "md5 needs the usedforsecurity=False alternative"
    )


def test_fixable_flag_matches(engine: SecurityEngine) -> None:
    fixed_rules = {f.rule_id for _, f, _ in _all_fixes(engine)}
    for rid in fixed_rules:
        assert engine.rule(rid).fixable, f"{rid} offers fixes but is not marked fixable"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "case",
    _all_fixes(SecurityEngine(profile="audit")),
    ids=lambda c: f"{c[0].name}:{c[1].start_line + 1}:{c[1].rule_id}:{c[2].title[:30]}",
)
def test_fix_removes_finding(engine: SecurityEngine, case: tuple[Path, Finding, Fix]) -> None:
    path, finding, fix = case
    text = path.read_text(encoding="utf-8")
    new = apply_fix(text, fix)
    assert new != text
    lang = finding.language
    if _parses(text, lang):
        assert _parses(new, lang), f"fix broke the syntax:\n{new}"
    line = _shifted_line(finding, fix)
    after = engine.check(new, str(path))
    same = [f for f in after if f.rule_id == finding.rule_id and f.start_line == line]
    assert not same, (
        f"{finding.rule_id} still reported on line {line + 1} after '{fix.title}':\n{new.splitlines()[line]}"
    )


def test_apply_fix_is_pure_and_orders_edits() -> None:
    text = "a = 1\nb = 2\n"
    fix = Fix("t", (Edit(1, 4, 1, 5, "20"), Edit(0, 4, 0, 5, "10")))
    assert apply_fix(text, fix) == "a = 10\nb = 20\n"
    assert text == "a = 1\nb = 2\n"
    assert apply_fix("x", Fix("t", (Edit(5, 0, 5, 0, "!"),))) == "x!"


def test_unicode_columns() -> None:
    """Columns are code points: a finding after non-ASCII text lines up with str indexing."""
    src = 'x = "é€😀"; eval(y)\n'
    f = [f for f in SecurityEngine(profile="audit").check(src, "a.py") if f.rule_id == "PY-B307"][0]
    assert src.split("\n")[0][f.start_col : f.end_col] == "eval(y)"
