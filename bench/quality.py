"""FIM quality through the product's pipeline: exact match and edit similarity on held-out spans of real code, with and without cross-file context.

Tasks come from the train engineer's ``slm_lsp_train.evaluate`` (``heldout_stdlib_texts`` — standard
library files in the held-out split, never trained on — and ``make_tasks``: single-line,
multi-line and random-span holes as in HumanEval-infilling / SantaCoder FIM, and line-tail holes,
the rest of a line after the cursor, as while typing; seeded). Each hole is
filled the way the editor fills it: the file with the hole removed becomes a ``Document``,
``CompletionService.plan`` cuts the window and (in the *context* mode) asks ``ContextRetriever``
over an index of the whole tree, ``CompletionService.run`` prompts the model with its family's
template and post-processes. The suggestion shown is scored against the removed text.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import common

#: Settings of the pipeline for this benchmark (the evaluate module's windows; generation limits per kind).
#: Fixed budgets: completion.target_latency_ms is off, so that a task's prompt does not depend on how
#: fast the machine happened to be (the latency target is measured by `bench latency`).
SETTINGS = {"completion.prefix_chars": 1500, "completion.suffix_chars": 600, "context.budget_tokens": 256, "completion.max_tokens": 64, "completion.debounce_ms": 0, "completion.target_latency_ms": 0, "model.n_ctx": 2048}
PER_KIND = 12


#: Our own 40M model (slm-lsp train), one path so that it can be repointed when the file moves.
MODEL_40M = Path(__file__).resolve().parent.parent / "training" / "models" / "slm-fim-40m.q8_0.gguf"


def default_models() -> list[Path]:
    """SmolLM2 first (the baseline every other model is compared with), then every other fetched model of the table, then our own."""
    from slm_lsp.engine.fetch import load_table
    from slm_lsp.engine.loader import find_model

    names = ["smollm2-135m", *(n for n in load_table() if n != "smollm2-135m")]
    found = [p for p in map(find_model, names) if p is not None]
    return found + ([MODEL_40M] if MODEL_40M.is_file() else [])


#: A file of a tree named by --from must hold this many characters to have tasks cut from it.
MIN_SOURCE_CHARS = 2000
#: How a run with --from names its task source (the report finds those runs by it).
TREE_SOURCE = "Python files of "


def _tasks(per_kind: int, seeds: list[int], source: Path | None = None) -> tuple[list[Any], dict[str, str], Path]:
    """Tasks cut from the held-out standard-library files, or from the Python files of ``source`` (code no model was trained on, such as your own); ``per_kind`` of each kind for each seed, without repeats."""
    from slm_lsp_train import evaluate as ev

    if source is None:
        import sysconfig

        texts = ev.heldout_stdlib_texts()
        root = Path(sysconfig.get_paths()["stdlib"])
    else:
        from slm_lsp.config import IndexSettings
        from slm_lsp.workspace.crawl import Crawler

        root = source.resolve()
        texts = []
        for info in Crawler(root, IndexSettings()).walk():
            if info.language == "python":
                text = (root / info.rel).read_text(encoding="utf-8", errors="replace")
                if len(text) >= MIN_SOURCE_CHARS:
                    texts.append((info.rel, text))
        texts.sort()
        if not texts:
            raise SystemExit(f"no Python file of at least {MIN_SOURCE_CHARS} characters under {root}")
    tasks = list(dict.fromkeys(t for seed in seeds for t in ev.make_tasks(texts, per_kind, seed)))  # in order, no repeats
    return tasks, dict(texts), root


#: Resamples of the tasks for the confidence interval of a paired difference.
BOOTSTRAP = 2000


def paired(scores: list[float], baseline: list[float], seed: int = 0) -> dict[str, Any]:
    """How one model's per-task scores compare with another's on the same tasks: mean difference with a 95 % bootstrap interval, and wins / ties / losses."""
    import random

    diffs = [a - b for a, b in zip(scores, baseline, strict=True)]
    if not diffs:
        return {"n": 0, "mean_difference": None, "ci95": None, "wins": 0, "ties": 0, "losses": 0}
    rng = random.Random(seed)
    n = len(diffs)
    means = sorted(statistics.fmean(rng.choices(diffs, k=n)) for _ in range(BOOTSTRAP))
    return {
        "n": n,
        "mean_difference": round(statistics.fmean(diffs), 4),
        "ci95": [round(means[int(0.025 * BOOTSTRAP)], 4), round(means[int(0.975 * BOOTSTRAP) - 1], 4)],
        "wins": sum(d > 1e-9 for d in diffs),
        "ties": sum(abs(d) <= 1e-9 for d in diffs),
        "losses": sum(d < -1e-9 for d in diffs),
    }


def by_kind(r: dict[str, Any], base: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per task kind, ``r`` against ``base`` task by task: edit similarity and exact match, each with its 95 % interval."""
    out: dict[str, dict[str, Any]] = {}
    kinds = [t["kind"] for t in base.get("tasks", [])]
    for kind in dict.fromkeys(kinds):
        pick = [i for i, k in enumerate(kinds) if k == kind]
        out[kind] = {
            "edit_similarity": paired([r["scores"][i][1] for i in pick], [base["scores"][i][1] for i in pick]),
            "exact_match": paired([r["scores"][i][0] for i in pick], [base["scores"][i][0] for i in pick]),
        }
    return out


