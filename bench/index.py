"""Workspace index speed: cold, warm and incremental indexing against plain single-threaded tree-sitter parsing, retrieval per request, peak memory.

Each phase runs in a child process (``python -m bench.index --child PHASE``) so that its peak RSS
is its own and a warm start really starts from the disk cache:

* ``cold`` — ``WorkspaceIndex.load_or_build`` with an empty cache folder (parallel workers as configured);
* ``plain`` — the same files read and parsed by one tree-sitter parser in one thread, nothing else;
* ``warm`` — ``load_or_build`` again from the cache; then one-file incremental updates
  (``update_document``, as an editor's edit arrives) and, when ``slm_lsp.context.retrieve`` exists,
  ``ContextRetriever.retrieve`` per request.
"""

from __future__ import annotations

import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import common

#: Edits timed in the incremental phase (and requests in the retrieval phase).
UPDATES = 200
#: Folder indexed by ``--quick``.
QUICK_TREE = common.STDLIB / "json"


def _settings(cache: str, exclude_site: bool, jobs: int) -> Any:
    from slm_lsp.config import IndexSettings

    s = IndexSettings(cache_dir=cache, watch=False, jobs=jobs)
    if exclude_site:
        s.exclude = [*s.exclude, "site-packages/"]
    return s


def _rss_mb() -> dict[str, float]:
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"peak_rss_mb": round(self_kb / 1024, 1), "peak_rss_workers_mb": round(kids_kb / 1024, 1)}


def child(phase: str, root: Path, cache: str, exclude_site: bool, jobs: int) -> dict[str, Any]:
    from slm_lsp.workspace.index import WorkspaceIndex

    settings = _settings(cache, exclude_site, jobs)
    if phase == "plain":
        from slm_lsp import languages
        from slm_lsp.workspace.crawl import Crawler

        files = [(i.path, i.language) for i in Crawler(root, settings).walk()]
        t0 = time.perf_counter()
        parsers: dict[str, Any] = {}
        nbytes = 0
        for path, lang in files:
            try:
                data = Path(path).read_bytes()
            except OSError:
                continue
            p = parsers.get(lang) or parsers.setdefault(lang, languages.parser(lang))
            p.parse(data)
            nbytes += len(data)
        return {"seconds": time.perf_counter() - t0, "files": len(files), "bytes": nbytes, **_rss_mb()}
    index = WorkspaceIndex(root, settings)
    stats = index.load_or_build()
    out: dict[str, Any] = {"seconds": stats.seconds, "stats": stats.to_dict()}
    if phase == "warm":
        rng = random.Random(0)
        keys = [k for k in index.keys() if k.endswith(".py")]
        sample = [rng.choice(keys) for _ in range(min(UPDATES, len(keys) * 4))] if keys else []
        times = []
        for key in sample:
            path = Path(index.abspath(key))
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            text += f"\ndef bench_edit_{len(times)}():\n    return {len(times)}\n"
            t = time.perf_counter()
            index.update_document(path, text, "python")
            times.append((time.perf_counter() - t) * 1000)
        out["incremental_ms"] = common.summary(times)
        out["retrieval_ms"], out["retrieval_note"] = _retrieval(index, sample, rng)
    out.update(_rss_mb())
    return out


