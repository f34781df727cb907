"""The `train` and `finetune` subcommands register on any argparse CLI and parse their options."""

from __future__ import annotations

import argparse
from pathlib import Path

from slm_lsp.train.cli import add_subparser, main


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="slm-lsp")
    add_subparser(p.add_subparsers(dest="command", required=True))
    return p


def test_train_options() -> None:
    args = _parser().parse_args(
        ["train", "src", "--preset", "tiny", "--time-budget", "5", "--ftype", "f16"]
    )
    assert args.func is main and args.train_command == "train"
    assert args.roots == [Path("src")] and args.time_budget == 5.0 and args.ftype == ["f16"]


def test_finetune_options() -> None:
    args = _parser().parse_args(["finetune", "repo", "--time-budget", "60", "--fresh"])
    assert args.train_command == "finetune" and args.path == Path("repo") and args.fresh


def test_missing_folder_is_reported(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    import pytest

    pytest.importorskip("torch")
    pytest.importorskip("tokenizers")
    args = _parser().parse_args(["finetune", str(tmp_path / "nope")])
    assert main(args) == 2
    assert "not a folder" in capsys.readouterr().out