def _index(root: Path, cache: str) -> Any:
    from slm_lsp.config import IndexSettings
    from slm_lsp.workspace.index import WorkspaceIndex

    s = IndexSettings(cache_dir=cache, watch=False)
    s.exclude = [*s.exclude, "site-packages/", "test/", "tests/", "idlelib/", "lib2to3/"]
    index = WorkspaceIndex(root, s)
    index.load_or_build()
    return index


def evaluate(model: Path, tasks: list[Any], texts: dict[str, str], root: Path, index: Any, with_context: bool, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    from slm_lsp_train.evaluate import edit_similarity

    from slm_lsp.completion.document import Document
    from slm_lsp.completion.service import CompletionService
    from slm_lsp.config import Settings
    from slm_lsp.engine.llama import LlamaEngine
    from slm_lsp.text import TextIndex

    settings, errors = Settings.from_layers({**SETTINGS, **(extra or {}), "context.enabled": with_context, "model.path": str(model)})
    if errors:
        raise SystemExit(f"bad settings: {'; '.join(errors)}")
    engine = LlamaEngine(model, settings.model)
    service = CompletionService(settings)
    if with_context:
        from slm_lsp.context.retrieve import ContextRetriever

        service.retriever = ContextRetriever(index, settings.context)
    per_kind: dict[str, list[tuple[float, float]]] = {}
    examples = []
    t0 = time.perf_counter()
    n_snippets = []
    scores: list[tuple[float, float]] = []  #: (exact match, edit similarity) per task, in task order
    records: list[dict[str, Any]] = []  #: per task: what was asked, generated and shown (for --rescore)
    for i, task in enumerate(tasks, 1):
        t_task = time.perf_counter()
        if i % 10 == 0:
            print(f"  {model.name} {'with' if with_context else 'without'} context: {i}/{len(tasks)}", file=sys.stderr, flush=True)
        full = texts[task.source]
        at = full.find(task.prefix + task.middle + task.suffix)
        if at < 0:
            continue
        a = at + len(task.prefix)
        text = full[:a] + full[a + len(task.middle) :]
        idx = TextIndex(text)
        line = text.count("\n", 0, a)
        col = a - (text.rfind("\n", 0, a) + 1)
        assert idx.offset(line, col) == a
        doc = Document(uri=(root / task.source).as_uri(), path=task.source, text=text, language="python", language_id="python")
        plan = service.plan(doc, line, col, engine.count_tokens)
        out = service.run(engine, plan)
        pred = out.suggestions[0].text if out.suggestions else ""
        n_snippets.append(len(plan.snippets))
        exact = float(pred.rstrip() == task.middle.rstrip())
        sim = edit_similarity(pred, task.middle)
        per_kind.setdefault(task.kind, []).append((exact, sim))
        scores.append((exact, round(sim, 4)))
        c = plan.cursor
        records.append(
            {
                "kind": task.kind,
                "source": task.source,
                "target": task.middle,
                "raw": out.generations[0].text if out.generations else "",
                "prediction": pred,
                "seconds": round(time.perf_counter() - t_task, 3),
                "cursor": {"line_prefix": c.line_prefix, "line_suffix": c.line_suffix, "next_lines": list(c.next_lines), "prev_lines": list(c.prev_lines), "indent_unit": c.indent_unit},
            }
        )
        if len(examples) < 3 and task.kind == "single_line":
            examples.append({"target": task.middle, "prediction": pred})
    seconds = time.perf_counter() - t0
    engine.close()
    every = [x for v in per_kind.values() for x in v]

    def agg(xs: list[tuple[float, float]]) -> dict[str, Any]:
        return {"n": len(xs), "exact_match": round(statistics.fmean(e for e, _ in xs), 3) if xs else None, "edit_similarity": round(statistics.fmean(s for _, s in xs), 3) if xs else None}

    return {
        "model": model.name,
        "context": with_context,
        "by_kind": {k: agg(v) for k, v in sorted(per_kind.items())},
        "overall": agg(every),
        "seconds_per_task": round(seconds / max(1, len(every)), 3),
        "mean_snippets": round(statistics.fmean(n_snippets), 2) if n_snippets else 0,
        "examples": examples,
        "scores": scores,
        "tasks": records,
    }


def _settings(items: list[str] | None) -> dict[str, Any]:
    """``KEY=VALUE`` pairs as settings: a value that reads as JSON (``1``, ``true``) is taken as such, any other as a string."""
    import json

    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"--set {item!r}: expected KEY=VALUE, e.g. model.heal_tokens=1")
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


