"""What the inline-completion and completion handlers share: one async path from a request to an ``Outcome``."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from slm_lsp.completion.budgets import Budgets
from slm_lsp.completion.document import Outcome, Suggestion
from slm_lsp.generation import EngineError

if TYPE_CHECKING:  # pragma: no cover
    from slm_lsp.server import SlmServer

log = logging.getLogger(__name__)

#: The worker key of every completion job: the editor shows suggestions at one cursor, so a request
#: supersedes the completion work of every document, not only its own (after a burst of edits in
#: several files, nothing queued for the files left behind runs before the newest request).
COMPLETION_KEY = "completion"


async def complete(
    ls: SlmServer,
    uri: str,
    position: lsp.Position,
    *,
    alternatives: int,
    automatic: bool,
    on_suggestion: Callable[[str, str], None] | None = None,
    work_done_token: lsp.ProgressToken | None = None,
) -> Outcome | None:
    """Run the pipeline for a request; None when there is nothing to offer (no model yet, unknown document, cancelled...)."""
    settings = ls.settings
    if not (settings.completion.enabled and ls.completions_enabled):
        return None
    doc = ls.document(uri)
    if doc is None:
        return None
    if (
        doc.language_id in settings.completion.disabled_languages
        or (doc.language or "") in settings.completion.disabled_languages
    ):
        return None
    pos = ls.to_server_position(uri, position)
    if pos is None:
        log.info("completion position %s:%s is outside %s", position.line, position.character, uri)
        return None
    line, col = pos
    t0 = time.perf_counter()
    cached = ls.completion.cache.get(doc, line, col)
    if cached:  # typing through a shown suggestion: no planning, no retrieval, no model
        out = Outcome(plan=None, cached=True)
        out.suggestions = [Suggestion(t) for t in cached[: max(1, alternatives)]]
        ls.last_latency_ms = (time.perf_counter() - t0) * 1000
        return out
    worker = ls.worker
    if worker is None or worker.state != "ready":
        return None
    if automatic and settings.completion.debounce_ms:
        await asyncio.sleep(
            settings.completion.debounce_ms / 1000
        )  # a newer request cancels this task here
    partial_cb = None
    if settings.completion.partial_notifications:
        version = doc.version

        def partial_cb(text: str) -> None:
            ls.notify_threadsafe(
                "slm/partialCompletion",
                {
                    "uri": uri,
                    "version": version,
                    "position": {"line": position.line, "character": position.character},
                    "text": text,
                    "done": False,
                },
            )

    chosen: list[Budgets] = []  #: what the job planned with (reported when a target lowered it)

    def job(engine, cancel):  # type: ignore[no-untyped-def]
        if automatic and ls.document_version(uri) != doc.version:
            return None  # edited since it was asked: its answer would be for text that is gone
        budgets = ls.completion.budgets(engine)
        chosen.append(budgets)
        told = (budgets.prefix_chars, budgets.suffix_chars, budgets.context_tokens)
        if told != ls.completion.budgets_told:  # said once, when the prompt budgets change
            ls.completion.budgets_told = told
            ls.completion.budget_note = budgets.note
            if budgets.note:
                log.warning("%s", budgets.note)
                ls.notify_threadsafe("slm/status", {"state": "ready", "message": budgets.note})
        plan = ls.completion.plan(doc, line, col, engine.count_tokens, budgets)
        return ls.completion.run(
            engine, plan, alternatives=alternatives, cancel=cancel, on_partial=partial_cb
        )

    future = worker.submit(COMPLETION_KEY, job, scope=uri)
    if work_done_token is not None:
        ls.work_done_progress.begin(
            work_done_token,
            lsp.WorkDoneProgressBegin(title="slm-lsp: generating", cancellable=False),
        )
    ls.notify_threadsafe("slm/status", {"state": "generating", "uri": uri})
    ended = "failed"
    try:
        outcome = await asyncio.wrap_future(future)
        ended = "done"
    except asyncio.CancelledError:
        worker.cancel(future)
        ended = "cancelled"
        ls.notify_threadsafe("slm/status", {"state": "ready", "cancelled": True})
        raise
    except EngineError as exc:
        ls.show_message(f"slm-lsp: {exc}", lsp.MessageType.Warning)
        return None
    except Exception:
        log.exception("completion failed")
        return None
    finally:
        if work_done_token is not None:
            ls.work_done_progress.end(work_done_token, lsp.WorkDoneProgressEnd(message=ended))
    ls.last_latency_ms = (time.perf_counter() - t0) * 1000
    status = {"state": "ready", "latency_ms": round(ls.last_latency_ms, 1)}
    if outcome is not None and outcome.generations:
        status.update(outcome.generations[0].timings())
    if chosen and chosen[-1].note:
        b = chosen[-1]
        status["budgets"] = {
            "prefix_chars": b.prefix_chars,
            "suffix_chars": b.suffix_chars,
            "context_tokens": b.context_tokens,
            "max_tokens": b.max_tokens,
        }
    ls.notify_threadsafe("slm/status", status)
    if outcome is not None and partial_cb is not None:
        text = outcome.suggestions[0].text if outcome.suggestions else ""
        ls.notify_threadsafe(
            "slm/partialCompletion",
            {
                "uri": uri,
                "version": doc.version,
                "position": {"line": position.line, "character": position.character},
                "text": text,
                "done": True,
            },
        )
    if outcome is None or outcome.cancelled:
        return None
    if on_suggestion is not None:
        for s in outcome.suggestions:
            on_suggestion(s.text, s.label)
    from slm_lsp.features import warmup

    warmup.after_answer(ls, doc, line, col)  # the next line's prompt, while the user reads this
    return outcome
