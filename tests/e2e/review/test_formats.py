"""Output formats: the JSON schema's fields, SARIF validated against the official 2.1.0 schema and
GitHub code scanning's requirements, and the text report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.review.conftest import SAMPLE, SAMPLE_EXPECTED, pairs, write

#: The public OASIS SARIF 2.1.0 schema (sarif-schema-2.1.0.json), kept with the tests.
SARIF_SCHEMA = Path(__file__).resolve().parent / "fixtures" / "sarif-schema-2.1.0.json"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return write(
        tmp_path / "proj",
        {
            "pkg/app.py": SAMPLE,
            "pkg/hash.py": "import hashlib\nh = hashlib.md5(b'x')\n",
            "notes.txt": "eval(x)\n",
        },
    )


def test_json_schema_fields(tree: Path, review_inproc) -> None:
    res = review_inproc(["--format", "json", "--jobs", "1", "."], tree)
    assert res.code == 1
    doc = res.json()
    assert doc["schema_version"] == 1
    assert {(r, ln) for p, r, ln in pairs(doc) if p == "pkg/app.py"} == SAMPLE_EXPECTED
    f = next(f for f in doc["findings"] if f["rule_id"] == "PY-B602")
    assert (f["path"], f["start_line"], f["start_column"]) == ("pkg/app.py", 5, 26)
    assert f["end_line"] == 5 and f["end_column"] > f["start_column"]
    assert f["cwe"] == "CWE-78" and f["severity"] == "high" and f["confidence"] == "high"
    assert f["code"] == "    subprocess.call(cmd, shell=True)"
    assert len(f["fingerprint"]) == 32
    md5 = next(f for f in doc["findings"] if f["rule_id"] == "PY-B324")
    assert md5["fix"]["edits"][0]["new_text"] == "sha256"
    s = doc["summary"]
    assert (
        s["files_scanned"] == 2
        and s["findings"] == 4
        and s["by_severity"] == {"high": 2, "medium": 1, "low": 1}
    )
    assert s["failing"] == 3 and isinstance(s["seconds"], float)
    assert doc["files_skipped"] == []


def _validator():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def test_sarif_validates_and_meets_github_requirements(
    tree: Path, review_inproc, tmp_path: Path
) -> None:
    out = tmp_path / "results.sarif"
    res = review_inproc(["--format", "sarif", "-o", str(out), "--jobs", "1", "."], tree)
    assert res.code == 1 and res.out == ""
    doc = json.loads(out.read_text(encoding="utf-8"))
    errors = sorted(_validator().iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]

    run = doc["runs"][0]
    assert doc["version"] == "2.1.0"
    assert run["columnKind"] == "unicodeCodePoints"
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"].endswith("/")
    rules = run["tool"]["driver"]["rules"]
    for rule in rules:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["help"]["text"] and rule["help"]["markdown"]
        props = rule["properties"]
        float(props["security-severity"])
        assert isinstance(props["security-severity"], str)
        assert props["precision"] in ("low", "medium", "high", "very-high")
        assert "security" in props["tags"]
        assert any(t.startswith("external/cwe/cwe-") and t[17:].isdigit() for t in props["tags"])
    results = run["results"]
    assert {
        (r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"])
        for r in results
        if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "pkg/app.py"
    } == SAMPLE_EXPECTED
    for r in results:
        loc = r["locations"][0]["physicalLocation"]["artifactLocation"]
        assert loc["uriBaseId"] == "%SRCROOT%" and not loc["uri"].startswith("/")
        assert r["partialFingerprints"]
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
    md5 = next(r for r in results if r["ruleId"] == "PY-B324")
    rep = md5["fixes"][0]["artifactChanges"][0]["replacements"][0]
    assert rep["insertedContent"]["text"] == "sha256"
    assert rep["deletedRegion"]["startLine"] == 2


def test_sarif_of_an_empty_review_validates(tmp_path: Path, review_inproc) -> None:
    write(tmp_path, {"ok.py": "x = 1\n"})
    res = review_inproc(["--format", "sarif", "--jobs", "1", "."], tmp_path)
    assert res.code == 0
    doc = json.loads(res.out)
    assert not list(_validator().iter_errors(doc))
    assert doc["runs"][0]["results"] == []


def test_text_report(tree: Path, review_inproc) -> None:
    res = review_inproc(["--jobs", "1", "."], tree)
    assert res.code == 1
    assert "pkg/app.py" in res.out
    assert (
        "5:26" in res.out and "PY-B602" in res.out and "subprocess.call(cmd, shell=True)" in res.out
    )
    assert "Findings by rule" in res.out
    assert "\x1b[" not in res.out  # no colour when piped
    assert "4 findings (2 high, 1 medium, 1 low)" in res.out
