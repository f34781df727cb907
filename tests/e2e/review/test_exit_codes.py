"""Exit statuses through the real command line: 0 / 1 by --fail-on, 2 with one line for usage and I/O errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.review.conftest import ONLY_LOW, ONLY_MEDIUM, SAMPLE, review_subprocess, write


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("exit")
    return {
        "clean": write(base / "clean", {"ok.py": "print('hello')\n"}),
        "low": write(base / "low", {"a.py": ONLY_LOW}),
        "medium": write(base / "medium", {"a.py": ONLY_MEDIUM}),
        "high": write(base / "high", {"a.py": SAMPLE}),
    }


#: (tree, --fail-on) → exit status; the tree's name is its worst severity.
CASES = [
    ("clean", "low", 0),
    ("clean", "never", 0),
    ("low", "never", 0),
    ("low", "low", 1),
    ("low", "medium", 0),
    ("low", "high", 0),
    ("medium", "never", 0),
    ("medium", "low", 1),
    ("medium", "medium", 1),
    ("medium", "high", 0),
    ("high", "never", 0),
    ("high", "low", 1),
    ("high", "medium", 1),
    ("high", "high", 1),
]


@pytest.mark.parametrize(("tree", "fail_on", "expected"), CASES)
def test_fail_on(trees: dict[str, Path], tree: str, fail_on: str, expected: int) -> None:
    res = review_subprocess(
        ["--format", "json", "--fail-on", fail_on, "--jobs", "1", "."], trees[tree]
    )
    assert res.code == expected, res.err
    assert res.err == ""


def test_default_fail_on_is_medium(trees: dict[str, Path]) -> None:
    assert review_subprocess(["--jobs", "1", "."], trees["low"]).code == 0
    assert review_subprocess(["--jobs", "1", "."], trees["medium"]).code == 1


def test_fail_on_from_settings(trees: dict[str, Path]) -> None:
    assert (
        review_subprocess(["--jobs", "1", "--set", "review.fail_on=low", "."], trees["low"]).code
        == 1
    )


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["missing-folder"], "no such file or folder"),
        (["--format", "xml", "."], "invalid choice"),
        (["--fail-on", "critical", "."], "invalid choice"),
        (["--jobs", "-3", "."], "--jobs"),
        (["--jobs", "many", "."], "--jobs"),
        (["--explain-changes", "."], "--changed-since"),
        (["--changed-since", "HEAD", "."], "git repository"),
        (["--baseline", "nope.json", "."], "baseline file not found"),
        (["--set", "review.fail_on=sometimes", "."], "review.fail_on"),
        (["--config", "nope.toml", "."], "config file not found"),
        (["-o", "no/such/dir/out.json", "."], "cannot write"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    trees: dict[str, Path], args: list[str], needle: str
) -> None:
    res = review_subprocess(args, trees["high"])
    assert res.code == 2
    lines = [ln for ln in res.err.splitlines() if ln.strip()]
    assert len(lines) == 1, res.err
    assert needle in lines[0]
    assert "Traceback" not in res.err
