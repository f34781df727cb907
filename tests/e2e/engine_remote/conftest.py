"""Fixtures for the remote backend: scripted fake servers, engines pointed at them, and a real
llama-cpp-python OpenAI-compatible server running a tiny random-weight model."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from slm_lsp.config import ModelSettings
from slm_lsp.engine.openai import OpenAIEngine

from .fakeserver import FakeServer

#: How long the real server may take to load the tiny model and answer.
SERVER_START_S = 60.0


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    server = FakeServer().start()
    yield server
    server.stop()


@pytest.fixture
def make_engine() -> Iterator[Callable[..., OpenAIEngine]]:
    """Build engines with settings overrides; all are closed at the end of the test."""
    made: list[OpenAIEngine] = []

    def make(endpoint: str, family: str = "deepseek", **overrides: Any) -> OpenAIEngine:
        settings = ModelSettings(
            backend="openai", endpoint=endpoint, name=overrides.pop("name", "tiny")
        )
        settings.retry_backoff_s = 0.01
        settings.timeout_s = 5.0
        settings.connect_timeout_s = 2.0
        for key, value in overrides.items():
            setattr(settings, key, value)
        engine = OpenAIEngine(settings, family)
        made.append(engine)
        return engine

    yield make
    for engine in made:
        engine.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
    """Poll ``check`` until it is true or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(step)
    return check()


# ---------------------------------------------------------------------- the real server
@pytest.fixture(scope="session")
def remote_model_path(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The shared tiny model (``tiny_model_path`` from tests/conftest.py) where it exists, else one built here."""
    try:
        return Path(request.getfixturevalue("tiny_model_path"))
    except pytest.FixtureLookupError:
        pass
    pytest.importorskip("gguf")
    from tests.kit.synthetic import build_model

    return build_model(tmp_path_factory.mktemp("remote-model") / "tiny.gguf")


class LlamaServer:
    """``python -m llama_cpp.server`` as a child process on a free loopback port."""

    def __init__(self, model: Path, log_path: Path, api_key: str | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--n_ctx",
            "4096",
            "--n_threads",
            "1",
            "--n_threads_batch",
            "1",
            "--verbose",
            "false",
        ]
        if api_key:
            cmd += ["--api_key", api_key]
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            cmd, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )

    def wait_ready(self, timeout: float = SERVER_START_S) -> None:
        def ready() -> bool:
            if self.proc.poll() is not None:
                return True
            try:
                return httpx.get(self.url + "/v1/models", timeout=1.0).status_code in (200, 401)
            except httpx.HTTPError:
                return False

        wait_until(ready, timeout, step=0.1)
        if self.proc.poll() is not None:
            raise RuntimeError(
                f"llama_cpp.server exited with {self.proc.returncode}: {self.log_path.read_text(errors='replace')[-2000:]}"
            )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()


@pytest.fixture(scope="session")
def llama_server(
    remote_model_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LlamaServer]:
    pytest.importorskip("llama_cpp.server", reason="needs llama-cpp-python[server]")
    server = LlamaServer(remote_model_path, tmp_path_factory.mktemp("llama-server") / "server.log")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def run_in_thread(fn: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    """Run ``fn`` on a thread (as the worker would); the result or exception lands in the dict."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:  # noqa: BLE001
            box["error"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    return t, box
