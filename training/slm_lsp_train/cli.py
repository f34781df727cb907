"""Command-line glue for `slm-lsp train` (stage 1, from scratch) and `slm-lsp finetune PATH` (stage 2, one repository); heavy imports happen only when a command runs."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from slm_lsp_train.config import FIMConfig

TRAIN_EXTRA_HINT = "needs the training dependencies: pip install ./training from a checkout (install a CPU build of torch first, e.g. torch==2.13.0+cpu, unless you train on a GPU)"
"""Shown when torch or tokenizers is missing."""


def add_subparser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Registers `train` and `finetune` on the project CLI's subparsers; both dispatch to main(args)."""
    t = subparsers.add_parser(
        "train",
        help="train the small FIM code model from scratch (corpus → tokenizer → model → GGUF)",
    )
    t.add_argument(
        "roots",
        nargs="*",
        type=Path,
        help="source folders (default: this Python's stdlib and site-packages)",
    )
    t.add_argument("--out", type=Path, default=Path("runs/pretrain"), help="run folder")
    t.add_argument("--preset", default="default", choices=["tiny", "default"])
    t.add_argument(
        "--time-budget", type=float, default=None, help="training seconds (default: the preset's)"
    )
    t.add_argument(
        "--total-budget",
        type=float,
        default=None,
        help="seconds for the whole run; training is shortened to fit",
    )
    t.add_argument("--vocab-size", type=int, default=None)
    t.add_argument("--batch-size", type=int, default=None)
    t.add_argument("--max-corpus-mb", type=float, default=0, help="cap on kept source (0: none)")
    t.add_argument("--eval-fraction", type=float, default=None, help="share of files held out")
    t.add_argument(
        "--ftype",
        action="append",
        choices=["f32", "f16", "q8_0"],
        help="GGUF formats (default q8_0)",
    )
    t.add_argument("--tokenizer", type=Path, default=None, help="reuse a tokenizer.json")
    fim = t.add_argument_group("FIM mix (default: FIMConfig's)")
    fim.add_argument("--fim-rate", type=float, default=None, help="share of documents made FIM")
    fim.add_argument(
        "--spm-rate",
        type=float,
        default=None,
        help="share of FIM examples suffix first (the product prompts slm-fim suffix first)",
    )
    fim.add_argument("--line-span-rate", type=float, default=None, help="share of whole-line holes")
    fim.add_argument(
        "--line-tail-rate", type=float, default=None, help="share of line holes starting mid-line"
    )
    fim.add_argument("--loss-on", choices=["all", "middle"], default=None)
    t.add_argument("--no-compile", action="store_true", help="skip torch.compile")
    t.add_argument("--name", default="slm-fim", help="model name in the GGUF and file names")
    t.add_argument("--quiet", action="store_true", help="log lines instead of progress bars")
    t.set_defaults(func=main, train_command="train")

    f = subparsers.add_parser(
        "finetune", help="continue training the model on one repository (resumable, time-bounded)"
    )
    f.add_argument("path", type=Path, help="repository folder")
    f.add_argument(
        "--base",
        type=Path,
        default=None,
        help="starting model .gguf or checkpoint.pt (default: the embedded model)",
    )
    f.add_argument(
        "--out", type=Path, default=None, help="run folder (default: PATH/.slm-lsp/finetune)"
    )
    f.add_argument("--time-budget", type=float, default=None, help="training seconds (default 600)")
    f.add_argument("--lr", type=float, default=None)
    f.add_argument("--batch-size", type=int, default=None)
    f.add_argument("--seq-len", type=int, default=None)
    f.add_argument(
        "--fresh", action="store_true", help="ignore an existing checkpoint in the run folder"
    )
    f.add_argument("--quiet", action="store_true", help="log lines instead of progress bars")
    f.set_defaults(func=main, train_command="finetune")


def main(args: argparse.Namespace) -> int:
    """Runs the subcommand that add_subparser registered; returns the exit status."""
    fim = FIMConfig()
    if args.train_command == "train":
        try:
            fim = fim_config(args)
        except ValueError as exc:
            print(f"slm-lsp train: {exc}", file=sys.stderr)
            return 2
    try:
        import tokenizers  # noqa: F401
        import torch  # noqa: F401
    except ImportError as exc:
        print(f"slm-lsp {args.train_command}: {exc}; {TRAIN_EXTRA_HINT}")
        return 2
    if args.train_command == "train":
        return _train(args, fim)
    return _finetune(args)


def fim_config(args: argparse.Namespace) -> FIMConfig:
    """The FIM mix the command line asks for: FIMConfig's defaults where it names none."""
    named = {
        key: getattr(args, key)
        for key in ("fim_rate", "spm_rate", "line_span_rate", "line_tail_rate", "loss_on")
        if getattr(args, key, None) is not None
    }
    for key, value in named.items():
        if isinstance(value, float) and not 0.0 <= value <= 1.0:
            raise ValueError(f"--{key.replace('_', '-')} must be between 0 and 1, not {value}")
    return FIMConfig(**named)


def _train(args: argparse.Namespace, fim: FIMConfig) -> int:
    from dataclasses import replace

    from slm_lsp_train.corpus import CorpusConfig
    from slm_lsp_train.pretrain import PipelineConfig, run_pipeline

    corpus = CorpusConfig(max_total_bytes=int(args.max_corpus_mb * 1e6))
    if args.eval_fraction is not None:
        corpus = replace(corpus, eval_fraction=args.eval_fraction)
    pc = PipelineConfig(
        out_dir=args.out,
        roots=list(args.roots),
        preset=args.preset,
        time_budget_s=args.time_budget,
        vocab_size=args.vocab_size,
        corpus=corpus,
        fim=fim,
        ftypes=tuple(args.ftype or ["q8_0"]),
        model_name=args.name,
        batch_size=args.batch_size,
        compile=False if args.no_compile else None,
        tokenizer_path=args.tokenizer,
        progress=not args.quiet,
        total_budget_s=args.total_budget,
    )
    summary = run_pipeline(pc)
    print(
        f"wrote {', '.join(f['path'] for f in summary['files'].values())} and MODEL_CARD.md in {args.out}"
    )
    return 0


def _finetune(args: argparse.Namespace) -> int:
    from slm_lsp_train.finetune import FinetuneConfig, finetune

    fc = FinetuneConfig(
        repo=args.path,
        base=args.base,
        out_dir=args.out,
        time_budget_s=args.time_budget,
        lr=args.lr,
        batch_size=args.batch_size,
        seq_len=args.seq_len,
        resume=not args.fresh,
        progress=not args.quiet,
    )
    if not fc.repo.is_dir():
        print(f"slm-lsp finetune: {fc.repo} is not a folder")
        return 2
    result = finetune(fc)
    print(f"fine-tuned model: {result['gguf']}")
    return 0


def run(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry: `python -m slm_lsp_train.cli train|finetune ...`."""
    parser = argparse.ArgumentParser(prog="slm-lsp")
    sub = parser.add_subparsers(dest="command", required=True)
    add_subparser(sub)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(run())
