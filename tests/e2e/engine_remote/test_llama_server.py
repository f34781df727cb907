"""The remote backend against a real OpenAI-compatible server: llama-cpp-python's, running a tiny
random-weight model with the DeepSeek-Coder vocabulary on 127.0.0.1."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from slm_lsp.generation import EngineError, GenerationParams
from slm_lsp.prompt.templates import build_prompt, get_family

from .conftest import LlamaServer, run_in_thread

pytestmark = pytest.mark.slow


def fim_prompt(prefix: str = "def add(a, b):\n    return "):
    return build_prompt(
        get_family("deepseek"), prefix=prefix, suffix="\n\nprint(add(1, 2))\n", path="calc.py"
    )


def test_completion_streams_and_is_deterministic(llama_server, make_engine):
    engine = make_engine(llama_server.url, name="", timeout_s=120.0)
    params = GenerationParams(max_tokens=12, temperature=0.0)
    pieces: list[str] = []
    first = engine.generate(fim_prompt(), params, threading.Event(), pieces.append)
    assert first.text, "the server produced no text"
    assert "".join(pieces) == first.text
    assert len(pieces) > 1, "the answer was not streamed"
    assert first.stop_reason in ("length", "eos", "stop")
    assert first.prompt_ms > 0 and first.gen_ms >= 0
    again = engine.generate(fim_prompt(), params, threading.Event())
    assert again.text == first.text
    # The same request without streaming, straight to the server, gives the same text.
    direct = httpx.post(
        llama_server.url + "/v1/completions",
        json={"prompt": fim_prompt().render(), "max_tokens": 12, "temperature": 0.0, "seed": 0},
        timeout=120,
    ).json()
    assert direct["choices"][0]["text"] == first.text
    assert engine.info.backend == "openai" and engine.info.name  # named from /v1/models


def test_max_tokens_and_stop_text(llama_server, make_engine):
    engine = make_engine(llama_server.url, timeout_s=120.0)
    full = engine.generate(fim_prompt(), GenerationParams(max_tokens=24), threading.Event())
    assert full.stop_reason == "length"
    # Stop at a piece of the text the model is known to write: the text is cut before it.
    needle = full.text[len(full.text) // 2 :][:3]
    assert needle
    prompt = fim_prompt()
    prompt.stop_text = (needle,)
    cut = engine.generate(prompt, GenerationParams(max_tokens=24), threading.Event())
    assert cut.text == full.text[: full.text.index(needle)]
    assert cut.stop_reason in ("stop", "eos")


#: Long enough to be cut mid-stream, short enough that the server finishes the abandoned generation
#: soon: llama-cpp-python notices a closed connection only when it sends its next chunk, and it holds
#: text back while a random model writes bytes that are not yet valid UTF-8.
LONG = GenerationParams(max_tokens=100)


def test_cancel_mid_stream(llama_server, make_engine):
    engine = make_engine(llama_server.url, timeout_s=120.0)
    full = engine.generate(fim_prompt(), LONG, threading.Event())
    assert full.stop_reason == "length"
    cancel = threading.Event()
    pieces: list[str] = []

    def on_text(piece: str) -> None:
        pieces.append(piece)
        cancel.set()

    gen = engine.generate(fim_prompt(), LONG, cancel, on_text)
    assert gen.stop_reason == "cancelled"
    assert gen.text == "".join(pieces)
    assert gen.text and full.text.startswith(gen.text) and len(gen.text) < len(full.text)
    # The engine goes on working (the server may first finish the abandoned generation).
    quick = engine.generate(fim_prompt("x = "), GenerationParams(max_tokens=4), threading.Event())
    assert quick.stop_reason in ("length", "eos") and engine.last_error is None


def test_cancel_from_another_thread_like_the_worker(llama_server, make_engine):
    engine = make_engine(llama_server.url, timeout_s=120.0)
    cancel = threading.Event()
    started = threading.Event()
    t, box = run_in_thread(
        lambda: engine.generate(fim_prompt(), LONG, cancel, lambda s: started.set())
    )
    assert started.wait(60)
    cancel.set()
    t0 = time.monotonic()
    t.join(timeout=5)
    assert not t.is_alive(), "generate did not return after cancel"
    assert time.monotonic() - t0 < 1.0
    assert box["result"].stop_reason == "cancelled"


def test_count_tokens_uses_the_server_tokenizer(llama_server, make_engine):
    engine = make_engine(llama_server.url, timeout_s=120.0)
    text = "def tokenize_me(x):\n    return x * 2  # ünïcode\n"
    expected = httpx.post(
        llama_server.url + "/extras/tokenize/count", json={"input": text}, timeout=120
    ).json()["count"]
    assert engine.count_tokens(text) == expected


def test_api_key_then_server_down(remote_model_path, tmp_path, make_engine, monkeypatch):
    """A server that wants a key: right key works, wrong key is a clear 401; then the server stops."""
    server = LlamaServer(remote_model_path, tmp_path / "server.log", api_key="team-secret-42")
    try:
        server.wait_ready()
        monkeypatch.setenv("SLM_TEST_TEAM_KEY", "team-secret-42")
        engine = make_engine(
            server.url, api_key_env="SLM_TEST_TEAM_KEY", max_retries=1, timeout_s=120.0
        )
        assert engine.generate(fim_prompt(), GenerationParams(max_tokens=4), threading.Event()).text
        monkeypatch.setenv("SLM_TEST_WRONG_KEY", "wrong")
        wrong = make_engine(server.url, api_key_env="SLM_TEST_WRONG_KEY", timeout_s=120.0)
        with pytest.raises(EngineError, match=r"unauthorized \(HTTP 401\)"):
            wrong.generate(fim_prompt(), GenerationParams(max_tokens=4), threading.Event())
    finally:
        server.stop()
    with pytest.raises(EngineError) as info:
        engine.generate(fim_prompt(), GenerationParams(max_tokens=4), threading.Event())
    assert (
        str(info.value) == f"remote model server {server.url} is not reachable (connection refused)"
    )
    assert engine.last_error == str(info.value)
