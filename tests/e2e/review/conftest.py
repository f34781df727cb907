"""Helpers for the review tests: sample repositories and ways to run ``slm-lsp review``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]

#: One finding of each severity (rule, 1-based line): low PY-B404 (1), high PY-B602 (4), medium PY-B307 (7).
SAMPLE = """import subprocess


def run(cmd):
    subprocess.call(cmd, shell=True)


def calc(expr):
    return eval(expr)
"""
SAMPLE_EXPECTED = {("PY-B404", 1), ("PY-B602", 5), ("PY-B307", 9)}
ONLY_LOW = "import subprocess\n"
ONLY_MEDIUM = "def calc(expr):\n    return eval(expr)\n"


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> dict:
        return json.loads(self.out)


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
    return root


def git(root: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    return subprocess.run(
        ["git", *args], cwd=root, env=env, check=True, capture_output=True, text=True
    ).stdout


def pairs(doc: dict) -> set[tuple[str, str, int]]:
    """(path, rule, 1-based line) of every finding in a JSON report."""
    return {(f["path"], f["rule_id"], f["start_line"]) for f in doc["findings"]}


def _profiled(args: list[str]) -> list[str]:
    """These tests exercise formats, baselines and exit codes over every rule: the ``audit`` profile,
    unless a test names a profile itself (``--profile security`` is the default for users)."""
    return args if "--profile" in args else ["--profile", "audit", *args]


@pytest.fixture
def review_inproc(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """Run ``slm-lsp review ARGS`` in this process, in folder ``cwd``."""
    from slm_lsp.cli import main

    def run(args: list[str], cwd: Path) -> Result:
        monkeypatch.chdir(cwd)
        capsys.readouterr()
        code = main(["review", *_profiled(args)])
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


def review_subprocess(args: list[str], cwd: Path, timeout: float = 120) -> Result:
    """Run ``python -m slm_lsp review ARGS`` as a child process (exit statuses as CI sees them)."""
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "slm_lsp", "review", *_profiled(args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)
