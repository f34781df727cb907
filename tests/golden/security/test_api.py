"""The public API the LSP layer, the review and the completion filter build on."""

from __future__ import annotations

import json
import subprocess
import sys

from slm_lsp.security import SecurityEngine
from slm_lsp.security.model import LEVELS


def test_rules_are_complete(engine: SecurityEngine) -> None:
    rules = engine.rules()
    assert len(rules) >= 80
    assert len({r.id for r in rules}) == len(rules)
    for r in rules:
        assert r.severity in LEVELS and r.confidence in LEVELS, r.id
        assert (
            r.cwe > 0 and r.title and r.message and r.help and r.good and r.bad and r.languages
        ), r.id
        if r.id.startswith("PY-B"):
            assert r.bandit == r.id[3:], r.id
    assert engine.rule("PY-B602").bandit == "B602"  # type: ignore[union-attr]
    assert engine.rule("NOPE") is None


def test_findings_sorted_and_positioned(engine: SecurityEngine) -> None:
    src = "import os\nos.system(cmd)\neval(x); exec(y)\n"
    fs = engine.check(src, "a.py")
    assert fs == sorted(fs, key=lambda f: (f.start_line, f.start_col, f.rule_id))
    ev = [f for f in fs if f.rule_id == "PY-B307"][0]
    assert (ev.start_line, ev.start_col, ev.end_line, ev.end_col) == (2, 0, 2, 7)
    assert (
        ev.path == "a.py" and ev.language == "python" and ev.cwe == 78 and ev.severity == "medium"
    )


def test_import_alias_resolution(engine: SecurityEngine) -> None:
    src = "import subprocess as sp\nfrom os import system\nfrom hashlib import md5 as weak\nsp.call(c, shell=True)\nsystem(c)\nweak(b'x')\n"
    got = {(f.rule_id, f.start_line) for f in engine.check(src, "a.py")}
    assert {("PY-B602", 3), ("PY-B605", 4), ("PY-B324", 5)} <= got


def test_keyword_order_and_constant_propagation(engine: SecurityEngine) -> None:
    src = "import subprocess\ncmd = 'ls ' + d\nsubprocess.run(shell=True, args=None)\nsubprocess.run(cmd, check=True, shell=True)\n"
    got = {(f.rule_id, f.start_line) for f in engine.check(src, "a.py")}
    assert ("PY-S005", 3) in got and ("PY-B602", 3) in got


def test_rules_cli() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "slm_lsp", "rules", "--json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    data = json.loads(out)
    assert len(data) >= 80 and {"id", "cwe", "severity", "bandit", "languages", "enabled"} <= set(
        data[0]
    )
    table = subprocess.run(
        [sys.executable, "-m", "slm_lsp", "rules", "--language", "go"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "GO-S003" in table and "PY-B602" not in table


def test_no_lsp_imports() -> None:
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[3] / "slm_lsp" / "security"
    for p in root.rglob("*.py"):
        text = p.read_text()
        assert "pygls" not in text and "lsprotocol" not in text, p


def test_every_pattern_compiles(engine: SecurityEngine) -> None:
    from slm_lsp.security.rules import rulesets

    for rs in rulesets():
        for lang in rs.languages:
            pack = engine._pack(lang)
            assert pack is not None
            used = {id(p) for p in pack.patterns}
            for p in rs.patterns:
                assert id(p) in used, f"{lang}: pattern did not compile: {p.query[:80]}"
