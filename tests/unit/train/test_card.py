"""The model card states the FIM mix the run really used (recorded in run.json), not a fixed text."""

from __future__ import annotations

from dataclasses import asdict

from slm_lsp_train.card import render
from slm_lsp_train.config import FIMConfig


def test_card_states_the_recorded_fim_mix() -> None:
    fim = FIMConfig(
        fim_rate=0.9, spm_rate=0.7, line_span_rate=0.5, line_tail_rate=0.4, loss_on="middle"
    )
    text = render({"fim": asdict(fim)}, {}, [])
    assert "90 % of them" in text and "30 % PSM, 70 % SPM" in text
    assert "40 % of them starting mid-line" in text and "loss on the middles only" in text


def test_card_of_an_older_run_states_the_defaults() -> None:
    text = render({}, {}, [])
    assert "50 % PSM, 50 % SPM" in text and "loss on the middles" not in text
