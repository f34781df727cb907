"""The one worker thread that owns a model: loads it in the background and runs generation jobs.

Execution model: the LSP event loop never touches the model. It submits jobs here and awaits their
futures. Jobs carry a key (all completion requests share one: the editor shows suggestions at one
cursor; a model edit's key names its document): a new job supersedes every older job with the same
key — a pending one is answered ``None`` at once, a running one has its cancel event set and stops
within one token. ``cancel(future)`` does the same for ``$/cancelRequest``. A request superseded by
one for the same document (its ``scope``) stops between two prompt chunks and keeps what it
evaluated in the KV cache, so the newer request, whose prompt shares that part, carries on from
there instead of starting over; one superseded from another document is aborted mid-chunk
(``CancelEvent.hard``).

Warm-ups (``warm``) are background jobs at the lowest priority: at most one waits (the newest), it
runs only while no request waits, and any request interrupts it within one prompt chunk.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from slm_lsp.generation import Engine, EngineError

log = logging.getLogger(__name__)
T = TypeVar("T")


class CancelEvent(threading.Event):
    """A job's cancel event that also calls the functions registered with ``on_set`` when set (the
    engine uses it to abort a decode from C, without a Python callback per compute step)."""

    def __init__(self) -> None:
        super().__init__()
        self._listeners: list[Callable[[], None]] = []
        #: set before ``set`` when the newer work shares nothing with this job's (another
        #: document): the engine may then abort even a prompt chunk in flight instead of finishing it
        self.hard = False

    def on_set(self, fn: Callable[[], None]) -> None:
        self._listeners.append(fn)

    def set(self) -> None:
        super().set()
        for fn in list(self._listeners):
            try:
                fn()
            except Exception:  # a listener's failure must not stop the cancellation
                log.exception("cancel listener failed")


@dataclass
class Job(Generic[T]):
    key: str
    fn: Callable[[Engine, threading.Event], T]
    future: Future[T | None] = field(default_factory=Future)
    cancel: threading.Event = field(default_factory=CancelEvent)
    warm: bool = False  #: a background warm-up, interrupted by any request
    scope: str = ""  #: what the job works on (a document): a newer job of another scope aborts it


class EngineWorker:
    """Owns one engine on one thread. States: ``idle`` → ``loading`` → ``ready`` | ``failed``."""

    def __init__(
        self, loader: Callable[[], Engine], on_state: Callable[[str, str], None] | None = None
    ) -> None:
        self._loader = loader
        self._on_state = on_state
        self._jobs: deque[Job[Any]] = deque()
        self._cond = threading.Condition()
        self._running: Job[Any] | None = None
        self._warm: Job[Any] | None = None  #: the waiting warm-up (at most one)
        self._stop = False
        self.engine: Engine | None = None
        self.state = "idle"
        self.error = ""
        self.loaded = threading.Event()  #: set once loading finished, whether it worked or not
        self._thread = threading.Thread(target=self._run, name="slm-engine", daemon=True)

    # ------------------------------------------------------------------ control
    def start(self) -> None:
        """Start the thread; it loads the model first."""
        self._thread.start()

    def submit(
        self, key: str, fn: Callable[[Engine, threading.Event], T], scope: str = ""
    ) -> Future[T | None]:
        """Queue ``fn(engine, cancel)``; supersede older jobs with the same key. Resolves ``None`` when superseded or when no model is ready.

        A running job of the same key and the same ``scope`` stops at its next prompt chunk (the
        newer job, typed on from the same text, carries on from what it evaluated); one of another
        scope is aborted at once (``CancelEvent.hard``)."""
        job: Job[T] = Job(key, fn, scope=scope)
        with self._cond:
            if self.state == "failed" or self._stop:
                job.future.set_result(None)
                return job.future
            for old in [j for j in self._jobs if j.key == key]:
                self._jobs.remove(old)
                old.cancel.set()
                old.future.set_result(None)
            running = self._running
            if running is not None and (running.key == key or running.warm):
                if running.scope != scope and isinstance(running.cancel, CancelEvent):
                    running.cancel.hard = True
                running.cancel.set()
            self._drop_warm()  # planned for an older state; a request comes first anyway
            self._jobs.append(job)
            self._cond.notify()
        return job.future

    def warm(self, key: str, fn: Callable[[Engine, threading.Event], T]) -> Future[T | None]:
        """Queue a background warm-up ``fn(engine, cancel)``: it replaces a waiting warm-up, runs
        only when no request waits, and a request (``submit``) sets its cancel event."""
        job: Job[T] = Job(key, fn, warm=True)
        with self._cond:
            if self.state == "failed" or self._stop:
                job.future.set_result(None)
                return job.future
            self._drop_warm()
            if self._running is not None and self._running.warm:
                self._running.cancel.set()
            self._warm = job
            self._cond.notify()
        return job.future

    def _drop_warm(self) -> None:
        if self._warm is not None:
            self._warm.cancel.set()
            if not self._warm.future.done():
                self._warm.future.set_result(None)
            self._warm = None

    def cancel(self, future: Future[Any]) -> None:
        """Cancel the job behind ``future``: dropped if pending, stopped within one token if running."""
        with self._cond:
            for job in list(self._jobs):
                if job.future is future:
                    self._jobs.remove(job)
                    job.cancel.set()
                    if not job.future.done():
                        job.future.set_result(None)
                    return
            if self._running is not None and self._running.future is future:
                self._running.cancel.set()

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop the thread (cancelling everything) and free the model."""
        with self._cond:
            self._stop = True
            for job in self._jobs:
                job.cancel.set()
                if not job.future.done():
                    job.future.set_result(None)
            self._jobs.clear()
            self._drop_warm()
            if self._running is not None:
                self._running.cancel.set()
            self._cond.notify_all()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    @property
    def busy(self) -> bool:
        return self._running is not None

    @property
    def serving(self) -> bool:
        """Whether a request (not a warm-up) runs or waits: background CPU work should wait too,
        since on a small machine it would take the model's cores."""
        running = self._running
        return bool(self._jobs) or (running is not None and not running.warm)

    # ------------------------------------------------------------------ thread
    def _set_state(self, state: str, message: str = "") -> None:
        self.state, self.error = state, message if state == "failed" else ""
        if self._on_state is not None:
            try:
                self._on_state(state, message)
            except Exception:  # a listener's failure must not kill the worker
                log.exception("state listener failed")

    def _run(self) -> None:
        self._set_state("loading")
        try:
            self.engine = self._loader()
        except EngineError as exc:
            log.error("model failed to load: %s", exc)
            self._fail(str(exc))
            return
        except Exception as exc:  # unexpected: still a message, never a dead server
            log.exception("model failed to load")
            self._fail(f"model failed to load: {exc}")
            return
        self._set_state("ready")
        self.loaded.set()
        while True:
            with self._cond:
                while not self._jobs and self._warm is None and not self._stop:
                    self._cond.wait()
                if self._stop:
                    break
                if self._jobs:
                    job = self._jobs.popleft()
                else:
                    job, self._warm = self._warm, None
                self._running = job
            try:
                result = job.fn(self.engine, job.cancel)
                if not job.future.done():
                    job.future.set_result(result)
            except BaseException as exc:  # delivered to the awaiting handler
                if not job.future.done():
                    job.future.set_exception(exc)
            finally:
                with self._cond:
                    self._running = None
        if self.engine is not None:
            self.engine.close()

    def _fail(self, message: str) -> None:
        with self._cond:
            self._set_state("failed", message)
            for job in self._jobs:
                if not job.future.done():
                    job.future.set_result(None)
            self._jobs.clear()
            self._drop_warm()
        self.loaded.set()
