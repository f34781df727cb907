"""The engine worker: background loading, newest request per document wins, cancellation, failure."""

from __future__ import annotations

import threading
import time

import pytest

from slm_lsp.engine.worker import EngineWorker
from slm_lsp.generation import EngineError


class FakeEngine:
    """Stands in for a model in these scheduling tests only (the real engine has its own tests)."""

    info = None

    def close(self) -> None:
        pass


def blocking_job(started: threading.Event, log: list[str], name: str):
    def job(engine, cancel):  # type: ignore[no-untyped-def]
        started.set()
        while not cancel.wait(0.01):
            pass
        log.append(f"{name} cancelled")
        return name

    return job


def test_loads_in_background_and_runs_jobs() -> None:
    states: list[str] = []
    w = EngineWorker(lambda: FakeEngine(), on_state=lambda s, m: states.append(s))  # type: ignore[arg-type,return-value]
    w.start()
    assert w.loaded.wait(5)
    assert w.submit("doc", lambda e, c: 42).result(5) == 42
    assert states == ["loading", "ready"]
    w.shutdown()


def test_newer_request_for_same_document_supersedes() -> None:
    w = EngineWorker(lambda: FakeEngine())  # type: ignore[arg-type,return-value]
    w.start()
    w.loaded.wait(5)
    started = threading.Event()
    log: list[str] = []
    first = w.submit("doc", blocking_job(started, log, "first"))
    assert started.wait(5)
    pending = w.submit("doc", lambda e, c: "pending")
    newest = w.submit("doc", lambda e, c: "newest")
    assert pending.result(5) is None  # superseded while queued
    assert first.result(5) == "first" and log == ["first cancelled"]  # running one was told to stop
    assert newest.result(5) == "newest"
    w.shutdown()


@pytest.mark.parametrize(("scope", "hard"), [("a.py", False), ("b.py", True)])
def test_a_supersede_from_another_scope_is_hard(scope: str, hard: bool) -> None:
    """Same document: the running job may finish its prompt chunk (the newer one carries on from
    it); another document: nothing of it is any use, the engine may abort the chunk in flight."""
    w = EngineWorker(lambda: FakeEngine())  # type: ignore[arg-type,return-value]
    w.start()
    w.loaded.wait(5)
    started = threading.Event()
    seen: list[bool] = []

    def job(engine, cancel):  # type: ignore[no-untyped-def]
        started.set()
        while not cancel.wait(0.01):
            pass
        seen.append(cancel.hard)
        return "first"

    first = w.submit("completion", job, scope="a.py")
    assert started.wait(5)
    second = w.submit("completion", lambda e, c: "second", scope=scope)
    assert first.result(5) == "first" and second.result(5) == "second"
    assert seen == [hard]
    w.shutdown()


def test_other_documents_are_not_superseded() -> None:
    w = EngineWorker(lambda: FakeEngine())  # type: ignore[arg-type,return-value]
    w.start()
    w.loaded.wait(5)
    a = w.submit("a", lambda e, c: (time.sleep(0.05), "a")[1])
    b = w.submit("b", lambda e, c: "b")
    assert a.result(5) == "a" and b.result(5) == "b"
    w.shutdown()


def test_cancel_future() -> None:
    w = EngineWorker(lambda: FakeEngine())  # type: ignore[arg-type,return-value]
    w.start()
    w.loaded.wait(5)
    started = threading.Event()
    log: list[str] = []
    running = w.submit("x", blocking_job(started, log, "run"))
    started.wait(5)
    w.cancel(running)
    assert running.result(5) == "run" and log == ["run cancelled"]
    w.shutdown()


def test_load_failure_answers_none_and_keeps_message() -> None:
    def boom():  # type: ignore[no-untyped-def]
        raise EngineError("model file not found: /x.gguf")

    states: list[tuple[str, str]] = []
    w = EngineWorker(boom, on_state=lambda s, m: states.append((s, m)))
    w.start()
    assert w.loaded.wait(5)
    assert w.state == "failed" and "not found" in w.error
    assert w.submit("doc", lambda e, c: 1).result(1) is None
    assert states[-1] == ("failed", "model file not found: /x.gguf")


def test_job_exception_reaches_the_caller() -> None:
    w = EngineWorker(lambda: FakeEngine())  # type: ignore[arg-type,return-value]
    w.start()
    w.loaded.wait(5)

    def bad(e, c):  # type: ignore[no-untyped-def]
        raise EngineError("prompt too long")

    fut = w.submit("d", bad)
    try:
        fut.result(5)
        raise AssertionError("expected EngineError")
    except EngineError as exc:
        assert "prompt too long" in str(exc)
    assert w.submit("d", lambda e, c: "still alive").result(5) == "still alive"
    w.shutdown()
