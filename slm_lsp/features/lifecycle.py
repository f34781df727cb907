"""initialize / initialized / shutdown / didChangeConfiguration (the progress shown for model loading and indexing is ``progress``)."""

from __future__ import annotations

import asyncio
import logging
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
