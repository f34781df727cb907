"""A real pytest-lsp client driving ``python -m slm_lsp serve`` over stdio."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient

SERVER = [sys.executable, "-m", "slm_lsp", "serve"]


def capabilities(pull_diagnostics: bool = False) -> lsp.ClientCapabilities:
    return lsp.ClientCapabilities(
        window=lsp.WindowClientCapabilities(work_done_progress=True),
        workspace=lsp.WorkspaceClientCapabilities(configuration=True),
        text_document=lsp.TextDocumentClientCapabilities(
            inline_completion=lsp.InlineCompletionClientCapabilities(),
            completion=lsp.CompletionClientCapabilities(),
            code_action=lsp.CodeActionClientCapabilities(
                resolve_support=lsp.ClientCodeActionResolveOptions(properties=["edit"])
            ),
            diagnostic=lsp.DiagnosticClientCapabilities() if pull_diagnostics else None,
        ),
    )


async def start(client: LanguageClient, root: Path, options: dict[str, Any]) -> None:
    await client.initialize_session(
        lsp.InitializeParams(
            capabilities=capabilities(),
            root_uri=root.as_uri(),
            workspace_folders=[lsp.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
            initialization_options=options,
        )
    )


async def wait_ready(client: LanguageClient, timeout: float = 60.0) -> dict[str, Any]:
    """Poll ``slm.status`` until the model has loaded (or failed)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        status = await client.workspace_execute_command_async(
            lsp.ExecuteCommandParams(command="slm.status")
        )
        if status["model_state"] in ("ready", "failed"):
            return status
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"model not ready: {status}")
        await asyncio.sleep(0.05)


def open_doc(
    client: LanguageClient, path: Path, text: str, language: str = "python", version: int = 1
) -> str:
    uri = path.as_uri()
    path.write_text(text, encoding="utf-8")
    client.text_document_did_open(
        lsp.DidOpenTextDocumentParams(
            text_document=lsp.TextDocumentItem(
                uri=uri, language_id=language, version=version, text=text
            )
        )
    )
    return uri


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient, tmp_path: Path):
    """A client whose workspace is ``tmp_path``; each test initializes it with its own options."""
    lsp_client.root = tmp_path  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return tmp_path
