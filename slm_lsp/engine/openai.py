"""The remote backend: completions from an OpenAI-compatible server (vLLM, llama.cpp's ``llama-server``, Ollama, llama-cpp-python's server).

How one request runs (the execution model of this module):

* The worker thread calls ``generate``. A short-lived *pump* thread sends the HTTP request through the
  engine's one ``httpx.Client`` (a keep-alive connection pool reused across requests) and hands each
  line of the server-sent-event stream to the worker thread through a queue; the worker thread parses
  the events, applies the stop strings and calls ``on_text``.
* The worker thread waits on that queue in slices of ``_CANCEL_POLL_S``; once ``cancel`` is set it
  shuts the socket of the response down (which wakes the pump thread even when the server has
  stalled mid-stream) and returns at once with ``stop_reason="cancelled"`` and the text so far.
* Connection errors, a dropped idle keep-alive connection and HTTP 5xx answers are retried before
  the first token, ``max_retries`` times, with exponential back-off from ``retry_backoff_s``. Every
  other failure raises ``EngineError`` with one line fit for the user, also kept in ``last_error``.

Two wire formats: ``POST /v1/completions`` with the prompt rendered as raw text by the configured
family's template (the remote tokenizer is unknown, so the family is chosen in settings), and
llama.cpp's native ``POST /infill`` (prefix, suffix and cross-file snippets sent apart; the server
applies the model's own FIM tokens) when ``use_infill`` is ``always``, or ``auto`` and a probe of
``GET /props`` shows a llama.cpp server. The API key is read from the environment variable named by
``api_key_env`` and lives only in the client's headers (httpx masks it in reprs); it is never logged.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import queue
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from slm_lsp.config import ModelSettings
from slm_lsp.generation import (
    EngineError,
    Generation,
    GenerationParams,
    ModelInfo,
    Prompt,
    StopReason,
    defuse_text,
)
from slm_lsp.prompt.templates import Family, get_family

log = logging.getLogger(__name__)

#: How often the waiting worker thread looks at ``cancel`` while no stream data arrives (seconds).
_CANCEL_POLL_S = 0.02
#: Characters per token assumed when the server offers no tokenizer.
CHARS_PER_TOKEN = 3.5
#: Remote token counts remembered per engine (context building asks about the same snippets often).
_TOKEN_CACHE_SIZE = 1024
#: Characters of an error body quoted in an error message.
_ERROR_BODY_CHARS = 160


@dataclass
class _Exchange:
    """One request in flight: the queue from the pump thread, and what it takes to abort it."""

    lines: queue.Queue[tuple[str, Any]] = field(default_factory=queue.Queue)
    aborted: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    response: httpx.Response | None = None

    def abort(self) -> None:
        """Stop the request now: shut the socket down so that a blocked read returns at once."""
        self.aborted.set()
        with self.lock:
            response = self.response
        if response is None:
            return  # still connecting or waiting for headers: the pump thread drops it on arrival
        stream = response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if isinstance(sock, socket.socket):
            try:
                sock.shutdown(socket.SHUT_RDWR)
                return
            except OSError:
                pass  # already closed
        try:
            response.close()
        except Exception:  # noqa: BLE001 - closing from another thread is best effort
            pass


class _HTTPStatusError(Exception):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body


class OpenAIEngine:
    """An Engine whose model runs on a remote OpenAI-compatible server. One worker thread calls ``generate``."""

    #: The server tokenizes: no token ids for a prompt (``Engine.prompt_tokens``).
    prompt_tokens: Callable[[Prompt], list[int]] | None = None

    def __init__(
        self, settings: ModelSettings, family: str, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        if not settings.endpoint.strip():
            raise EngineError(
                "model.backend is 'openai' but model.endpoint is empty: set it to the server's URL, e.g. http://127.0.0.1:8080"
            )
        parts = urlsplit(settings.endpoint.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise EngineError(
                f"model.endpoint must be an http:// or https:// URL, got {_redact(settings.endpoint)!r}"
            )
        self.settings = settings
        # The remote tokenizer cannot be inspected: ``auto`` means DeepSeek-Coder, as in ``loader``.
        try:
            #: The prompt template family (the completion pipeline builds prompts with it).
            self.family: Family = get_family("deepseek" if family == "auto" else family)
        except KeyError as exc:
            raise EngineError(f"model.family: {exc.args[0]}") from None
        #: The endpoint as shown in messages: no user name or password.
        self.endpoint = _redact(settings.endpoint.strip()).rstrip("/")
        path = parts.path.rstrip("/")
        root_path = path[: -len("/v1")] if path.endswith("/v1") else path
        self._root = urlunsplit((parts.scheme, parts.netloc, root_path, "", ""))
        self._v1 = self._root + "/v1"
        headers = {"Accept": "text/event-stream, application/json"}
        if settings.api_key_env:
            key = os.environ.get(settings.api_key_env, "")
            if not key:
                raise EngineError(
                    f"model.api_key_env names {settings.api_key_env}, but that environment variable is not set"
                )
            headers["Authorization"] = f"Bearer {key}"
            if parts.scheme == "http" and not _is_loopback(parts.hostname):
                log.warning(
                    "sending the API key from $%s over plain http to %s; use https for a shared server",
                    settings.api_key_env,
                    self.endpoint,
                )
        timeout = httpx.Timeout(
            settings.timeout_s, connect=min(settings.connect_timeout_s, settings.timeout_s)
        )
        self._client = httpx.Client(
            headers=headers,
            timeout=timeout,
            verify=settings.verify_tls,
            http1=True,
            http2=False,
            transport=transport,
            limits=httpx.Limits(max_connections=8, max_keepalive_connections=4),
            follow_redirects=False,
            # A team server honours HTTPS_PROXY/NO_PROXY and SSL_CERT_FILE; a loopback one never goes through a proxy.
            trust_env=not _is_loopback(parts.hostname),
        )
        self.info = ModelInfo(
            path=self.endpoint, backend="openai", family=self.family.name, name=settings.name
        )
        #: The last failure as one line (for status display); ``None`` after a success.
        self.last_error: str | None = None
        self._infill: bool | None = None  # None: not probed yet
        self._llama_cpp_server: bool | None = None
        self._model_name: str | None = settings.name or None
        self._model_probed = bool(settings.name)
        self._tokenizer: Callable[[str], int] | None = None
        self._tokenizer_probed = settings.tokenize_remote == "never"
        self._token_cache: OrderedDict[str, int] = OrderedDict()
        self._closed = False

    # ------------------------------------------------------------------ Engine protocol
    def generate(
        self,
        prompt: Prompt,
        params: GenerationParams,
        cancel: threading.Event,
        on_text: Callable[[str], bool | None] | None = None,
    ) -> Generation:
        """Stream a completion of ``prompt`` from the server; stop at the end, ``max_tokens``, a stop
        string, ``cancel``, or when ``on_text`` returns True (``stop_reason="stop"``, the stream is closed)."""
        if self._closed:
            raise EngineError("the remote model engine is closed")
        if cancel.is_set():
            return Generation(stop_reason="cancelled")
        try:
            use_infill = prompt.fim is not None and self._wants_infill()
            if use_infill:
                try:
                    result = self._run(
                        self._infill_request(prompt, params),
                        prompt,
                        params,
                        cancel,
                        on_text,
                        native=True,
                    )
                except _InfillUnsupported:
                    log.info(
                        "%s does not serve /infill for this model; using /v1/completions",
                        self.endpoint,
                    )
                    self._infill = False
                    result = self._run(
                        self._completion_request(prompt, params),
                        prompt,
                        params,
                        cancel,
                        on_text,
                        native=False,
                    )
            else:
                result = self._run(
                    self._completion_request(prompt, params),
                    prompt,
                    params,
                    cancel,
                    on_text,
                    native=False,
                )
        except EngineError as exc:
            self.last_error = str(exc)
            raise
        if result.stop_reason != "cancelled":
            self.last_error = None
        return result

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` costs: the server's tokenizer where it has one, else ``len / 3.5``."""
        if not text:
            return 0
        estimate = max(1, round(len(text) / CHARS_PER_TOKEN))
        if not self._tokenizer_probed:
            self._tokenizer_probed = True
            self._tokenizer = self._find_tokenizer()
        if self._tokenizer is None:
            return estimate
        cached = self._token_cache.get(text)
        if cached is not None:
            self._token_cache.move_to_end(text)
            return cached
        try:
            n = self._tokenizer(text)
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            log.debug("remote tokenize failed (%s); estimating", type(exc).__name__)
            return estimate
        self._token_cache[text] = n
        if len(self._token_cache) > _TOKEN_CACHE_SIZE:
            self._token_cache.popitem(last=False)
        return n

    def close(self) -> None:
        """Close the connection pool."""
        self._closed = True
        self._client.close()

    def __repr__(self) -> str:
        return f"OpenAIEngine(endpoint={self.endpoint!r}, family={self.family.name!r}, name={self.settings.name!r})"

    # ------------------------------------------------------------------ probes (each once per engine)
    def _wants_infill(self) -> bool:
        mode = self.settings.use_infill
        if mode == "never":
            return False
        if mode == "always":
            return True
        if self._infill is None:
            self._infill = self._is_llama_cpp_server()
        return self._infill

    def _is_llama_cpp_server(self) -> bool:
        """Whether ``GET /props`` answers like llama.cpp's server. Only a real answer is cached."""
        if self._llama_cpp_server is not None:
            return self._llama_cpp_server
        try:
            resp = self._client.get(
                self._root + "/props",
                timeout=min(self.settings.timeout_s, self.settings.connect_timeout_s),
            )
        except httpx.HTTPError as exc:
            log.debug("probe of %s/props failed: %s", self.endpoint, type(exc).__name__)
            return False  # not cached: the request itself will report the server as down
        found = False
        if resp.status_code == 200:
            try:
                props = resp.json()
            except ValueError:
                props = None
            if isinstance(props, dict) and (
                "default_generation_settings" in props or "total_slots" in props
            ):
                found = True
                settings = props.get("default_generation_settings")
                n_ctx = settings.get("n_ctx") if isinstance(settings, dict) else None
                if isinstance(n_ctx, int):
                    self.info = replace(self.info, n_ctx=n_ctx)
                if isinstance(props.get("model_path"), str) and not self.info.name:
                    self.info = replace(self.info, name=os.path.basename(props["model_path"]))
        self._llama_cpp_server = found
        return found

    def _model(self) -> str | None:
        """The model name to send: the configured one, else the first one ``GET /v1/models`` lists."""
        if not self._model_probed:
            self._model_probed = True
            try:
                resp = self._client.get(
                    self._v1 + "/models",
                    timeout=min(self.settings.timeout_s, self.settings.connect_timeout_s),
                )
                data = resp.json().get("data") if resp.status_code == 200 else None
                if (
                    isinstance(data, list)
                    and data
                    and isinstance(data[0], dict)
                    and isinstance(data[0].get("id"), str)
                ):
                    self._model_name = data[0]["id"]
                    if not self.info.name:
                        self.info = replace(self.info, name=self._model_name)
            except (httpx.HTTPError, ValueError, AttributeError):
                self._model_probed = False  # server down now: ask again next time
        return self._model_name

    def _find_tokenizer(self) -> Callable[[str], int] | None:
        """The server's token counter: llama.cpp's ``/tokenize``, llama-cpp-python's ``/extras/tokenize/count`` or vLLM's ``/tokenize``."""
        timeout = min(self.settings.timeout_s, self.settings.connect_timeout_s)

        def llama_cpp(text: str) -> int:
            resp = self._client.post(
                self._root + "/tokenize",
                json={"content": text, "add_special": False},
                timeout=timeout,
            )
            resp.raise_for_status()
            return len(resp.json()["tokens"])

        def llama_cpp_python(text: str) -> int:
            resp = self._client.post(
                self._root + "/extras/tokenize/count", json={"input": text}, timeout=timeout
            )
            resp.raise_for_status()
            return int(resp.json()["count"])

        def vllm(text: str) -> int:
            body: dict[str, Any] = {"prompt": text, "add_special_tokens": False}
            if self._model_name:
                body["model"] = self._model_name
            resp = self._client.post(self._root + "/tokenize", json=body, timeout=timeout)
            resp.raise_for_status()
            return int(resp.json()["count"])

        candidates = [llama_cpp] if self._is_llama_cpp_server() else [llama_cpp_python, vllm]
        for candidate in candidates:
            try:
                n = candidate("def f():\n    return 1\n")
            except (httpx.HTTPError, ValueError, KeyError, TypeError):
                continue
            if isinstance(n, int) and n > 0:
                return candidate
        return None

    # ------------------------------------------------------------------ requests
    def _completion_request(
        self, prompt: Prompt, params: GenerationParams
    ) -> tuple[str, dict[str, Any]]:
        body: dict[str, Any] = {
            "prompt": prompt.render(defuse=True),
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "seed": params.seed,
            "stream": True,
        }
        stop = [s for s in (*prompt.stop_tokens, *prompt.stop_text) if s]
        if stop:
            body["stop"] = stop
        model = self._model()
        if model:
            body["model"] = model
        return self._v1 + "/completions", body

    def _infill_request(
        self, prompt: Prompt, params: GenerationParams
    ) -> tuple[str, dict[str, Any]]:
        fim = prompt.fim
        assert fim is not None  # checked by the caller
        body: dict[str, Any] = {
            "input_prefix": defuse_text(fim.prefix, prompt.specials),
            "input_suffix": defuse_text(fim.suffix, prompt.specials),
            "input_extra": [
                {"filename": s.path, "text": defuse_text(s.text, prompt.specials)}
                for s in fim.snippets
            ],
            "n_predict": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "seed": params.seed,
            "stream": True,
            "cache_prompt": True,
        }
        stop = [s for s in prompt.stop_text if s]
        if stop:
            body["stop"] = stop
        return self._root + "/infill", body

    # ------------------------------------------------------------------ one streamed request
    def _run(
        self,
        request: tuple[str, dict[str, Any]],
        prompt: Prompt,
        params: GenerationParams,
        cancel: threading.Event,
        on_text: Callable[[str], bool | None] | None,
        *,
        native: bool,
    ) -> Generation:
        url, body = request
        route = url[len(self._root) :] or "/"
        ex = _Exchange()
        start = time.perf_counter()
        pump = threading.Thread(
            target=self._pump, args=(url, body, ex), name="slm-remote-stream", daemon=True
        )
        pump.start()
        stops = [s for s in (*prompt.stop_tokens, *prompt.stop_text) if s]
        out = _TextSink(stops, on_text)
        gen = Generation()
        first_at: float | None = None
        finish: str | None = None
        clean = (
            False  # the stream ended as the protocol says: the connection can go back to the pool
        )
        try:
            for event in _events(_lines(ex, cancel), self.endpoint):
                if event is _CANCELLED:
                    gen.stop_reason = "cancelled"
                    break
                if event == "[DONE]":
                    finish = finish or "stop"
                    clean = True
                    break
                data = _parse_json(event, self.endpoint)
                if "error" in data and not data.get("choices") and "content" not in data:
                    raise EngineError(
                        f"remote model server {self.endpoint} reported an error: {_error_text(data['error'])}"
                    )
                piece, reason = _piece(data, native)
                _read_usage(data, gen)
                if piece:
                    if first_at is None:
                        first_at = time.perf_counter()
                    if out.add(piece) or out.caller_done:
                        # a stop string, or on_text returned True (the caller has what it needs):
                        # close the stream here so that the server stops too
                        finish = "stop_text"
                        break
                if reason:
                    finish = reason
                    if native:
                        clean = True  # llama.cpp's native streams end with a final "stop" chunk, no [DONE]
                        break
            else:
                if finish is None:
                    raise EngineError(
                        f"remote model server {self.endpoint} closed the stream of {route} before it finished"
                    )
                clean = True
        except _PumpFailure as failure:
            raise self._error(failure.exc, route, first_at is not None) from None
        finally:
            if not clean:
                ex.abort()
        end = time.perf_counter()
        out.flush()
        gen.text = out.text
        if gen.stop_reason != "cancelled":
            gen.stop_reason = _stop_reason(finish)
        first = first_at if first_at is not None else end
        gen.prompt_ms = (first - start) * 1000.0
        gen.gen_ms = (end - first) * 1000.0
        return gen

    def _pump(self, url: str, body: dict[str, Any], ex: _Exchange) -> None:
        """Pump thread: send the request (with retries) and queue each line of the answer."""
        delay = self.settings.retry_backoff_s
        attempts = self.settings.max_retries + 1
        try:
            for attempt in range(attempts):
                if ex.aborted.is_set():
                    return
                last = attempt == attempts - 1
                try:
                    response = self._client.send(
                        self._client.build_request("POST", url, json=body), stream=True
                    )
                except (
                    httpx.ConnectError,
                    httpx.ConnectTimeout,
                    httpx.RemoteProtocolError,
                    httpx.ReadError,
                ) as exc:
                    # Nothing was generated yet: a server that is (re)starting or a dropped keep-alive connection.
                    if last or ex.aborted.is_set() or _is_tls_failure(exc):
                        raise
                    log.info(
                        "remote model server %s: %s; retrying in %.2fs",
                        self.endpoint,
                        _transport_reason(exc),
                        delay,
                    )
                    ex.aborted.wait(delay)
                    delay *= 2
                    continue
                with ex.lock:
                    ex.response = response
                try:
                    if ex.aborted.is_set():
                        return
                    if response.status_code >= 400:
                        text = response.read()[:4096].decode("utf-8", "replace")
                        if response.status_code >= 500 and not last and response.status_code != 501:
                            log.info(
                                "remote model server %s answered HTTP %d; retrying in %.2fs",
                                self.endpoint,
                                response.status_code,
                                delay,
                            )
                            response.close()
                            ex.aborted.wait(delay)
                            delay *= 2
                            continue
                        raise _HTTPStatusError(response.status_code, text)
                    for line in response.iter_lines():
                        if ex.aborted.is_set():
                            return
                        ex.lines.put(("line", line))
                    ex.lines.put(("end", None))
                    return
                finally:
                    response.close()
                    with ex.lock:
                        ex.response = None
        except BaseException as exc:  # noqa: BLE001 - every failure goes to the waiting thread
            if not ex.aborted.is_set():
                ex.lines.put(("error", exc))

    # ------------------------------------------------------------------ errors
    def _error(self, exc: BaseException, route: str, started: bool) -> EngineError:
        """One clear line for a failure of a request to ``route``."""
        where = f"remote model server {self.endpoint}"
        if isinstance(exc, _HTTPStatusError):
            detail = _error_detail(exc.body)
            if (
                route == "/infill"
                and exc.status in (404, 405, 501)
                and self.settings.use_infill == "auto"
            ):
                return _InfillUnsupported(detail)
            if exc.status in (401, 403):
                hint = (
                    f"check ${self.settings.api_key_env}"
                    if self.settings.api_key_env
                    else "set model.api_key_env to the variable holding the key"
                )
                return EngineError(
                    f"{where} rejected the request as unauthorized (HTTP {exc.status}): {hint}"
                )
            return EngineError(
                f"{where} answered HTTP {exc.status} to POST {route}"
                + (f": {detail}" if detail else "")
            )
        if isinstance(exc, httpx.ConnectTimeout):
            return EngineError(
                f"{where} did not accept a connection within {min(self.settings.connect_timeout_s, self.settings.timeout_s):g}s"
            )
        if isinstance(exc, httpx.ReadTimeout):
            if started:
                return EngineError(
                    f"{where} stalled: no data for {self.settings.timeout_s:g}s in the middle of a completion"
                )
            return EngineError(f"{where} did not answer within {self.settings.timeout_s:g}s")
        if isinstance(exc, httpx.ConnectError):
            if _is_tls_failure(exc):
                return EngineError(
                    f"TLS verification of {self.endpoint} failed ({_short(str(exc))}); set model.verify_tls = false only for a server you trust"
                )
            return EngineError(f"{where} is not reachable ({_transport_reason(exc)})")
        if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError)):
            if started:
                return EngineError(
                    f"{where} cut the stream in the middle of a completion ({_short(str(exc)) or type(exc).__name__})"
                )
            return EngineError(
                f"{where} closed the connection without an answer ({_short(str(exc)) or type(exc).__name__})"
            )
        if isinstance(exc, httpx.HTTPError):
            return EngineError(f"{where}: {type(exc).__name__}: {_short(str(exc))}")
        if isinstance(exc, EngineError):
            return exc
        return EngineError(f"{where}: unexpected {type(exc).__name__}: {_short(str(exc))}")


