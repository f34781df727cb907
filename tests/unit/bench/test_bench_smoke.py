"""Each benchmark runs on a tiny input (``--quick``, the tiny model) and writes valid JSON; no figure is checked."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.slow


def bench(out: Path, *args: str, timeout: float = 120) -> dict:
    """Run ``python -m bench ARGS --quick --out OUT --no-plot`` and return the JSON it wrote."""
    name = args[0]
    proc = subprocess.run(
        [sys.executable, "-m", "bench", *args, "--quick", "--out", str(out), "--no-plot"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    files = sorted(out.glob(f"{name}*.json"))
    assert files, f"no JSON written for {name}: {proc.stdout[-2000:]}"
    data = json.loads(files[-1].read_text(encoding="utf-8"))
    assert data["benchmark"] == files[-1].stem
    assert data["machine"]["cores"] >= 1 and data["versions"]["slm-lsp"]
    return data


def test_latency(tmp_path: Path, tiny_model_path: Path) -> None:
    data = bench(tmp_path, "latency", "--model", str(tiny_model_path), "--keystrokes", "5", "--set", "model.n_threads=1")
    s = data["summary"]
    assert s["keystrokes"] == 5
    assert s["requests_answered"] + s["requests_cancelled"] == 5
    assert data["model"]["sha256"] and len(data["model"]["sha256"]) == 64
    assert data["settings"]["completion.max_tokens"]


def test_burst(tmp_path: Path, tiny_model_path: Path) -> None:
    data = bench(tmp_path, "burst", "--model", str(tiny_model_path), "--set", "model.n_threads=1")
    quiet, burst = data["quiet"], data["burst"]
    assert quiet["ms"] > 0 and burst["ms"] > 0 and burst["edits"] == 60
    # both final requests see the same document at the same place: the same prompt
    assert quiet["prompt_tokens"] == burst["prompt_tokens"]
    assert sum(burst["requests_sent"].values()) > 20 and burst["requests_cancelled"] > 0


def test_cold(tmp_path: Path, tiny_model_path: Path) -> None:
    data = bench(tmp_path, "cold", "--model", str(tiny_model_path), "--set", "model.n_threads=1")
    s, rows = data["summary"], data["rows"]
    assert (s["places"], s["answered"], s["generated"]) == (2, 2, 2) and len(rows) == 2
    assert [r["line"] for r in rows] == [p["line"] for p in data["places"]]
    assert rows[0]["line"] != rows[1]["line"]  # two places far apart ...
    for r in rows:  # ... each rebuilt exactly as the server built it, and timed raw both ways
        assert r["n_rebuilt"] == r["n_prompt"] > 100 and 0 <= r["n_evaluated"] <= r["n_prompt"]
        assert r["raw_ms"] > 0 and r["raw_chunked_ms"] > 0 and r["ratio"] > 0
        assert r["evaluated_share"] == round(r["n_evaluated"] / r["n_prompt"], 3)
    # a new first line and another region: the server's KV cache held next to nothing of the prompt
    assert s["cold"] == 2 and s["evaluated_share_min"] >= 0.9 and s["prompt_mismatches"] == 0
    assert s["ratio_basis"] == "cold" and s["ratio_p50"] > 0
    assert len(data["load_avg_at_start"]) == len(data["load_avg_at_end"]) == 3

def test_index(tmp_path: Path) -> None:
    data = bench(tmp_path, "index")
    run = data["runs"][0]
    assert run["files"] > 0 and run["plain_parse_s"] > 0 and run["incremental_ms"]["n"] > 0
    assert set(run["targets"]) >= {"cold_vs_plain", "warm_vs_cold", "incremental_p95_ms", "peak_rss_mb"}


@pytest.mark.skipif(shutil.which("bandit") is None, reason="bandit is not installed")
def test_review(tmp_path: Path) -> None:
    data = bench(tmp_path, "review")
    tools = {(r["tool"], r["jobs"]) for r in data["runs"]}
    assert {("slm-lsp", 1), ("slm-lsp", 2), ("bandit", 1)} <= tools
    assert data["agreement"]["both"] >= 1


def test_quality(tmp_path: Path, tiny_model_path: Path) -> None:
    data = bench(tmp_path, "quality", "--model", str(tiny_model_path), "--threads", "1")
    assert data["results"] and all(0.0 <= r["overall"]["edit_similarity"] <= 1.0 for r in data["results"])
    with_context = [r for r in data["results"] if r["context"]]
    assert with_context and all(r["context_effect"]["n"] == r["overall"]["n"] for r in with_context)  # paired with the run without


def test_quality_compares_models_task_by_task(tmp_path: Path, tiny_model_path: Path) -> None:
    tree = tmp_path / "proj"
    tree.mkdir()
    (tree / "steps.py").write_text("".join(f"def step_{i}(value):\n    total = value * {i}\n    return total + {i}\n\n\n" for i in range(40)))
    data = bench(tmp_path / "out", "quality", "--model", str(tiny_model_path), "--model", str(tiny_model_path), "--threads", "1", "--from", str(tree), "--no-context", "--per-kind", "1", "--seed", "0", "1", "--name", "quality-proj")
    assert data["settings"]["seed"] == [0, 1]
    first, second = data["results"]
    n = data["settings"]["tasks"]
    assert 4 < n <= 8 and len(first["scores"]) == n  # two seeds, repeats dropped
    assert "against_first" not in first
    a = second["against_first"]  # the same greedy model on the same tasks: no difference
    assert (a["mean_difference"], a["ci95"], a["ties"]) == (0.0, [0.0, 0.0], n)
    from bench.report import table

    rows = [r for r in table(tmp_path / "out").splitlines() if r.startswith("| quality") or "task by task" in r]
    assert len(rows) == 3 and "proj/ tasks, seeds 0, 1)" in rows[0] and f"+0.000 (+0.000 … +0.000); 0 / {n} / 0" in rows[2]


@pytest.mark.parametrize("setting", ["model.heal_tokens=many", "heal"])
def test_quality_bad_setting_is_one_clear_line(setting: str, tiny_model_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "bench", "quality", "--quick", "--no-context", "--model", str(tiny_model_path), "--set", setting], cwd=ROOT, capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith(("bad settings: setting 'model.heal_tokens'", "--set 'heal': expected KEY=VALUE"))


def test_paired_difference_sees_a_real_gap() -> None:
    from bench.quality import paired

    better = paired([0.9, 0.8, 0.7, 0.9], [0.1, 0.2, 0.3, 0.1])
    assert better["mean_difference"] == 0.65 and better["ci95"][0] > 0.3 and better["wins"] == 4
    mixed = paired([1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0])
    assert mixed["ci95"][0] < 0 < mixed["ci95"][1] and (mixed["wins"], mixed["losses"]) == (2, 2)


def test_quality_from_a_tree_of_ones_own(tmp_path: Path, tiny_model_path: Path) -> None:
    tree = tmp_path / "proj"
    (tree / "pkg").mkdir(parents=True)
    body = "".join(f"def step_{i}(value):\n    total = value * {i}\n    return total + {i}\n\n\n" for i in range(40))
    (tree / "pkg" / "steps.py").write_text(body)
    (tree / "small.py").write_text("x = 1\n")  # too small to cut tasks from
    data = bench(tmp_path / "out", "quality", "--model", str(tiny_model_path), "--threads", "1", "--from", str(tree), "--no-context", "--set", "model.heal_tokens=0")
    assert "proj/" in data["settings"]["task_source"]
    assert data["settings"]["model.heal_tokens"] == 0
    (result,) = data["results"]
    assert result["overall"]["n"] == 4  # one task of each kind, all from pkg/steps.py


@pytest.mark.skipif(importlib.util.find_spec("llama_cpp.server") is None or importlib.util.find_spec("uvicorn") is None, reason="llama_cpp.server is not installed")
def test_remote(tmp_path: Path, tiny_model_path: Path) -> None:
    data = bench(tmp_path, "remote", "--model", str(tiny_model_path))
    assert data["result"]["total_ratio"] > 0
