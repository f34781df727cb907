"""End to end over stdio: initialize, open, change, inline completion, completion, cancel, shutdown — with a real tiny GGUF model."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from tests.e2e.lsp.conftest import open_doc, start, wait_ready

SOURCE = "import os\n\n\ndef greet(name):\n    return 'hello ' + name\n\n\nprint(gre\n"
#: Completion settings under which the tiny model generates for seconds (a request to interrupt).
LONG_GENERATION = {
    "maxTokens": 2000,
    "checkParse": False,
    "secureFilter": "off",
    "debounceMs": 0,
    "multiline": "always",
    "maxLines": 400,
}


def ask_inline(client: LanguageClient, uri: str, line: int, character: int) -> asyncio.Future:
    """An Automatic inline completion request, sent now and answered later."""
    return asyncio.ensure_future(
        client.text_document_inline_completion_async(
            lsp.InlineCompletionParams(
                text_document=lsp.TextDocumentIdentifier(uri=uri),
                position=lsp.Position(line=line, character=character),
                context=lsp.InlineCompletionContext(
                    trigger_kind=lsp.InlineCompletionTriggerKind.Automatic
                ),
            )
        )
    )


async def test_inline_completion_roundtrip(
    client: LanguageClient, workspace: Path, tiny_model_path: Path
) -> None:
    await start(
        client,
        workspace,
        {
            "model": {"path": str(tiny_model_path)},
            "completion": {"maxTokens": 8, "checkParse": False, "secureFilter": "off"},
        },
    )
    status = await wait_ready(client)
    assert status["model_state"] == "ready", status
    assert status["family"] == "deepseek"
    uri = open_doc(client, workspace / "main.py", SOURCE)
    result = await client.text_document_inline_completion_async(
        lsp.InlineCompletionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            position=lsp.Position(line=7, character=9),
            context=lsp.InlineCompletionContext(
                trigger_kind=lsp.InlineCompletionTriggerKind.Invoked
            ),
        )
    )
    # random weights: the content is noise, but whatever survived post-processing is one line at the cursor
    if result is not None:
        items = result.items if isinstance(result, lsp.InlineCompletionList) else result
        for item in items:
            assert item.range is not None and item.range.start == lsp.Position(line=7, character=9)
            assert "\n" not in item.insert_text  # a call being typed gets a one-line suggestion
    status = await client.workspace_execute_command_async(
        lsp.ExecuteCommandParams(command="slm.status")
    )
    assert status["cache_misses"] >= 1


async def test_incremental_change_and_completion_item(
    client: LanguageClient, workspace: Path, tiny_model_path: Path
) -> None:
    await start(
        client,
        workspace,
        {
            "model": {"path": str(tiny_model_path)},
            "completion": {
                "maxTokens": 8,
                "checkParse": False,
                "secureFilter": "off",
                "multiline": "never",
            },
        },
    )
    await wait_ready(client)
    uri = open_doc(client, workspace / "a.py", "x = 1\n")
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                lsp.TextDocumentContentChangePartial(
                    range=lsp.Range(
                        start=lsp.Position(line=1, character=0),
                        end=lsp.Position(line=1, character=0),
                    ),
                    text="y = x +",
                )
            ],
        )
    )
    result = await client.text_document_completion_async(
        lsp.CompletionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            position=lsp.Position(line=1, character=7),
        )
    )
    if result is not None:
        items = result.items if isinstance(result, lsp.CompletionList) else result
        for item in items:
            assert isinstance(item.text_edit, lsp.TextEdit)
            assert item.text_edit.range.start == lsp.Position(line=1, character=7)
            assert "\n" not in item.text_edit.new_text


async def test_unknown_document_and_bad_position_answer_empty(
    client: LanguageClient, workspace: Path, tiny_model_path: Path
) -> None:
    await start(client, workspace, {"model": {"path": str(tiny_model_path)}})
    await wait_ready(client)
    ctx = lsp.InlineCompletionContext(trigger_kind=lsp.InlineCompletionTriggerKind.Invoked)
    missing = await client.text_document_inline_completion_async(
        lsp.InlineCompletionParams(
            text_document=lsp.TextDocumentIdentifier(uri=(workspace / "nope.py").as_uri()),
            position=lsp.Position(line=0, character=0),
            context=ctx,
        )
    )
    assert missing is None
    uri = open_doc(client, workspace / "b.py", "a = 1\n")
    outside = await client.text_document_inline_completion_async(
        lsp.InlineCompletionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            position=lsp.Position(line=40, character=3),
            context=ctx,
        )
    )
    assert outside is None
    # the server is still alive and answering
    status = await client.workspace_execute_command_async(
        lsp.ExecuteCommandParams(command="slm.status")
    )
    assert status["model_state"] == "ready"


async def test_cancel_request(
    client: LanguageClient, workspace: Path, tiny_model_path: Path
) -> None:
    await start(
        client,
        workspace,
        {"model": {"path": str(tiny_model_path)}, "completion": LONG_GENERATION},
    )
    await wait_ready(client)
    uri = open_doc(client, workspace / "c.py", "def f():\n    \n")
    task = ask_inline(client, uri, 1, 4)
    await asyncio.sleep(0.2)
    task.cancel()
    try:
        await task
    except (asyncio.CancelledError, Exception):
        pass
    # after cancellation the worker is free again: a status call returns promptly and says ready
    status = await asyncio.wait_for(
        client.workspace_execute_command_async(lsp.ExecuteCommandParams(command="slm.status")),
        timeout=10,
    )
    assert status["model_state"] == "ready"


async def test_missing_model_shows_message_and_diagnostics_still_work(
    client: LanguageClient, workspace: Path
) -> None:
    await start(client, workspace, {"model": {"path": str(workspace / "missing.gguf")}})
    status = await wait_ready(client)
    assert status["model_state"] == "failed"
    assert "not found" in status["model_error"]
    for _ in range(100):
        if client.messages:
            break
        await asyncio.sleep(0.05)
    assert any("missing.gguf" in m.message for m in client.messages)
    uri = open_doc(client, workspace / "d.py", "import yaml\n\nyaml.load(data)\n")
    result = await client.text_document_inline_completion_async(
        lsp.InlineCompletionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            position=lsp.Position(line=0, character=0),
            context=lsp.InlineCompletionContext(
                trigger_kind=lsp.InlineCompletionTriggerKind.Invoked
            ),
        )
    )
    assert result is None
    for _ in range(200):
        if client.diagnostics.get(uri):
            break
        await asyncio.sleep(0.05)
    assert client.diagnostics.get(uri), "security diagnostics are served without a model"


async def test_invalid_setting_is_reported_and_defaults_used(
    client: LanguageClient, workspace: Path, tiny_model_path: Path
) -> None:
    await start(
        client,
        workspace,
        {"model": {"path": str(tiny_model_path)}, "completion": {"maxTokens": "lots"}},
    )
    await wait_ready(client)
    assert any("completion.max_tokens" in m.message for m in client.messages)


async def test_work_done_progress_while_generating(
    client: LanguageClient, workspace: Path, tiny_model_path: Path
) -> None:
    await start(
        client,
        workspace,
        {
            "model": {"path": str(tiny_model_path)},
            "completion": {"maxTokens": 4, "secureFilter": "off", "checkParse": False},
        },
    )
    await wait_ready(client)
    uri = open_doc(client, workspace / "p.py", "value = \n")
    token = "gen-1"
    client.progress_reports.setdefault(token, [])
    await client.text_document_inline_completion_async(
        lsp.InlineCompletionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            position=lsp.Position(line=0, character=8),
            context=lsp.InlineCompletionContext(
                trigger_kind=lsp.InlineCompletionTriggerKind.Invoked
            ),
            work_done_token=token,
        )
    )
    for _ in range(100):
        if len(client.progress_reports[token]) >= 2:
            break
        await asyncio.sleep(0.02)
    kinds = [type(r).__name__ for r in client.progress_reports[token]]
    assert kinds[0] == "WorkDoneProgressBegin" and kinds[-1] == "WorkDoneProgressEnd"


async def test_typing_through_a_suggestion_is_served_from_the_cache(
    client: LanguageClient, workspace: Path, tiny_model_path: Path
) -> None:
    await start(
        client,
        workspace,
        {
            "model": {"path": str(tiny_model_path)},
            "completion": {
                "maxTokens": 6,
                "checkParse": False,
                "secureFilter": "off",
                "multiline": "never",
            },
        },
    )
    await wait_ready(client)
    ctx = lsp.InlineCompletionContext(trigger_kind=lsp.InlineCompletionTriggerKind.Automatic)
    text = "value = \n"
    uri = open_doc(client, workspace / "t.py", text)
    first = await client.text_document_inline_completion_async(
        lsp.InlineCompletionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            position=lsp.Position(line=0, character=8),
            context=ctx,
        )
    )
    assert first is not None and first.items, "the tiny model suggests something at an assignment"
    suggestion = first.items[0].insert_text
    typed = suggestion[0]
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                lsp.TextDocumentContentChangePartial(
                    range=lsp.Range(
                        start=lsp.Position(line=0, character=8),
                        end=lsp.Position(line=0, character=8),
                    ),
                    text=typed,
                )
            ],
        )
    )
    col = 8 + len(typed.encode("utf-16-le")) // 2
    second = await client.text_document_inline_completion_async(
        lsp.InlineCompletionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            position=lsp.Position(line=0, character=col),
            context=ctx,
        )
    )
    status = await client.workspace_execute_command_async(
        lsp.ExecuteCommandParams(command="slm.status")
    )
    if len(suggestion) > 1:
        assert second is not None and second.items[0].insert_text == suggestion[1:]
        assert status["cache_hits"] == 1


async def test_a_latency_target_that_lowers_the_budgets_says_so(
    client: LanguageClient, workspace: Path, tiny_model_path: Path
) -> None:
    notes: list[str] = []

    @client.feature("slm/status")
    def _status(params) -> None:  # type: ignore[no-untyped-def]
        message = (
            params.get("message") if isinstance(params, dict) else getattr(params, "message", None)
        )
        if message:
            notes.append(str(message))

    # 1 ms: no prompt fits even the tiny model, so the budgets drop to the smallest
    await start(
        client,
        workspace,
        {
            "model": {"path": str(tiny_model_path)},
            "completion": {
                "maxTokens": 8,
                "targetLatencyMs": 1,
                "secureFilter": "off",
                "checkParse": False,
            },
        },
    )
    await wait_ready(client)
    uri = open_doc(client, workspace / "p.py", "def total(values):\n    return \n")
    for _ in range(2):  # told once, not on every request
        await client.text_document_inline_completion_async(
            lsp.InlineCompletionParams(
                text_document=lsp.TextDocumentIdentifier(uri=uri),
                position=lsp.Position(line=1, character=11),
                context=lsp.InlineCompletionContext(
                    trigger_kind=lsp.InlineCompletionTriggerKind.Invoked
                ),
            )
        )
    status = await client.workspace_execute_command_async(
        lsp.ExecuteCommandParams(command="slm.status")
    )
    assert "completion.target_latency_ms = 1" in status["budget_note"]
    for _ in range(50):
        if notes:
            break
        await asyncio.sleep(0.02)
    assert [n for n in notes if "target_latency_ms" in n] == [status["budget_note"]]


async def test_a_request_in_another_document_supersedes_the_running_one(
    client: LanguageClient, workspace: Path, tiny_model_path: Path
) -> None:
    """The editor shows suggestions at one cursor: after a move to another file, the work asked for
    in the first one stops (within a token) instead of running to its end ahead of the new request."""
    await start(
        client,
        workspace,
        {
            "model": {"path": str(tiny_model_path)},
            "completion": {**LONG_GENERATION, "warmCache": False},
        },
    )
    await wait_ready(client)
    first_uri = open_doc(client, workspace / "a.py", "def f():\n    \n")
    other_uri = open_doc(client, workspace / "b.py", "def g():\n    \n")
    first = ask_inline(client, first_uri, 1, 4)
    counters: dict = {}
    for _ in range(200):  # until the first request generates
        status = await client.workspace_execute_command_async(
            lsp.ExecuteCommandParams(command="slm.status")
        )
        counters = status["engine_counters"]
        if counters.get("tokens_generated", 0) >= 5:
            break
        await asyncio.sleep(0.01)
    assert counters.get("tokens_generated", 0) >= 5, counters
    second = ask_inline(client, other_uri, 1, 4)
    assert await asyncio.wait_for(first, timeout=30) is None  # superseded, answered empty
    status = await client.workspace_execute_command_async(
        lsp.ExecuteCommandParams(command="slm.status")
    )
    # the first request stopped long before its 2000 tokens (the second may have started since)
    assert status["engine_counters"]["requests"] <= 2
    assert status["engine_counters"]["tokens_generated"] < 1500
    second.cancel()