#: Post-processing variants ``--rescore`` compares: (written_block, meet_following) of ``postprocess.clean``.
VARIANTS = {"neither": (False, False), "meet following": (False, True), "one line in a written block": (True, False), "both": (True, True)}


def rescore(path: Path, out: Path | None) -> dict[str, Any]:
    """Re-apply post-processing to the generations a quality run recorded, once per ``VARIANTS`` entry, and compare each with ``neither`` task by task.

    Exact for greedy decoding as long as the recorded run cut no more than a variant does (record
    with both cuts off): a variant that stops earlier would have generated the same tokens up to its
    stop. The parse and security vetting of ``CompletionService.run`` is not repeated.
    """
    import json

    from slm_lsp_train.evaluate import edit_similarity

    from slm_lsp.prompt.postprocess import CursorContext, clean

    data = json.loads(path.read_text(encoding="utf-8"))
    policy = data["settings"].get("completion.multiline", "auto")
    max_lines = int(data["settings"].get("completion.max_lines", 12))
    report: dict[str, Any] = {"source": str(path), "task_source": data["settings"].get("task_source"), "models": []}
    rows, kind_rows = [], []
    for r in data["results"]:
        tasks = r.get("tasks", [])
        if not tasks:
            continue
        per: dict[str, list[tuple[float, float]]] = {}
        same = 0
        for name, (block, meet) in VARIANTS.items():
            scores = []
            for t in tasks:
                c = t["cursor"]
                ctx = CursorContext(c["line_prefix"], c["line_suffix"], tuple(c["next_lines"]), tuple(c["prev_lines"]), c["indent_unit"])
                pred = clean(t["raw"], ctx, multiline_policy=policy, max_lines=max_lines, written_block=block, meet_following=meet)
                if name == "neither":
                    same += pred == t["prediction"]
                scores.append((float(pred.rstrip() == t["target"].rstrip()), edit_similarity(pred, t["target"])))
            per[name] = scores
        entry: dict[str, Any] = {"model": r["model"], "context": r["context"], "n": len(tasks), "neither_equals_recorded": same, "variants": {}}
        entry["_scores"] = {name: [x for _, x in sc] for name, sc in per.items()}
        entry["_exact"] = {name: [e for e, _ in sc] for name, sc in per.items()}
        entry["_kinds"] = [t["kind"] for t in tasks]
        kinds = [t["kind"] for t in tasks]
        for name, scores in per.items():
            v: dict[str, Any] = {
                "exact_match": round(statistics.fmean(e for e, _ in scores), 3),
                "edit_similarity": round(statistics.fmean(x for _, x in scores), 3),
            }
            if name != "neither":
                base = per["neither"]
                v["against_neither"] = paired([x for _, x in scores], [x for _, x in base])
                v["against_neither_exact"] = paired([e for e, _ in scores], [e for e, _ in base])
                v["by_kind"] = {}
                for kind in dict.fromkeys(kinds):
                    pick = [i for i, k in enumerate(kinds) if k == kind]
                    v["by_kind"][kind] = {
                        "exact_match": paired([scores[i][0] for i in pick], [base[i][0] for i in pick]),
                        "edit_similarity": paired([scores[i][1] for i in pick], [base[i][1] for i in pick]),
                    }
                    kind_rows.append((r["model"], name, kind, f"{v['by_kind'][kind]['exact_match']['mean_difference']} {v['by_kind'][kind]['exact_match']['ci95']}", f"{v['by_kind'][kind]['edit_similarity']['mean_difference']} {v['by_kind'][kind]['edit_similarity']['ci95']}"))
                a = v["against_neither"]
                rows.append((r["model"], name, v["exact_match"], v["edit_similarity"], a["mean_difference"], a["ci95"], f"{a['wins']} / {a['ties']} / {a['losses']}"))
            else:
                rows.append((r["model"], name, v["exact_match"], v["edit_similarity"], "", "", f"{same}/{len(tasks)} as recorded"))
            entry["variants"][name] = v
        report["models"].append(entry)
    first = report["models"][0] if report["models"] else None
    versus = []
    for entry in report["models"][1:]:  # each model against the first under the same post-processing
        entry["against_first"] = {}
        for name in VARIANTS:
            a = paired(entry["_scores"][name], first["_scores"][name])
            kinds = entry["_kinds"]
            by_kind = {
                kind: {
                    "exact_match": paired([entry["_exact"][name][i] for i, k in enumerate(kinds) if k == kind], [first["_exact"][name][i] for i, k in enumerate(kinds) if k == kind]),
                    "edit_similarity": paired([entry["_scores"][name][i] for i, k in enumerate(kinds) if k == kind], [first["_scores"][name][i] for i, k in enumerate(kinds) if k == kind]),
                }
                for kind in dict.fromkeys(kinds)
            }
            entry["against_first"][name] = {"model": first["model"], **a, "by_kind": by_kind}
            versus.append((entry["model"], name, first["model"], a["mean_difference"], a["ci95"], f"{a['wins']} / {a['ties']} / {a['losses']}"))
    for entry in report["models"]:
        for key in ("_scores", "_exact", "_kinds"):
            entry.pop(key, None)
    if versus:
        common.print_table("Edit similarity against the first model under the same post-processing, task by task", ["model", "variant", "against", "difference", "95 % interval", "wins / ties / losses"], versus)
    common.print_table(f"Post-processing variants on the recorded generations of {path.name} ({report['task_source']})", ["model", "variant", "EM", "ES", "ES difference", "95 % interval", "wins / ties / losses"], rows)
    common.print_table("Per task kind against neither: exact match and edit similarity difference (95 % interval)", ["model", "variant", "kind", "exact match", "edit similarity"], kind_rows)
    written = common.write_result(f"rescore-{path.stem}", report, out)
    print(f"wrote {written}")
    return report