class _InfillUnsupported(EngineError):
    """``/infill`` is not served (404/501): fall back to ``/v1/completions``."""


class _PumpFailure(Exception):
    def __init__(self, exc: BaseException) -> None:
        super().__init__(exc)
        self.exc = exc


_CANCELLED = object()


def _lines(ex: _Exchange, cancel: threading.Event) -> Iterator[Any]:
    """Lines from the pump thread; ``_CANCELLED`` once ``cancel`` is set; raise ``_PumpFailure`` on its errors."""
    while True:
        if cancel.is_set():
            ex.abort()
            yield _CANCELLED
            return
        try:
            kind, value = ex.lines.get(timeout=_CANCEL_POLL_S)
        except queue.Empty:
            continue
        if kind == "line":
            yield value
        elif kind == "end":
            return
        else:
            raise _PumpFailure(value)


def _events(lines: Iterator[Any], endpoint: str) -> Iterator[Any]:
    """Server-sent events: the ``data`` of each event (multi-line data joined with newlines)."""
    data: list[str] = []
    for line in lines:
        if line is _CANCELLED:
            yield _CANCELLED
            return
        if line == "":
            if data:
                yield "\n".join(data)
                data = []
            continue
        if line.startswith(":"):
            continue  # comment / keep-alive
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            data.append(value)
        elif name == "error":
            raise EngineError(
                f"remote model server {endpoint} reported an error: {_error_detail(value)}"
            )
        elif name in ("event", "id", "retry"):
            continue
        elif line.startswith("{"):
            raise EngineError(
                f"remote model server {endpoint} did not stream server-sent events (was `stream` ignored?)"
            )
        else:
            raise EngineError(
                f"remote model server {endpoint} sent a malformed event line: {_short(line, 80)!r}"
            )
    if data:
        yield "\n".join(data)


