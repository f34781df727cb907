"""initialize / initialized / shutdown / didChangeConfiguration, and the progress shown for model loading and indexing."""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp
from pygls.uris import to_fs_path

if TYPE_CHECKING:  # pragma: no cover
    from slm_lsp.server import SlmServer

log = logging.getLogger(__name__)
SECTION = "slm"


def register(server: SlmServer) -> None:
    @server.feature(lsp.INITIALIZE)
    def initialize(ls: SlmServer, params: lsp.InitializeParams) -> None:
        ls.loop = asyncio.get_running_loop() if _has_loop() else ls.loop
        root = None
        if params.workspace_folders:
            root = to_fs_path(params.workspace_folders[0].uri)
        elif params.root_uri:
            root = to_fs_path(params.root_uri)
        elif params.root_path:
            root = params.root_path
        ls.root = Path(root) if root else None
        if ls.root is not None:
            ls.completion.root = str(ls.root)
            ls.completion.repo_name = ls.root.name
        opts = params.initialization_options
        if isinstance(opts, dict):
            ls.editor_layers[0] = (
                opts.get(SECTION, opts) if isinstance(opts.get(SECTION), dict) else opts
            )
        ls.apply_settings()
        ls.start_subsystems()  # before any didOpen: documents opened early get diagnostics too

    @server.feature(lsp.INITIALIZED)
    async def initialized(ls: SlmServer, params: lsp.InitializedParams) -> None:
        ls.loop = asyncio.get_running_loop()
        await pull_configuration(ls)
        ls.start_model()

    @server.feature(lsp.SHUTDOWN)
    def shutdown(ls: SlmServer, params: Any = None) -> None:
        ls.shutdown_subsystems()

    @server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(
        ls: SlmServer, params: lsp.DidChangeConfigurationParams
    ) -> None:
        settings = params.settings
        if isinstance(settings, dict) and isinstance(settings.get(SECTION), dict):
            ls.editor_layers[1] = settings[SECTION]
            ls.apply_settings()
        else:
            await pull_configuration(ls)


def _has_loop() -> bool:
    try:
        asyncio.get_running_loop()
        return True
    except RuntimeError:
        return False


async def pull_configuration(ls: SlmServer) -> None:
    """Ask the client for the ``slm`` section (when it supports ``workspace/configuration``) and apply it."""
    caps = ls.client_capabilities
    if not (caps.workspace and caps.workspace.configuration):
        return
    try:
        result = await asyncio.wait_for(
            ls.workspace_configuration_async(
                lsp.ConfigurationParams(items=[lsp.ConfigurationItem(section=SECTION)])
            ),
            timeout=5,
        )
    except Exception as exc:
        log.warning("workspace/configuration failed: %s", exc)
        return
    if result and isinstance(result[0], dict):
        ls.editor_layers[1] = result[0]
        ls.apply_settings()


# ---------------------------------------------------------------------- progress
def _client_has_progress(ls: SlmServer) -> bool:
    caps = ls.client_capabilities
    return bool(caps.window and caps.window.work_done_progress)


def _begin(ls: SlmServer, key: str, title: str, message: str = "") -> None:
    """Create a progress token with the client, then begin; reports before that are dropped."""
    if not _client_has_progress(ls) or key in ls.progress_tokens:
        return
    token = f"slm-{key}-{uuid.uuid4().hex[:8]}"
    ls.progress_tokens[key] = ""  # pending until the client accepted the token

    async def go() -> None:
        try:
            await ls.work_done_progress.create_async(token)
            ls.work_done_progress.begin(
                token, lsp.WorkDoneProgressBegin(title=title, message=message, cancellable=False)
            )
        except Exception as exc:
            log.debug("progress not shown: %s", exc)
            ls.progress_tokens.pop(key, None)
            return
        if ls.progress_tokens.get(key) is None:  # ended while the token was being created
            ls.work_done_progress.end(
                token, lsp.WorkDoneProgressEnd(message=ls.progress_ended.pop(key, ""))
            )
        else:
            ls.progress_tokens[key] = token

    asyncio.ensure_future(go())


def _report(ls: SlmServer, key: str, message: str, percentage: int | None = None) -> None:
    token = ls.progress_tokens.get(key)
    if not token:
        return
    try:
        ls.work_done_progress.report(
            token, lsp.WorkDoneProgressReport(message=message, percentage=percentage)
        )
    except Exception as exc:
        log.debug("progress report failed: %s", exc)


def _end(ls: SlmServer, key: str, message: str) -> None:
    if key not in ls.progress_tokens:
        return
    token = ls.progress_tokens.pop(key)
    if not token:
        ls.progress_ended[key] = message  # go() ends it once the token exists
        return
    try:
        ls.work_done_progress.end(token, lsp.WorkDoneProgressEnd(message=message))
    except Exception as exc:
        log.debug("progress end failed: %s", exc)


def model_progress(ls: SlmServer, state: str, message: str) -> None:
    """Work-done progress for model loading (called on the loop)."""
    if state == "loading":
        _begin(ls, "model", "slm-lsp: loading model", "")
    elif state in ("ready", "failed"):
        _end(ls, "model", "ready" if state == "ready" else f"failed: {message}")


def index_progress(ls: SlmServer, phase: str, done: int, total: int) -> None:
    """Work-done progress for indexing (called on the loop)."""
    if phase == "begin":
        _begin(ls, "index", "slm-lsp: indexing workspace")
    elif phase == "report":
        _report(ls, "index", f"{done}/{total} files", int(100 * done / total) if total else None)
    else:
        _end(ls, "index", f"{done} files, {total} symbols")
