"""``--changed-since`` in a real git repository, and the baseline round trip."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.review.conftest import ONLY_MEDIUM, SAMPLE, git, pairs, review_subprocess, write

OLD = """import os


def old(expr):
    return eval(expr)


def unchanged():
    return 1
"""


def _repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write(root, {"old.py": OLD, "untouched.py": ONLY_MEDIUM, ".gitignore": "ignored.py\n"})
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "first")
    return root


def test_changed_since_reviews_only_changed_lines(tmp_path: Path, review_inproc) -> None:
    root = _repo(tmp_path)
    base = git(root, "rev-parse", "HEAD").strip()
    # a committed change: a new eval at the end of old.py (the old eval on line 5 stays)
    (root / "old.py").write_text(
        OLD + "\n\ndef new(expr):\n    return eval(expr)\n", encoding="utf-8"
    )
    git(root, "commit", "-q", "-am", "second")
    # an uncommitted change in a tracked file, an untracked file, an ignored file
    (root / "untouched.py").write_text(
        ONLY_MEDIUM.replace("expr)", "expr)  # changed"), encoding="utf-8"
    )
    write(root, {"sub/new.py": SAMPLE, "ignored.py": ONLY_MEDIUM})
    res = review_inproc(
        ["--format", "json", "--jobs", "1", "--changed-since", base], root / "sub"
    )  # run from a subfolder
    doc = res.json()
    got = pairs(doc)
    assert ("old.py", "PY-B307", 13) in got
    assert ("old.py", "PY-B307", 5) not in got
    assert ("untouched.py", "PY-B307", 2) in got
    assert {(p, r) for p, r, _ in got if p == "sub/new.py"} == {
        ("sub/new.py", "PY-B404"),
        ("sub/new.py", "PY-B602"),
        ("sub/new.py", "PY-B307"),
    }
    assert not any(p == "ignored.py" for p, _, _ in got)
    assert doc["summary"]["outside_changes"] == 1
    assert doc["settings"]["changed_since"] == base
    # nothing changed since HEAD once everything is committed
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "third")
    clean = review_inproc(["--format", "json", "--jobs", "1", "--changed-since", "HEAD", "."], root)
    assert clean.code == 0 and clean.json()["findings"] == []
    bad = review_inproc(["--changed-since", "no-such-rev", "."], root)
    assert bad.code == 2 and "unknown git revision" in bad.err


def test_changed_since_handles_renames_and_odd_names(tmp_path: Path, review_inproc) -> None:
    root = _repo(tmp_path)
    git(root, "mv", "old.py", "renamed é.py")
    git(root, "commit", "-q", "-m", "rename")
    (root / "renamed é.py").write_text(
        OLD.replace("def unchanged", "def changed"), encoding="utf-8"
    )
    doc = review_inproc(
        ["--format", "json", "--jobs", "1", "--changed-since", "HEAD~1", "."], root
    ).json()
    assert pairs(doc) == set()  # only the def line changed; the eval on line 5 did not
    (root / "renamed é.py").write_text(
        OLD.replace("eval(expr)", "eval(expr or '')"), encoding="utf-8"
    )
    doc = review_inproc(
        ["--format", "json", "--jobs", "1", "--changed-since", "HEAD~1", "."], root
    ).json()
    assert pairs(doc) == {("renamed é.py", "PY-B307", 5)}


def test_baseline_round_trip(tmp_path: Path) -> None:
    root = write(tmp_path / "proj", {"app.py": SAMPLE, "lib/util.py": ONLY_MEDIUM})
    baseline = tmp_path / "baseline.json"
    first = review_subprocess(["--jobs", "1", "--write-baseline", str(baseline), "."], root)
    assert first.code == 0, first.err
    data = json.loads(baseline.read_text(encoding="utf-8"))
    assert data["schema_version"] == 1 and len(data["findings"]) == 4
    assert all(set(e) == {"fingerprint", "rule_id", "path", "line"} for e in data["findings"])

    again = review_subprocess(
        ["--format", "json", "--jobs", "1", "--baseline", str(baseline), "."], root
    )
    assert (
        again.code == 0
        and again.json()["findings"] == []
        and again.json()["summary"]["baselined"] == 4
    )

    # move everything around: lines added above, functions reordered, re-indented; no new finding
    moved = "import subprocess\n# a comment\n\n\nclass Calc:\n    def calc(self, expr):\n        return   eval(expr)\n\n\ndef run(cmd):\n    '''doc'''\n    subprocess.call(cmd, shell=True)\n"
    write(root, {"app.py": moved, "lib/util.py": "\n\n\n" + ONLY_MEDIUM})
    res = review_subprocess(
        ["--format", "json", "--jobs", "1", "--baseline", str(baseline), "."], root
    )
    assert res.code == 0 and res.json()["findings"] == [], res.out

    # a second identical finding in the same file is new (occurrence index), and fails
    write(root, {"lib/util.py": ONLY_MEDIUM + "\n\ndef calc2(expr):\n    return eval(expr)\n"})
    res = review_subprocess(
        ["--format", "json", "--jobs", "1", "--baseline", str(baseline), "."], root
    )
    assert res.code == 1
    assert pairs(res.json()) == {("lib/util.py", "PY-B307", 6)}
    assert res.json()["summary"]["baselined"] == 4


def test_bad_baseline_is_a_usage_error(tmp_path: Path) -> None:
    root = write(tmp_path / "proj", {"app.py": SAMPLE, "bad.json": "{not json"})
    res = review_subprocess(["--baseline", "bad.json", "."], root)
    assert res.code == 2 and len(res.err.strip().splitlines()) == 1 and "not JSON" in res.err
