"""One set of checks for every backend behind the ``Engine`` protocol: the in-process llama.cpp engine
with the tiny test model, and the remote engine against llama-cpp-python's own server on 127.0.0.1
running the same model."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from slm_lsp.generation import Engine, Generation, GenerationParams
from slm_lsp.prompt.templates import build_prompt

pytestmark = pytest.mark.slow

BACKENDS = ("llama_cpp", "openai")


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, remote_model_path) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    if request.param == "llama_cpp":
        from slm_lsp.config import ModelSettings
        from slm_lsp.engine.llama import LlamaEngine

        eng: Any = LlamaEngine(remote_model_path, ModelSettings(n_ctx=2048, n_threads=1))
    else:
        server = request.getfixturevalue("llama_server")
        make = request.getfixturevalue("make_engine")
        eng = make(server.url, family="deepseek", timeout_s=120.0)
    try:
        yield eng
    finally:
        if request.param == "llama_cpp":
            eng.close()


def prompt_of(engine: Engine) -> Any:
    return build_prompt(
        engine.family, prefix="def add(a, b):\n    return ", suffix="\n", path="calc.py"
    )


def generate(
    engine: Engine, max_tokens: int = 24, on_text: Callable[[str], bool | None] | None = None
) -> Generation:
    return engine.generate(
        prompt_of(engine), GenerationParams(max_tokens=max_tokens), threading.Event(), on_text
    )


def test_declares_what_callers_use(engine: Engine) -> None:
    assert engine.info.family == engine.family.name == "deepseek"
    assert engine.family.is_fim
    assert engine.count_tokens("def add(a, b):") > 0
    tokens_of = engine.prompt_tokens
    if engine.info.backend == "llama_cpp":
        assert tokens_of is not None
        ids = tokens_of(prompt_of(engine))
        assert ids and all(isinstance(i, int) for i in ids)
    else:
        assert tokens_of is None  # the server tokenizes


def test_streams_what_it_returns_and_stops_at_max_tokens(engine: Engine) -> None:
    pieces: list[str] = []
    gen = generate(engine, 24, pieces.append)
    assert gen.text and "".join(pieces) == gen.text
    assert gen.stop_reason == "length"


def test_on_text_returning_true_stops_the_generation(engine: Engine) -> None:
    full = generate(engine, 24)
    calls: list[str] = []

    def enough(piece: str) -> bool:
        calls.append(piece)
        return True  # the caller has what it needs after the first piece

    early = generate(engine, 24, enough)
    assert len(calls) == 1, calls
    assert early.stop_reason == "stop"
    assert early.text.startswith(calls[0]) and full.text.startswith(early.text)
    assert len(early.text) < len(full.text)


def test_a_cancel_set_before_the_start_generates_nothing(engine: Engine) -> None:
    cancel = threading.Event()
    cancel.set()
    gen = engine.generate(prompt_of(engine), GenerationParams(max_tokens=8), cancel)
    assert gen.stop_reason == "cancelled" and gen.text == ""
