"""The infilling evaluation: task cutting, scoring, and a full run on a tiny random-weight GGUF."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("numpy")

from slm_lsp_train.evaluate import (  # noqa: E402
    Task,
    edit_similarity,
    heldout_stdlib_texts,
    levenshtein,
    make_tasks,
    markdown_table,
    trim,
)

TEXT = "".join(
    f"def function_{i}(value):\n    result = value * {i}\n    return result\n\n" for i in range(30)
)


def test_levenshtein_and_similarity() -> None:
    assert levenshtein("kitten", "sitting") == 3
    assert edit_similarity("abc", "abc") == 1.0
    assert edit_similarity("", "") == 1.0
    assert edit_similarity("abcd", "") == 0.0
    assert 0.0 < edit_similarity("return x", "return y") < 1.0


def test_trim_keeps_as_many_lines_as_the_target() -> None:
    one = Task("single_line", "", "x = 1", "")
    assert trim("x = 1\ny = 2", one) == "x = 1"
    two = Task("multi_line", "", "a\nb", "")
    assert trim("a\nb\nc", two) == "a\nb"


def test_tasks_are_cut_from_the_text() -> None:
    tasks = make_tasks([("m.py", TEXT)], per_kind=10, seed=1)
    kinds = {t.kind for t in tasks}
    assert kinds == {"single_line", "multi_line", "random_span", "line_tail"}
    for t in tasks:
        assert t.middle.strip()
        assert (t.prefix + t.middle + t.suffix) in TEXT
        if t.kind == "single_line":
            assert "\n" not in t.middle and (t.prefix == "" or t.prefix[-1] in " \n")
        if t.kind == "multi_line":
            assert 1 <= t.middle.count("\n") <= 4
        if t.kind == "line_tail":  # the cursor stopped inside a line's code; the hole ends the line
            line_start = t.prefix.rfind("\n") + 1
            assert t.prefix[line_start:].strip() and "\n" not in t.middle
            assert t.suffix == "" or t.suffix.startswith("\n")
    assert make_tasks([("m.py", TEXT)], per_kind=10, seed=1) == tasks


def test_a_kind_added_at_the_end_leaves_the_other_tasks_as_they_were(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from slm_lsp_train import evaluate

    tasks = make_tasks([("m.py", TEXT)], per_kind=10, seed=1)
    monkeypatch.setattr(evaluate, "KINDS", evaluate.KINDS[:3])
    assert make_tasks([("m.py", TEXT)], per_kind=10, seed=1) == [
        t for t in tasks if t.kind != "line_tail"
    ]


def test_heldout_files_come_from_the_eval_split() -> None:
    from slm_lsp_train.corpus import CorpusConfig, in_eval_split

    texts = heldout_stdlib_texts()
    assert texts
    assert all(in_eval_split(k, CorpusConfig()) for k, _ in texts)
    assert not any(k.startswith(("site-packages", "distutils")) for k, _ in texts)


def test_evaluate_a_tiny_model(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp")
    pytest.importorskip("gguf")
    from slm_lsp_train.config import PRESETS
    from slm_lsp_train.evaluate import evaluate_model, measure_speed
    from slm_lsp_train.export import byte_level_vocab, write_gguf
    from slm_lsp_train.reference import random_weights

    cfg = PRESETS["tiny"]
    path = write_gguf(
        tmp_path / "t.gguf", cfg, random_weights(cfg), byte_level_vocab(cfg.vocab_size), ftype="f16"
    )
    tasks = make_tasks([("m.py", TEXT)], per_kind=2, seed=0)
    fim = evaluate_model(path, tasks, n_threads=1)
    assert fim.mode == "fim+heal" and fim.overall.n == 8
    assert 0.0 <= fim.overall.edit_sim <= 1.0
    prefix = evaluate_model(path, tasks, mode="prefix", n_threads=1)
    assert prefix.mode == "prefix+heal"
    assert "| t.gguf | fim+heal |" in markdown_table([fim, prefix])
    speed = measure_speed(path, prompt_tokens=32, gen_tokens=4, n_threads=1)
    assert speed["prompt_tok_s"] > 0 and speed["gen_tok_s"] > 0
