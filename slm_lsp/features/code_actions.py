"""Code actions: a finding's deterministic quick fix, "ignore this finding here", and model edits —
"rewrite securely with the model", "write the docstring", "complete this function body" — resolved
lazily with ``codeAction/resolve`` so that listing actions never waits for the model."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp

from slm_lsp.features import diagnostics
from slm_lsp.model_edits import (
    ModelEditRequest,
    find_enclosing_function,
    run_model_edit,
    suppression_edit,
)

if TYPE_CHECKING:  # pragma: no cover
    from slm_lsp.server import SlmServer

log = logging.getLogger(__name__)
KINDS = [lsp.CodeActionKind.QuickFix, lsp.CodeActionKind.RefactorRewrite]


def register(server: SlmServer) -> None:
    @server.feature(
        lsp.TEXT_DOCUMENT_CODE_ACTION,
        lsp.CodeActionOptions(code_action_kinds=KINDS, resolve_provider=True),
    )
    async def code_action(
        ls: SlmServer, params: lsp.CodeActionParams
    ) -> list[lsp.CodeAction] | None:
        uri = params.text_document.uri
        doc = ls.document(uri)
        if doc is None:
            return None
        start = ls.to_server_position(uri, params.range.start)
        end = ls.to_server_position(uri, params.range.end) or start
        if start is None or end is None:
            return None
        actions: list[lsp.CodeAction] = []
        findings = await diagnostics.findings_for(ls, uri) or []
        for f in findings:
            if f.end_line < start[0] or f.start_line > end[0]:
                continue
            diag = diagnostics.to_diagnostics(ls, uri, [f])
            if f.fix is not None:
                actions.append(
                    lsp.CodeAction(
                        title=f"Fix {f.rule_id}: {f.fix.title}",
                        kind=lsp.CodeActionKind.QuickFix,
                        diagnostics=diag,
                        is_preferred=True,
                        edit=_workspace_edit(
                            ls,
                            uri,
                            doc.version,
                            [
                                ((e.start_line, e.start_col), (e.end_line, e.end_col), e.new_text)
                                for e in f.fix.edits
                            ],
                        ),
                    )
                )
            edit = suppression_edit(doc.text, f.start_line, f.rule_id, doc.language)
            if edit is not None:
                actions.append(
                    lsp.CodeAction(
                        title=f"Ignore {f.rule_id} on this line",
                        kind=lsp.CodeActionKind.QuickFix,
                        diagnostics=diag,
                        edit=_workspace_edit(ls, uri, doc.version, [edit]),
                    )
                )
            if ls.worker is not None and ls.worker.state == "ready":
                actions.append(
                    lsp.CodeAction(
                        title=f"Rewrite securely with the model ({f.rule_id})",
                        kind=lsp.CodeActionKind.QuickFix,
                        diagnostics=diag,
                        data={
                            "kind": "rewrite",
                            "uri": uri,
                            "start": [f.start_line, 0],
                            "end": [
                                f.end_line,
                                len(doc.text.split("\n")[f.end_line])
                                if f.end_line < doc.text.count("\n") + 1
                                else 0,
                            ],
                            "hint": f.message,
                            "version": doc.version,
                        },
                    )
                )
        if ls.worker is not None and ls.worker.state == "ready" and doc.language:
            fn = find_enclosing_function(doc.text, doc.language, start[0], start[1])
            if fn is not None:
                for kind, title in (
                    ("docstring", "Write the docstring with the model"),
                    ("body", "Complete this function body with the model"),
                ):
                    if kind == "docstring" and not fn.can_docstring:
                        continue
                    actions.append(
                        lsp.CodeAction(
                            title=title,
                            kind=lsp.CodeActionKind.RefactorRewrite,
                            data={
                                "kind": kind,
                                "uri": uri,
                                "start": [fn.start_line, 0],
                                "end": [fn.end_line, 0],
                                "version": doc.version,
                            },
                        )
                    )
        return actions

    @server.feature(lsp.CODE_ACTION_RESOLVE)
    async def resolve(ls: SlmServer, action: lsp.CodeAction) -> lsp.CodeAction:
        data: dict[str, Any] = action.data if isinstance(action.data, dict) else {}
        uri = data.get("uri", "")
        doc = ls.document(uri)
        worker = ls.worker
        if (
            doc is None
            or worker is None
            or worker.state != "ready"
            or data.get("kind") not in ("rewrite", "docstring", "body")
        ):
            return action
        request = ModelEditRequest(
            kind=data["kind"],
            start_line=int(data["start"][0]),
            end_line=int(data["end"][0]),
            hint=str(data.get("hint", "")),
        )
        future = worker.submit(
            f"{uri}#edit",
            lambda engine, cancel: run_model_edit(engine, ls.completion, doc, request, cancel),
        )
        try:
            edit = await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            worker.cancel(future)
            raise
        except Exception as exc:
            log.warning("model edit failed: %s", exc)
            ls.show_message(
                f"slm-lsp: the model could not produce an edit: {exc}", lsp.MessageType.Warning
            )
            return action
        if edit is None:
            ls.show_message("slm-lsp: the model proposed nothing usable here", lsp.MessageType.Info)
            return action
        (start, end, text) = edit
        action.edit = _workspace_edit(ls, uri, doc.version, [(start, end, text)])
        return action


def _workspace_edit(
    ls: SlmServer,
    uri: str,
    version: int | None,
    edits: list[tuple[tuple[int, int], tuple[int, int], str]],
) -> lsp.WorkspaceEdit:
    text_edits = [
        lsp.TextEdit(range=ls.to_client_range(uri, s, e), new_text=t) for s, e, t in edits
    ]
    return lsp.WorkspaceEdit(
        document_changes=[
            lsp.TextDocumentEdit(
                text_document=lsp.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
                edits=text_edits,
            )
        ]
    )
