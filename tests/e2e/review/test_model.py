"""``--with-model`` and ``--explain-changes`` with the tiny real GGUF model: the structure of what the
model adds (its text is noise from random weights) and the token budget."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.review.conftest import SAMPLE, git, write
from tests.e2e.review.test_formats import _validator

STATUSES = {"ok", "no_output", "budget_exhausted", "error"}


def _check_note(note: dict) -> None:
    assert note["status"] in STATUSES
    assert isinstance(note["explanation"], str) and isinstance(note["tokens"], int)
    if note["rewrite"] is not None:
        assert {"start_line", "start_column", "end_line", "end_column", "new_text"} <= set(
            note["rewrite"]
        )


def test_with_model_json_text_and_sarif(
    tiny_model_path: Path, tmp_path: Path, review_inproc
) -> None:
    root = write(tmp_path / "proj", {"app.py": SAMPLE})
    common = [
        "--jobs",
        "1",
        "--with-model",
        "--model",
        str(tiny_model_path),
        "--set",
        "review.explanation_max_tokens=8",
        "--set",
        "review.rewrite_max_tokens=8",
    ]
    res = review_inproc(["--format", "json", *common, "."], root)
    assert res.code == 1, res.err
    doc = res.json()
    assert doc["model"]["path"] == str(tiny_model_path)
    assert 0 < doc["model"]["tokens_used"] <= doc["model"]["token_budget"]
    assert len(doc["findings"]) == 3
    for f in doc["findings"]:
        _check_note(f["model"])
        assert f["model"]["status"] != "error", f["model"]
        assert f["model"]["tokens"] <= 16
    assert sum(f["model"]["tokens"] for f in doc["findings"]) == doc["model"]["tokens_used"]

    text = review_inproc([*common, "."], root)
    assert text.code == 1 and "PY-B602" in text.out

    out = tmp_path / "r.sarif"
    review_inproc(["--format", "sarif", "-o", str(out), *common, "."], root)
    sarif = json.loads(out.read_text(encoding="utf-8"))
    assert not list(_validator().iter_errors(sarif))


def test_token_budget_bounds_the_run(tiny_model_path: Path, tmp_path: Path, review_inproc) -> None:
    root = write(tmp_path / "proj", {"app.py": SAMPLE})
    res = review_inproc(
        [
            "--format",
            "json",
            "--jobs",
            "1",
            "--with-model",
            "--model",
            str(tiny_model_path),
            "--set",
            "review.model_token_budget=10",
            "--set",
            "review.explanation_max_tokens=6",
        ],
        root,
    )
    doc = res.json()
    assert doc["model"]["tokens_used"] <= 10
    statuses = [f["model"]["status"] for f in doc["findings"]]
    assert statuses[-1] == "budget_exhausted"


def test_explain_changes_reviews_each_hunk(
    tiny_model_path: Path, tmp_path: Path, review_inproc
) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write(root, {"app.py": "def f():\n    return 1\n"})
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "first")
    write(
        root,
        {
            "app.py": "import pickle\n\ndef f(data):\n    return pickle.loads(data)\n",
            "new.py": "x = 1\n",
        },
    )
    res = review_inproc(
        [
            "--format",
            "json",
            "--jobs",
            "1",
            "--changed-since",
            "HEAD",
            "--explain-changes",
            "--model",
            str(tiny_model_path),
            "--set",
            "review.explanation_max_tokens=4",
            "--set",
            "review.rewrite_max_tokens=4",
        ],
        root,
    )
    doc = res.json()
    hunks = doc["hunks"]
    assert {h["path"] for h in hunks} == {"app.py", "new.py"}
    for h in hunks:
        assert h["start_line"] <= h["end_line"]
        _check_note(h["model"])
    assert all("model" in f for f in doc["findings"])


def test_missing_model_is_a_usage_error(tmp_path: Path, review_inproc) -> None:
    root = write(tmp_path / "proj", {"app.py": SAMPLE})
    res = review_inproc(
        ["--jobs", "1", "--with-model", "--model", str(tmp_path / "nope.gguf"), "."], root
    )
    assert res.code == 2 and len(res.err.strip().splitlines()) == 1


@pytest.mark.parametrize("fmt", ["json"])
def test_without_model_there_is_no_model_field(tmp_path: Path, review_inproc, fmt: str) -> None:
    root = write(tmp_path / "proj", {"app.py": SAMPLE})
    doc = review_inproc(["--format", fmt, "--jobs", "1", "."], root).json()
    assert "model" not in doc and all("model" not in f for f in doc["findings"])


@pytest.mark.slow
def test_qwen_rewrites_shell_true_without_a_shell_and_names_the_risk(
    tmp_path: Path, review_inproc
) -> None:
    """With the real Qwen2.5-Coder-0.5B (its chat template): the rewrite of `subprocess.call(cmd,
    shell=True)` is a subprocess call without a shell that parses, and the explanation names
    command injection. Checked by hand as well (the 0.5B model writes `shell=False`)."""
    from slm_lsp.engine.loader import find_model

    model = find_model("qwen2.5-coder-0.5b")
    if model is None:
        pytest.skip("qwen2.5-coder-0.5b not fetched: run `slm-lsp model fetch qwen2.5-coder-0.5b`")
    app = 'import subprocess\n\n\ndef run(cmd):\n    """Run a shell command."""\n    return subprocess.call(cmd, shell=True)\n'
    root = write(tmp_path / "proj", {"app.py": app})
    res = review_inproc(
        ["--format", "json", "--jobs", "1", "--with-model", "--model", str(model), "app.py"], root
    )
    doc = res.json()
    (b602,) = [f for f in doc["findings"] if f["rule_id"] == "PY-B602"]
    note = b602["model"]
    assert note["status"] == "ok", note
    assert "injection" in note["explanation"].lower(), note["explanation"]
    rewrite = note["rewrite"]["new_text"]
    assert "subprocess." in rewrite and "shell=True" not in rewrite, rewrite
    import ast

    lines = app.split("\n")
    lines[5] = rewrite
    ast.parse("\n".join(lines))
