"""Typing costs only the new tokens: the line layout, kept evaluations and interruptible warm-ups,
counted through the engine's own counters on a real llama.cpp model (random weights)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from slm_lsp.config import ModelSettings
from slm_lsp.engine.llama import LlamaEngine
from slm_lsp.engine.worker import EngineWorker
from slm_lsp.generation import GenerationParams
from slm_lsp.prompt.templates import build_prompt, get_family

HEAD = "import os\n\n\ndef total(values):\n"
#: A long suffix: in the old layout every key evaluated all of it again.
SUFFIX = "\n" + "".join(f"\ndef helper_{i}(x):\n    return x * {i} + os.sep\n" for i in range(40))
LINE = "    return sum(v for v in values)"
CHUNK = 16


def _common(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


@pytest.fixture()
def engine(tiny_model_path: Path) -> LlamaEngine:
    eng = LlamaEngine(tiny_model_path, ModelSettings(n_ctx=4096, prompt_chunk=CHUNK))
    yield eng
    eng.close()


def _slow_eval(engine: LlamaEngine, seconds: float) -> None:
    """Make each llama.cpp decode take a little longer (it still runs), so a test can act mid-prompt."""
    real = engine.llm.eval

    def eval_(tokens: Any) -> None:
        time.sleep(seconds)
        real(tokens)

    engine.llm.eval = eval_  # type: ignore[method-assign]


def test_keystrokes_within_a_line_evaluate_only_the_new_tokens(engine: LlamaEngine) -> None:
    params = GenerationParams(max_tokens=2)
    first = build_prompt(engine.family, prefix=HEAD + LINE[:8], suffix=SUFFIX)
    engine.generate(first, params, threading.Event())
    stable = engine.stable_tokens(first)
    assert stable > 400  # the context before the line, the suffix and the middle token
    prev = engine.prompt_tokens(first)
    for n in range(9, len(LINE) + 1):
        prompt = build_prompt(engine.family, prefix=HEAD + LINE[:n], suffix=SUFFIX)
        ids = engine.prompt_tokens(prompt)
        assert engine.stable_tokens(prompt) == stable and ids[:stable] == prev[:stable]
        before = engine.counters.prompt_tokens_evaluated
        gen = engine.generate(prompt, params, threading.Event())
        evaluated = engine.counters.prompt_tokens_evaluated - before
        changed = len(ids) - _common(prev, ids)
        # the tokens that changed, one more when healing backed off the last one, never the suffix
        assert evaluated == gen.n_prompt_evaluated <= changed + 1
        assert evaluated <= 3
        prev = ids


def test_a_keystroke_during_a_shared_prefix_does_not_restart_it(engine: LlamaEngine) -> None:
    _slow_eval(engine, 0.01)
    worker = EngineWorker(lambda: engine)
    worker.start()
    assert worker.loaded.wait(10)
    params = GenerationParams(max_tokens=2)
    one = build_prompt(engine.family, prefix=HEAD + LINE[:10], suffix=SUFFIX)
    two = build_prompt(engine.family, prefix=HEAD + LINE[:11], suffix=SUFFIX)
    ids_two = engine.prompt_tokens(two)
    stable = engine.stable_tokens(two)

    def job(prompt: Any) -> Any:
        return lambda eng, cancel: eng.generate(prompt, params, cancel)

    first = worker.submit("doc", job(one))
    deadline = time.monotonic() + 20
    while engine.counters.prompt_tokens_evaluated < 4 * CHUNK and time.monotonic() < deadline:
        time.sleep(0.005)
    at_key = engine.counters.prompt_tokens_evaluated
    assert 0 < at_key < stable  # the second key arrives while the shared part is evaluated
    second = worker.submit("doc", job(two))
    gen = second.result(timeout=30)
    assert first.result(timeout=5) is None or first.result().stop_reason == "cancelled"
    assert gen is not None and gen.stop_reason != "cancelled"
    # every prompt token of the second request was evaluated once, by one request or the other
    total = engine.counters.prompt_tokens_evaluated
    assert total <= len(ids_two) + 1
    assert gen.n_prompt_evaluated <= len(ids_two) - at_key
    worker.shutdown()


def test_a_warm_up_is_interrupted_by_a_request_within_one_chunk(engine: LlamaEngine) -> None:
    _slow_eval(engine, 0.01)
    worker = EngineWorker(lambda: engine)
    worker.start()
    assert worker.loaded.wait(10)
    far = build_prompt(engine.family, prefix=HEAD * 20 + LINE[:6], suffix=SUFFIX)
    near = build_prompt(engine.family, prefix="x = 1\n", suffix="")
    warm = worker.warm("doc", lambda eng, cancel: eng.warm(far, cancel))
    deadline = time.monotonic() + 20
    while engine.counters.warm_tokens_evaluated < 3 * CHUNK and time.monotonic() < deadline:
        time.sleep(0.002)
    at_request = engine.counters.warm_tokens_evaluated
    assert at_request < engine.stable_tokens(far) - CHUNK  # still warming
    answer = worker.submit(
        "doc", lambda eng, cancel: eng.generate(near, GenerationParams(max_tokens=1), cancel)
    )
    assert answer.result(timeout=30) is not None
    warmed = warm.result(timeout=5)
    assert warmed is not None and warmed <= at_request + CHUNK
    assert engine.counters.warm_tokens_evaluated <= at_request + CHUNK
    assert engine.counters.warmups_interrupted == 1
    worker.shutdown()


def test_a_warm_up_leaves_only_the_typed_line_to_evaluate(engine: LlamaEngine) -> None:
    prompt = build_prompt(engine.family, prefix=HEAD + LINE, suffix=SUFFIX)
    warmed = engine.warm(prompt, threading.Event())
    assert warmed == engine.stable_tokens(prompt)  # BOS … the middle token, from an empty cache
    gen = engine.generate(prompt, GenerationParams(max_tokens=1), threading.Event())
    assert gen.n_prompt_evaluated <= len(engine.tokenize_text(LINE)) + 1
    assert engine.warm(prompt, threading.Event()) == 0  # already there


QWEN = Path("/work/dl/qwen05.gguf")


@pytest.mark.parametrize("family", ["deepseek", "qwen"])
def test_the_typed_line_sits_after_the_middle_token(tiny_model_path: Path, family: str) -> None:
    """Token ids: [context and prefix up to the line] [suffix] middle-token [typed part of the line]."""
    if family == "qwen" and not QWEN.exists():
        pytest.skip("Qwen2.5-Coder GGUF not on this machine")
    path = tiny_model_path if family == "deepseek" else QWEN
    eng = LlamaEngine(path, ModelSettings(n_ctx=512))
    try:
        fam = get_family(family)
        assert fam.layout[-2:] == (fam.layout[-2], "$line_prefix")
        mid = eng.special_id(fam.layout[-2])
        prompt = build_prompt(fam, prefix="a = 1\n    b = c", suffix=")\nd = 2\n")
        ids = eng.prompt_tokens(prompt)
        assert mid is not None and ids.count(mid) == 1
        at = ids.index(mid)
        assert ids[at + 1 :] == eng.tokenize_text("    b = c")
        assert eng.stable_tokens(prompt) == at + 1
        assert "a = 1\n" in eng.detokenize(ids[:at]) and "    b" not in eng.detokenize(ids[:at])
    finally:
        eng.close()


def test_a_speculative_next_line_warm_up_keeps_the_current_line(engine: LlamaEngine) -> None:
    """Warming the next line's prompt sets the current one aside; whichever the user picks is cached."""
    params = GenerationParams(max_tokens=1)
    here = build_prompt(engine.family, prefix=HEAD + LINE, suffix=SUFFIX)
    engine.generate(here, params, threading.Event())
    enter = build_prompt(engine.family, prefix=HEAD + LINE + "\n    ", suffix=SUFFIX)
    assert engine.warm(enter, threading.Event()) > 50  # the suffix again, after the new line
    # the user types on in the same line: its cache comes back instead of being rebuilt
    on = build_prompt(engine.family, prefix=HEAD + LINE + ")", suffix=SUFFIX)
    gen = engine.generate(on, params, threading.Event())
    assert engine.counters.restores == 1 and gen.n_prompt_evaluated <= 3
    # ... or presses Enter after all: the warmed next line comes back in turn
    gen = engine.generate(
        build_prompt(engine.family, prefix=HEAD + LINE + "\n    x", suffix=SUFFIX),
        params,
        threading.Event(),
    )
    assert engine.counters.restores == 2 and gen.n_prompt_evaluated <= 3


