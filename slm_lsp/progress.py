"""Work-done progress (``$/progress``) for model loading and indexing, shown while the server works.

Called on the event loop by the server (``SlmServer``) for its model worker and index build. It sits
below the server and takes it as any object with ``client_capabilities``, ``work_done_progress``,
``progress_tokens`` and ``progress_ended``, so that the server can import it without a loop.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from lsprotocol import types as lsp

log = logging.getLogger(__name__)


def _client_has_progress(ls: Any) -> bool:
    caps = ls.client_capabilities
    return bool(caps.window and caps.window.work_done_progress)


def _begin(ls: Any, key: str, title: str, message: str = "") -> None:
    """Create a progress token with the client, then begin; reports before that are dropped."""
    if not _client_has_progress(ls) or key in ls.progress_tokens:
        return
    token = f"slm-{key}-{uuid.uuid4().hex[:8]}"
    ls.progress_tokens[key] = ""  # pending until the client accepted the token

    async def go() -> None:
        try:
            await ls.work_done_progress.create_async(token)
            ls.work_done_progress.begin(
                token, lsp.WorkDoneProgressBegin(title=title, message=message, cancellable=False)
            )
        except Exception as exc:
            log.debug("progress not shown: %s", exc)
            ls.progress_tokens.pop(key, None)
            return
        if ls.progress_tokens.get(key) is None:  # ended while the token was being created
            ls.work_done_progress.end(
                token, lsp.WorkDoneProgressEnd(message=ls.progress_ended.pop(key, ""))
            )
        else:
            ls.progress_tokens[key] = token

    asyncio.ensure_future(go())


def _report(ls: Any, key: str, message: str, percentage: int | None = None) -> None:
    token = ls.progress_tokens.get(key)
    if not token:
        return
    try:
        ls.work_done_progress.report(
            token, lsp.WorkDoneProgressReport(message=message, percentage=percentage)
        )
    except Exception as exc:
        log.debug("progress report failed: %s", exc)


def _end(ls: Any, key: str, message: str) -> None:
    if key not in ls.progress_tokens:
        return
    token = ls.progress_tokens.pop(key)
    if not token:
        ls.progress_ended[key] = message  # go() ends it once the token exists
        return
    try:
        ls.work_done_progress.end(token, lsp.WorkDoneProgressEnd(message=message))
    except Exception as exc:
        log.debug("progress end failed: %s", exc)


def model_progress(ls: Any, state: str, message: str) -> None:
    """Work-done progress for model loading (called on the loop)."""
    if state == "loading":
        _begin(ls, "model", "slm-lsp: loading model", "")
    elif state in ("ready", "failed"):
        _end(ls, "model", "ready" if state == "ready" else f"failed: {message}")


def index_progress(ls: Any, phase: str, done: int, total: int) -> None:
    """Work-done progress for indexing (called on the loop)."""
    if phase == "begin":
        _begin(ls, "index", "slm-lsp: indexing workspace")
    elif phase == "report":
        _report(ls, "index", f"{done}/{total} files", int(100 * done / total) if total else None)
    else:
        _end(ls, "index", f"{done} files, {total} symbols")
