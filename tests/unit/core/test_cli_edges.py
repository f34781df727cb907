"""The command line at its edges: paths that cannot be read as files, a closed stdout, unknown names.

Each error is one line on stderr with exit status 2, for every command (``review`` must never exit 1,
which means findings, for a crash).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SLM = [sys.executable, "-m", "slm_lsp"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SLM, *args], capture_output=True, text=True, timeout=60, cwd=cwd, stdin=subprocess.DEVNULL
    )


@pytest.fixture
def odd(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "loop-a").symlink_to(tmp_path / "loop-b")
    (tmp_path / "loop-b").symlink_to(tmp_path / "loop-a")
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "ok.py").write_text("x = 1\n")
    return {"loop": tmp_path / "loop-a", "fifo": tmp_path / "fifo", "device": Path("/dev/null")}


def commands(path: Path, ok: Path) -> list[list[str]]:
    return [
        ["review", str(path)],
        ["index", str(path)],
        ["complete", f"{path}:1:1"],
        ["complete", f"{ok}:1:1", "--root", str(path)],
        ["serve", "--model", str(path)],
        ["model", "info", str(path)],
        ["config", "--config", str(path)],
    ]


@pytest.mark.parametrize("kind", ["loop", "fifo", "device"])
def test_unreadable_kinds_of_path_are_one_line_and_status_2(
    odd: dict[str, Path], kind: str
) -> None:
    ok = odd["loop"].parent / "ok.py"
    for cmd in commands(odd[kind], ok):
        res = run(*cmd)
        assert res.returncode == 2, (cmd, res.returncode, res.stderr)
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("slm-lsp: error:"), (cmd, res.stderr)
        assert str(odd[kind]) in lines[0], (cmd, lines[0])


@pytest.mark.parametrize(
    "cmd", [["rules", "--json"], ["rules"], ["config"], ["config", "--schema"], ["index", "--json"]]
)
def test_a_closed_stdout_ends_quietly(tmp_path: Path, cmd: list[str]) -> None:
    """`slm-lsp ... | head`: the reader went away; no "Broken pipe", status 0."""
    (tmp_path / "a.py").write_text("def f():\n    pass\n")
    args = [*cmd, str(tmp_path)] if cmd[0] == "index" else cmd
    proc = subprocess.Popen(
        [*SLM, *args, "--set", f"index.cache_dir={tmp_path / 'c'}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before the command writes anything
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0, err
    assert "Broken pipe" not in err and "Traceback" not in err, err


def test_an_unknown_language_is_an_error() -> None:
    res = run("rules", "--language", "cobol")
    assert res.returncode == 2
    assert "unknown language 'cobol'" in res.stderr and "python" in res.stderr
    assert run("rules", "--language", "python").returncode == 0


def test_serve_takes_a_model(tiny_model_path: Path, tmp_path: Path) -> None:
    """`serve --model PATH` is accepted (stdin at its end: the server starts and stops at once)."""
    res = run("serve", "--model", str(tiny_model_path), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "unrecognized arguments" not in res.stderr
    missing = run("serve", "--model", str(tmp_path))
    assert missing.returncode == 2 and "is not a file" in missing.stderr
