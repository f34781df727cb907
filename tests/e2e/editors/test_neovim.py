"""End to end in a real Neovim 0.12 (headless) with the shipped Lua plugin and the real server:
inline completion accepted into the buffer, streamed ghost text, a security diagnostic and its quick
fix, :SlmReview into the quickfix list, and clear messages when the server is missing or fails."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
PLUGIN = REPO / "editor-configs" / "neovim"

SCRIPT = Path(__file__).with_name("nvim_e2e.lua")
HELLO = "import os\n\n# say hello to \nprint(os.getcwd())\n"
INSECURE = "import yaml\n\n\ndef load(data):\n    return yaml.load(data)\n"
# the review's default (security) profile reports the data flow from the request to the shell
SHELL = 'import subprocess\nfrom flask import request\n\ndef run():\n    subprocess.call("ls " + request.args["d"], shell=True)\n'



def _workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / ".git").mkdir(parents=True)
    (ws / "hello.py").write_text(HELLO)
    (ws / "insecure.py").write_text(INSECURE)
    (ws / "shell.py").write_text(SHELL)
    return ws


def run_nvim(
    nvim: tuple[str, dict[str, str]],
    tmp_path: Path,
    mode: str,
    model: Path | None = None,
    *,
    path_env: str | None = None,
    timeout: float = 150,
) -> tuple[dict[str, Any], float, Path]:
    exe, extra = nvim
    ws = _workspace(tmp_path)
    out = tmp_path / f"result-{mode}.json"
    log = tmp_path / "server.log"
    env = {
        **os.environ,
        **extra,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        "SLM_TEST_OUT": str(out),
        "SLM_TEST_PLUGIN": str(PLUGIN),
        "SLM_TEST_WORKSPACE": str(ws),
        "SLM_TEST_PYTHON": sys.executable,
        "SLM_TEST_MODEL": str(model or ""),
        "SLM_TEST_LOG": str(log),
        "SLM_TEST_TIMEOUT_MS": "20000",
        "XDG_STATE_HOME": str(tmp_path / "state"),  # the LSP log of this Neovim
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }
    if path_env is not None:
        env["PATH"] = path_env
    t0 = time.perf_counter()
    proc = subprocess.run(
        [exe, "--headless", "-u", "NONE", "-i", "NONE", "-n", "-l", str(SCRIPT), mode],
        cwd=ws,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    took = time.perf_counter() - t0
    if not out.exists():
        server_log = log.read_text(errors="replace")[-3000:] if log.exists() else ""
        pytest.fail(
            f"nvim wrote no result (exit {proc.returncode})\nstdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-2000:]}\nserver log: {server_log}"
        )
    return json.loads(out.read_text()), took, log


@pytest.fixture(scope="module")
def e2e(
    nvim: tuple[str, dict[str, str]],
    tiny_model_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[dict[str, Any], str]:
    """One Neovim session for the end-to-end steps: (result, context for assertion messages)."""
    tmp = tmp_path_factory.mktemp("nvim-e2e")
    result, took, log = run_nvim(nvim, tmp, "e2e", tiny_model_path)
    print(f"neovim end-to-end session: {took:.1f}s")
    result["took_s"] = took
    context = f"\nresult: {json.dumps(result, indent=1)[:6000]}\nserver log tail: {log.read_text(errors='replace')[-2000:] if log.exists() else ''}"
    assert result.get("ok"), "the script did not finish" + context
    return result, context


def test_server_starts_and_reports_status(
    e2e: tuple[dict[str, Any], str], tiny_model_path: Path
) -> None:
    result, context = e2e
    attach = result["steps"]["attach"]
    assert attach["attached"] and attach["ready"], context
    assert attach["status"]["state"] == "ready", context
    assert (
        attach["status"]["model"] == tiny_model_path.name
        and attach["status"]["family"] == "deepseek"
    ), context
    assert attach["statusline"] == f"slm: {tiny_model_path.name}" or attach[
        "statusline"
    ].startswith(f"slm: {tiny_model_path.name} "), context
    assert not [n for n in result["notifications"] if n["level"] >= 4], (
        "unexpected error messages" + context
    )
    assert result["took_s"] < 60, context


def test_inline_completion_is_accepted(e2e: tuple[dict[str, Any], str]) -> None:
    result, context = e2e
    inline = result["steps"]["inline"]
    assert inline["shown"], "no inline completion was shown" + context
    assert inline["accepted"] is True, context
    assert inline["suggestion"], context
    assert inline["line_after"] == inline["line_before"] + inline["suggestion"], context
    assert {"<Tab>", "<M-]>", "<M-[>", "<C-]>"} <= set(inline["keymaps"]), context


def test_partial_suggestion_is_drawn_as_ghost_text(e2e: tuple[dict[str, Any], str]) -> None:
    result, context = e2e
    inline = result["steps"]["inline"]
    partials = inline["partials"]
    assert partials["count"] > 0 and partials["drawn"] == partials["count"], context
    texts = partials["texts"]
    # it grows as tokens arrive (post-processing may close a bracket at the end, so not strictly by prefix)
    assert len(texts) == 1 or len(texts[-1]) > len(texts[0]), (
        "the ghost text should grow as tokens arrive" + context
    )
    assert all(os.path.commonprefix([t, inline["suggestion"]]).strip() for t in texts), (
        "the ghost text should be the suggestion being written" + context
    )
    assert partials["done"] >= 1 and inline.get("ghost_after") is None, (
        "the ghost text should be cleared when generation ends" + context
    )


def test_status_line_follows_the_model(e2e: tuple[dict[str, Any], str]) -> None:
    result, context = e2e
    lines = result["steps"]["inline"]["statuslines"]
    assert any("loading model" in s for s in lines), context
    assert "slm: …" in lines, "generation was never shown" + context
    assert any(re.fullmatch(r"slm: \S+ \d+ms", s) for s in lines), (
        "the last latency was never shown" + context
    )


def test_security_diagnostic_and_quick_fix(e2e: tuple[dict[str, Any], str]) -> None:
    result, context = e2e
    fix = result["steps"]["quickfix"]
    assert fix["diagnostic"] and fix["diagnostic"]["code"] == "PY-B506", context
    assert fix["diagnostic"]["lnum"] == 4 and fix["diagnostic"]["source"] == "slm-lsp", context
    assert fix["fixed"], context
    assert fix["text"].splitlines()[4] == "    return yaml.safe_load(data)", context


def test_review_fills_the_quickfix_list(e2e: tuple[dict[str, Any], str]) -> None:
    result, context = e2e
    assert "review" in result["steps"], context
    review = result["steps"]["review"]
    found = {
        (Path(i["file"]).name, i["lnum"], i["col"], i["text"].split(":")[0], i["type"])
        for i in review["items"]
    }
    assert ("insecure.py", 5, 12, "PY-B506", "W") in found, context
    assert ("shell.py", 5, 5, "PY-T078", "E") in found, context
    assert review["title"].startswith("slm-lsp review"), context


def test_missing_server_is_reported(nvim: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    result, _, _ = run_nvim(nvim, tmp_path, "missing", path_env="/usr/bin:/bin")
    errors = [n["message"] for n in result["notifications"] if n["level"] == 4]
    assert result["setup_returned"] is False
    assert result["clients"] == 0
    assert len(errors) == 1, result
    assert "slm-lsp-does-not-exist" in errors[0] and "not found" in errors[0]
    assert "pip install" in errors[0]


def test_failing_server_is_reported(nvim: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    result, _, _ = run_nvim(nvim, tmp_path, "failing")
    assert result["got_error"], result
    errors = [n["message"] for n in result["notifications"] if n["level"] == 4]
    assert any("failed to start" in e and "no_such" in e for e in errors), errors
