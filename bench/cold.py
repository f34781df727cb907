"""Cold inline completions through the real server against raw llama-cpp-python on the same token
ids from an empty KV cache (issue 16: "server ÷ raw ... ≤ 1.1× warm **and** cold").

1. Copy real stdlib files (default ``json/decoder.py``) into a scratch workspace, start
   ``python -m slm_lsp serve`` over stdio (``bench.burst.Editor``), open them and wait for the model
   and the index. Then, for each of ``--positions`` places in function bodies (``bench.typing``'s
   candidates, visited in an order that keeps consecutive places far apart): a new first line
   (``# cold <i> <random>``) and the statement at that place cut after its first few characters, the
   whole text sent as one ``didChange``, at once an Automatic ``inlineCompletion`` at the end of the
   typed part; time to answer on the client, and the server's timings from the ``slm/status`` sent
   with the answer (prompt tokens, tokens it evaluated after reusing its KV cache, tokens
   generated). Then ``--gap-s`` of quiet before the next place.
2. Stop the server, load the same model in this process (``LlamaEngine``) and rebuild each prompt as
   the server did (``CompletionService`` with the same settings, workspace index, context ring fed
   with the same opens and edits, the budgets the server reported, token healing). A rebuilt prompt
   whose length differs from the server's ``prompt_tokens`` is counted as a mismatch. Each prompt is
   timed from an empty KV cache, ``--repeats`` times (the fastest kept), two ways:
   *raw* — ``Llama.generate`` on the ids (llama-cpp-python evaluates them in ``n_batch`` batches),
   *raw, chunked* — the ids but the last evaluated by the engine's own chunked loop
   (``LlamaEngine._evaluate``: chunks it can be cancelled between, sized as the server sizes them),
   then ``generate``;
   both generating the server's number of tokens plus one (the end-of-generation step).

A place counts as cold when the server evaluated at least ``COLD_SHARE`` of its prompt: the prompt
opens with the repository header and context snippets, which may still be in the KV cache from the
previous place, and ``completion.warm_cache`` (on by default) may have evaluated part of the prompt
in the background before the request arrived (the time that took is inside the client's time).
``completion.target_latency_ms`` is 0 by default here so that the budgets are the settings' (the
server reports them anyway when a target lowers them; ``--set`` overrides everything).
"""

from __future__ import annotations

import asyncio
import random
import shutil
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench import common
from bench.burst import Editor, end_of
from bench.latency import SHAPE_SETTINGS, _attach_retriever
from bench.typing import _candidates

#: Files opened and completed in (stdlib, relative to its folder).
FILES = ("json/decoder.py",)
#: Settings of the run on top of the latency bench's default shape (``--set`` overrides).
SETTINGS: dict[str, Any] = {
    **SHAPE_SETTINGS["default"],
    "model.n_threads": 2,
    "completion.target_latency_ms": 0,
}
#: A place counts as cold when the server evaluated at least this share of its prompt.
COLD_SHARE = 0.9
#: Characters of the statement typed before asking (seeded, within this range).
TYPED_CHARS = (4, 12)
#: Issue 16's target for server ÷ raw.
TARGET_RATIO = 1.1


@dataclass
class Place:
    """One cold request: the document's whole new text and the cursor at the end of the typed part."""

    index: int
    file: str  #: relative to the workspace
    function: str
    line: int
    col: int
    marker: str  #: the new first line
    typed: str  #: the cursor's line as sent
    text: str


