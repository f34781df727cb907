"""The `train` and `finetune` subcommands register on any argparse CLI and parse their options."""

from __future__ import annotations

import argparse
from pathlib import Path

from slm_lsp_train.cli import add_subparser, main


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


def test_train_fim_mix_options_reach_the_fim_config() -> None:
    from slm_lsp_train.cli import fim_config
    from slm_lsp_train.config import FIMConfig

    args = _parser().parse_args(
        ["train", "--spm-rate", "0.8", "--line-tail-rate", "0.4", "--loss-on", "middle"]
    )
    fim = fim_config(args)
    assert (fim.spm_rate, fim.line_tail_rate, fim.loss_on) == (0.8, 0.4, "middle")
    assert fim.fim_rate == FIMConfig().fim_rate  # not named: the default
    assert fim_config(_parser().parse_args(["train"])) == FIMConfig()


def test_a_rate_outside_0_1_is_one_clear_line(capsys) -> None:  # type: ignore[no-untyped-def]
    args = _parser().parse_args(["train", "--spm-rate", "1.5"])
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--spm-rate must be between 0 and 1" in err[0]
