"""Document sync (incremental): keeps the index, the context ring buffer, the completion cache and diagnostics in step with the editor."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from slm_lsp.features import diagnostics

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
        ls._index_document(uri, doc.text)
        diagnostics.schedule(ls, uri, delay=0.0)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: SlmServer, params: lsp.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        doc = ls.document(uri)
        if doc is None:
            return
        line = 0
        for change in params.content_changes:
            if isinstance(change, lsp.TextDocumentContentChangePartial):
                line = change.range.start.line
        if ls.retriever is not None:
            _safe(ls.retriever.note_edit, doc.path, doc.text, line)
        ls._index_document(uri, doc.text)
        diagnostics.schedule(ls, uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: SlmServer, params: lsp.DidSaveTextDocumentParams) -> None:
        diagnostics.schedule(ls, params.text_document.uri, delay=0.0)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: SlmServer, params: lsp.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.completion.cache.clear(uri)
        diagnostics.forget(ls, uri)


def _safe(fn, *args) -> None:  # type: ignore[no-untyped-def]
    try:
        fn(*args)
    except Exception:
        log.exception("%s failed", getattr(fn, "__qualname__", fn))
