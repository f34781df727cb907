"""Document sync (incremental): keeps the index, the context ring buffer, the completion cache and diagnostics in step with the editor."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types as lsp
from pygls.uris import to_fs_path
from pygls.workspace import PositionCodec

from slm_lsp.features import diagnostics, warmup
from slm_lsp.text import TextIndex

if TYPE_CHECKING:  # pragma: no cover
    from slm_lsp.server import SlmServer

log = logging.getLogger(__name__)


def register(server: SlmServer) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: SlmServer, params: lsp.DidOpenTextDocumentParams) -> None:
        uri = params.text_document.uri
        doc = ls.document(uri)
        if doc is None:
            return
        if ls.retriever is not None:
            _safe(ls.retriever.note_view, doc.path, doc.text, 0)
        parsed = None
        if doc.language:
            parsed = _safe(ls.parsed.open, uri, doc.text, doc.language, doc.version or 0)
        ls._index_document(uri, doc.text, doc.language, getattr(parsed, "tree", None))
        diagnostics.schedule(ls, uri, delay=0.0)
        warmup.warm(ls, uri, 0, 0)  # the cursor is unknown: the top of the file

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: SlmServer, params: lsp.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        doc = ls.document(uri)
        if doc is None:
            return
        line = 0
        end: lsp.Position | None = None
        for change in params.content_changes:
            if isinstance(change, lsp.TextDocumentContentChangePartial):
                line = change.range.start.line
                end = _end_of_insert(change, str(ls.workspace.position_encoding))
        if ls.retriever is not None:
            _safe(ls.retriever.note_edit, doc.path, doc.text, line)
        _safe(_reparse, ls, uri, params, doc.text)
        ls.schedule_index(uri)
        diagnostics.schedule(ls, uri)
        if end is not None:
            pos = _safe(ls.to_server_position, uri, end)
            if pos is not None:
                _safe(warm_tracker(ls).edited, ls, uri, pos[0], pos[1])

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: SlmServer, params: lsp.DidSaveTextDocumentParams) -> None:
        diagnostics.schedule(ls, params.text_document.uri, delay=0.0)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: SlmServer, params: lsp.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.completion.cache.clear(uri)
        ls.parsed.close(uri)
        ls.cancel_index(uri)
        warm_tracker(ls).forget(uri)
        if ls.index is not None and uri.startswith("file:"):
            _safe(ls.index.close_document, Path(to_fs_path(uri) or ""))
        diagnostics.forget(ls, uri)


def warm_tracker(ls: SlmServer) -> warmup.WarmTracker:
    """The server's warm-up tracker (made on first use)."""
    tracker = getattr(ls, "warm_tracker", None)
    if tracker is None:
        tracker = warmup.WarmTracker()
        ls.warm_tracker = tracker  # type: ignore[attr-defined]
    return tracker


def _end_of_insert(change: lsp.TextDocumentContentChangePartial, encoding: str) -> lsp.Position:
    """Where the cursor stands after an edit (client units): the end of the inserted text."""
    start = change.range.start
    text = change.text
    if "\n" in text:
        tail = text[text.rfind("\n") + 1 :]
        return lsp.Position(line=start.line + text.count("\n"), character=_units(tail, encoding))
    return lsp.Position(line=start.line, character=start.character + _units(text, encoding))


def _units(text: str, encoding: str) -> int:
    """Code units of ``text`` in the negotiated position encoding (UTF-16 unless told otherwise)."""
    if "8" in encoding:
        return len(text.encode("utf-8", "surrogatepass"))
    if "32" in encoding:
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _reparse(ls: SlmServer, uri: str, params: lsp.DidChangeTextDocumentParams, final_text: str):  # type: ignore[no-untyped-def]
    """Apply the editor's edits to the document's syntax tree (tree-sitter edit + incremental reparse)."""
    parsed = ls.parsed.get(uri)
    if parsed is None:
        return None
    codec = PositionCodec(ls.workspace.position_encoding)
    changes: list = []
    text = parsed.text
    for change in params.content_changes:
        if isinstance(change, lsp.TextDocumentContentChangePartial):
            lines = text.splitlines(keepends=True)
            rng = codec.range_from_client_units(lines, change.range)
            changes.append(
                (rng.start.line, rng.start.character, rng.end.line, rng.end.character, change.text)
            )
            # keep our view of the intermediate text to convert the next change's range
            idx = TextIndex(text)
            a, b = (
                idx.offset(rng.start.line, rng.start.character),
                idx.offset(rng.end.line, rng.end.character),
            )
            text = text[:a] + change.text + text[b:]
        else:
            changes.append(change.text)
            text = change.text
    doc = ls.parsed.change(uri, changes, params.text_document.version)
    if doc is not None and doc.text != final_text:  # out of step with the editor: start over
        log.warning(
            "incremental parse of %s diverged from the editor's text; reparsing in full", uri
        )
        language = doc.language
        ls.parsed.close(uri)
        doc = ls.parsed.open(uri, final_text, language, params.text_document.version)
    return doc


def _safe(fn, *args):  # type: ignore[no-untyped-def]
    try:
        return fn(*args)
    except Exception:
        log.exception("%s failed", getattr(fn, "__qualname__", fn))
        return None