def _parse_json(text: str, endpoint: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        raise EngineError(
            f"remote model server {endpoint} sent invalid JSON in its stream: {_short(text, 80)!r}"
        ) from None
    if not isinstance(data, dict):
        raise EngineError(
            f"remote model server {endpoint} sent an unexpected JSON value in its stream: {_short(text, 80)!r}"
        )
    return data


def _piece(data: dict[str, Any], native: bool) -> tuple[str, str | None]:
    """(new text, finish reason or None) of one streamed chunk."""
    if native or ("content" in data and "choices" not in data):
        content = data.get("content", "")
        if not isinstance(content, str):
            raise EngineError("remote model server sent a chunk whose 'content' is not text")
        reason = None
        if data.get("stop") is True:
            stop_type = data.get("stop_type")
            if stop_type == "limit" or data.get("stopped_limit"):
                reason = "length"
            elif stop_type == "word" or data.get("stopped_word"):
                reason = "stop_text"
            else:
                reason = "eos"
        return content, reason
    choices = data.get("choices")
    if not isinstance(choices, list):
        raise EngineError("remote model server sent a chunk without 'choices'")
    if not choices:
        return "", None  # e.g. a usage-only chunk
    choice = choices[0]
    if not isinstance(choice, dict):
        raise EngineError("remote model server sent a malformed 'choices' entry")
    text = choice.get("text") or ""
    if not isinstance(text, str):
        raise EngineError("remote model server sent a chunk whose 'text' is not text")
    reason = choice.get("finish_reason")
    return text, reason if isinstance(reason, str) and reason else None


def _read_usage(data: dict[str, Any], gen: Generation) -> None:
    usage = data.get("usage")
    if isinstance(usage, dict) and isinstance(usage.get("prompt_tokens"), int):
        gen.n_prompt = usage["prompt_tokens"]
        gen.n_prompt_evaluated = gen.n_prompt
    timings = data.get("timings")
    if isinstance(timings, dict) and isinstance(timings.get("prompt_n"), int):
        gen.n_prompt_evaluated = timings["prompt_n"]
        cached = (
            timings.get("cache_n")
            if isinstance(timings.get("cache_n"), int)
            else data.get("tokens_cached")
        )
        if isinstance(data.get("tokens_evaluated"), int):
            gen.n_prompt = data["tokens_evaluated"]
        elif isinstance(cached, int):
            gen.n_prompt = cached + gen.n_prompt_evaluated


def _stop_reason(finish: str | None) -> StopReason:
    """Our stop reason for a finish reason. OpenAI's ``stop`` covers both end-of-generation and a
    server-side stop string; it is reported as ``eos``. ``stop_text``: a stop string seen here."""
    return {"length": "length", "stop_text": "stop"}.get(finish or "", "eos")  # type: ignore[return-value]


class _TextSink:
    """Collects streamed text, cuts it at the first stop string, and passes on only text that cannot be the start of one."""

    def __init__(self, stops: list[str], on_text: Callable[[str], bool | None] | None) -> None:
        self.stops = stops
        self.on_text = on_text
        self.text = ""
        self.sent = 0
        self.caller_done = False  #: on_text returned True: it is not called again

    def add(self, piece: str) -> bool:
        """Add a piece; True when a stop string was found (the text is cut before it)."""
        longest = max((len(s) for s in self.stops), default=0)
        search_from = max(0, len(self.text) - longest + 1)
        self.text += piece
        if self.stops:
            hits = [i for i in (self.text.find(s, search_from) for s in self.stops) if i >= 0]
            if hits:
                self.text = self.text[: min(hits)]
                self._send(len(self.text))
                return True
        self._send(len(self.text) - self._held_back())
        return False

    def flush(self) -> None:
        self._send(len(self.text))

    def _held_back(self) -> int:
        """Length of the longest end of the text that begins some stop string."""
        best = 0
        for s in self.stops:
            for k in range(min(len(s) - 1, len(self.text)), best, -1):
                if self.text.endswith(s[:k]):
                    best = k
                    break
        return best

    def _send(self, upto: int) -> None:
        if upto > self.sent:
            chunk = self.text[self.sent : upto]
            self.sent = upto
            if self.on_text is not None and not self.caller_done:
                self.caller_done = bool(self.on_text(chunk))


# ---------------------------------------------------------------------- small helpers
def _redact(url: str) -> str:
    """The URL without user name or password."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


def _short(text: str, limit: int = _ERROR_BODY_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _error_text(err: Any) -> str:
    if isinstance(err, dict):
        return _short(str(err.get("message") or err.get("type") or err))
    return _short(str(err))


def _error_detail(body: str) -> str:
    """The message inside an error body (OpenAI's ``{"error": {"message": ...}}``, FastAPI's ``detail``), else the body."""
    try:
        data = json.loads(body)
    except ValueError:
        return _short(body)
    if isinstance(data, dict):
        for key in ("error", "detail", "message"):
            if key in data:
                return _error_text(data[key])
    return _short(body)


def _transport_reason(exc: BaseException) -> str:
    """Why a connection failed, in a few words."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if (
            isinstance(cur, ConnectionRefusedError)
            or getattr(cur, "errno", None) == errno.ECONNREFUSED
        ):
            return "connection refused"
        if isinstance(cur, socket.gaierror):
            return "host name not found"
        cur = cur.__cause__ or cur.__context__
    text = str(exc).lower()
    if "refused" in text:
        return "connection refused"
    if (
        "name or service not known" in text
        or "nodename nor servname" in text
        or "name resolution" in text
    ):
        return "host name not found"
    if "unreachable" in text:
        return "network unreachable"
    return _short(str(exc)) or type(exc).__name__


def _is_tls_failure(exc: BaseException) -> bool:
    text = str(exc)
    return "CERTIFICATE_VERIFY_FAILED" in text or "SSL" in text or "certificate" in text.lower()
