"""Measurements of the index and retrieval on a real tree (for the benchmark suite and for reports).

``python -m bench.index_measure ROOT [--exclude PATTERN ...] [--json]`` reports:

* ``plain_parse_s``: plain single-threaded tree-sitter parsing of the same files (read + parse);
* ``cold_s`` and ``cold_ratio`` (cold index time / plain parse time; the target is ≤ 1.0);
* ``warm_s`` and ``warm_pct`` (start from the cache, as % of cold);
* ``update_p95_ms``: one-file re-index from disk (read, parse, extract, maps), p95;
* ``document_update_p95_ms``: unsaved-document update (``update_document``), p95;
* ``retrieve_first_p95_ms`` / ``retrieve_p95_ms``: retrieval for the first request in a file and
  for the next keystroke in it, p95;
* ``rss_mb``: resident memory of a fresh process holding the index loaded from the cache
  (what the server pays), and ``peak_rss_mb`` of the building process.

The cache goes to a temporary folder; nothing in ROOT is written.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from slm_lsp import languages
from slm_lsp.config import ContextSettings, IndexSettings


def _p95(values: list[float]) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]


def _rss_mb(field: str = "VmRSS") -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def plain_parse_seconds(paths: list[tuple[str, str]]) -> float:
    """Read and parse every (path, language) once, single-threaded, with fresh parsers per language."""
    parsers: dict[str, Any] = {}
    t0 = time.perf_counter()
    for path, lang in paths:
        with open(path, "rb") as fh:
            data = fh.read()
        p = parsers.get(lang) or parsers.setdefault(lang, languages.parser(lang))
        p.parse(data)
    return time.perf_counter() - t0


def measure(
    root: Path,
    exclude: list[str] | None = None,
    samples: int = 200,
    seed: int = 0,
    rss_subprocess: bool = True,
    plain_runs: int = 2,
) -> dict[str, Any]:
    """All figures for ``root`` (see the module docstring)."""
    from slm_lsp.context.retrieve import ContextRetriever
    from slm_lsp.workspace.index import WorkspaceIndex

    rng = random.Random(seed)
    tmp = Path(tempfile.mkdtemp(prefix="slm-measure-"))
    try:
        settings = IndexSettings(
            cache_dir=str(tmp), exclude=[*IndexSettings().exclude, *(exclude or [])]
        )
        for lang in {s.name for s in languages.LANGUAGES}:
            languages.ts_language(lang)
            languages.load_query(lang, "symbols")
            languages.load_query(lang, "imports")
        index = WorkspaceIndex(root, settings)
        files = [(i.path, i.language) for i in index.crawler.walk()]
        plain = min(plain_parse_seconds(files) for _ in range(max(1, plain_runs)))
        cpu0 = os.times()
        cold = index.load_or_build()
        cpu1 = os.times()
        warm_index = WorkspaceIndex(root, settings)
        warm = warm_index.load_or_build()
        out: dict[str, Any] = {
            "root": str(root),
            "files": cold.files,
            "symbols": cold.symbols,
            "bytes": sum(os.path.getsize(p) for p, _ in files),
            "cores": len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity")
            else os.cpu_count(),
            "plain_parse_s": round(plain, 3),
            "cold_s": round(cold.seconds, 3),
            "cold_ratio": round(cold.seconds / plain, 3) if plain else None,
            "cold_cpu_s": round(
                (cpu1.user + cpu1.system + cpu1.children_user + cpu1.children_system)
                - (cpu0.user + cpu0.system + cpu0.children_user + cpu0.children_system),
                3,
            ),
            "warm_s": round(warm.seconds, 3),
            "warm_pct": round(100 * warm.seconds / cold.seconds, 1) if cold.seconds else None,
            "peak_rss_mb": round(_rss_mb("VmHWM"), 1),
        }
        # one-file update from disk: make the record look stale, then update (no file is written)
        keys = [k for k in warm_index.keys() if not os.path.isabs(k)]
        picks = rng.sample(keys, min(samples, len(keys)))
        times = []
        for key in picks:
            rec = warm_index._files[key]
            warm_index._files[key] = rec._replace(mtime_ns=0, digest=b"")
            t0 = time.perf_counter()
            warm_index.update_file(root / key)
            times.append((time.perf_counter() - t0) * 1000)
        out["update_p95_ms"] = round(_p95(times), 2)
        out["update_median_ms"] = round(sorted(times)[len(times) // 2], 2) if times else 0.0
        # unsaved-document updates and retrieval on Python files
        py = [k for k in picks if k.endswith(".py")][: max(1, samples // 2)]
        doc_times, first, next_key = [], [], []
        retriever = ContextRetriever(warm_index, ContextSettings())
        for key in py:
            path = str(root / key)
            try:
                text = Path(path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            lines = text.split("\n")
            if len(lines) < 5:
                continue
            t0 = time.perf_counter()
            warm_index.update_document(Path(path), text + "\n# edited\n", "python")
            doc_times.append((time.perf_counter() - t0) * 1000)
            warm_index.close_document(Path(path))
            line = rng.randrange(len(lines))
            col = len(lines[line])
            window = (max(0, line - 150), line + 50)
            t0 = time.perf_counter()
            retriever.retrieve(path, text, line, col, "python", window)
            first.append((time.perf_counter() - t0) * 1000)
            typed = "\n".join([*lines[:line], lines[line] + "x", *lines[line + 1 :]])
            t0 = time.perf_counter()
            retriever.retrieve(path, typed, line, col + 1, "python", window)
            next_key.append((time.perf_counter() - t0) * 1000)
        out["document_update_p95_ms"] = round(_p95(doc_times), 2)
        out["retrieve_first_p95_ms"] = round(_p95(first), 2)
        out["retrieve_p95_ms"] = round(_p95(next_key), 2)
        out["retrieve_median_ms"] = (
            round(sorted(next_key)[len(next_key) // 2], 2) if next_key else 0.0
        )
        if rss_subprocess:
            code = (
                "import sys, json; from pathlib import Path; from slm_lsp.config import IndexSettings; "
                "from slm_lsp.workspace.index import WorkspaceIndex; from bench.index_measure import _rss_mb; "
                f"s = IndexSettings(cache_dir={str(tmp)!r}, exclude={settings.exclude!r}); "
                f"base = _rss_mb(); ix = WorkspaceIndex(Path({str(root)!r}), s); st = ix.load_or_build(); "
                "ix.search('parse'); print(json.dumps({'rss_mb': _rss_mb(), 'base_rss_mb': base, 'from_cache': st.from_cache}))"
            )
            res = subprocess.run(
                [sys.executable, "-c", code],
                capture_output=True,
                text=True,
                env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
            )
            if res.returncode == 0:
                info = json.loads(res.stdout.strip().splitlines()[-1])
                out["rss_mb"] = round(info["rss_mb"], 1)
                out["rss_index_mb"] = round(info["rss_mb"] - info["base_rss_mb"], 1)
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m bench.index_measure", description=__doc__.split("\n\n")[0]
    )
    ap.add_argument("root", type=Path)
    ap.add_argument(
        "--exclude",
        action="append",
        default=[],
        help="extra exclude pattern (gitignore syntax), e.g. site-packages/",
    )
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument(
        "--plain-runs", type=int, default=2, help="plain-parse baseline runs (the fastest counts)"
    )
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    result = measure(args.root.resolve(), args.exclude, args.samples, plain_runs=args.plain_runs)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for k, v in result.items():
            print(f"{k:<24} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
