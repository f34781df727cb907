"""Parallel checking gives the same output as one process; skipped files are reported with a reason."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.review.conftest import ONLY_MEDIUM, SAMPLE, pairs, write


def _strip_time(doc: dict) -> dict:
    doc["summary"].pop("seconds")
    return doc


def test_parallel_output_identical_to_one_job(tmp_path: Path, review_inproc) -> None:
    files = {
        f"pkg{i % 7}/mod{i}.py": (SAMPLE if i % 3 else ONLY_MEDIUM) + f"\nVALUE = {i}\n" * (i % 5)
        for i in range(60)
    }
    write(tmp_path, files)
    one = review_inproc(["--format", "json", "--jobs", "1", "."], tmp_path)
    two = review_inproc(["--format", "json", "--jobs", "2", "."], tmp_path)
    three = review_inproc(["--format", "json", "--jobs", "3", "."], tmp_path)
    assert one.code == two.code == three.code == 1
    assert _strip_time(one.json()) == _strip_time(two.json()) == _strip_time(three.json())
    assert one.json()["summary"]["files_scanned"] == 60
    sarif1 = review_inproc(["--format", "sarif", "--jobs", "1", "."], tmp_path).out
    sarif2 = review_inproc(["--format", "sarif", "--jobs", "2", "."], tmp_path).out
    assert sarif1 == sarif2


def test_unreadable_binary_and_huge_files_are_reported_as_skipped(
    tmp_path: Path, review_inproc
) -> None:
    write(
        tmp_path,
        {
            "app.py": SAMPLE,
            "blob.py": b"\x00\x01\x02binary" * 10,
            "huge.py": "x = 1\n" * 400,
            "dir.py/inner.py": ONLY_MEDIUM,  # a folder named like a file is walked, not read
            "README.md": "not code\n",
            "image.png": b"\x89PNG\x00\x00",
        },
    )
    (tmp_path / "dangling.py").symlink_to(tmp_path / "does-not-exist.py")
    os.mkfifo(tmp_path / "pipe.py")
    res = review_inproc(
        ["--format", "json", "--jobs", "2", "--set", "security.max_file_bytes=1000", "."], tmp_path
    )
    doc = res.json()
    skipped = {s["path"]: s["reason"] for s in doc["files_skipped"]}
    assert skipped["blob.py"] == "binary"
    assert skipped["huge.py"].startswith("too large")
    assert skipped["dangling.py"] == "broken symlink"
    assert skipped["pipe.py"] == "not a regular file"
    assert set(skipped) == {"blob.py", "huge.py", "dangling.py", "pipe.py"}
    assert {p for p, _, _ in pairs(doc)} == {"app.py", "dir.py/inner.py"}
    assert doc["summary"]["files_scanned"] == 2
    assert res.code == 1  # exits by the findings, not by the skipped files
    clean = review_inproc(
        [
            "--format",
            "json",
            "--jobs",
            "1",
            "--set",
            "security.max_file_bytes=1000",
            "blob.py",
            "huge.py",
        ],
        tmp_path,
    )
    assert clean.code == 0 and len(clean.json()["files_skipped"]) == 2
    # named on the command line, a FIFO is a usage error (reading it would block), not a skip
    named = review_inproc(["--jobs", "1", "pipe.py"], tmp_path)
    assert (
        named.code == 2 and named.err == "slm-lsp: error: pipe.py is a FIFO, not a file or folder\n"
    )
    text = review_inproc(["--jobs", "1", "--set", "security.max_file_bytes=1000", "."], tmp_path)
    assert "Skipped files" in text.out and "pipe.py: not a regular file" in text.out


def test_an_unreadable_file_is_skipped_with_its_error(tmp_path: Path) -> None:
    from slm_lsp.config import SecuritySettings
    from slm_lsp.review.files import Target
    from slm_lsp.review.scan import check_one
    from slm_lsp.security.engine import SecurityEngine

    (
        tmp_path / "gone.py"
    ).mkdir()  # open() of a folder fails like an unreadable file (tests run as root)
    res = check_one(
        SecurityEngine(SecuritySettings()),
        Target(str(tmp_path / "gone.py"), "gone.py", "python", 0),
    )
    assert res.skip is not None and res.skip.startswith("unreadable:")


def test_gitignore_and_exclude_are_respected(tmp_path: Path, review_inproc) -> None:
    write(
        tmp_path,
        {
            ".gitignore": "generated/\n*.gen.py\n",
            "src/.gitignore": "local.py\n",
            "src/app.py": ONLY_MEDIUM,
            "src/local.py": ONLY_MEDIUM,
            "src/x.gen.py": ONLY_MEDIUM,
            "generated/out.py": ONLY_MEDIUM,
            "node_modules/pkg/a.py": ONLY_MEDIUM,
            ".venv/lib.py": ONLY_MEDIUM,
            "tools/run": "#!/usr/bin/env python3\n" + ONLY_MEDIUM,
        },
    )
    doc = review_inproc(["--format", "json", "--jobs", "1", "."], tmp_path).json()
    assert {p for p, _, _ in pairs(doc)} == {"src/app.py", "tools/run"}
    # node_modules/ is in the default review.exclude: its file is counted, not silently dropped
    assert doc["summary"]["files_excluded"] == 1
    text = review_inproc(["--jobs", "1", "."], tmp_path).out
    assert "1 excluded by review.exclude" in text
    named = review_inproc(["--format", "json", "--jobs", "1", "src/local.py"], tmp_path).json()
    assert {p for p, _, _ in pairs(named)} == {
        "src/local.py"
    }  # a file named on the command line is checked


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_no_progress_bar_when_piped(tmp_path: Path, review_inproc, jobs: str) -> None:
    write(tmp_path, {"a.py": SAMPLE})
    res = review_inproc(["--format", "json", "--jobs", jobs, "."], tmp_path)
    assert res.err == ""


def test_a_named_folder_that_git_ignores_is_still_reviewed(tmp_path: Path, review_inproc) -> None:
    write(
        tmp_path,
        {
            ".gitignore": "/versions/\n*.tmp.py\n",
            "versions/lib/json/a.py": ONLY_MEDIUM,
            "versions/lib/json/b.tmp.py": ONLY_MEDIUM,
            "versions/lib/json/.gitignore": "skip.py\n",
            "versions/lib/json/skip.py": ONLY_MEDIUM,
        },
    )
    (tmp_path / ".git").mkdir()
    doc = review_inproc(
        ["--format", "json", "--jobs", "1", "--root", str(tmp_path), "versions/lib/json"], tmp_path
    ).json()
    assert {p for p, _, _ in pairs(doc)} == {"versions/lib/json/a.py", "versions/lib/json/b.tmp.py"}
    assert (
        review_inproc(["--format", "json", "--jobs", "1", "."], tmp_path).json()["findings"] == []
    )
