"""LSP over TCP, and model-written code actions resolved lazily."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from tests.e2e.lsp.conftest import open_doc, start, wait_ready


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_over_tcp(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "slm_lsp", "serve", "--tcp", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {}}}).encode()
        sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        sock.settimeout(20)
        data = b""
        while b"capabilities" not in data or not data.endswith(b"}"):
            chunk = sock.recv(65536)
            assert chunk, "connection closed"
            data += chunk
        payload = json.loads(data.split(b"\r\n\r\n", 1)[1])
        assert payload["id"] == 1 and "inlineCompletionProvider" in payload["result"]["capabilities"]
        sock.close()
    finally:
        proc.kill()
        proc.wait(timeout=10)


async def test_docstring_action_is_resolved_lazily(client: LanguageClient, workspace: Path, tiny_model_path: Path) -> None:
    await start(client, workspace, {"model": {"path": str(tiny_model_path)}})
    await wait_ready(client)
    text = "def area(w, h):\n    return w * h\n"
    uri = open_doc(client, workspace / "shapes.py", text)
    rng = lsp.Range(start=lsp.Position(line=1, character=6), end=lsp.Position(line=1, character=6))
    actions = await client.text_document_code_action_async(lsp.CodeActionParams(text_document=lsp.TextDocumentIdentifier(uri=uri), range=rng, context=lsp.CodeActionContext(diagnostics=[])))
    titles = {a.title: a for a in actions or [] if isinstance(a, lsp.CodeAction)}
    assert "Write the docstring with the model" in titles and "Complete this function body with the model" in titles
    doc_action = titles["Write the docstring with the model"]
    assert doc_action.edit is None  # listing never waits for the model
    resolved = await asyncio.wait_for(client.code_action_resolve_async(doc_action), timeout=60)
    if resolved.edit is not None:  # random weights may produce nothing usable; when they do, it is a docstring
        edit = resolved.edit.document_changes[0].edits[0]
        assert edit.range.start == lsp.Position(line=1, character=0)
        assert edit.new_text.startswith('    """') and edit.new_text.endswith('"""\n')
