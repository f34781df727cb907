"""``python -m bench SUBCOMMAND``: each prints a table, writes ``bench/results/<name>.json`` and draws PNG plots."""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

#: One module per benchmark, each with ``add_parser(subparsers)`` setting ``func``.
BENCHMARKS = ("latency", "burst", "cold", "index", "review", "security", "quality", "layout", "remote", "report")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description="slm-lsp benchmarks (see bench/README.md)")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--quick", action="store_true", help="a tiny input (what the smoke test runs)")
    common.add_argument("--out", type=Path, default=None, help="results folder (default: bench/results)")
    common.add_argument("--no-plot", action="store_true", help="skip the PNG plots")
    sub = ap.add_subparsers(dest="benchmark", required=True)

    class Sub:
        def add_parser(self, name: str, **kw):  # type: ignore[no-untyped-def]
            return sub.add_parser(name, parents=[common], **kw)

    for name in BENCHMARKS:
        importlib.import_module(f"bench.{name}").add_parser(Sub())
    args = ap.parse_args(argv)
    args.func(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
