"""The security profile keeps likely vulnerabilities; audit keeps everything."""

from __future__ import annotations

from slm_lsp.security import SecurityEngine

SRC = """\
import os, pickle, subprocess, ssl, sys

assert sys.argv
eval("1 + 2")
pickle.loads(blob)
os.system(sys.argv[1])
ctx = ssl.create_default_context()
ctx.verify_mode = ssl.CERT_NONE
subprocess.run(["ls"])
"""


def pairs(findings) -> set[tuple[str, int]]:
    return {(f.rule_id, f.start_line) for f in findings}


def test_security_keeps_flows_and_misconfigurations() -> None:
    got = pairs(SecurityEngine().check(SRC, "app.py"))
    assert got == {("PY-T078", 5), ("PY-S001", 7)}


def test_audit_keeps_everything() -> None:
    got = pairs(SecurityEngine(profile="audit").check(SRC, "app.py"))
    assert {("PY-B101", 2), ("PY-B307", 3), ("PY-B301", 4), ("PY-B605", 5), ("PY-T078", 5)} <= got


def test_test_code_keeps_only_flows() -> None:
    got = pairs(SecurityEngine().check(SRC, "pkg/tests/test_app.py"))
    assert got == {("PY-T078", 5)}
