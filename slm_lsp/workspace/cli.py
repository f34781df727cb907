"""``slm-lsp index PATH``: build (or refresh from the cache) the index of a folder and report it.

Prints files, symbols, languages, seconds and the cache path; ``--json`` prints them as one JSON
object. A progress bar (rich) is drawn on stderr when it is a terminal, never when piped.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_subparser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``index`` subcommand to the main CLI."""
    from slm_lsp.commandline import common_options

    p = subparsers.add_parser(
        "index",
        parents=[common_options()],
        help="index a folder (symbols of every file) and report it",
        description="Crawl and parse a folder into the workspace index (or refresh it from the cache), then report files, symbols, languages, time and the cache path.",
    )
    p.add_argument(
        "path", nargs="?", default=".", help="the workspace root (default: the current folder)"
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--rebuild", action="store_true", help="ignore the cache and parse every file")
    p.add_argument(
        "--search", metavar="QUERY", help="also print the symbols matching QUERY (fuzzy)"
    )
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Index ``args.path``; exit status 2 when it is not a folder."""
    from slm_lsp.config import IndexSettings
    from slm_lsp.workspace.index import WorkspaceIndex

    settings = IndexSettings()
    try:
        from slm_lsp.commandline import load_settings

        settings = load_settings(args).index
    except ImportError:  # pragma: no cover - used without the main CLI
        pass
    root = Path(args.path).expanduser().resolve()
    if not root.is_dir():
        print(f"slm-lsp: error: {args.path} is not a folder", file=sys.stderr)
        return 2
    index = WorkspaceIndex(root, settings)
    if getattr(args, "rebuild", False):
        index.cache_path.unlink(missing_ok=True)
    if sys.stderr.isatty() and not args.json:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        with Progress(
            TextColumn("indexing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            transient=True,
        ) as bar:
            task = bar.add_task("index", total=None)
            stats = index.load_or_build(
                lambda done, total: bar.update(task, completed=done, total=total)
            )
    else:
        stats = index.load_or_build()
    report = stats.to_dict()
    matches = index.search(args.search, 20) if getattr(args, "search", None) else []
    if args.json:
        if args.search:
            report["matches"] = [
                {
                    "name": s.name,
                    "kind": s.kind,
                    "path": s.path,
                    "line": s.start_line + 1,
                    "signature": s.signature,
                }
                for s in matches
            ]
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    langs = (
        ", ".join(f"{k} {v}" for k, v in sorted(stats.languages.items(), key=lambda kv: -kv[1]))
        or "none"
    )
    print(f"root       {root}")
    print(f"files      {stats.files}  ({stats.parsed} parsed, {stats.skipped} skipped)")
    print(f"symbols    {stats.symbols}")
    print(f"languages  {langs}")
    print(f"seconds    {stats.seconds:.2f}  ({'from cache' if stats.from_cache else 'cold'})")
    print(f"cache      {stats.cache_path}")
    for s in matches:
        print(f"  {s.kind:<11} {s.qualified_name:<40} {s.path}:{s.start_line + 1}")
    return 0
