"""The remote backend against a scripted server: the wire format, streaming, stop strings,
cancellation (also of a stalled stream), retries and every failure path."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from slm_lsp.generation import EngineError, GenerationParams, Snippet
from slm_lsp.prompt.templates import build_prompt, get_family

from . import fakeserver as fs
from .conftest import free_port, run_in_thread, wait_until


def fim_prompt(snippets: tuple[Snippet, ...] = ()):
    return build_prompt(
        get_family("deepseek"),
        prefix="def add(a, b):\n    return ",
        suffix="\n\nprint(add(1, 2))\n",
        path="calc.py",
        snippets=snippets,
    )


PARAMS = GenerationParams(max_tokens=16, temperature=0.0, top_p=0.9, seed=7)


# ---------------------------------------------------------------------- the happy path
def test_completion_request_and_stream(fake, make_engine):
    fake.route("POST", "/v1/completions", fs.sse_completion(["a ", "+ ", "b"]))
    engine = make_engine(fake.url)
    pieces: list[str] = []
    prompt = fim_prompt()
    gen = engine.generate(prompt, PARAMS, threading.Event(), pieces.append)
    assert gen.text == "a + b"
    assert "".join(pieces) == "a + b" and len(pieces) == 3
    assert gen.stop_reason == "eos"
    assert engine.last_error is None
    body = fake.requests[-1]["body"]
    assert body["prompt"] == prompt.render()
    assert "<｜fim▁hole｜>" in body["prompt"]
    assert body["stream"] is True
    assert (
        body["max_tokens"] == 16
        and body["temperature"] == 0.0
        and body["top_p"] == 0.9
        and body["seed"] == 7
    )
    assert body["stop"] == list(prompt.stop_tokens)
    assert body["model"] == "tiny"
    assert engine.info.backend == "openai" and engine.info.family == "deepseek"


def test_endpoint_with_v1_suffix_and_model_from_models_list(fake, make_engine):
    fake.route("POST", "/v1/completions", fs.sse_completion(["x"], finish="length"))
    fake.route(
        "GET",
        "/v1/models",
        lambda h, b: fs.json_answer(
            h, {"object": "list", "data": [{"id": "served-model", "object": "model"}]}
        ),
    )
    engine = make_engine(fake.url + "/v1/", name="")
    gen = engine.generate(fim_prompt(), PARAMS, threading.Event())
    assert gen.text == "x" and gen.stop_reason == "length"
    assert fake.requests[-1]["body"]["model"] == "served-model"
    assert engine.info.name == "served-model"


def test_keep_alive_connection_is_reused(fake, make_engine):
    fake.route("POST", "/v1/completions", fs.sse_completion(["ok"]))
    engine = make_engine(fake.url)
    for _ in range(3):
        assert engine.generate(fim_prompt(), PARAMS, threading.Event()).text == "ok"
    assert fake.connections == 1


def test_stop_text_cuts_the_text_and_on_text_never_sees_the_stop(fake, make_engine):
    fake.route("POST", "/v1/completions", fs.sse_completion(["ab", "c\n", "\nde", "f"]))
    engine = make_engine(fake.url)
    prompt = fim_prompt()
    prompt.stop_text = ("\n\n",)
    pieces: list[str] = []
    gen = engine.generate(prompt, PARAMS, threading.Event(), pieces.append)
    assert gen.text == "abc"
    assert "".join(pieces) == "abc"
    assert gen.stop_reason == "stop"
    assert fake.requests[-1]["body"]["stop"] == [*prompt.stop_tokens, "\n\n"]


def test_sse_comments_multiline_and_usage_chunks(fake, make_engine):
    fake.route(
        "POST",
        "/v1/completions",
        fs.raw_stream(
            [
                b": ping\n\n",
                b'data: {"choices": [{"text": "he", "finish_reason": null}]}\r\n\r\n',
                b'data: {"choices": [{"text": "llo",\ndata:  "finish_reason": "stop"}]}\n\n',
                b'data: {"choices": [], "usage": {"prompt_tokens": 12}}\n\n',
                b"data: [DONE]\n\n",
            ]
        ),
    )
    gen = make_engine(fake.url).generate(fim_prompt(), PARAMS, threading.Event())
    assert gen.text == "hello"
    assert gen.n_prompt == 12


# ---------------------------------------------------------------------- /infill
def test_infill_used_when_props_answer_like_llama_cpp(fake, make_engine):
    fake.route("GET", "/props", fs.llama_props)
    fake.route("POST", "/infill", fs.native_infill(["a", " + b"]))
    engine = make_engine(fake.url, use_infill="auto")
    snippets = (
        Snippet(path="util.py", text="def helper():\n    pass\n"),
        Snippet(path="b.py", text="X = 1\n"),
    )
    pieces: list[str] = []
    gen = engine.generate(fim_prompt(snippets), PARAMS, threading.Event(), pieces.append)
    assert gen.text == "a + b" and pieces == ["a", " + b"]
    assert gen.stop_reason == "eos"
    assert gen.n_prompt == 42 and gen.n_prompt_evaluated == 40
    infill = [r for r in fake.requests if r["path"] == "/infill"][-1]["body"]
    assert infill["input_prefix"] == "def add(a, b):\n    return "
    assert infill["input_suffix"] == "\n\nprint(add(1, 2))\n"
    assert infill["input_extra"] == [
        {"filename": "util.py", "text": "def helper():\n    pass\n"},
        {"filename": "b.py", "text": "X = 1\n"},
    ]
    assert infill["n_predict"] == 16 and infill["stream"] is True
    assert engine.info.n_ctx == 2048
    # The probe is made once and cached.
    engine.generate(fim_prompt(), PARAMS, threading.Event())
    assert fake.paths().count("/props") == 1
    assert "/v1/completions" not in fake.paths()


def test_infill_native_stop_types(fake, make_engine):
    fake.route("POST", "/infill", fs.native_infill(["abc"], stop_type="limit"))
    gen = make_engine(fake.url, use_infill="always").generate(
        fim_prompt(), PARAMS, threading.Event()
    )
    assert gen.text == "abc" and gen.stop_reason == "length"


def test_auto_uses_completions_when_not_llama_cpp(fake, make_engine):
    fake.route("POST", "/v1/completions", fs.sse_completion(["z"]))
    engine = make_engine(fake.url, use_infill="auto")
    assert engine.generate(fim_prompt(), PARAMS, threading.Event()).text == "z"
    assert engine.generate(fim_prompt(), PARAMS, threading.Event()).text == "z"
    assert fake.paths().count("/props") == 1  # 404 once, cached
    assert "/infill" not in fake.paths()


def test_auto_falls_back_when_infill_is_not_supported(fake, make_engine):
    fake.route("GET", "/props", fs.llama_props)
    fake.route("POST", "/infill", fs.status_then([501, 501], fs.native_infill(["never"])))
    fake.route("POST", "/v1/completions", fs.sse_completion(["fallback"]))
    engine = make_engine(fake.url, use_infill="auto")
    assert engine.generate(fim_prompt(), PARAMS, threading.Event()).text == "fallback"
    assert engine.generate(fim_prompt(), PARAMS, threading.Event()).text == "fallback"
    assert fake.paths().count("/infill") == 1


def test_never_skips_the_probe(fake, make_engine):
    fake.route("GET", "/props", fs.llama_props)
    fake.route("POST", "/v1/completions", fs.sse_completion(["n"]))
    make_engine(fake.url, use_infill="never").generate(fim_prompt(), PARAMS, threading.Event())
    assert fake.paths() == ["/v1/completions"]


# ---------------------------------------------------------------------- cancellation
def test_cancel_closes_a_stalled_stream_at_once(fake, make_engine):
    fake.route("POST", "/v1/completions", fs.stall_after(["first "]))
    engine = make_engine(fake.url, timeout_s=30.0)
    cancel = threading.Event()
    got_first = threading.Event()
    t, box = run_in_thread(
        lambda: engine.generate(fim_prompt(), PARAMS, cancel, lambda s: got_first.set())
    )
    assert got_first.wait(5), box
    cancel.set()
    t0 = time.monotonic()
    t.join(timeout=5)
    assert not t.is_alive()
    assert time.monotonic() - t0 < 1.0
    gen = box["result"]
    assert gen.stop_reason == "cancelled" and gen.text == "first "
    assert fake.client_closed.wait(5), "the stalled connection was not closed"
    assert engine.last_error is None


def test_cancel_while_waiting_for_headers(fake, make_engine):
    fake.route("POST", "/v1/completions", fs.stall_before_headers)
    engine = make_engine(fake.url, timeout_s=30.0)
    cancel = threading.Event()
    t, box = run_in_thread(lambda: engine.generate(fim_prompt(), PARAMS, cancel))
    assert wait_until(lambda: "/v1/completions" in fake.paths(), 5)
    cancel.set()
    t.join(timeout=2)
    assert not t.is_alive()
    assert box["result"].stop_reason == "cancelled" and box["result"].text == ""


def test_cancel_before_start_sends_nothing(fake, make_engine):
    cancel = threading.Event()
    cancel.set()
    gen = make_engine(fake.url).generate(fim_prompt(), PARAMS, cancel)
    assert gen.stop_reason == "cancelled"
    assert fake.requests == []


def test_engine_still_works_after_a_cancel(fake, make_engine):
    fake.route("POST", "/v1/completions", fs.stall_after(["x"]))
    engine = make_engine(fake.url)
    cancel = threading.Event()
    gen = engine.generate(fim_prompt(), PARAMS, cancel, lambda s: cancel.set())
    assert gen.stop_reason == "cancelled" and gen.text == "x"
    fake.route("POST", "/v1/completions", fs.sse_completion(["fine"]))
    assert engine.generate(fim_prompt(), PARAMS, threading.Event()).text == "fine"


# ---------------------------------------------------------------------- failures
def test_server_down_is_one_clear_line_after_retries(make_engine):
    port = free_port()  # nothing listens here
    engine = make_engine(f"http://127.0.0.1:{port}", max_retries=2, retry_backoff_s=0.05)
    t0 = time.monotonic()
    with pytest.raises(EngineError) as info:
        engine.generate(fim_prompt(), PARAMS, threading.Event())
    elapsed = time.monotonic() - t0
    message = str(info.value)
    assert (
        message
        == f"remote model server http://127.0.0.1:{port} is not reachable (connection refused)"
    )
    assert "\n" not in message
    assert engine.last_error == message
    assert elapsed >= 0.05 + 0.1  # backed off twice: 0.05 s, then 0.1 s


def test_5xx_is_retried_before_the_first_token(fake, make_engine):
    fake.route("POST", "/v1/completions", fs.status_then([500, 503], fs.sse_completion(["ok"])))
    engine = make_engine(fake.url, max_retries=2)
    assert engine.generate(fim_prompt(), PARAMS, threading.Event()).text == "ok"
    assert fake.paths().count("/v1/completions") == 3


def test_5xx_past_the_retry_limit(fake, make_engine):
    fake.route(
        "POST", "/v1/completions", fs.status_then([500, 500, 500], fs.sse_completion(["late"]))
    )
    engine = make_engine(fake.url, max_retries=1)
    with pytest.raises(
        EngineError, match=r"answered HTTP 500 to POST /v1/completions: scripted failure 500$"
    ):
        engine.generate(fim_prompt(), PARAMS, threading.Event())
    assert fake.paths().count("/v1/completions") == 2
    assert "HTTP 500" in (engine.last_error or "")
    # The next request succeeds and clears the error shown in the status.
    assert engine.generate(fim_prompt(), PARAMS, threading.Event()).text == "late"
    assert engine.last_error is None


def test_4xx_is_not_retried(fake, make_engine):
    fake.route("POST", "/v1/completions", fs.status_then([400], fs.sse_completion(["no"])))
    engine = make_engine(fake.url, max_retries=3)
    with pytest.raises(EngineError, match="HTTP 400"):
        engine.generate(fim_prompt(), PARAMS, threading.Event())
    assert fake.paths().count("/v1/completions") == 1


def test_invalid_json_in_stream(fake, make_engine):
    fake.route(
        "POST",
        "/v1/completions",
        fs.raw_stream([b'data: {"choices": [{"text": "a"}]}\n\n', b"data: {not json\n\n"]),
    )
    with pytest.raises(EngineError, match=r"sent invalid JSON in its stream: '\{not json'"):
        make_engine(fake.url).generate(fim_prompt(), PARAMS, threading.Event())


def test_not_an_event_stream(fake, make_engine):
    fake.route(
        "POST", "/v1/completions", lambda h, b: fs.json_answer(h, {"choices": [{"text": "whole"}]})
    )
    with pytest.raises(EngineError, match="did not stream server-sent events"):
        make_engine(fake.url).generate(fim_prompt(), PARAMS, threading.Event())


def test_cut_stream(fake, make_engine):
    fake.route("POST", "/v1/completions", fs.cut_after(["par"]))
    pieces: list[str] = []
    engine = make_engine(fake.url, max_retries=3)
    with pytest.raises(EngineError, match="cut the stream in the middle of a completion"):
        engine.generate(fim_prompt(), PARAMS, threading.Event(), pieces.append)
    assert pieces == ["par"]
    assert fake.paths().count("/v1/completions") == 1  # never retried after a token


def test_stream_that_ends_without_finishing(fake, make_engine):
    fake.route("POST", "/v1/completions", fs.ended_early(["half"]))
    with pytest.raises(
        EngineError, match="closed the stream of /v1/completions before it finished"
    ):
        make_engine(fake.url).generate(fim_prompt(), PARAMS, threading.Event())


def test_error_event_in_stream(fake, make_engine):
    fake.route(
        "POST",
        "/v1/completions",
        fs.raw_stream([b'data: {"error": {"message": "context too long", "code": 400}}\n\n']),
    )
    with pytest.raises(EngineError, match="reported an error: context too long"):
        make_engine(fake.url).generate(fim_prompt(), PARAMS, threading.Event())


def test_slow_server_times_out(fake, make_engine):
    fake.route("POST", "/v1/completions", fs.stall_before_headers)
    engine = make_engine(fake.url, timeout_s=0.3, max_retries=2)
    t0 = time.monotonic()
    with pytest.raises(EngineError, match=r"did not answer within 0.3s"):
        engine.generate(fim_prompt(), PARAMS, threading.Event())
    assert time.monotonic() - t0 < 3
    assert fake.paths().count("/v1/completions") == 1  # a slow server is not asked again


def test_stall_mid_stream_times_out(fake, make_engine):
    fake.route("POST", "/v1/completions", fs.stall_after(["so far"]))
    with pytest.raises(EngineError, match=r"stalled: no data for 0.3s"):
        make_engine(fake.url, timeout_s=0.3).generate(fim_prompt(), PARAMS, threading.Event())


# ---------------------------------------------------------------------- API key, settings, tokens
def test_api_key_from_environment_is_sent_and_never_logged(fake, make_engine, monkeypatch, caplog):
    monkeypatch.setenv("SLM_TEST_KEY", "sk-very-secret-123")
    fake.route("POST", "/v1/completions", fs.status_then([401], fs.sse_completion(["ok"])))
    caplog.set_level(logging.DEBUG)
    engine = make_engine(fake.url, api_key_env="SLM_TEST_KEY")
    with pytest.raises(
        EngineError, match=r"unauthorized \(HTTP 401\): check \$SLM_TEST_KEY"
    ) as info:
        engine.generate(fim_prompt(), PARAMS, threading.Event())
    assert engine.generate(fim_prompt(), PARAMS, threading.Event()).text == "ok"
    assert fake.requests[-1]["headers"]["Authorization"] == "Bearer sk-very-secret-123"
    assert "sk-very-secret" not in caplog.text
    assert "sk-very-secret" not in str(info.value) + repr(engine) + repr(engine.settings) + repr(
        engine.info
    )


def test_missing_api_key_variable(monkeypatch):
    from slm_lsp.config import ModelSettings
    from slm_lsp.engine.openai import OpenAIEngine

    monkeypatch.delenv("SLM_TEST_ABSENT_KEY", raising=False)
    settings = ModelSettings(
        backend="openai", endpoint="http://127.0.0.1:9", api_key_env="SLM_TEST_ABSENT_KEY"
    )
    with pytest.raises(
        EngineError, match="SLM_TEST_ABSENT_KEY, but that environment variable is not set"
    ):
        OpenAIEngine(settings, "deepseek")


@pytest.mark.parametrize("endpoint", ["", "ftp://host/", "not a url"])
def test_bad_endpoint(endpoint):
    from slm_lsp.config import ModelSettings
    from slm_lsp.engine.openai import OpenAIEngine

    with pytest.raises(EngineError, match="model.endpoint"):
        OpenAIEngine(ModelSettings(backend="openai", endpoint=endpoint), "deepseek")


def test_credentials_in_url_never_shown(make_engine):
    port = free_port()
    engine = make_engine(f"http://user:hunter2@127.0.0.1:{port}", max_retries=0)
    with pytest.raises(EngineError) as info:
        engine.generate(fim_prompt(), PARAMS, threading.Event())
    assert "hunter2" not in str(info.value) and "hunter2" not in engine.info.path


def test_tls_verification_is_on_by_default():
    from slm_lsp.config import ModelSettings

    assert ModelSettings().verify_tls is True


def test_count_tokens_estimates_without_a_tokenizer(fake, make_engine):
    engine = make_engine(fake.url)
    assert engine.count_tokens("") == 0
    assert engine.count_tokens("x" * 35) == 10
    assert engine.count_tokens("y" * 70) == 20
    assert fake.paths().count("/extras/tokenize/count") == 1  # probed once


def test_count_tokens_uses_llama_cpp_tokenize(fake, make_engine):
    fake.route("GET", "/props", fs.llama_props)
    fake.route(
        "POST",
        "/tokenize",
        lambda h, b: fs.json_answer(h, {"tokens": list(range(len(b["content"].split())))}),
    )
    engine = make_engine(fake.url)
    assert engine.count_tokens("one two three") == 3
    assert engine.count_tokens("one two three") == 3  # cached
    assert fake.paths().count("/tokenize") == 2  # the probe, then one real call


def test_count_tokens_never(fake, make_engine):
    engine = make_engine(fake.url, tokenize_remote="never")
    assert engine.count_tokens("abcdefg") == 2
    assert fake.requests == []


def test_loopback_server_ignores_proxy_environment(fake, make_engine, monkeypatch):
    dead = f"http://127.0.0.1:{free_port()}"
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(var, dead)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    fake.route("POST", "/v1/completions", fs.sse_completion(["direct"]))
    assert make_engine(fake.url).generate(fim_prompt(), PARAMS, threading.Event()).text == "direct"


@pytest.fixture
def tls_fake(fake, tmp_path):
    """``fake`` behind TLS with a self-signed certificate for 127.0.0.1."""
    import shutil
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert), str(key))
    fake.socket = ctx.wrap_socket(fake.socket, server_side=True)
    return fake, f"https://127.0.0.1:{fake.server_address[1]}"


def test_tls_is_verified_by_default(tls_fake, make_engine):
    fake, url = tls_fake
    fake.route("POST", "/v1/completions", fs.sse_completion(["secure"]))
    engine = make_engine(url, max_retries=2)
    with pytest.raises(
        EngineError,
        match=r"^TLS verification of https://127.0.0.1:\d+ failed .*verify_tls = false only for a server you trust$",
    ):
        engine.generate(fim_prompt(), PARAMS, threading.Event())
    assert "/v1/completions" not in fake.paths()
    insecure = make_engine(url, verify_tls=False)
    assert insecure.generate(fim_prompt(), PARAMS, threading.Event()).text == "secure"


def test_family_is_the_template_object(make_engine, fake):
    engine = make_engine(fake.url, family="qwen")
    assert engine.family.name == "qwen" and engine.family.is_fim
    assert engine.info.family == "qwen"
    assert make_engine(fake.url, family="auto").family.name == "deepseek"
    with pytest.raises(EngineError, match="unknown model family 'nope'"):
        make_engine(fake.url, family="nope")
