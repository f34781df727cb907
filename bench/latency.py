"""Inline-completion latency through the real server over stdio, against raw llama-cpp-python on the same prompts.

1. Spawn ``python -m slm_lsp serve`` and drive it with pygls's ``LanguageClient`` as an editor does:
   ``didOpen``, then per keystroke a ``didChange`` and an ``inlineCompletion`` request (trigger
   ``Automatic``); the previous request is cancelled (``$/cancelRequest``) when a key arrives before
   its answer. Each answered request's server-side timings come from the ``slm/status`` notification
   sent just before the answer (prompt tokens, tokens evaluated after KV reuse, tokens generated).
2. Stop the server, load the same model in this process and, for every answered request, rebuild its
   prompt with the product's ``CompletionService`` and time raw llama-cpp-python on it twice:
   *raw* — the KV cache holding exactly what the server's held (``n_prompt - n_evaluated`` tokens),
   then the same number of tokens generated: the server's overhead is ``server / raw``;
   *floor* — the KV cache holding the prompt of the previous keystroke: only the tokens that changed
   are evaluated, then the answer's tokens generated: the best any server could do.
   A few prompts are also timed cold (empty KV cache) for the warm/cold speed-up.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench import common
from bench.typing import Session, apply, make_script

#: Stdlib files typed into (short functions, plain code); the first ``--files`` are used.
DEFAULT_FILES = ("textwrap.py", "shlex.py", "fnmatch.py", "colorsys.py", "glob.py", "calendar.py")
#: Settings per model shape: small budgets keep the 1.3B model's cold prompts to a few seconds on 2 cores.
SHAPE_SETTINGS: dict[str, dict[str, Any]] = {
    "default": {"completion.prefix_chars": 1500, "completion.suffix_chars": 400, "context.budget_tokens": 128, "completion.max_tokens": 24, "model.n_ctx": 2048},
    "deepseek-1.3b": {"completion.prefix_chars": 1000, "completion.suffix_chars": 200, "context.budget_tokens": 64, "completion.max_tokens": 8, "model.n_ctx": 1024},
}
#: Keystrokes per run (full, quick) and the end-of-line pause per shape (long enough for an answer).
KEYSTROKES = {"default": (150, 10), "deepseek-1.3b": (60, 6)}
FILES = {"default": 3, "deepseek-1.3b": 2}
PAUSE_MS = {"default": (1000, 3000), "deepseek-1.3b": (8000, 12000)}
#: Prompts timed cold in the replay.
COLD_SAMPLES = {"default": 6, "deepseek-1.3b": 2}
#: A request counts as warm when at most this share of its prompt was evaluated (a FIM prompt re-evaluates its suffix on every key) ...
WARM_SHARE = 0.5
#: ... and cold when at least this share was.
COLD_SHARE = 0.9


@dataclass
class Request:
    """One inlineCompletion request as the client saw it."""

    session: int
    key: int
    sent: float
    done: float | None = None
    cancelled: bool = False  #: the client sent $/cancelRequest before the answer
    error: str = ""
    items: int = 0
    text: str = ""
    timings: dict[str, Any] = field(default_factory=dict)  #: from slm/status; empty for a cache hit
    cached: bool = False

    @property
    def latency_ms(self) -> float | None:
        return None if self.done is None else (self.done - self.sent) * 1000


def deepseek_model() -> Path:
    """The DeepSeek-Coder-1.3B-shaped Q8_0 model (random weights), built once into the bench cache."""
    from tests.kit.synthetic import DEEPSEEK_1_3B, build_model

    path = common.cache_dir() / "deepseek-coder-1.3b-shaped.q8_0.gguf"
    if not path.exists():
        print(f"building {path.name} (about 25 s)...", file=sys.stderr)
        tmp = path.with_suffix(".part")
        build_model(tmp, DEEPSEEK_1_3B, quant="q8_0", name="deepseek-coder-1.3b-shaped (random weights)")
        os.replace(tmp, path)
    return path


def _get(obj: Any, key: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(key, default)
    return getattr(obj, key, default)


async def drive(server_cmd: list[str], root: Path, sessions: list[Session], quick: bool) -> tuple[list[Request], dict[str, Any], float]:
    """Type ``sessions`` into a server started with ``server_cmd``; return requests, final slm.status, model load seconds."""
    from lsprotocol import types as lsp
    from pygls.lsp.client import LanguageClient

    logging.getLogger("pygls").setLevel(logging.CRITICAL)
    client = LanguageClient("slm-lsp-bench", "1")
    statuses: list[tuple[float, Any]] = []

    @client.feature("slm/status")
    def _on_status(params: Any) -> None:
        statuses.append((time.perf_counter(), params))

    for method in (lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS, lsp.WINDOW_LOG_MESSAGE, lsp.WINDOW_SHOW_MESSAGE, "$/progress", "slm/partialCompletion"):
        client.feature(method)(lambda *_a: None)

    await client.start_io(*server_cmd)
    stderr_tail: list[bytes] = []

    async def drain() -> None:  # the server logs to stderr; an unread pipe would block it
        proc = client._server  # noqa: SLF001 - pygls keeps the process here
        assert proc is not None and proc.stderr is not None
        while True:
            line = await proc.stderr.readline()
            if not line:
                return
            stderr_tail.append(line)
            del stderr_tail[:-50]

    drainer = asyncio.create_task(drain())
    caps = lsp.ClientCapabilities(text_document=lsp.TextDocumentClientCapabilities(inline_completion=lsp.InlineCompletionClientCapabilities()))
    await client.initialize_async(lsp.InitializeParams(capabilities=caps, root_uri=root.as_uri(), workspace_folders=[lsp.WorkspaceFolder(uri=root.as_uri(), name=root.name)]))
    client.initialized(lsp.InitializedParams())
    t0 = time.perf_counter()
    status: Any = {}
    while time.perf_counter() - t0 < 300:
        status = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(command="slm.status"))
        ready = _get(status, "model_state") == "ready"
        if ready and (_get(status, "indexed") or time.perf_counter() - t0 > 60):
            break
        if _get(status, "model_state") == "failed":
            break
        await asyncio.sleep(0.05)
    load_s = time.perf_counter() - t0
    if _get(status, "model_state") != "ready":
        raise RuntimeError(f"model did not load: {status}; server stderr: {b''.join(stderr_tail).decode(errors='replace')[-2000:]}")

    requests: list[Request] = []
    for si, sess in enumerate(sessions):
        uri = sess.path.as_uri()
        text = sess.opened
        version = 1
        client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(uri=uri, language_id="python", version=version, text=text)))
        pending: tuple[Request, str, asyncio.Future[Any]] | None = None
        tasks: list[asyncio.Task[None]] = []
        for ki, key in enumerate(sess.keys):
            await asyncio.sleep(key.gap_ms / 1000)
            if pending is not None and pending[0].done is None:
                pending[0].cancelled = True
                client.protocol.notify("$/cancelRequest", lsp.CancelParams(id=pending[1]))
            version += 1
            text = apply(text, key)
            pos = lsp.Position(line=key.line, character=key.col)
            client.text_document_did_change(
                lsp.DidChangeTextDocumentParams(
                    text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
                    content_changes=[lsp.TextDocumentContentChangePartial(range=lsp.Range(start=pos, end=pos), text=key.text)],
                )
            )
            req = Request(si, ki, time.perf_counter())
            mid = f"bench-{si}-{ki}"
            params = lsp.InlineCompletionParams(
                text_document=lsp.TextDocumentIdentifier(uri=uri),
                position=lsp.Position(line=key.after[0], character=key.after[1]),
                context=lsp.InlineCompletionContext(trigger_kind=lsp.InlineCompletionTriggerKind.Automatic),
            )
            fut = asyncio.wrap_future(client.protocol.send_request(lsp.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id=mid))
            requests.append(req)
            tasks.append(asyncio.create_task(_await(req, fut, statuses)))
            pending = (req, mid, fut)
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=180)
        client.text_document_did_close(lsp.DidCloseTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=uri)))
    final = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(command="slm.status"))
    await client.shutdown_async(None)
    client.exit(None)
    try:
        await asyncio.wait_for(client.stop(), timeout=10)
    except (asyncio.TimeoutError, Exception):
        pass
    drainer.cancel()
    final_d = {k: _get(final, k) for k in ("model_state", "model", "family", "cache_hits", "cache_misses", "last_latency_ms", "indexed", "engine_counters", "budget_note")}
    final_d["engine_counters_at_start"] = _get(status, "engine_counters")
    return requests, final_d, load_s


async def _await(req: Request, fut: asyncio.Future[Any], statuses: list[tuple[float, Any]]) -> None:
    try:
        res = await fut
    except Exception as exc:  # cancelled requests answer with an error (-32800)
        req.done = time.perf_counter()
        req.error = type(exc).__name__
        return
    req.done = time.perf_counter()
    items = list(_get(res, "items", []) or []) if res is not None else []
    req.items = len(items)
    req.text = str(_get(items[0], "insert_text", "")) if items else ""
    # the slm/status sent right before this answer carries the generation's timings
    for t, st in reversed(statuses):
        if t < req.sent:
            break
        if _get(st, "latency_ms") is not None and _get(st, "prompt_tokens") is not None:
            req.timings = {k: _get(st, k) for k in ("latency_ms", "prompt_tokens", "prompt_tokens_evaluated", "prompt_ms", "generated_tokens", "generation_ms", "budgets") if _get(st, k) is not None}
            if "budgets" in req.timings:  # pygls hands nested objects over as its own type
                req.timings["budgets"] = {k: int(_get(req.timings["budgets"], k)) for k in ("prefix_chars", "suffix_chars", "context_tokens", "max_tokens")}
            break
    req.cached = not req.timings and req.items > 0


# ----------------------------------------------------------------------------------------- replay
def replay(model: Path, settings_over: dict[str, Any], root: Path, sessions: list[Session], requests: list[Request], cold_samples: int) -> dict[str, Any]:
    """Time raw llama-cpp-python on the prompts of the answered requests (see the module docstring)."""
    from slm_lsp.completion.budgets import Budgets
    from slm_lsp.completion.document import Document, relative_path
    from slm_lsp.completion.service import CompletionService
    from slm_lsp.config import Settings
    from slm_lsp.engine.llama import LlamaEngine
    from slm_lsp.generation import GenerationParams  # noqa: F401 - documents what the server used

    settings, errors = Settings.from_layers({"model.path": str(model), **settings_over})
    if errors:
        raise ValueError(errors)
    engine = LlamaEngine(model, settings.model)
    llm = engine.llm
    service = CompletionService(settings)
    retriever_kind = _attach_retriever(service, settings, root)

    texts: dict[tuple[int, int], tuple[str, tuple[int, int]]] = {}
    for si, sess in enumerate(sessions):
        text = sess.opened
        for ki, key in enumerate(sess.keys):
            text = apply(text, key)
            texts[(si, ki)] = (text, key.after)

    def ids_for(si: int, ki: int, budgets: dict[str, int] | None = None) -> list[int]:
        """The prompt of key ``ki``, with the budgets the server used (when a latency target lowered them)."""
        text, (line, col) = texts[(si, ki)]
        path = sessions[si].path
        doc = Document(uri=path.as_uri(), path=relative_path(str(path), str(root)), text=text, language="python", language_id="python", version=ki + 2)
        plan = service.plan(doc, line, col, engine.count_tokens, Budgets(**budgets) if budgets else None)
        return engine.prompt_tokens(service.prompt_for(engine, plan))

    def prime(ids: list[int], keep: int) -> None:
        """Leave exactly ``keep`` leading tokens of ``ids`` in the KV cache (untimed)."""
        have = 0
        for a, b in zip(llm.input_ids[: llm.n_tokens], ids, strict=False):
            if a != b:
                break
            have += 1
        if have >= keep:
            llm.n_tokens = keep
        else:
            llm.n_tokens = have
            if keep > have:
                llm.eval(ids[have:keep])

    def timed(ids: list[int], n_gen: int) -> float:
        return common.timed_generate(llm, ids, n_gen, temp=0.0, top_p=0.95)

    rows = []
    mismatched = 0
    answered = [r for r in requests if r.timings and not r.cancelled and not r.error]
    for r in answered:
        budgets = r.timings.get("budgets")
        ids = ids_for(r.session, r.key, budgets)
        n_prompt = int(r.timings["prompt_tokens"])
        n_eval = int(r.timings["prompt_tokens_evaluated"])
        n_gen = int(r.timings["generated_tokens"]) + 1  # +1: the end-of-generation token also costs a step
        if len(ids) != n_prompt:
            mismatched += 1
        prev = ids_for(r.session, r.key - 1, budgets) if r.key > 0 else []
        common_prefix = 0
        for a, b in zip(prev, ids, strict=False):
            if a != b:
                break
            common_prefix += 1
        prime(ids, min(common_prefix, len(ids) - 1))
        floor_ms = timed(ids, n_gen)
        keep = max(0, min(len(ids) - 1, n_prompt - n_eval))
        prime(ids, keep)
        raw_ms = timed(ids, n_gen)
        rows.append({"budgets": budgets, "session": r.session, "key": r.key, "server_ms": round(r.latency_ms or 0, 2), "raw_ms": round(raw_ms, 2), "floor_ms": round(floor_ms, 2), "n_prompt": n_prompt, "n_evaluated": n_eval, "n_changed": len(ids) - common_prefix, "n_generated": n_gen - 1})
    cold = []
    warm_rows = [row for row in rows if row["n_evaluated"] <= WARM_SHARE * row["n_prompt"]]
    for row in warm_rows[:cold_samples]:
        ids = ids_for(row["session"], row["key"], row["budgets"])
        llm.reset()
        cold_ms = timed(ids, row["n_generated"] + 1)
        prime(ids, len(ids) - 1)
        warm_ms = timed(ids, row["n_generated"] + 1)
        cold.append({"cold_ms": round(cold_ms, 2), "warm_ms": round(warm_ms, 2), "n_prompt": len(ids)})
    engine.close()
    return {"rows": rows, "cold": cold, "prompt_mismatches": mismatched, "retriever": retriever_kind}


def _attach_retriever(service: Any, settings: Any, root: Path) -> str:
    """Give the replay the same cross-file context the server has (when the context package provides it)."""
    try:
        from slm_lsp.context.retrieve import ContextRetriever
    except ImportError:
        return "none (slm_lsp.context.retrieve not available: the server has none either)"
    index = None
    if settings.index.enabled:
        from slm_lsp.workspace.index import WorkspaceIndex

        index = WorkspaceIndex(root, settings.index)
        index.load_or_build()
    service.retriever = ContextRetriever(index, settings.context)
    return "ContextRetriever over the workspace index"


# ----------------------------------------------------------------------------------------- report
#: A gap before the next key at least this long is a pause (the issue's figure: a suggestion should show in it).
PAUSE_S = 0.4


def pause_figures(requests: list[dict[str, Any]], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """For every pause (the last key before a gap of ``PAUSE_S`` or more, or the session's last key): was a
    suggestion shown before the next key, and how long after the key; with the floor of those requests.
    Works on a result file's ``requests`` and ``replay`` lists (so older runs can be re-read)."""
    by_session: dict[int, list[dict[str, Any]]] = {}
    for r in requests:
        by_session.setdefault(r["session"], []).append(r)
    floor = {(row["session"], row["key"]): row["floor_ms"] for row in rows}
    pauses, shown, lat, floors = 0, 0, [], []
    for reqs in by_session.values():
        reqs.sort(key=lambda r: r["key"])
        for i, r in enumerate(reqs):
            nxt = reqs[i + 1]["sent"] if i + 1 < len(reqs) else None
            if nxt is not None and nxt - r["sent"] < PAUSE_S:
                continue
            pauses += 1
            done = r.get("done")
            if r.get("items") and done is not None and (nxt is None or done <= nxt) and not r.get("cancelled"):
                shown += 1
                lat.append((done - r["sent"]) * 1000)
                if (r["session"], r["key"]) in floor:
                    floors.append(floor[(r["session"], r["key"])])
    p = common.percentile
    lat.sort()
    floors.sort()
    return {
        "pauses": pauses,
        "pauses_with_suggestion": shown,
        "pauses_with_suggestion_pct": round(100 * shown / pauses, 1) if pauses else None,
        "pause_latency_ms_p50": common._r(p(lat, 50)) if lat else None,
        "pause_latency_ms_p95": common._r(p(lat, 95)) if lat else None,
        "pause_floor_ms_p50": common._r(p(floors, 50)) if floors else None,
        "pause_floor_ms_p95": common._r(p(floors, 95)) if floors else None,
    }


def analyse(requests: list[Request], rep: dict[str, Any], status: dict[str, Any], debounce_ms: float = 30.0) -> dict[str, Any]:
    answered = [r for r in requests if not r.cancelled and not r.error and r.done is not None]
    lat = [r.latency_ms for r in answered if r.latency_ms is not None]
    shown = [r.latency_ms for r in answered if r.items and r.latency_ms is not None]
    generated = [r for r in answered if r.timings]
    rows = rep["rows"]
    server = [row["server_ms"] for row in rows]
    raw = [row["raw_ms"] for row in rows]
    floor = [row["floor_ms"] for row in rows]
    ratios = sorted(s / r for s, r in zip(server, raw, strict=True) if r > 0)
    warm = [r.latency_ms for r in generated if r.timings["prompt_tokens_evaluated"] <= WARM_SHARE * r.timings["prompt_tokens"]]
    cold = [r.latency_ms for r in generated if r.timings["prompt_tokens_evaluated"] >= COLD_SHARE * r.timings["prompt_tokens"]]
    p50 = common.percentile
    out = {
        "keystrokes": len(requests),
        "requests_answered": len(answered),
        "requests_cancelled": sum(r.cancelled for r in requests),
        "requests_with_suggestion": sum(1 for r in answered if r.items),
        "requests_generated": len(generated),
        "cache_hits": status.get("cache_hits"),
        "cache_misses": status.get("cache_misses"),
        "latency_ms": common.summary(lat),
        "latency_with_suggestion_ms": common.summary(shown),
        "server_generated_ms": common.summary(server),
        "raw_ms": common.summary(raw),
        "floor_ms": common.summary(floor),
        "overhead_ratio_p50": round(p50(ratios, 50), 3) if ratios else None,
        "overhead_ratio_total": round(sum(server) / sum(raw), 3) if raw and sum(raw) else None,
        "overhead_ratio_p50_without_debounce": round(p50(sorted((s - debounce_ms) / r for s, r in zip(server, raw, strict=True) if r > 0), 50) or 0, 3) if raw else None,
        "overhead_ms_p50": round(p50([s - r for s, r in zip(server, raw, strict=True)], 50) or 0, 2) if raw else None,
        "vs_floor_ratio_p50": round(p50(sorted(s / f for s, f in zip(server, floor, strict=True) if f > 0), 50) or 0, 3) if floor else None,
        "server_warm_ms_p50": common._r(p50(warm, 50)),
        "server_cold_ms_p50": common._r(p50(cold, 50)),
        "server_warm_n": len(warm),
        "server_cold_n": len(cold),
        "warm_speedup_server": round(p50(cold, 50) / p50(warm, 50), 2) if warm and cold and p50(warm, 50) else None,
        "warm_speedup_raw": round(p50([c["cold_ms"] for c in rep["cold"]], 50) / p50([c["warm_ms"] for c in rep["cold"]], 50), 2) if rep["cold"] else None,
        "mean_prompt_tokens": round(sum(r["n_prompt"] for r in rows) / len(rows), 1) if rows else None,
        "mean_tokens_evaluated": round(sum(r["n_evaluated"] for r in rows) / len(rows), 1) if rows else None,
        "mean_tokens_changed": round(sum(r["n_changed"] for r in rows) / len(rows), 1) if rows else None,
        "mean_tokens_generated": round(sum(r["n_generated"] for r in rows) / len(rows), 1) if rows else None,
        "prompt_mismatches": rep["prompt_mismatches"],
        "retriever": rep["retriever"],
    }
    warm_r = sorted(row["server_ms"] / row["raw_ms"] for row in rows if row["raw_ms"] > 0 and row["n_evaluated"] <= WARM_SHARE * row["n_prompt"])
    cold_r = sorted(row["server_ms"] / row["raw_ms"] for row in rows if row["raw_ms"] > 0 and row["n_evaluated"] >= COLD_SHARE * row["n_prompt"])
    out["overhead_ratio_warm_p50"] = round(p50(warm_r, 50), 3) if warm_r else None
    out["overhead_ratio_cold_p50"] = round(p50(cold_r, 50), 3) if cold_r else None
    out["overhead_n_warm_cold"] = [len(warm_r), len(cold_r)]
    out.update(pause_figures([asdict(r) for r in requests], rows))
    out["budget_note"] = status.get("budget_note") or ""
    start, end = status.get("engine_counters_at_start") or {}, status.get("engine_counters") or {}
    if end:
        delta = {k: end.get(k, 0) - start.get(k, 0) for k in end}
        out["engine_counters"] = delta
        out["tokens_evaluated_per_key"] = round(delta.get("prompt_tokens_evaluated", 0) / max(1, len(requests)), 2)
        out["line_tokens_evaluated_per_key"] = round(delta.get("line_tokens_evaluated", 0) / max(1, len(requests)), 2)
    return out


def plot(name: str, title: str, rows: list[dict[str, Any]], requests: list[Request], out: Path | None = None) -> Path | None:
    if not rows:
        return None
    plt = common.pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    xs = range(len(rows))
    axes[0].plot(xs, [r["server_ms"] for r in rows], ".-", label="server (LSP, stdio)")
    axes[0].plot(xs, [r["raw_ms"] for r in rows], ".-", label="raw llama-cpp-python, same KV")
    axes[0].plot(xs, [r["floor_ms"] for r in rows], ".-", label="floor: changed tokens only")
    axes[0].set_xlabel("answered request")
    axes[0].set_ylabel("ms")
    axes[0].set_yscale("log")
    axes[0].legend(fontsize=7)
    axes[0].set_title("per request")
    lat = sorted(r.latency_ms for r in requests if not r.cancelled and not r.error and r.latency_ms is not None)
    if lat:
        axes[1].plot(lat, [(i + 1) / len(lat) for i in range(len(lat))])
    axes[1].set_xlabel("time to answer (ms)")
    axes[1].set_ylabel("share of answered requests")
    axes[1].set_xscale("log")
    axes[1].set_title("distribution")
    fig.suptitle(title, fontsize=9)
    return common.save_plot(fig, name, out)


def run(args: Any) -> dict[str, Any]:
    shape = args.model_shape
    if args.model:
        model = Path(args.model)
    elif shape == "deepseek-1.3b":
        model = deepseek_model()
    else:
        from slm_lsp.engine.loader import find_smollm2

        found = find_smollm2()
        if found is None:
            raise SystemExit("SmolLM2 (this benchmark's default) is not installed: run `python -m slm_lsp model fetch` or pass --model")
        model = found
    settings = dict(SHAPE_SETTINGS[shape])
    for item in args.set or []:
        k, _, v = item.partition("=")
        settings[k] = v
    keystrokes = args.keystrokes or KEYSTROKES[shape][1 if args.quick else 0]
    n_files = args.files or (1 if args.quick else FILES[shape])
    src = common.STDLIB
    files = [src / f for f in DEFAULT_FILES if (src / f).is_file()][:n_files]
    work = Path(tempfile.mkdtemp(prefix="slm-bench-latency-"))
    try:
        copies = []
        for f in files:
            shutil.copy2(f, work / f.name)
            copies.append(work / f.name)
        sessions = make_script(copies, keystrokes, seed=args.seed, pause_ms=PAUSE_MS[shape])
        all_settings = {"model.path": str(model), "index.cache_dir": str(work / ".index-cache"), "index.watch": False, **settings}
        cmd = [sys.executable, "-m", "slm_lsp", "serve"]
        for k, v in all_settings.items():
            cmd += ["--set", f"{k}={v}"]
        requests, status, load_s = asyncio.run(drive(cmd, work, sessions, args.quick))
        rep = replay(model, {k: v for k, v in all_settings.items() if k != "model.path"}, work, sessions, requests, COLD_SAMPLES[shape] if not args.quick else 1)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    from slm_lsp.config import Settings

    debounce = Settings.from_layers({k: v for k, v in all_settings.items() if k.startswith("completion.")})[0].completion.debounce_ms
    summary = analyse(requests, rep, status, debounce)
    name = "latency" if shape == "default" and not args.quick else f"latency-{shape}" + ("-quick" if args.quick else "")
    if args.name:
        name = args.name
    result = {
        **common.header({**all_settings, "model.path": str(model), "keystrokes": keystrokes, "files": [f.name for f in files], "seed": args.seed, "inter_key_gap_ms": [80, 200], "end_of_line_pause_ms": list(PAUSE_MS[shape])}),
        "model": common.model_record(model),
        "model_shape": shape,
        "model_load_s": round(load_s, 2),
        "sessions": [{"file": s.path.name, "function": s.function, "keys": len(s.keys)} for s in sessions],
        "summary": summary,
        "targets": {
            "overhead_ratio": {"value": summary["overhead_ratio_p50"], "target": "<= 1.15", "verdict": common.verdict(summary["overhead_ratio_p50"], 1.15)},
            "warm_speedup": {"value": summary["warm_speedup_server"], "target": ">= 3", "verdict": common.verdict(summary["warm_speedup_server"], 3, "higher")},
        },
        "requests": [asdict(r) | {"latency_ms": r.latency_ms} for r in requests],
        "replay": rep["rows"],
        "cold_vs_warm_raw": rep["cold"],
    }
    path = common.write_result(name, result, args.out)
    if not args.no_plot:
        plot(name, f"{name}: {model.name}", rep["rows"], requests, args.out)
    s = summary
    lat = s["latency_ms"]
    common.print_table(
        f"latency — {model.name} ({shape}), {s['keystrokes']} keystrokes",
        ["figure", "value", "target"],
        [
            ("time to answer p50 / p95 / p99 (ms)", f"{lat['p50']} / {lat['p95']} / {lat['p99']}", ""),
            ("answered / cancelled / with suggestion", f"{s['requests_answered']} / {s['requests_cancelled']} / {s['requests_with_suggestion']}", ""),
            ("cache hits / misses", f"{s['cache_hits']} / {s['cache_misses']}", ""),
            ("server vs raw llama-cpp-python (p50 ratio)", s["overhead_ratio_p50"], "<= 1.15  " + result["targets"]["overhead_ratio"]["verdict"]),
            ("server − raw p50 (ms); ratio without the debounce wait", f"{s['overhead_ms_p50']}; {s['overhead_ratio_p50_without_debounce']}", ""),
            ("server vs floor (p50 ratio)", s["vs_floor_ratio_p50"], ""),
            ("warm / cold p50 server (ms)", f"{s['server_warm_ms_p50']} / {s['server_cold_ms_p50']} (n={s['server_warm_n']}/{s['server_cold_n']})", ""),
            ("warm speed-up server / raw", f"{s['warm_speedup_server']} / {s['warm_speedup_raw']}", ">= 3  " + result["targets"]["warm_speedup"]["verdict"]),
            ("prompt tokens: total / evaluated / changed / generated (mean)", f"{s['mean_prompt_tokens']} / {s['mean_tokens_evaluated']} / {s['mean_tokens_changed']} / {s['mean_tokens_generated']}", ""),
            ("pauses >= 400 ms ending with a suggestion", f"{s['pauses_with_suggestion']} of {s['pauses']} ({s['pauses_with_suggestion_pct']} %)", ">= 90 %"),
            ("pause: last key to suggestion p50 / p95 (ms); floor p50 / p95", f"{s['pause_latency_ms_p50']} / {s['pause_latency_ms_p95']}; {s['pause_floor_ms_p50']} / {s['pause_floor_ms_p95']}", "<= 1.2x / 2x floor"),
            ("server ÷ raw p50, warm / cold (n)", f"{s['overhead_ratio_warm_p50']} / {s['overhead_ratio_cold_p50']} ({s['overhead_n_warm_cold']})", "<= 1.1"),
            ("tokens evaluated per key: all / past the stable part (engine counters)", f"{s.get('tokens_evaluated_per_key')} / {s.get('line_tokens_evaluated_per_key')}", "<= 3 within a line"),
        ],
    )
    print(f"wrote {path}")
    return result


def add_parser(sub: Any) -> None:
    p = sub.add_parser("latency", help="typing session through the real server vs raw llama-cpp-python")
    p.add_argument("--model", help="GGUF file (default: the embedded default model)")
    p.add_argument("--model-shape", choices=sorted(SHAPE_SETTINGS), default="default", help="deepseek-1.3b: build (once) and use a DeepSeek-Coder-1.3B-shaped model with small budgets")
    p.add_argument("--keystrokes", type=int, default=0)
    p.add_argument("--files", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="extra server setting (repeatable)")
    p.add_argument("--name", default="", help="result file name (default: latency[-SHAPE][-quick])")
    p.set_defaults(func=run)

