"""Profiles and data flows in the review: ``security`` by default, flow findings first, the flow in
text, JSON and SARIF (``codeFlows``, validated against the SARIF 2.1.0 schema)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.review.conftest import pairs, write
from tests.e2e.review.test_formats import _validator as _sarif_validator

APP = """\
import os
import subprocess
from flask import request


def handler():
    assert request.method == "GET"
    name = request.args.get("name")
    cmd = "ls " + name
    os.system(cmd)
"""


def test_security_profile_is_the_default(
    tmp_path: Path,
    review_inproc,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from slm_lsp.cli import main

    write(tmp_path, {"app.py": APP})
    secure = review_inproc(["--profile", "security", "--format", "json", "."], tmp_path).json()
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    main(["review", "--format", "json", "."])  # no --profile: the default
    default = json.loads(capsys.readouterr().out)
    audit = review_inproc(["--profile", "audit", "--format", "json", "."], tmp_path).json()
    assert pairs(secure) == {("app.py", "PY-T078", 10)} == pairs(default)
    assert secure["settings"]["profile"] == "security"
    assert {("app.py", "PY-B101", 7), ("app.py", "PY-B404", 2), ("app.py", "PY-B605", 10)} <= pairs(
        audit
    )
    assert ("app.py", "PY-T078", 10) in pairs(audit)
    assert audit["findings"][0]["rule_id"] == "PY-T078"  # data-flow findings rank first
    assert secure["summary"]["data_flow_findings"] == 1


def test_flow_in_json_text_and_sarif(tmp_path: Path, review_inproc) -> None:
    write(tmp_path, {"app.py": APP})
    doc = review_inproc(["--format", "json", "--profile", "security", "."], tmp_path).json()
    flow = doc["findings"][0]["flow"]
    assert [s["kind"] for s in flow] == ["source", "step", "step", "sink"]
    assert [s["line"] for s in flow] == [8, 8, 9, 10]
    text = review_inproc(["--profile", "security", "."], tmp_path).out
    assert "source line 8: request data: request.args" in " ".join(text.split())
    assert "sink line 10: reaches os.system()" in " ".join(text.split())
    sarif = review_inproc(["--format", "sarif", "--profile", "security", "."], tmp_path).json()
    _sarif_validator().validate(sarif)
    (result,) = sarif["runs"][0]["results"]
    locs = result["codeFlows"][0]["threadFlows"][0]["locations"]
    assert [loc["location"]["physicalLocation"]["region"]["startLine"] for loc in locs] == [
        8,
        8,
        9,
        10,
    ]
    assert locs[0]["kinds"] == ["source"] and locs[-1]["kinds"] == ["sink"]