def run(args: Any) -> dict[str, Any]:
    if args.rescore:
        return rescore(args.rescore, args.out)
    models = [Path(m) for m in args.model] if args.model else default_models()
    if not models:
        raise SystemExit("no model: pass --model or run `python -m slm_lsp model fetch`")
    per_kind = 1 if args.quick else args.per_kind
    tasks, texts, root = _tasks(per_kind, args.seed, args.source)
    print(f"{len(tasks)} tasks (seeds {', '.join(map(str, args.seed))})", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(prefix="slm-bench-quality-") as cache:
        index = None
        modes = [False]
        if not args.no_context:
            try:
                import slm_lsp.context.retrieve  # noqa: F401

                index = _index(root / "json", cache) if args.quick and args.source is None else _index(root, cache)
                modes.append(True)
            except ImportError:
                pass
        extra: dict[str, Any] = {"model.n_threads": args.threads, **_settings(args.set)}
        if args.quick:
            extra["completion.max_tokens"] = 8
        results = [evaluate(m, tasks, texts, root, index, ctx, extra) for m in models for ctx in modes]
    for r in results:  # each model against the first one, in the same context mode, task by task
        base = next(b for b in results if b["context"] == r["context"])
        if r is not base:
            r["against_first"] = {"model": base["model"], **paired([s for _, s in r["scores"]], [s for _, s in base["scores"]])}
            r["against_first_by_kind"] = by_kind(r, base)
        if r["context"]:  # what cross-file context does for this model, task by task
            alone = next(b for b in results if b["model"] == r["model"] and not b["context"])
            r["context_effect"] = paired([s for _, s in r["scores"]], [s for _, s in alone["scores"]])
    name = args.name or ("quality-quick" if args.quick else "quality" if args.source is None else f"quality-{args.source.resolve().name}")
    result = {
        **common.header({**SETTINGS, **extra, "per_kind": per_kind, "seed": args.seed if len(args.seed) > 1 else args.seed[0], "tasks": len(tasks), "task_source": "held-out stdlib files (slm_lsp_train.evaluate)" if args.source is None else f"{TREE_SOURCE}{args.source.resolve().name}/ (at least {MIN_SOURCE_CHARS} characters)"}),
        "models": [common.model_record(m) for m in models],
        "results": results,
    }
    path = common.write_result(name, result, args.out)
    from slm_lsp_train.evaluate import KINDS

    kinds = list(KINDS)
    rows = []
    for r in results:
        cells = [f"{r['by_kind'].get(k, {}).get('exact_match')} / {r['by_kind'].get(k, {}).get('edit_similarity')}" for k in kinds]
        rows.append((r["model"], "yes" if r["context"] else "no", *cells, f"{r['overall']['exact_match']} / {r['overall']['edit_similarity']}", r["mean_snippets"], r["seconds_per_task"]))
    common.print_table(f"FIM quality — {len(tasks)} tasks from {result['settings']['task_source']}, EM / edit similarity", ["model", "context", *kinds, "overall", "snippets", "s/task"], rows)
    pairs = [(r, r["against_first"]["model"], r["against_first"]) for r in results if "against_first" in r]
    pairs += [(r, "itself without context", r["context_effect"]) for r in results if "context_effect" in r]
    if pairs:
        common.print_table(
            "Edit similarity against the first model, and with context against without, task by task (95 % bootstrap interval)",
            ["model", "context", "against", "difference", "95 % interval", "wins / ties / losses"],
            [(r["model"], "yes" if r["context"] else "no", against, a["mean_difference"], a["ci95"], f"{a['wins']} / {a['ties']} / {a['losses']}") for r, against, a in pairs],
        )
    kind_rows = [
        (r["model"], "yes" if r["context"] else "no", kind, r["against_first"]["model"], f"{c['exact_match']['mean_difference']} {c['exact_match']['ci95']}", f"{c['edit_similarity']['mean_difference']} {c['edit_similarity']['ci95']}")
        for r in results
        if "against_first_by_kind" in r
        for kind, c in r["against_first_by_kind"].items()
    ]
    if kind_rows:
        common.print_table("Per task kind against the first model, task by task: difference (95 % bootstrap interval)", ["model", "context", "kind", "against", "exact match", "edit similarity"], kind_rows)
    if not args.no_plot and results:
        plt = common.pyplot()
        fig, ax = plt.subplots(figsize=(6, 2.6))
        labels = [f"{r['model'][:22]}{' +ctx' if r['context'] else ''}" for r in results]
        ax.barh(labels, [r["overall"]["edit_similarity"] or 0 for r in results], label="edit similarity")
        ax.barh(labels, [r["overall"]["exact_match"] or 0 for r in results], label="exact match")
        ax.set_xlim(0, 1)
        ax.legend(fontsize=7)
        ax.tick_params(axis="y", labelsize=7)
        common.save_plot(fig, name, args.out)
    print(f"wrote {path}")
    return result


def add_parser(sub: Any) -> None:
    p = sub.add_parser("quality", help="FIM exact match / edit similarity through CompletionService, with and without context")
    p.add_argument("--model", action="append", help="GGUF file (repeatable; default: SmolLM2, the other fetched models of `slm-lsp model list`, our 40M model)")
    p.add_argument("--per-kind", type=int, default=PER_KIND)
    p.add_argument("--seed", type=int, nargs="+", default=[0], help="task seeds: --per-kind tasks of each kind for each (default: 0)")
    p.add_argument("--threads", type=int, default=0, help="model.n_threads (0: all cores)")
    p.add_argument("--no-context", action="store_true", help="only the mode without cross-file context")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="a setting for every model, e.g. model.heal_tokens=1 (repeatable)")
    p.add_argument("--name", help="result file name (default: quality, or quality-<folder> with --from)")
    p.add_argument("--from", dest="source", type=Path, help="cut the tasks from this tree's Python files (code no model saw, e.g. your own) instead of the held-out standard library")
    p.add_argument("--rescore", type=Path, metavar="RESULT", help="no model run: re-apply post-processing variants (the cuts at the code after the cursor) to the generations RESULT recorded")
    p.set_defaults(func=run)
