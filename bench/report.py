"""``python -m bench report``: the results table of ``bench/README.md`` rendered from ``bench/results/*.json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench import common

START, END = "<!-- results:start -->", "<!-- results:end -->"


def _load(out: Path, name: str) -> dict[str, Any] | None:
    p = out / f"{name}.json"
    return json.loads(p.read_text(encoding="utf-8")) if p.is_file() else None


def _f(x: Any, nd: int = 1, unit: str = "") -> str:
    if x is None:
        return "—"
    if isinstance(x, float):
        return f"{x:.{nd}f}{unit}"
    return f"{x}{unit}"


def _latency_rows(d: dict[str, Any]) -> list[str]:
    s = d["summary"]
    lat = s["latency_ms"]
    st = d["settings"]
    label = f"latency, {d['model']['name']} (load {d['machine']['load_avg_1_5_15'][0]} at start)"
    budgets = f"{st.get('model.n_threads') or 'all'} thread(s), prefix {st.get('completion.prefix_chars')} / suffix {st.get('completion.suffix_chars')} chars, context {st.get('context.budget_tokens')} tok, max {st.get('completion.max_tokens')} tok"
    t = d["targets"]
    return [
        f"| {label} | time to answer p50 / p95 / p99 ({s['keystrokes']} keys; {budgets}) | {_f(lat['p50'], 0)} / {_f(lat['p95'], 0)} / {_f(lat['p99'], 0)} ms | — | |",
        f"| | answered / cancelled / with suggestion; cache hits / misses | {s['requests_answered']} / {s['requests_cancelled']} / {s['requests_with_suggestion']}; {s['cache_hits']} / {s['cache_misses']} | — | |",
        f"| | server ÷ raw llama-cpp-python, same prompt and KV state (p50 of per-request ratios; server − raw p50) | {_f(s['overhead_ratio_p50'], 2)}× ({_f(s['overhead_ms_p50'], 0)} ms) | ≤ 1.15× | {t['overhead_ratio']['verdict']} |",
        f"| | the same without the debounce wait ({d['settings'].get('completion.debounce_ms', 0)} ms) (p50) | {_f(s.get('overhead_ratio_p50_without_debounce'), 2)}× | ≤ 1.15× | {common.verdict(s.get('overhead_ratio_p50_without_debounce'), 1.15)} |",
        f"| | server ÷ floor (only changed tokens evaluated), p50 | {_f(s['vs_floor_ratio_p50'], 2)}× | — | |",
        f"| | warm ÷ cold: server p50 cold / warm (n) ; raw same prompts | {_f(s['warm_speedup_server'], 1)}× ({_f(s['server_cold_ms_p50'], 0)} / {_f(s['server_warm_ms_p50'], 0)} ms, n={s['server_cold_n']}/{s['server_warm_n']}); raw {_f(s['warm_speedup_raw'], 1)}× | ≥ 3× | {t['warm_speedup']['verdict']} |",
        f"| | prompt tokens per answered request: total / evaluated / changed since previous key / generated (means) | {s['mean_prompt_tokens']} / {s['mean_tokens_evaluated']} / {s['mean_tokens_changed']} / {s['mean_tokens_generated']} | — | |",
    ]


def table(out: Path) -> str:
    from bench.quality import TREE_SOURCE

    rows = ["| benchmark | figure | measured | target | verdict |", "|---|---|---|---|---|"]
    for name in ("latency", "latency-threads-all", "latency-deepseek-1.3b", "latency-deepseek-1.3b-threads-all"):
        d = _load(out, name)
        if d:
            rows += _latency_rows(d)
    d = _load(out, "index")
    if d:
        for r in d["runs"]:
            t = r["targets"]
            label = f"index, {r['tree']}{' without site-packages' if r['exclude_site_packages'] else ''} ({r['files']} files, {r['mb']:.0f} MB)"
            rows += [
                f"| {label} | cold index ÷ plain 1-thread tree-sitter parse | {r['cold_s']:.1f} s ÷ {r['plain_parse_s']:.1f} s = {r['cold_vs_plain']:.2f}× | ≤ 1.0× | {t['cold_vs_plain']['verdict']} |",
                f"| | warm start ÷ cold | {r['warm_s']:.2f} s = {100 * r['warm_vs_cold']:.1f} % | < 10 % | {t['warm_vs_cold']['verdict']} |",
                f"| | one-file update p95 (p50) | {r['incremental_ms']['p95']} ({r['incremental_ms']['p50']}) ms | < 20 ms | {t['incremental_p95_ms']['verdict']} |",
                f"| | retrieval per request p95 (p50) | {_f((r.get('retrieval_ms') or {}).get('p95'), 2)} ({_f((r.get('retrieval_ms') or {}).get('p50'), 2)}) ms | < 5 ms | {t['retrieval_p95_ms']['verdict']} |",
                f"| | peak RSS of the indexing process; RSS holding the warm index | {r['peak_rss_mb']} MB; {r.get('server_rss_mb')} MB | < 400 MB (larger tree) | {t['peak_rss_mb']['verdict']} |",
            ]
    d = _load(out, "review")
    if d:
        runs = {(r["tool"], r["jobs"]): r for r in d["runs"]}
        for key in (("slm-lsp", 1), ("slm-lsp", 2), ("bandit", 1)):
            r = runs.get(key)
            if r:
                rows.append(f"| {'review, ' + Path(d['settings']['tree']).name + ' (no site-packages)' if key == ('slm-lsp', 1) else ''} | {r['tool']} --jobs {r['jobs']}: files/s, MB/s | {r['files_per_s']} files/s, {r['mb_per_s']} MB/s ({r['seconds']:.1f} s; {_f(r['speedup_vs_bandit'], 1)}× bandit) | — | |")
        a = d.get("agreement")
        if a:
            rows.append(f"| | agreement on the {a['checks_in_common']} checks both have: both / only bandit / only slm-lsp | {a['both']} / {a['only_bandit']} / {a['only_slm_lsp']} | — | |")
    for name in sorted(p.stem for p in out.glob("quality*.json")):  # older runs are kept in results/history/
        d = _load(out, name)
        if not d or name == "quality-quick":
            continue
        task_source = d["settings"].get("task_source", "")
        source = f"{name.removeprefix('quality-')}/" if task_source.startswith(TREE_SOURCE) else "held-out stdlib"
        label = f"{d['settings']['tasks']} {source} tasks"
        seeds = d["settings"].get("seed", 0)
        if isinstance(seeds, list):
            label += f", seeds {', '.join(map(str, seeds))}"
        for r in d["results"]:
            o = r["overall"]
            kinds = ", ".join(f"{k.replace('_', '-')} {v['exact_match']:.2f}/{v['edit_similarity']:.2f}" for k, v in r["by_kind"].items())
            rows.append(f"| quality ({label}) | {r['model']} {'with' if r['context'] else 'without'} cross-file context: EM / edit sim. ({kinds}) | {o['exact_match']:.3f} / {o['edit_similarity']:.3f} | — | |")
            for key in ("against_first", "context_effect"):
                a = r.get(key)
                if a and a["n"]:
                    what = f"{a['model']}'s" if key == "against_first" else "its own without context"
                    rows.append(f"| | edit sim. − {what}, task by task: mean (95 % interval); wins / ties / losses | {a['mean_difference']:+.3f} ({a['ci95'][0]:+.3f} … {a['ci95'][1]:+.3f}); {a['wins']} / {a['ties']} / {a['losses']} | — | |")
    d = _load(out, "remote")
    if d and "result" in d:
        r = d["result"]
        rows.append(f"| remote, {d['model']['name']} | llama_cpp.server ÷ in-process: first text, whole completion (medians) | {r['first_ratio']}×, {r['total_ratio']}× ({r['local_total_ms']:.0f} vs {r['remote_total_ms']:.0f} ms; {d['settings'].get('n_threads')} threads; same text in {r['same_text']:.0%} of pairs) | — | |")
    return "\n".join(rows)


def machine_line(out: Path) -> str:
    for name in ("latency", "index", "review", "quality", "remote"):
        d = _load(out, name)
        if d:
            m, v = d["machine"], d["versions"]
            return f"{m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB, {m['os']}, Python {m['python']}; slm-lsp {v.get('slm-lsp')} ({v.get('slm-lsp commit', '')}), llama-cpp-python {v.get('llama-cpp-python')}, tree-sitter {v.get('tree-sitter')}, bandit {v.get('bandit')}. Each JSON file records its own machine state (load average at start), versions and settings."
    return ""


def run(args: Any) -> None:
    out = args.out or common.RESULTS_DIR
    text = table(out)
    print(text)
    if args.update_readme:
        readme = Path(__file__).resolve().parent / "README.md"
        body = readme.read_text(encoding="utf-8")
        if START in body and END in body:
            head, rest = body.split(START, 1)
            _, tail = rest.split(END, 1)
            body = head + START + "\n" + text + "\n" + END + tail
        body = body.replace("RESULTS_TABLE", START + "\n" + text + "\n" + END)
        body = body.replace("RESULTS_MACHINE", machine_line(out))
        readme.write_text(body, encoding="utf-8")


def add_parser(sub: Any) -> None:
    p = sub.add_parser("report", help="render the results table (markdown) from bench/results/*.json")
    p.add_argument("--update-readme", action="store_true", help="write it into bench/README.md")
    p.set_defaults(func=run)
