"""What the remote backend costs: latency through an OpenAI-compatible server against the in-process backend, same model, same machine, one run.

``compare_latency(local, remote, prompts)`` takes any two engines and interleaves them (local, then
remote, per prompt and repeat) so that both see the same machine state; it reports medians and the
ratio remote / local for the time to the first piece of text and for the whole completion, and how
often both wrote the same text (with greedy sampling they should, up to float rounding: batch splits
and KV-cache reuse differ between the two processes, and a random-weight model has near-ties that
such rounding flips; a mismatch from the first character on means the prompts were tokenized apart).

``python -m bench.remote_bench --model M`` loads ``M`` in process, starts llama-cpp-python's
server on a free loopback port with the same file and thread count (or uses ``--endpoint``), and
prints the result as JSON; ``run_bench`` is the same as a function for ``python -m bench``.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from slm_lsp.generation import Engine, GenerationParams, Prompt

#: Longest wait for the llama-cpp-python server to load the model and answer.
SERVER_START_TIMEOUT_S = 120.0


@dataclass
class Sample:
    """One timed generation."""

    backend: str
    prompt_index: int
    first_ms: float  #: time to the first piece of text (the whole time when there was none)
    total_ms: float
    chars: int
    stop_reason: str


@dataclass
class RemoteBenchResult:
    """Medians per backend and the ratios remote / local."""

    local_first_ms: float
    remote_first_ms: float
    local_total_ms: float
    remote_total_ms: float
    first_ratio: float  #: remote / local, time to first text
    total_ratio: float  #: remote / local, whole completion
    overhead_ms: float  #: remote - local, whole completion: what the HTTP hop and the server add
    same_text: float  #: share of (prompt, repeat) pairs where both wrote the same text
    n_prompts: int
    repeats: int
    samples: list[Sample] = field(default_factory=list)

    def to_dict(self, with_samples: bool = False) -> dict[str, Any]:
        data = asdict(self)
        if not with_samples:
            data.pop("samples")
        return data


def _timed(
    engine: Engine, prompt: Prompt, params: GenerationParams
) -> tuple[float, float, str, str]:
    first: list[float] = []

    def on_text(piece: str) -> None:
        if not first and piece:
            first.append(time.perf_counter())

    t0 = time.perf_counter()
    gen = engine.generate(prompt, params, threading.Event(), on_text)
    t1 = time.perf_counter()
    first_ms = ((first[0] if first else t1) - t0) * 1000.0
    return first_ms, (t1 - t0) * 1000.0, gen.text, gen.stop_reason


def compare_latency(
    local: Engine,
    remote: Engine,
    prompts: Sequence[Prompt],
    params: GenerationParams | None = None,
    *,
    repeats: int = 3,
    warmup: int = 1,
) -> RemoteBenchResult:
    """Time ``prompts`` through both engines, interleaved; ``warmup`` untimed rounds first (model pages, connections)."""
    if not prompts:
        raise ValueError("compare_latency needs at least one prompt")
    params = params or GenerationParams(max_tokens=32, temperature=0.0)
    for _ in range(warmup):
        _timed(local, prompts[0], params)
        _timed(remote, prompts[0], params)
    samples: list[Sample] = []
    same = 0
    for r in range(repeats):
        for i, prompt in enumerate(prompts):
            texts = {}
            for name, engine in (
                (("local", local), ("remote", remote))
                if r % 2 == 0
                else (("remote", remote), ("local", local))
            ):
                first_ms, total_ms, text, reason = _timed(engine, prompt, params)
                texts[name] = text
                samples.append(Sample(name, i, first_ms, total_ms, len(text), reason))
            same += texts["local"] == texts["remote"]

    def med(backend: str, attr: str) -> float:
        return statistics.median(getattr(s, attr) for s in samples if s.backend == backend)

    lf, rf, lt, rt = (
        med("local", "first_ms"),
        med("remote", "first_ms"),
        med("local", "total_ms"),
        med("remote", "total_ms"),
    )
    return RemoteBenchResult(
        local_first_ms=round(lf, 2),
        remote_first_ms=round(rf, 2),
        local_total_ms=round(lt, 2),
        remote_total_ms=round(rt, 2),
        first_ratio=round(rf / lf, 3) if lf > 0 else float("inf"),
        total_ratio=round(rt / lt, 3) if lt > 0 else float("inf"),
        overhead_ms=round(rt - lt, 2),
        same_text=round(same / (repeats * len(prompts)), 3),
        n_prompts=len(prompts),
        repeats=repeats,
        samples=samples,
    )


def sample_prompts(
    family: str = "deepseek", n: int = 6, prefix_chars: int = 1500, suffix_chars: int = 400
) -> list[Prompt]:
    """FIM prompts cut from this package's own source at line starts: realistic code, no files needed."""
    from slm_lsp.prompt.templates import build_prompt, get_family

    fam = get_family(family)
    root = Path(__file__).resolve().parent.parent
    sources = sorted(p for p in root.rglob("*.py") if p.stat().st_size > 2000)
    prompts: list[Prompt] = []
    for path in sources:
        text = path.read_text(encoding="utf-8")
        cut = text.find("\n", len(text) // 2) + 1
        indent = len(text[cut:]) - len(text[cut:].lstrip(" "))
        cut += indent  # the cursor sits after the indentation, as when the user starts a line
        prompts.append(
            build_prompt(
                fam,
                prefix=text[max(0, cut - prefix_chars) : cut],
                suffix=text[cut : cut + suffix_chars],
                path=str(path.relative_to(root.parent)),
            )
        )
        if len(prompts) == n:
            break
    return prompts


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_llama_cpp_python_server(
    model: str | os.PathLike[str],
    *,
    n_ctx: int,
    n_threads: int,
    port: int | None = None,
    log_path: str | os.PathLike[str] = os.devnull,
) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``python -m llama_cpp.server`` for ``model`` on 127.0.0.1; return the process and its URL once it answers."""
    import httpx

    port = port or _free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        str(n_ctx),
        "--n_threads",
        str(n_threads),
        "--n_threads_batch",
        str(n_threads),
        "--verbose",
        "false",
    ]
    log = open(log_path, "wb")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    log.close()
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(url + "/v1/models", timeout=1.0).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    proc.wait(timeout=10)
    raise RuntimeError(f"llama_cpp.server did not start for {model} (exit code {proc.returncode})")


def run_bench(
    model: str | os.PathLike[str],
    *,
    endpoint: str = "",
    family: str = "deepseek",
    n_prompts: int = 6,
    repeats: int = 3,
    max_tokens: int = 32,
    n_ctx: int = 4096,
    n_threads: int = 0,
) -> dict[str, Any]:
    """Load ``model`` in process and behind a server (``endpoint``, or a llama-cpp-python server started here) and compare them."""
    from slm_lsp.config import ModelSettings
    from slm_lsp.engine.llama import LlamaEngine
    from slm_lsp.engine.openai import OpenAIEngine

    threads = n_threads or max(1, os.cpu_count() or 1)
    proc = None
    if not endpoint:
        proc, endpoint = start_llama_cpp_python_server(model, n_ctx=n_ctx, n_threads=threads)
    local = remote = None
    try:
        local = LlamaEngine(
            model, ModelSettings(path=str(model), family=family, n_ctx=n_ctx, n_threads=threads)
        )
        remote = OpenAIEngine(
            ModelSettings(backend="openai", endpoint=endpoint, family=family, use_infill="never"),
            family,
        )
        result = compare_latency(
            local,
            remote,
            sample_prompts(family, n_prompts),
            GenerationParams(max_tokens=max_tokens, temperature=0.0),
            repeats=repeats,
        )
        out = result.to_dict()
        out.update(
            model=Path(model).name,
            endpoint=endpoint,
            server="llama-cpp-python (started here)" if proc else "given",
            threads=threads,
            max_tokens=max_tokens,
        )
        return out
    finally:
        for engine in (local, remote):
            if engine is not None:
                engine.close()
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m bench.remote_bench",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    ap.add_argument(
        "--model", required=True, help="GGUF file loaded both in process and by the server"
    )
    ap.add_argument(
        "--endpoint",
        default="",
        help="an already running server with the same model (default: start llama-cpp-python's)",
    )
    ap.add_argument("--family", default="deepseek")
    ap.add_argument("--prompts", type=int, default=6)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args(argv)
    result = run_bench(
        args.model,
        endpoint=args.endpoint,
        family=args.family,
        n_prompts=args.prompts,
        repeats=args.repeats,
        max_tokens=args.max_tokens,
        n_threads=args.threads,
    )
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
