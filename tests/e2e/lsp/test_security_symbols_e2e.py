"""Over stdio: security diagnostics and their quick fix, pull diagnostics, symbols that follow edits and the file system."""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path

from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from tests.e2e.lsp.conftest import capabilities, open_doc, start, wait_ready

INSECURE = "import yaml\n\n\ndef load(data):\n    return yaml.load(data)\n"


async def wait_for(cond, timeout: float = 20.0):  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = cond()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.05)


def apply_edits(text: str, edits: list[lsp.TextEdit]) -> str:
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    for e in sorted(
        edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True
    ):
        a = offsets[e.range.start.line] + e.range.start.character
        b = offsets[e.range.end.line] + e.range.end.character
        text = text[:a] + e.new_text + text[b:]
    return text


async def test_diagnostic_quick_fix_applies_cleanly(
    client: LanguageClient, workspace: Path
) -> None:
    await start(client, workspace, {"model": {"path": str(workspace / "none.gguf")}})
    uri = open_doc(client, workspace / "insecure.py", INSECURE)
    diags = await wait_for(lambda: client.diagnostics.get(uri))
    yaml_diag = next(d for d in diags if d.code == "PY-B506")
    assert yaml_diag.range.start.line == 4 and yaml_diag.source == "slm-lsp"
    assert (
        yaml_diag.code_description is not None
        and "cwe.mitre.org" in yaml_diag.code_description.href
    )
    actions = await client.text_document_code_action_async(
        lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            range=yaml_diag.range,
            context=lsp.CodeActionContext(diagnostics=[yaml_diag]),
        )
    )
    assert actions
    fix = next(
        a for a in actions if isinstance(a, lsp.CodeAction) and a.title.startswith("Fix PY-B506")
    )
    ignore = next(
        a for a in actions if isinstance(a, lsp.CodeAction) and a.title.startswith("Ignore PY-B506")
    )
    edit = fix.edit.document_changes[0]
    fixed = apply_edits(INSECURE, list(edit.edits))
    assert "yaml.safe_load(data)" in fixed
    # the editor applies it: the diagnostic goes away
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=fixed)],
        )
    )
    await wait_for(lambda: not any(d.code == "PY-B506" for d in client.diagnostics.get(uri, [])))
    # "ignore here" adds a bandit-style suppression on the line
    suppressed = apply_edits(INSECURE, list(ignore.edit.document_changes[0].edits))
    assert suppressed.split("\n")[4].endswith("# nosec PY-B506")


async def test_pull_diagnostics(client: LanguageClient, workspace: Path) -> None:
    await client.initialize_session(
        lsp.InitializeParams(
            capabilities=capabilities(pull_diagnostics=True),
            root_uri=workspace.as_uri(),
            initialization_options={"model": {"path": str(workspace / "none.gguf")}},
        )
    )
    uri = open_doc(client, workspace / "p.py", INSECURE)
    report = await client.text_document_diagnostic_async(
        lsp.DocumentDiagnosticParams(text_document=lsp.TextDocumentIdentifier(uri=uri))
    )
    assert any(d.code == "PY-B506" and d.range.start.line == 4 for d in report.items)
    await asyncio.sleep(0.5)
    assert uri not in client.diagnostics  # pull clients get no pushed duplicates


async def test_symbols_follow_edits_and_files(client: LanguageClient, workspace: Path) -> None:
    (workspace / "lib.py").write_text("def parse_config(path):\n    return {}\n")
    await start(client, workspace, {"model": {"path": str(workspace / "none.gguf")}})
    await wait_ready(client)

    async def find(name: str) -> list:
        return await client.workspace_symbol_async(lsp.WorkspaceSymbolParams(query=name)) or []

    assert await wait_for(lambda: find("parse_config"))
    uri = open_doc(client, workspace / "app.py", "def main():\n    pass\n")
    await wait_for(lambda: find("main"))
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                lsp.TextDocumentContentChangePartial(
                    range=lsp.Range(
                        start=lsp.Position(line=2, character=0),
                        end=lsp.Position(line=2, character=0),
                    ),
                    text="\nclass UnsavedWidget:\n    pass\n",
                )
            ],
        )
    )
    found = await wait_for(lambda: find("UnsavedWidget"))
    assert found[0].location.uri == uri and found[0].location.range.start.line == 3
    symbols = await client.text_document_document_symbol_async(
        lsp.DocumentSymbolParams(text_document=lsp.TextDocumentIdentifier(uri=uri))
    )
    assert {s.name for s in symbols} == {"main", "UnsavedWidget"}
    # the file system: create, rename, delete (watchdog)
    (workspace / "extra.py").write_text("def brand_new_function():\n    return 1\n")
    await wait_for(lambda: find("brand_new_function"))
    (workspace / "extra.py").rename(workspace / "moved.py")
    await wait_for(lambda: _all_in(find, "brand_new_function", "moved.py"))
    (workspace / "moved.py").unlink()
    await wait_for(lambda: _none(find, "brand_new_function"))
    # definition through the index
    uri2 = open_doc(
        client, workspace / "use.py", "from lib import parse_config\n\nparse_config('x')\n"
    )
    locs = await client.text_document_definition_async(
        lsp.DefinitionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri2),
            position=lsp.Position(line=2, character=3),
        )
    )
    assert locs and locs[0].uri.endswith("lib.py") and locs[0].range.start.line == 0


async def _all_in(find, name: str, suffix: str) -> bool:  # type: ignore[no-untyped-def]
    found = await find(name)
    return bool(found) and all(s.location.uri.endswith(suffix) for s in found)


async def _none(find, name: str) -> bool:  # type: ignore[no-untyped-def]
    return not await find(name)


async def test_index_of_a_large_workspace_completes_beside_a_loaded_model(
    client: LanguageClient, workspace: Path, tiny_model_path: Path
) -> None:
    """Enough files for worker processes, started while the model loads: the index must still finish.

    Forking the threaded server used to leave the workers waiting forever on a lock that another
    thread held at the fork, so a real repository never got an index.
    """
    for i in range(80):
        (workspace / f"mod_{i:02d}.py").write_text(
            f"def function_number_{i}(x):\n    return x + {i}\n"
        )
    await start(client, workspace, {"model": {"path": str(tiny_model_path)}})
    assert (await wait_ready(client))["model_state"] == "ready"

    async def indexed() -> bool:
        status = await client.workspace_execute_command_async(
            lsp.ExecuteCommandParams(command="slm.status")
        )
        return bool(status["indexed"])

    assert await wait_for(indexed, timeout=60.0)
    found = await client.workspace_symbol_async(
        lsp.WorkspaceSymbolParams(query="function_number_79")
    )
    assert found and found[0].location.uri.endswith("mod_79.py")


async def test_document_symbols_without_the_index(client: LanguageClient, workspace: Path) -> None:
    """An outline right after opening, before any index exists (here: switched off): the open
    document's own syntax tree answers."""
    await start(
        client,
        workspace,
        {"model": {"path": str(workspace / "none.gguf")}, "index": {"enabled": False}},
    )
    await wait_ready(client)
    uri = open_doc(
        client, workspace / "outline.py", "class Box:\n    def size(self):\n        return 1\n"
    )
    symbols = await client.text_document_document_symbol_async(
        lsp.DocumentSymbolParams(text_document=lsp.TextDocumentIdentifier(uri=uri))
    )
    assert symbols and [s.name for s in symbols] == ["Box"]
    assert [c.name for c in symbols[0].children or []] == ["size"]
