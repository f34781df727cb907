"""The server never dies on bad input: malformed JSON-RPC, huge and odd documents, a bad config — it answers and keeps serving."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from tests.e2e.lsp.conftest import open_doc, start, wait_ready


def frame(payload: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(payload) + payload


def read_message(stream) -> dict:  # type: ignore[no-untyped-def]
    length = None
    while True:
        line = stream.readline()
        if not line:
            raise EOFError("server closed stdout")
        if line in (b"\r\n", b"\n"):
            break
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return json.loads(stream.read(length))


def test_malformed_messages_do_not_kill_the_server(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "slm_lsp", "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(frame(b"{this is not json"))
        proc.stdin.write(frame(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {}, "initializationOptions": {"model": {"path": str(tmp_path / "none.gguf")}}}}).encode()))
        proc.stdin.flush()
        seen = {}
        while 1 not in seen:
            msg = read_message(proc.stdout)
            if "id" in msg:
                seen[msg["id"]] = msg
        assert "capabilities" in seen[1]["result"]
        assert "inlineCompletionProvider" in seen[1]["result"]["capabilities"]
        proc.stdin.write(frame(b'{"jsonrpc": "2.0", "id": 7, "method": "textDocument/inlineCompletion", "params": {"bogus": true}}'))
        proc.stdin.write(frame(b'{"jsonrpc": "2.0", "id": 8, "method": "workspace/executeCommand", "params": {"command": "slm.status"}}'))
        proc.stdin.flush()
        while 8 not in seen:
            msg = read_message(proc.stdout)
            if "id" in msg:
                seen[msg["id"]] = msg
        assert "model_state" in seen[8]["result"]
        assert 7 in seen and "error" in seen[7]  # a request with bad params gets an error, not a crash
        proc.stdin.write(frame(json.dumps({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}).encode()))
        proc.stdin.flush()
        while True:
            msg = read_message(proc.stdout)
            if msg.get("id") == 2:
                break
        proc.stdin.write(frame(json.dumps({"jsonrpc": "2.0", "method": "exit"}).encode()))
        proc.stdin.flush()
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()



def test_an_editor_that_vanishes_mid_session_ends_the_server_quietly(tmp_path: Path, tiny_model_path: Path) -> None:
    """The editor dies without shutdown/exit while the index builds (enough files for worker
    processes) and messages are in flight: the server exits on its own, with one log line about
    the lost client instead of a traceback per message."""
    for i in range(80):
        (tmp_path / f"m{i}.py").write_text(f"def f{i}(x):\n    return x\n")
    log_file = tmp_path / "server.log"
    proc = subprocess.Popen([sys.executable, "-m", "slm_lsp", "serve", "--log-file", str(log_file), "--log-level", "info"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(frame(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {}, "initializationOptions": {"model": {"path": str(tiny_model_path)}}}}).encode()))
        proc.stdin.flush()
        assert read_message(proc.stdout)["id"] == 1
        proc.stdout.close()  # nobody reads any more
        proc.stdin.write(frame(json.dumps({"jsonrpc": "2.0", "method": "initialized", "params": {}}).encode()))
        proc.stdin.write(frame(json.dumps({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": (tmp_path / "m1.py").as_uri(), "languageId": "python", "version": 1, "text": "import os\nos.system(input())\n"}}}).encode()))
        proc.stdin.flush()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and "closed" not in (log_file.read_text() if log_file.exists() else ""):
            time.sleep(0.1)
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    log = log_file.read_text()
    assert "the client's connection is closed" in log
    assert "Traceback" not in log and "Traceback" not in proc.stderr.read().decode()  # type: ignore[union-attr]

async def test_huge_binary_and_odd_documents(client: LanguageClient, workspace: Path, tiny_model_path: Path) -> None:
    await start(client, workspace, {"model": {"path": str(tiny_model_path)}, "completion": {"maxTokens": 4}})
    await wait_ready(client)
    huge = "x = 1\n" * 400_000  # 2.4 MB
    uri = open_doc(client, workspace / "huge.py", huge)
    ctx = lsp.InlineCompletionContext(trigger_kind=lsp.InlineCompletionTriggerKind.Invoked)
    await client.text_document_inline_completion_async(lsp.InlineCompletionParams(text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line=200_000, character=5), context=ctx))
    odd = open_doc(client, workspace / "odd.py", "s = '\x00\ufffd\U0001f600'\n" + "(" * 3000 + "\n")
    await client.text_document_inline_completion_async(lsp.InlineCompletionParams(text_document=lsp.TextDocumentIdentifier(uri=odd), position=lsp.Position(line=0, character=6), context=ctx))
    unknown = open_doc(client, workspace / "data.xyz", "whatever\n", language="plaintext")
    await client.text_document_inline_completion_async(lsp.InlineCompletionParams(text_document=lsp.TextDocumentIdentifier(uri=unknown), position=lsp.Position(line=0, character=3), context=ctx))
    status = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(command="slm.status"))
    assert status["model_state"] == "ready"


async def test_configuration_change_is_applied(client: LanguageClient, workspace: Path, tiny_model_path: Path) -> None:
    client.set_configuration({"completion": {"enabled": False}}, section="slm")
    await start(client, workspace, {"model": {"path": str(tiny_model_path)}})
    await wait_ready(client)
    uri = open_doc(client, workspace / "x.py", "a = \n")
    ctx = lsp.InlineCompletionContext(trigger_kind=lsp.InlineCompletionTriggerKind.Invoked)
    params = lsp.InlineCompletionParams(text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line=0, character=4), context=ctx)
    assert await client.text_document_inline_completion_async(params) is None  # disabled by workspace/configuration
    client.set_configuration({"completion": {"enabled": True, "maxTokens": "bad"}}, section="slm")
    client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(settings=None))
    for _ in range(100):
        if any("max_tokens" in m.message for m in client.messages):
            break
        import asyncio

        await asyncio.sleep(0.05)
    assert any("max_tokens" in m.message for m in client.messages)