def _retrieval(index: Any, keys: list[str], rng: random.Random) -> tuple[dict[str, Any] | None, str]:
    try:
        from slm_lsp.context.retrieve import ContextRetriever
    except ImportError:
        return None, "slm_lsp.context.retrieve is not available in this tree: not measured"
    from slm_lsp.config import ContextSettings

    retriever = ContextRetriever(index, ContextSettings())
    times = []
    for key in keys[:UPDATES]:
        path = Path(index.abspath(key))
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        lines = text.split("\n")
        line = rng.randrange(len(lines))
        col = len(lines[line])
        t = time.perf_counter()
        retriever.retrieve(key, text, line, col, "python", (max(0, line - 60), min(len(lines) - 1, line + 20)), lambda s: len(s) // 4)
        times.append((time.perf_counter() - t) * 1000)
    return common.summary(times), "ContextRetriever.retrieve over the warm index, token count ≈ chars / 4"


def _spawn(phase: str, root: Path, cache: str, exclude_site: bool, jobs: int) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.index", "--child", phase, str(root), cache, "1" if exclude_site else "0", str(jobs)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
    if proc.returncode != 0:
        raise RuntimeError(f"index child {phase} failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(root: Path, exclude_site: bool, jobs: int, samples: int = UPDATES) -> dict[str, Any]:
    """The workspace engineer's ``bench.index_measure`` in a child process; this module's own phases when it is missing."""
    try:
        import bench.index_measure  # noqa: F401
    except ImportError:
        return measure_here(root, exclude_site, jobs)
    cmd = [sys.executable, "-m", "bench.index_measure", str(root), "--json", "--samples", str(samples), "--plain-runs", "1"]
    if exclude_site:
        cmd += ["--exclude", "site-packages/"]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
    if proc.returncode != 0:
        raise RuntimeError(f"bench.index_measure failed: {proc.stderr[-2000:]}")
    m = json.loads(proc.stdout)
    res: dict[str, Any] = {
        "tree": str(root),
        "exclude_site_packages": exclude_site,
        "measured_by": "bench.index_measure.measure",
        "files": m["files"],
        "mb": round(m["bytes"] / 1e6, 2),
        "plain_parse_s": m["plain_parse_s"],
        "cold_s": m["cold_s"],
        "warm_s": m["warm_s"],
        "cold_vs_plain": m["cold_ratio"],
        "warm_vs_cold": round(m["warm_s"] / m["cold_s"], 4) if m["cold_s"] else None,
        "incremental_ms": {"p50": m["update_median_ms"], "p95": m["update_p95_ms"], "n": samples},
        "document_update_p95_ms": m.get("document_update_p95_ms"),
        "retrieval_ms": {"p50": m["retrieve_median_ms"], "p95": m["retrieve_p95_ms"], "first_in_file_p95": m["retrieve_first_p95_ms"]},
        "peak_rss_mb": m["peak_rss_mb"],
        "peak_rss_workers_mb": None,
        "server_rss_mb": m.get("rss_mb"),
        "raw": m,
    }
    res["targets"] = _targets(res)
    return res


def _targets(res: dict[str, Any]) -> dict[str, Any]:
    inc95 = res["incremental_ms"]["p95"]
    ret95 = res["retrieval_ms"]["p95"] if res.get("retrieval_ms") else None
    peak = res["peak_rss_mb"]
    return {
        "cold_vs_plain": {"value": res["cold_vs_plain"], "target": "<= 1.0", "verdict": common.verdict(res["cold_vs_plain"], 1.0)},
        "warm_vs_cold": {"value": res["warm_vs_cold"], "target": "< 0.10", "verdict": common.verdict(res["warm_vs_cold"], 0.10)},
        "incremental_p95_ms": {"value": inc95, "target": "< 20", "verdict": common.verdict(inc95, 20)},
        "retrieval_p95_ms": {"value": ret95, "target": "< 5", "verdict": common.verdict(ret95, 5)},
        "peak_rss_mb": {"value": peak, "target": "< 400 (larger tree)", "verdict": common.verdict(peak, 400)},
    }


def measure_here(root: Path, exclude_site: bool, jobs: int) -> dict[str, Any]:
    cache = tempfile.mkdtemp(prefix="slm-bench-index-")
    try:
        plain = _spawn("plain", root, cache, exclude_site, jobs)
        cold = _spawn("cold", root, cache, exclude_site, jobs)
        warm = _spawn("warm", root, cache, exclude_site, jobs)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    peak = max(cold["peak_rss_mb"], warm["peak_rss_mb"])
    res = {
        "tree": str(root),
        "exclude_site_packages": exclude_site,
        "files": cold["stats"]["files"],
        "mb": round(plain["bytes"] / 1e6, 2),
        "plain_parse_s": round(plain["seconds"], 3),
        "cold_s": round(cold["seconds"], 3),
        "warm_s": round(warm["seconds"], 3),
        "cold_vs_plain": round(cold["seconds"] / plain["seconds"], 3) if plain["seconds"] else None,
        "warm_vs_cold": round(warm["seconds"] / cold["seconds"], 4) if cold["seconds"] else None,
        "incremental_ms": warm["incremental_ms"],
        "retrieval_ms": warm.get("retrieval_ms"),
        "retrieval_note": warm.get("retrieval_note"),
        "peak_rss_mb": peak,
        "peak_rss_workers_mb": cold["peak_rss_workers_mb"],
        "plain_peak_rss_mb": plain["peak_rss_mb"],
        "cold": cold,
        "warm": warm,
    }
    res["targets"] = _targets(res)
    return res


def run(args: Any) -> dict[str, Any]:
    trees: list[tuple[Path, bool]]
    if args.quick:
        trees = [(QUICK_TREE, True)]
    else:
        trees = [(Path(args.root), True)]
        if args.tree:
            trees.append((Path(args.tree), False))
    runs = [measure(root, excl, args.jobs, 20 if args.quick else UPDATES) for root, excl in trees]
    name = "index-quick" if args.quick else "index"
    result = {**common.header({"jobs": args.jobs or "all cores", "updates": UPDATES}), "runs": runs}
    path = common.write_result(name, result, args.out)
    rows = []
    for r in runs:
        t = r["targets"]
        label = f"{Path(r['tree']).name or r['tree']}{' (no site-packages)' if r['exclude_site_packages'] else ' (all)'}: {r['files']} files, {r['mb']} MB"
        rows += [
            (label, "plain tree-sitter parse, 1 thread (s)", r["plain_parse_s"], ""),
            ("", "cold index (s) / vs plain", f"{r['cold_s']} / {r['cold_vs_plain']}x", f"<= 1.0x {t['cold_vs_plain']['verdict']}"),
            ("", "warm start (s) / vs cold", f"{r['warm_s']} / {r['warm_vs_cold']:.1%}", f"< 10% {t['warm_vs_cold']['verdict']}"),
            ("", "one-file update p50 / p95 (ms)", f"{r['incremental_ms']['p50']} / {r['incremental_ms']['p95']}", f"< 20 {t['incremental_p95_ms']['verdict']}"),
            ("", "retrieval p50 / p95 (ms)", f"{r['retrieval_ms']['p50']} / {r['retrieval_ms']['p95']}" if r["retrieval_ms"] else "not measured", f"< 5 {t['retrieval_p95_ms']['verdict']}"),
            ("", "peak RSS of the indexing process (MB)", r["peak_rss_mb"], f"< 400 {t['peak_rss_mb']['verdict']}"),
            ("", "RSS of a process holding the warm index (MB)", r.get("server_rss_mb"), ""),
        ]
    common.print_table("index", ["tree", "figure", "value", "target"], rows)
    if not args.no_plot:
        plt = common.pyplot()
        fig, ax = plt.subplots(figsize=(6, 2.6))
        labels = [Path(r["tree"]).name + (" (no site-pkgs)" if r["exclude_site_packages"] else " (all)") for r in runs]
        w = 0.25
        for i, (key, lab) in enumerate((("plain_parse_s", "plain parse, 1 thread"), ("cold_s", "cold index"), ("warm_s", "warm start"))):
            ax.barh([j + i * w for j in range(len(runs))], [r[key] for r in runs], w, label=lab)
        ax.set_yticks([j + w for j in range(len(runs))], labels, fontsize=8)
        ax.set_xlabel("seconds")
        ax.legend(fontsize=7)
        common.save_plot(fig, name, args.out)
    print(f"wrote {path}")
    return result


def add_parser(sub: Any) -> None:
    p = sub.add_parser("index", help="cold / warm / incremental indexing vs plain tree-sitter parsing")
    p.add_argument("--root", default=str(common.STDLIB), help="tree indexed without site-packages (default: this interpreter's stdlib)")
    p.add_argument("--tree", nargs="?", const=str(common.INTERPRETER_ROOT), default=None, help="also index this whole tree (default when given alone: the interpreter folder)")
    p.add_argument("--jobs", type=int, default=0, help="index.jobs (0: all cores)")
    p.set_defaults(func=run)


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "--child":
        phase, root, cache, excl, jobs = sys.argv[2:7]
        print(json.dumps(child(phase, Path(root), cache, excl == "1", int(jobs))))