def make_places(files: dict[str, str], n: int, seed: int) -> list[Place]:
    """``n`` places in function bodies of ``files`` (name → text), round robin over the files; in a
    file, consecutive places alternate between its first and second half (far apart, so that the
    previous place's prompt shares little with the next)."""
    rng = random.Random(seed)
    per_file: list[list[tuple[str, str, int]]] = []
    for name, text in files.items():
        lines = text.split("\n")
        bodies = [
            (fn, [ln for ln in range(first, last + 1) if len(lines[ln].strip()) > TYPED_CHARS[1]])
            for fn, first, last in _candidates(text)
        ]
        half = (len(bodies) + 1) // 2
        order: list[tuple[str, str, int]] = []
        for depth in range(max((len(b) for _fn, b in bodies), default=0)):
            # each body's first statement, then its second, ...: in each round the first half of
            # the file interleaved with the second (lines 32, 337, 60, 353, 319 of json/decoder.py)
            spots = [(name, fn, b[depth]) for fn, b in bodies if depth < len(b)]
            a, rest = spots[:half], spots[half:]
            for i, spot in enumerate(a):
                order += [spot, rest[i]] if i < len(rest) else [spot]
            order += rest[len(a) :]
        if order:
            per_file.append(order)
    places: list[Place] = []
    for i in range(n):
        if not per_file:
            break
        spots = per_file[i % len(per_file)]
        name, fn, ln = spots[(i // len(per_file)) % len(spots)]
        lines = files[name].split("\n")
        body = lines[ln]
        indent = body[: len(body) - len(body.lstrip(" "))]
        stmt = body[len(indent) :]
        k = max(1, min(len(stmt) - 1, rng.randint(*TYPED_CHARS)))
        typed = indent + stmt[:k]
        marker = f"# cold {i} {rng.getrandbits(48):012x}"
        new = [marker, *lines[:ln], typed, *lines[ln + 1 :]]
        places.append(Place(i, name, fn, ln + 1, len(typed), marker, typed, "\n".join(new)))
    return places


async def drive(
    cmd: list[str], root: Path, places: list[Place], gap_s: float
) -> tuple[list[dict[str, Any]], float, dict[str, Any]]:
    """Open the files, then ask at each place; the client's and the server's timings per place."""
    ed = Editor(cmd, root)
    load_s = await ed.start()
    uris = {name: ed.open(root / name) for name in dict.fromkeys(p.file for p in places)}
    await asyncio.sleep(gap_s)  # the didOpen warm-ups and diagnostics settle
    out = []
    for p in places:
        uri = uris[p.file]
        ed.change(uri, (0, 0), end_of(ed.texts[uri]), p.text)
        res = await ed.inline(uri, p.line, p.col, f"cold-{p.index}")
        res["place"] = p.index
        out.append(res)
        await asyncio.sleep(gap_s)
    st = await ed.status()
    counters = _counters(st)
    await ed.stop()
    return out, load_s, counters


def _counters(status: Any) -> dict[str, Any]:
    """The engine's counters from an ``slm.status`` answer (pygls hands objects over as its own type)."""
    from bench.latency import _get

    c = _get(status, "engine_counters") or {}
    keys = c.keys() if isinstance(c, dict) else getattr(c, "_fields", None) or vars(c).keys()
    return {k: _get(c, k) for k in keys}


def replay(
    model: Path,
    settings_over: dict[str, Any],
    root: Path,
    places: list[Place],
    answers: list[dict[str, Any]],
    repeats: int,
) -> dict[str, Any]:
    """Rebuild each answered prompt as the server did and time raw llama-cpp-python on it cold."""
    from slm_lsp.completion.budgets import Budgets
    from slm_lsp.completion.document import Document
    from slm_lsp.completion.service import CompletionService
    from slm_lsp.config import Settings
    from slm_lsp.engine.llama import LlamaEngine

    settings, errors = Settings.from_layers({"model.path": str(model), **settings_over})
    if errors:
        raise SystemExit(f"bad settings: {errors}")
    engine = LlamaEngine(model, settings.model)
    llm = engine.llm
    service = CompletionService(settings, repo_name=root.name, root=str(root))
    retriever = _attach_retriever(service, settings, root)
    cs = settings.completion
    chunk = settings.model.prompt_chunk  #: 0: sized to the measured speed, as in the server
    if service.retriever is not None:  # the server saw the files opened, in this order
        for name in dict.fromkeys(p.file for p in places):
            service.retriever.note_view(name, (root / name).read_text(encoding="utf-8"), 0)

    def timed(ids: list[int], n_gen: int, chunked: bool) -> float:
        llm.reset()  # an empty KV cache: nothing of the previous prompt is reused
        llm.set_seed(cs.seed)
        t = time.perf_counter()
        if chunked:  # the engine's own chunked evaluation: all but the last token
            engine._evaluate(ids, 0, len(ids) - 1, threading.Event(), warm=False)
        ms = common.timed_generate(llm, ids, n_gen, temp=cs.temperature, top_p=cs.top_p)
        return (time.perf_counter() - t) * 1000 if chunked else ms

    rows = []
    mismatches = 0
    for p, a in zip(places, answers, strict=True):
        doc = Document((root / p.file).as_uri(), p.file, p.text, "python", "python")
        if service.retriever is not None:
            service.retriever.note_edit(p.file, p.text, 0)  # one change over the whole document
        if a.get("prompt_tokens") is None:  # no generation (a cached answer or an error)
            continue
        budgets = Budgets(**a["budgets"]) if a.get("budgets") else None
        plan = service.plan(doc, p.line, p.col, engine.count_tokens, budgets)
        prompt = service.fit(engine, plan)
        ids, _healed = engine.heal(prompt, engine.prompt_tokens(prompt))
        n_prompt, n_eval = int(a["prompt_tokens"]), int(a["prompt_tokens_evaluated"])
        n_gen = int(a["generated_tokens"]) + 1  # +1: the end-of-generation token costs a step too
        mismatches += len(ids) != n_prompt
        raw = min(timed(ids, n_gen, False) for _ in range(repeats))
        raw_chunked = min(timed(ids, n_gen, True) for _ in range(repeats))
        share = n_eval / n_prompt if n_prompt else 0.0
        rows.append(
            {
                "place": p.index,
                "file": p.file,
                "line": p.line,
                "function": p.function,
                "n_prompt": n_prompt,
                "n_rebuilt": len(ids),
                "n_evaluated": n_eval,
                "evaluated_share": round(share, 3),
                "cold": share >= COLD_SHARE,
                "n_generated": n_gen - 1,
                "server_ms": a["ms"],
                "server_latency_ms": a.get("latency_ms"),
                "server_prompt_ms": a.get("prompt_ms"),
                "server_generation_ms": a.get("generation_ms"),
                "raw_ms": round(raw, 1),
                "raw_chunked_ms": round(raw_chunked, 1),
                "ratio": round(a["ms"] / raw, 3) if raw > 0 else None,
                "ratio_chunked": round(a["ms"] / raw_chunked, 3) if raw_chunked > 0 else None,
                "chunking_ratio": round(raw_chunked / raw, 3) if raw > 0 else None,
            }
        )
    engine.close()
    chunk_used = chunk or engine.chunk_tokens()  # what the speed measured by the timings chose
    return {
        "rows": rows,
        "prompt_mismatches": mismatches,
        "retriever": retriever,
        "chunk": chunk_used,
    }


def analyse(rows: list[dict[str, Any]], answers: list[dict[str, Any]]) -> dict[str, Any]:
    p50 = common.percentile
    cold = [r for r in rows if r["cold"]]
    # the target is about cold requests; without any, all generated ones are reported (and said so)
    basis = cold or rows

    def med(key: str, rs: list[dict[str, Any]]) -> float | None:
        xs = [r[key] for r in rs if r[key] is not None]
        return round(p50(xs, 50), 3) if xs else None

    return {
        "places": len(answers),
        "answered": sum(1 for a in answers if a.get("ms") is not None),
        "with_suggestion": sum(1 for a in answers if a.get("items")),
        "generated": len(rows),
        "cold": len(cold),
        "evaluated_share_p50": med("evaluated_share", rows),
        "evaluated_share_min": min((r["evaluated_share"] for r in rows), default=None),
        "ratio_basis": "cold" if cold else "all generated (none cold)",
        "ratio_p50": med("ratio", basis),
        "ratio_chunked_p50": med("ratio_chunked", basis),
        "chunking_ratio_p50": med("chunking_ratio", basis),
        "ratio_p50_all": med("ratio", rows),
        "server_ms_p50": med("server_ms", basis),
        "raw_ms_p50": med("raw_ms", basis),
        "raw_chunked_ms_p50": med("raw_chunked_ms", basis),
        "overhead_ms_p50": med(
            "overhead_ms", [r | {"overhead_ms": r["server_ms"] - r["raw_ms"]} for r in basis]
        ),
        "mean_prompt_tokens": round(sum(r["n_prompt"] for r in rows) / len(rows), 1)
        if rows
        else None,
    }


def plot(name: str, title: str, rows: list[dict[str, Any]], out: Path | None) -> Path | None:
    if not rows:
        return None
    plt = common.pyplot()
    fig, ax = plt.subplots(figsize=(7, 3))
    xs = range(len(rows))
    w = 0.27
    ax.bar([x - w for x in xs], [r["server_ms"] for r in rows], w, label="server (LSP, stdio)")
    ax.bar(list(xs), [r["raw_chunked_ms"] for r in rows], w, label="raw, engine's chunks")
    ax.bar([x + w for x in xs], [r["raw_ms"] for r in rows], w, label="raw llama-cpp-python")
    ax.set_xticks(list(xs), [f"{r['place']}: {r['n_prompt']} tok" for r in rows], fontsize=7)
    ax.set_ylabel("ms")
    ax.legend(fontsize=7)
    ax.set_title(title, fontsize=9)
    return common.save_plot(fig, name, out)


def default_model(quick: bool) -> Path:
    """The product's default model (``model.embedded``); with ``--quick`` the tiny test model (built once)."""
    if quick:
        from tests.kit.synthetic import TINY, build_model

        path = common.cache_dir() / "tiny-deepseek.f16.gguf"
        if not path.exists():
            build_model(path, TINY, quant="f16")
        return path
    from slm_lsp.config import ModelSettings
    from slm_lsp.engine.loader import find_model

    name = ModelSettings().embedded
    found = find_model(name)
    if found is None:
        raise SystemExit(
            f"{name} (the default model) is not fetched: `python -m slm_lsp model fetch`, or --model"
        )
    return found


def run(args: Any) -> dict[str, Any]:
    model = Path(args.model) if args.model else default_model(args.quick)
    n = args.positions or (2 if args.quick else 5)
    gap_s = args.gap_s if args.gap_s is not None else (0.5 if args.quick else 3.0)
    names = args.files or list(FILES)
    settings = dict(SETTINGS)
    for item in args.set or []:
        k, sep, v = item.partition("=")
        if not sep:
            raise SystemExit(f"--set {item!r}: expected KEY=VALUE")
        settings[k] = v
    work = Path(tempfile.mkdtemp(prefix="slm-bench-cold-"))
    load_start = common.machine()["load_avg_1_5_15"]
    try:
        texts = {}
        for rel in names:
            dst = work / rel.replace("/", "_")
            shutil.copy2(common.STDLIB / rel, dst)
            texts[dst.name] = dst.read_text(encoding="utf-8")
        places = make_places(texts, n, args.seed)
        if not places:
            raise SystemExit(f"no function body to complete in {', '.join(names)}")
        all_settings, cmd = common.serve_command(model, work, settings)
        answers, load_s, counters = asyncio.run(drive(cmd, work, places, gap_s))
        load_mid = common.machine()["load_avg_1_5_15"]
        over = {k: v for k, v in all_settings.items() if k != "model.path"}
        rep = replay(model, over, work, places, answers, args.repeats)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = rep["rows"]
    s = analyse(rows, answers)
    s["prompt_mismatches"] = rep["prompt_mismatches"]
    s["retriever"] = rep["retriever"]
    s["prompt_chunk"] = rep["chunk"]
    s["warm_tokens_evaluated"] = counters.get("warm_tokens_evaluated")  # by background warm-ups
    name = args.name or ("cold-quick" if args.quick else "cold")
    result = {
        **common.header(
            {
                **all_settings,
                "files": names,
                "positions": n,
                "gap_s": gap_s,
                "seed": args.seed,
                "repeats": args.repeats,
            }
        ),
        "model": common.model_record(model),
        "model_load_s": round(load_s, 2),
        "load_avg_at_start": load_start,
        "load_avg_after_server": load_mid,
        "load_avg_at_end": common.machine()["load_avg_1_5_15"],
        "summary": s,
        "targets": {
            "ratio": {
                "value": s["ratio_p50"],
                "target": f"<= {TARGET_RATIO}",
                "verdict": common.verdict(s["ratio_p50"], TARGET_RATIO),
            }
        },
        "places": [asdict(p) | {"text": None} for p in places],
        "answers": answers,
        "rows": rows,
        "engine_counters": counters,
    }
    path = common.write_result(name, result, args.out)
    show(result)
    print(f"wrote {path}")
    if not args.no_plot:
        plot(name, f"{name}: {model.name}, cold requests", rows, args.out)
    return result


def show(result: dict[str, Any]) -> None:
    """Print a result's tables (``python -c 'import json, bench.cold as c; c.show(json.load(open(F)))'``)."""
    rows, s = result["rows"], result["summary"]
    common.print_table(
        f"cold — {result['model']['name']}, {s['places']} places in {', '.join(result['settings']['files'])}",
        [
            "place",
            "file:line",
            "prompt / rebuilt / evaluated tok",
            "gen",
            "server ms (server-side; prompt)",
            "raw ms",
            "raw chunked ms",
            "server ÷ raw",
            "÷ chunked",
        ],
        [
            (
                r["place"],
                f"{r['file']}:{r['line']}",
                f"{r['n_prompt']} / {r['n_rebuilt']} / {r['n_evaluated']} ({r['evaluated_share']:.0%})",
                r["n_generated"],
                f"{r['server_ms']:.0f} ({r['server_latency_ms']}; {r['server_prompt_ms']})",
                f"{r['raw_ms']:.0f}",
                f"{r['raw_chunked_ms']:.0f}",
                r["ratio"],
                r["ratio_chunked"],
            )
            for r in rows
        ],
    )
    common.print_table(
        "cold — summary",
        ["figure", "value", "target"],
        [
            (
                "places / answered / generated / with suggestion",
                f"{s['places']} / {s['answered']} / {s['generated']} / {s['with_suggestion']}",
                "",
            ),
            (
                f"cold (server evaluated >= {COLD_SHARE:.0%} of the prompt)",
                f"{s['cold']} of {s['generated']}; share p50 {s['evaluated_share_p50']}, min {s['evaluated_share_min']}",
                "",
            ),
            ("prompts rebuilt with another length (mismatches)", s["prompt_mismatches"], "0"),
            (
                f"server ÷ raw p50 ({s['ratio_basis']})",
                s["ratio_p50"],
                f"<= {TARGET_RATIO}  " + result["targets"]["ratio"]["verdict"],
            ),
            (
                "server ÷ raw with the engine's chunks p50; chunked ÷ raw p50",
                f"{s['ratio_chunked_p50']}; {s['chunking_ratio_p50']}",
                "",
            ),
            (
                "server / raw / raw chunked p50 (ms); server − raw p50",
                f"{s['server_ms_p50']} / {s['raw_ms_p50']} / {s['raw_chunked_ms_p50']}; {s['overhead_ms_p50']}",
                "",
            ),
            (
                "prompt tokens evaluated by background warm-ups (whole run)",
                s["warm_tokens_evaluated"],
                "",
            ),
            (
                "load average at start / end",
                f"{result['load_avg_at_start']} / {result['load_avg_at_end']}",
                "",
            ),
        ],
    )


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "cold",
        help="cold inline completions through the server vs raw llama-cpp-python on the same ids",
    )
    p.add_argument(
        "--model", help="GGUF file (default: the default model; --quick: the tiny test model)"
    )
    p.add_argument(
        "--files",
        nargs="+",
        metavar="REL",
        help=f"stdlib files to complete in (default: {' '.join(FILES)})",
    )
    p.add_argument("--positions", type=int, default=0, help="cold requests (default 5; --quick 2)")
    p.add_argument(
        "--gap-s", type=float, default=None, help="quiet after each answer (default 3; --quick 0.5)"
    )
    p.add_argument(
        "--repeats", type=int, default=2, help="raw timings per prompt and way; the fastest is kept"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="server setting (repeatable), e.g. completion.warm_cache=false",
    )
    p.add_argument("--name", default="", help="result file name (default: cold[-quick])")
    p.set_defaults(func=run)
