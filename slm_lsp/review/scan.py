"""Checking the collected files, in this process or over ``--jobs`` worker processes.

Each worker builds one ``SecurityEngine`` in its initializer and keeps it for the whole run (the
engine compiles its per-language queries on first use, so building it once per process matters).
Files go to the workers in chunks, biggest first so that no process is left with one huge file at
the end; results come back in any order and are sorted by the caller, so the output does not
depend on ``--jobs``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass

from slm_lsp.config import SecuritySettings
from slm_lsp.processes import worker_context
from slm_lsp.review.files import Target
from slm_lsp.security.engine import BINARY_SAMPLE, SecurityEngine
from slm_lsp.security.model import Finding

#: Files per chunk handed to a worker at most (smaller chunks balance better, bigger ones cost less IPC).
MAX_CHUNK = 32
#: Lines of a finding kept for display (its first lines; a long multi-line finding is cut).
MAX_CODE_LINES = 3


@dataclass(frozen=True, slots=True)
class FileResult:
    """One checked file: its findings (paths relative to the root), the lines they sit on, or why it was skipped."""

    rel: str
    size: int
    findings: tuple[Finding, ...] = ()
    #: 0-based line number → the text of that line, for every line a finding starts on (and a few after)
    lines: dict[int, str] | None = None
    skip: str | None = None
    #: why the findings may be incomplete (the file's time budget ran out), else None
    partial: str | None = None


def check_one(engine: SecurityEngine, target: Target) -> FileResult:
    """Read and check one file; never raises (an unreadable or binary file becomes a skip reason)."""
    try:
        with open(target.path, "rb") as fh:
            data = fh.read(engine.settings.max_file_bytes + 1)
    except OSError as exc:
        return FileResult(target.rel, target.size, skip=f"unreadable: {exc.strerror or exc}")
    if len(data) > engine.settings.max_file_bytes:
        return FileResult(
            target.rel,
            len(data),
            skip=f"too large (more than {engine.settings.max_file_bytes} bytes)",
        )
    if b"\0" in data[:BINARY_SAMPLE]:
        return FileResult(target.rel, len(data), skip="binary")
    text = data.decode("utf-8", errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    findings, partial = engine.check_status(text, target.rel, target.language)
    lines: dict[int, str] = {}
    if findings:
        split = text.split("\n")
        for f in findings:
            for n in range(f.start_line, min(f.end_line, f.start_line + MAX_CODE_LINES - 1) + 1):
                if n < len(split):
                    lines[n] = split[n].rstrip("\r")
    return FileResult(target.rel, len(data), tuple(findings), lines, partial=partial)


# ------------------------------------------------------------------------ worker processes
#: The worker process's engine, built once by ``_init_worker`` (one per process, never shared).
_WORKER_ENGINE: SecurityEngine | None = None


def _init_worker(settings: SecuritySettings, profile: str | None = None) -> None:
    global _WORKER_ENGINE
    _WORKER_ENGINE = SecurityEngine(settings, profile)


def _check_in_worker(target: Target) -> FileResult:
    assert _WORKER_ENGINE is not None  # set by the pool initializer
    return check_one(_WORKER_ENGINE, target)


def default_jobs() -> int:
    """All cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def check_all(
    targets: list[Target],
    settings: SecuritySettings,
    jobs: int,
    on_done: Callable[[FileResult], None] | None = None,
    progress: AbstractContextManager[object] | None = None,
    profile: str | None = None,
) -> list[FileResult]:
    """Check every target over ``jobs`` processes (1: in this process); results sorted by path.

    The worker processes are started before ``progress`` is entered, so that no thread of the
    progress display exists when they start (fork is then safe; see ``processes.worker_context``).
    """
    results: list[FileResult] = []
    jobs = max(1, min(jobs, len(targets)))
    with ExitStack() as stack:
        if jobs == 1:
            engine = SecurityEngine(settings, profile)
            stream: Iterable[FileResult] = (check_one(engine, t) for t in targets)
        else:
            ordered = sorted(targets, key=lambda t: (-t.size, t.rel))
            chunk = max(1, min(MAX_CHUNK, len(ordered) // (jobs * 8)))
            pool = stack.enter_context(
                worker_context().Pool(jobs, initializer=_init_worker, initargs=(settings, profile))
            )
            stream = pool.imap_unordered(_check_in_worker, ordered, chunksize=chunk)
        if progress is not None:
            stack.enter_context(progress)
        for result in stream:
            results.append(result)
            if on_done is not None:
                on_done(result)
    results.sort(key=lambda r: r.rel)
    return results