def test_prompt_speed_is_learnt_from_warm_up_chunks(engine: LlamaEngine) -> None:
    """A probe taken while the cores were busy (or idle) is corrected by the next warm-up's chunks:
    requests within a line evaluate too few tokens to say anything about prompt speed."""
    prompt = build_prompt(engine.family, prefix=HEAD * 10 + LINE, suffix=SUFFIX)
    engine._prompt_tps, engine._gen_tps = (
        1.0,
        10.0,
    )  # a probe that said the model is hopelessly slow
    assert engine.warm(prompt, threading.Event()) > 8 * CHUNK
    fast, _ = engine.speed()
    assert fast > 50  # the tiny model evaluates thousands of tokens per second
    _slow_eval(engine, 0.05)  # now each chunk of 16 takes at least 50 ms: under 320 tokens/s
    engine.llm.n_tokens = 0
    engine._saved = None
    assert engine.warm(prompt, threading.Event()) > 8 * CHUNK
    slow, gen = engine.speed()
    assert slow < 320 < fast and gen == 10.0


def test_chunks_are_sized_to_the_measured_speed(tiny_model_path: Path) -> None:
    """``model.prompt_chunk = 0``: chunks of the largest size that fits the time slice at the
    speed measured on the chunks themselves (small chunks cost throughput on real models)."""
    from slm_lsp.engine.llama import CHUNK_SIZES, CHUNK_SLICE_S

    eng = LlamaEngine(tiny_model_path, ModelSettings(n_ctx=4096, prompt_chunk=0))
    try:
        assert eng.chunk_tokens() == CHUNK_SIZES[0]  # nothing measured yet: the smallest
        real = eng.llm.eval
        sizes: list[int] = []

        def eval_(tokens: Any) -> None:  # 250 tokens/s, whatever the chunk
            sizes.append(len(tokens))
            time.sleep(len(tokens) / 250)
            real(tokens)

        eng.llm.eval = eval_  # type: ignore[method-assign]
        prompt = build_prompt(eng.family, prefix=HEAD * 12 + LINE, suffix=SUFFIX)
        assert eng.warm(prompt, threading.Event()) > 0
        best = max(n for n in CHUNK_SIZES if n <= 250 * CHUNK_SLICE_S)
        assert sizes[0] == CHUNK_SIZES[0] and best in sizes and max(sizes) == best
        assert eng.chunk_tokens() == best == 256
    finally:
        eng.close()
