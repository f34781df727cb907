"""Background cache warm-ups: evaluate the stable part of the next prompt before the user asks.

When a document opens, when an edit lands in another region of it, when edits pause without a
completion request, and after a suggestion at the end of a line (the next line's prompt, as if
Enter were pressed: the engine keeps the current prompt's cache aside and swaps it back if the user
types on instead), the prompt the next request will need is planned and its stable part — everything before the typed part of the line — is
evaluated into the model's KV cache by ``EngineWorker.warm``: at the lowest priority, never while a
request waits, interrupted by any request within one prompt chunk (what finished stays cached).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from slm_lsp.text import TextIndex

if TYPE_CHECKING:  # pragma: no cover
    from slm_lsp.completion.document import Document
    from slm_lsp.server import SlmServer

log = logging.getLogger(__name__)

#: Lines an edit must move away from the previous one to count as a move to another region.
REGION_LINES = 8
#: Pause after an edit, without a completion request, before warming at it (seconds).
IDLE_S = 0.3
#: Documents larger than this are not warmed: planning one takes long enough to delay a request
#: that arrives meanwhile (a warm-up is interruptible only once it evaluates).
WARM_MAX_CHARS = 300_000


def warm(ls: SlmServer, uri: str, line: int, col: int, doc: Document | None = None) -> None:
    """Queue a warm-up of the prompt at (``line``, ``col``) of ``uri`` — of ``doc`` when given (a
    text the editor does not have yet) — replacing a waiting one."""
    worker = ls.worker
    if worker is None or worker.state != "ready" or not ls.settings.completion.warm_cache:
        return
    if not (ls.settings.completion.enabled and ls.completions_enabled):
        return
    doc = doc or ls.document(uri)
    if doc is None or len(doc.text) > WARM_MAX_CHARS:
        return
    service = ls.completion

    def job(engine: Any, cancel: threading.Event) -> int:
        warm_fn = getattr(engine, "warm", None)
        if warm_fn is None or cancel.is_set():
            return 0
        plan = service.plan(doc, line, col, engine.count_tokens, service.budgets(engine))
        if cancel.is_set():
            return 0
        return int(warm_fn(service.fit(engine, plan), cancel))

    worker.warm(uri, job)


def after_answer(ls: SlmServer, doc: Document, line: int, col: int) -> None:
    """After a suggestion at the end of a line: warm the next line's prompt (Enter pressed here,
    the line's indentation kept, one level more after a ``:``/``{``)."""
    idx = TextIndex(doc.text)
    if line >= idx.line_count:
        return
    text = idx.line(line)
    if text[col:].strip() or not text[:col].strip():
        return
    indent = text[: len(text) - len(text.lstrip())]
    if text.rstrip().endswith((":", "{", "(", "[")):
        indent += "\t" if indent.startswith("\t") else "    "
    cur = idx.offset(line, col)
    ahead = replace(doc, text=doc.text[:cur] + "\n" + indent + doc.text[cur:], version=None)
    warm(ls, doc.uri, line + 1, len(indent), ahead)


class WarmTracker:
    """Per document, where the last edit was, and the pending idle warm-up (event loop only)."""

    def __init__(self) -> None:
        self.last_line: dict[str, int] = {}
        self.timers: dict[str, Any] = {}

    def edited(self, ls: SlmServer, uri: str, line: int, col: int) -> None:
        """An edit ended at (``line``, ``col``): warm now if it moved to another region, else once edits pause."""
        prev = self.last_line.get(uri)
        self.last_line[uri] = line
        self.cancel(uri)
        if prev is not None and abs(prev - line) >= REGION_LINES:
            warm(ls, uri, line, col)
            return
        loop = ls.loop
        if loop is not None:
            self.timers[uri] = loop.call_later(IDLE_S, self._idle, ls, uri, line, col)

    def _idle(self, ls: SlmServer, uri: str, line: int, col: int) -> None:
        self.timers.pop(uri, None)
        worker = ls.worker
        if worker is not None and not worker.busy:
            warm(ls, uri, line, col)

    def requested(self, uri: str) -> None:
        """A completion request came for ``uri``: it warms the cache itself."""
        self.cancel(uri)

    def cancel(self, uri: str) -> None:
        handle = self.timers.pop(uri, None)
        if handle is not None:
            handle.cancel()

    def forget(self, uri: str) -> None:
        self.cancel(uri)
        self.last_line.pop(uri, None)
