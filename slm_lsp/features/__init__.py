"""One module per LSP method group, each exposing ``register(server)``; ``create_server`` builds the
server and registers them all. Only this package, ``server.py`` and ``progress.py`` import pygls or
lsprotocol."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from slm_lsp.config import Settings
    from slm_lsp.server import SlmServer

#: Feature modules, each with ``register(server)``; the order does not matter.
FEATURES = (
    "lifecycle",
    "documents",
    "inline_completion",
    "completion_items",
    "diagnostics",
    "code_actions",
    "symbols",
    "commands",
)


def create_server(
    settings: Settings | None = None, base_layers: tuple[dict[str, Any], dict[str, Any]] = ({}, {})
) -> SlmServer:
    """Build the server with every feature registered."""
    import importlib

    from slm_lsp.config import Settings
    from slm_lsp.server import SlmServer

    server = SlmServer(settings or Settings(), base_layers)
    for name in FEATURES:
        importlib.import_module(f"{__name__}.{name}").register(server)
    return server
