"""File-system watching: watchdog events → debounced, batched index updates on a background thread.

watchdog's observer thread only records which paths changed (both ends of a move). A worker
thread waits until no event arrived for ``debounce_s``, takes the whole batch, and brings each
path up to date with ``WorkspaceIndex.refresh_path`` (a file is re-indexed or removed; a folder
is crawled or removed). The cache is saved at most every ``SAVE_INTERVAL_S`` while changes flow,
and on ``stop``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Any, Protocol

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

from slm_lsp.workspace.crawl import ALWAYS_SKIP_DIRS


class WatchedIndex(Protocol):
    """What the watcher needs of the index (``workspace.index.WorkspaceIndex``, which imports this module)."""

    root: Path
    crawler: Any  #: ``workspace.crawl.Crawler``: ``rel(path)`` is the path below the root, or None
    _dirty: bool

    def refresh_path(self, path: str) -> Any: ...

    def save(self) -> Any: ...


log = logging.getLogger(__name__)

#: Least time between two cache writes caused by file-system events.
SAVE_INTERVAL_S = 30.0
EVENTS_FOLLOWED = [
    FileCreatedEvent,
    FileModifiedEvent,
    FileDeletedEvent,
    FileMovedEvent,
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
]
"""The only events the watcher receives: changes (inotify is asked for these alone; other observers
filter the same way). Without the filter every open and read of a file or folder under the root
(our own crawl, git, the editor) is delivered too."""


class IndexWatcher(FileSystemEventHandler):
    """Watches the index root and applies changes to the index in debounced batches."""

    def __init__(self, index: WatchedIndex, debounce_s: float) -> None:
        self.index = index
        self.debounce_s = debounce_s
        self._pending: set[str] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._observer: Observer | None = None  # type: ignore[valid-type]
        self._thread: threading.Thread | None = None
        self._last_event = 0.0
        self._last_save = time.monotonic()
        self.batches = 0  #: batches applied (for tests and measurements)

    # ------------------------------------------------------------------------------ watchdog side
    def _relevant(self, path: str) -> bool:
        rel = self.index.crawler.rel(path)
        if rel is None or rel == "":
            return False
        return not any(part in ALWAYS_SKIP_DIRS for part in rel.split("/"))

    def on_any_event(self, event: FileSystemEvent) -> None:
        paths = [os.fsdecode(event.src_path)]
        dest = getattr(event, "dest_path", "")
        if dest:
            paths.append(os.fsdecode(dest))
        paths = [p for p in paths if self._relevant(p)]
        if not paths:
            return
        with self._lock:
            self._pending.update(paths)
            self._last_event = time.monotonic()
        self._wake.set()

    # -------------------------------------------------------------------------------- our side
    def start(self) -> None:
        observer = Observer()
        try:
            observer.schedule(
                self, str(self.index.root), recursive=True, event_filter=EVENTS_FOLLOWED
            )
            observer.start()
        except OSError as exc:  # inotify limits, a vanished root
            log.warning(
                "index: cannot watch %s (%s); the index will not follow file changes",
                self.index.root,
                exc,
            )
            return
        self._observer = observer
        self._thread = threading.Thread(target=self._run, name="slm-index-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def flush(self) -> None:
        """Apply pending events now (tests, shutdown)."""
        with self._lock:
            batch, self._pending = self._pending, set()
        self._wake.clear()
        for path in sorted(batch):
            try:
                self.index.refresh_path(path)
            except Exception:  # one bad file must not stop watching
                log.exception("index: failed to update %s", path)
        if batch:
            self.batches += 1

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait()
            if self._stopping.is_set():
                break
            while True:  # debounce: wait until events stop arriving
                with self._lock:
                    quiet = time.monotonic() - self._last_event
                if quiet >= self.debounce_s:
                    break
                time.sleep(self.debounce_s - quiet)
            self.flush()
            if self.index._dirty and time.monotonic() - self._last_save >= SAVE_INTERVAL_S:
                self._last_save = time.monotonic()
                self.index.save()
