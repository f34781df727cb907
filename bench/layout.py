"""The quality cost of a prompt layout, task by task: a family's layout against the same family with
``$line_prefix`` removed (the typed part of the line back inside ``$prefix``), on the same tasks, one
model, one process.

Each task (``bench.quality``'s tasks: held-out stdlib spans, or ``--from DIR``) is filled through
``CompletionService`` twice, once per layout, back to back: both prompts share everything up to the
start of the cursor's line, so the second reuses the first's KV cache and a paired run costs little
more than one. Reports edit similarity and exact match per layout and kind, and the paired
difference with a 95 % bootstrap interval (``bench.quality.paired``).
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench import common

#: Smaller windows than ``bench quality`` (1500 / 600): a paired run on a shared 2-core machine.
SETTINGS = {"completion.prefix_chars": 1000, "completion.suffix_chars": 300, "completion.max_tokens": 32, "completion.debounce_ms": 0, "context.enabled": False, "model.n_ctx": 2048}


def run(args: Any) -> dict[str, Any]:
    from bench.quality import _tasks, paired
    from slm_lsp.completion.document import Document
    from slm_lsp.completion.service import CompletionService
    from slm_lsp.config import Settings
    from slm_lsp.engine.llama import LlamaEngine
    from slm_lsp_train.evaluate import edit_similarity

    model = Path(args.model)
    over = {**SETTINGS, "model.path": str(model)}
    if args.threads:
        over["model.n_threads"] = args.threads
    settings, errors = Settings.from_layers(over)
    if errors:
        raise SystemExit("; ".join(errors))
    engine = LlamaEngine(model, settings.model)
    shipped = engine.family
    if "$line_prefix" not in shipped.layout:
        raise SystemExit(f"the {shipped.name} family has no $line_prefix: nothing to compare")
    other = replace(shipped, layout=tuple(i for i in shipped.layout if i != "$line_prefix"))
    layouts = {"line_after_middle": shipped, "prefix_before_suffix": other}
    service = CompletionService(settings)
    tasks, texts, _root = _tasks(1 if args.quick else args.per_kind, args.seed, args.source)
    print(f"{len(tasks)} tasks", file=sys.stderr, flush=True)
    scores: dict[str, list[tuple[str, float, float]]] = {k: [] for k in layouts}
    t0 = time.perf_counter()
    for i, task in enumerate(tasks, 1):
        full = texts[task.source]
        at = full.find(task.prefix + task.middle + task.suffix)
        if at < 0:
            continue
        a = at + len(task.prefix)
        text = full[:a] + full[a + len(task.middle) :]
        line = text.count("\n", 0, a)
        col = a - (text.rfind("\n", 0, a) + 1)
        doc = Document(uri=f"file:///{task.source}", path=task.source, text=text, language="python", language_id="python")
        for name, fam in layouts.items():
            engine.family = fam
            out = service.run(engine, service.plan(doc, line, col, engine.count_tokens))
            pred = out.suggestions[0].text if out.suggestions else ""
            scores[name].append((task.kind, float(pred.rstrip() == task.middle.rstrip()), round(edit_similarity(pred, task.middle), 4)))
        print(f"  {i}/{len(tasks)}", file=sys.stderr, flush=True)
    engine.family = shipped
    engine.close()

    def agg(rows: list[tuple[str, float, float]]) -> dict[str, Any]:
        return {"n": len(rows), "exact_match": round(statistics.fmean(r[1] for r in rows), 3) if rows else None, "edit_similarity": round(statistics.fmean(r[2] for r in rows), 3) if rows else None}

    kinds = sorted({r[0] for r in scores["line_after_middle"]})
    result_layouts = {name: {"overall": agg(rows), "by_kind": {k: agg([r for r in rows if r[0] == k]) for k in kinds}} for name, rows in scores.items()}
    diff = paired([r[2] for r in scores["line_after_middle"]], [r[2] for r in scores["prefix_before_suffix"]])
    diff_by_kind = {k: paired([r[2] for r in scores["line_after_middle"] if r[0] == k], [r[2] for r in scores["prefix_before_suffix"] if r[0] == k]) for k in kinds}
    result = {
        **common.header({**over, "per_kind": args.per_kind, "seed": args.seed, "source": str(args.source) if args.source else "held-out stdlib"}),
        "model": common.model_record(model),
        "family": shipped.name,
        "layouts": {name: list(fam.layout) for name, fam in layouts.items()},
        "results": result_layouts,
        "line_after_middle_minus_prefix_before_suffix": diff,
        "by_kind_difference": diff_by_kind,
        "seconds": round(time.perf_counter() - t0, 1),
        "scores": scores,
    }
    path = common.write_result(args.name or f"layout-{shipped.name}", result, args.out)
    rows = [(name, r["overall"]["edit_similarity"], r["overall"]["exact_match"]) for name, r in result_layouts.items()]
    rows.append(("difference (line after middle − before suffix), 95 % interval", f"{diff['mean_difference']} ({diff['ci95']})", f"{diff['wins']}/{diff['ties']}/{diff['losses']} w/t/l"))
    common.print_table(f"layout — {model.name} ({shipped.name}), {len(tasks)} tasks", ["layout", "edit similarity", "exact match"], rows)
    print(f"wrote {path}")
    return result


def add_parser(sub: Any) -> None:
    p = sub.add_parser("layout", help="a family's $line_prefix layout against the same family without it, task by task")
    p.add_argument("--model", required=True, help="GGUF file of a model whose family has $line_prefix (Qwen2.5-Coder, DeepSeek-Coder, ...)")
    p.add_argument("--per-kind", type=int, default=6)
    p.add_argument("--seed", type=int, nargs="+", default=[0])
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--from", dest="source", type=Path, help="cut the tasks from this tree's Python files instead of the held-out standard library")
    p.add_argument("--name", default="")
    p.set_defaults(func=run)
