"""The security profile keeps likely vulnerabilities; audit keeps everything."""

from __future__ import annotations

from slm_lsp.security import SecurityEngine

SRC = """\
import os, pickle, subprocess, ssl, sys
from flask import request

assert sys.argv
eval("1 + 2")
pickle.loads(blob)
os.system(request.args["cmd"])
ctx = ssl.create_default_context()
ctx.verify_mode = ssl.CERT_NONE
subprocess.run(["ls"])
"""


def pairs(findings) -> set[tuple[str, int]]:
    return {(f.rule_id, f.start_line) for f in findings}


def test_security_keeps_flows_and_misconfigurations() -> None:
    got = pairs(SecurityEngine().check(SRC, "app.py"))
    assert got == {("PY-T078", 6), ("PY-S001", 8)}


def test_audit_keeps_everything() -> None:
    got = pairs(SecurityEngine(profile="audit").check(SRC, "app.py"))
    assert {("PY-B101", 3), ("PY-B307", 4), ("PY-B301", 5), ("PY-B605", 6), ("PY-T078", 6)} <= got


def test_test_code_keeps_only_flows() -> None:
    got = pairs(SecurityEngine().check(SRC, "pkg/tests/test_app.py"))
    assert got == {("PY-T078", 6)}


def test_flows_from_argv_are_audit_only() -> None:
    src = "import os, sys\nos.system('ls ' + sys.argv[1])\n"
    assert not [f for f in SecurityEngine().check(src, "tool.py") if f.flow]
    (flow,) = [f for f in SecurityEngine(profile="audit").check(src, "tool.py") if f.flow]
    assert flow.rule_id == "PY-T078" and flow.confidence == "low"
