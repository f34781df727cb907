"""textDocument/inlineCompletion (LSP 3.18): ghost-text suggestions; ``Invoked`` returns alternatives, ``Automatic`` one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from slm_lsp.features import common, documents

if TYPE_CHECKING:  # pragma: no cover
    from slm_lsp.server import SlmServer


def register(server: SlmServer) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_INLINE_COMPLETION, lsp.InlineCompletionOptions())
    async def inline_completion(
        ls: SlmServer, params: lsp.InlineCompletionParams
    ) -> lsp.InlineCompletionList | None:
        documents.warm_tracker(ls).requested(params.text_document.uri)
        automatic = params.context.trigger_kind == lsp.InlineCompletionTriggerKind.Automatic
        n = 1 if automatic else ls.settings.completion.alternatives
        outcome = await common.complete(
            ls,
            params.text_document.uri,
            params.position,
            alternatives=n,
            automatic=automatic,
            work_done_token=params.work_done_token,
        )
        if outcome is None or not outcome.suggestions:
            return None
        pos = params.position
        return lsp.InlineCompletionList(
            items=[
                lsp.InlineCompletionItem(
                    insert_text=s.text, range=lsp.Range(start=pos, end=pos), filter_text=None
                )
                for s in outcome.suggestions
            ]
        )
