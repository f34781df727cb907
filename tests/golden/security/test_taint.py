"""The data-flow engine: flows are explained step by step, tables load for every language, bad input is bounded."""

from __future__ import annotations

import time

from slm_lsp.config import SecuritySettings
from slm_lsp.security import SecurityEngine, taint

FLASK = """\
from flask import request
import os

def handler():
    name = request.args.get("name")
    cmd = "ls " + name
    os.system(cmd)
"""


def test_flow_names_source_steps_and_sink(engine: SecurityEngine) -> None:
    (f,) = [f for f in engine.check(FLASK, "app.py") if f.rule_id == "PY-T078"]
    kinds = [s.kind for s in f.flow]
    assert kinds[0] == "source" and kinds[-1] == "sink"
    assert [s.line for s in f.flow] == [4, 4, 5, 6]
    assert "request.args" in f.flow[0].note and "cmd = " in f.flow[2].note
    assert "line 5" in f.message and "os.system" in f.message


def test_literal_only_values_never_taint(engine: SecurityEngine) -> None:
    src = "import os\ndef f():\n    cmd = 'ls ' + 'x'\n    cmd += ' -l'\n    os.system(cmd)\n"
    assert not [f for f in engine.check(src, "a.py") if f.rule_id.startswith("PY-T")]


def test_every_language_has_a_table_and_rules() -> None:
    langs = set(taint.languages())
    assert {
        "python",
        "javascript",
        "typescript",
        "tsx",
        "go",
        "java",
        "c",
        "cpp",
        "c_sharp",
        "ruby",
        "php",
        "rust",
    } <= langs
    for lang in langs:
        t = taint.table(lang)
        assert t is not None and t.sinks and (t.expr_sources or t.call_sources or t.out_sources)
    ids = [r.id for r in taint.rules()]
    assert len(ids) == len(set(ids))


def test_bad_input_is_bounded_and_reported() -> None:
    engine = SecurityEngine(SecuritySettings(time_budget_ms=50))
    body = "".join(f"    y{i} = x + '{i}'\n    os.system(y{i})\n" for i in range(5000))
    big = "import os, sys\ndef f():\n    x = sys.argv[1]\n" + body
    t0 = time.perf_counter()
    _findings, status = engine.check_status(big, "big.py")
    assert time.perf_counter() - t0 < 5
    assert status is not None and "partial" in status
    for text, path in (
        ("x = " + "(" * 3000 + "1" + ")" * 3000 + "\n", "deep.py"),
        ("var x = " + "[" * 5000 + "1" + "]" * 5000 + ";\nexec(x);\n", "deep.js"),
        ("function a(b){" + ";".join(f"var c{i}=b.q+{i}" for i in range(5000)) + "}", "m.min.js"),
    ):
        t0 = time.perf_counter()
        assert isinstance(engine.check_status(text, path)[0], list)
        assert time.perf_counter() - t0 < 5
