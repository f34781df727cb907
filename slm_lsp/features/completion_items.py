"""textDocument/completion: the model's suggestion as one item, for clients without inline completion (Helix, Zed, eglot, older Neovim).

With a ``partialResultToken`` each vetted suggestion is streamed as a partial result the moment it is
ready, and the final response is empty, as the protocol asks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import converters
from lsprotocol import types as lsp

from slm_lsp.features import common, documents

if TYPE_CHECKING:  # pragma: no cover
    from slm_lsp.server import SlmServer


def _documentation(ls: SlmServer, text: str) -> lsp.MarkupContent | str:
    """The full suggestion, as Markdown where the client renders it, else plain text."""
    td = ls.client_capabilities.text_document
    item = td.completion.completion_item if td and td.completion else None
    formats = (item.documentation_format if item else None) or []
    if lsp.MarkupKind.Markdown in formats:
        return lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=f"```\n{text}\n```")
    return text


def _item(
    ls: SlmServer, params: lsp.CompletionParams, text: str, rank: int, warning: str = ""
) -> lsp.CompletionItem:
    first = text.split("\n", 1)[0].strip() or text.strip().split("\n", 1)[0]
    label = first if len(first) <= 60 else first[:57] + "..."
    if warning:  # completion.secure_filter = "label": shown, with the finding in plain sight
        label = f"⚠ {label}"
    pos = params.position
    return lsp.CompletionItem(
        label=label or "…",
        kind=lsp.CompletionItemKind.Text,
        detail=f"slm-lsp: insecure? {warning}" if warning else "slm-lsp (local model)",
        documentation=_documentation(ls, text),
        sort_text=f"0000{rank}",
        filter_text=None,
        preselect=rank == 0,
        insert_text_format=lsp.InsertTextFormat.PlainText,
        text_edit=lsp.TextEdit(range=lsp.Range(start=pos, end=pos), new_text=text),
    )


def register(server: SlmServer) -> None:
    @server.feature(
        lsp.TEXT_DOCUMENT_COMPLETION,
        lsp.CompletionOptions(trigger_characters=[".", "(", " ", "\n"], resolve_provider=False),
    )
    async def completion(ls: SlmServer, params: lsp.CompletionParams) -> lsp.CompletionList | None:
        documents.warm_tracker(ls).requested(params.text_document.uri)
        token = params.partial_result_token
        sent = 0
        on_suggestion = None
        if token is not None:

            def on_suggestion(text: str, warning: str) -> None:
                nonlocal sent
                item = converters.get_converter().unstructure(
                    _item(ls, params, text, sent, warning)
                )
                ls.protocol.notify(lsp.PROGRESS, {"token": token, "value": [item]})
                sent += 1

        invoked = (
            params.context is None
            or params.context.trigger_kind == lsp.CompletionTriggerKind.Invoked
        )
        n = ls.settings.completion.alternatives if invoked else 1
        outcome = await common.complete(
            ls,
            params.text_document.uri,
            params.position,
            alternatives=n,
            automatic=not invoked,
            on_suggestion=on_suggestion,
            work_done_token=params.work_done_token,
        )
        if outcome is None or not outcome.suggestions:
            return None
        if token is not None and sent:
            return lsp.CompletionList(is_incomplete=True, items=[])
        return lsp.CompletionList(
            is_incomplete=True,
            items=[
                _item(ls, params, s.text, i, s.label) for i, s in enumerate(outcome.suggestions)
            ],
        )
