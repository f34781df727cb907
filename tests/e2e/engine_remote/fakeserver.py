"""A scripted HTTP server on 127.0.0.1 (stdlib, one thread per connection) that misbehaves on request.

Each route is a function ``(handler, body) -> None`` that writes the answer itself; helpers below write
the usual shapes (an SSE stream, a JSON answer, a stall, a cut). Every wait is bounded.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: Longest any scripted wait lasts, so that a failing test never hangs the run.
MAX_WAIT_S = 10.0

Route = Callable[["Handler", Any], None]


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.routes: dict[tuple[str, str], Route] = {}
        self.requests: list[dict[str, Any]] = []
        self.connections = 0
        self.client_closed = threading.Event()  #: set when a stalled stream's client hung up
        self.release = threading.Event()  #: set to end every stall
        self.lock = threading.Lock()
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def route(self, method: str, path: str, fn: Route) -> None:
        self.routes[(method, path)] = fn

    def start(self) -> FakeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=MAX_WAIT_S)

    def paths(self) -> list[str]:
        with self.lock:
            return [r["path"] for r in self.requests]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeServer

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.connections += 1

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def _dispatch(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        with self.server.lock:
            self.server.requests.append(
                {"method": method, "path": self.path, "body": body, "headers": dict(self.headers)}
            )
        fn = self.server.routes.get((method, self.path))
        if fn is None:
            json_answer(self, {"error": {"message": "not found"}}, status=404)
            return
        fn(self, body)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")


# ---------------------------------------------------------------------- answer helpers
def json_answer(h: Handler, data: Any, status: int = 200) -> None:
    raw = json.dumps(data).encode()
    h.send_response(status)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(len(raw)))
    h.end_headers()
    h.wfile.write(raw)


def raw_answer(h: Handler, raw: bytes, status: int, content_type: str = "text/plain") -> None:
    h.send_response(status)
    h.send_header("Content-Type", content_type)
    h.send_header("Content-Length", str(len(raw)))
    h.end_headers()
    h.wfile.write(raw)


def start_stream(h: Handler) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "text/event-stream")
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    h.wfile.flush()


def chunk(h: Handler, data: bytes) -> None:
    h.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
    h.wfile.flush()


def event(h: Handler, data: Any) -> None:
    """One SSE event (``data`` is JSON-encoded unless it is a str)."""
    text = data if isinstance(data, str) else json.dumps(data)
    chunk(h, f"data: {text}\n\n".encode())


def end_stream(h: Handler) -> None:
    h.wfile.write(b"0\r\n\r\n")
    h.wfile.flush()


def openai_chunk(text: str, finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "cmpl-1",
        "object": "text_completion",
        "choices": [{"index": 0, "text": text, "finish_reason": finish}],
    }


def sse_completion(pieces: list[str], finish: str = "stop") -> Route:
    """An OpenAI-style completion stream: one event per piece, a finish reason, ``[DONE]``."""

    def route(h: Handler, body: Any) -> None:
        start_stream(h)
        for piece in pieces:
            event(h, openai_chunk(piece))
        event(h, openai_chunk("", finish))
        event(h, "[DONE]")
        end_stream(h)

    return route


def wait_for_hangup(h: Handler) -> None:
    """Block until the client closes the connection (or ``release``/``MAX_WAIT_S``); record a hang-up."""
    h.connection.settimeout(0.05)
    waited = 0.0
    while waited < MAX_WAIT_S and not h.server.release.is_set():
        try:
            data = h.connection.recv(1)
        except TimeoutError:
            waited += 0.05
            continue
        except OSError:
            data = b""
        if not data:
            h.server.client_closed.set()
            break
    h.close_connection = True


def stall_after(pieces: list[str]) -> Route:
    """Send ``pieces`` then go silent, holding the connection open until the client hangs up."""

    def route(h: Handler, body: Any) -> None:
        start_stream(h)
        for piece in pieces:
            event(h, openai_chunk(piece))
        wait_for_hangup(h)

    return route


def stall_before_headers(h: Handler, body: Any) -> None:
    """Accept the request and answer nothing at all."""
    wait_for_hangup(h)


def cut_after(pieces: list[str]) -> Route:
    """Send ``pieces`` then drop the connection in the middle of the chunked body."""

    def route(h: Handler, body: Any) -> None:
        start_stream(h)
        for piece in pieces:
            event(h, openai_chunk(piece))
        h.close_connection = True
        h.connection.shutdown(socket.SHUT_RDWR)

    return route


def ended_early(pieces: list[str]) -> Route:
    """A well-formed HTTP body that ends before any finish reason or ``[DONE]``."""

    def route(h: Handler, body: Any) -> None:
        start_stream(h)
        for piece in pieces:
            event(h, openai_chunk(piece))
        end_stream(h)

    return route


def status_then(codes: list[int], then: Route) -> Route:
    """Answer the HTTP error ``codes`` in turn (one per request), then behave like ``then``."""
    remaining = list(codes)
    lock = threading.Lock()

    def route(h: Handler, body: Any) -> None:
        with lock:
            code = remaining.pop(0) if remaining else None
        if code is None:
            then(h, body)
        else:
            json_answer(
                h,
                {"error": {"message": f"scripted failure {code}", "type": "server_error"}},
                status=code,
            )

    return route


def raw_stream(lines: list[bytes]) -> Route:
    """Stream the given raw bytes as chunks, then end the body."""

    def route(h: Handler, body: Any) -> None:
        start_stream(h)
        for line in lines:
            chunk(h, line)
        end_stream(h)

    return route


def llama_props(h: Handler, body: Any) -> None:
    json_answer(
        h,
        {
            "default_generation_settings": {"n_ctx": 2048},
            "total_slots": 1,
            "model_path": "/models/tiny.gguf",
            "build_info": "b0",
        },
    )


def native_infill(pieces: list[str], stop_type: str = "eos") -> Route:
    """llama.cpp's ``/infill`` stream: ``{"content", "stop"}`` chunks, a final ``stop: true`` chunk with timings, no ``[DONE]``."""

    def route(h: Handler, body: Any) -> None:
        start_stream(h)
        for piece in pieces:
            event(h, {"content": piece, "stop": False})
        event(
            h,
            {
                "content": "",
                "stop": True,
                "stop_type": stop_type,
                "tokens_evaluated": 42,
                "timings": {
                    "prompt_n": 40,
                    "prompt_ms": 1.0,
                    "predicted_n": len(pieces),
                    "predicted_ms": 1.0,
                },
            },
        )
        end_stream(h)

    return route
