"""workspace/executeCommand: ``slm.status``, ``slm.toggle``, ``slm.reloadModel``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp

if TYPE_CHECKING:  # pragma: no cover
    from slm_lsp.server import SlmServer


def status(ls: SlmServer) -> dict[str, Any]:
    worker = ls.worker
    engine = getattr(worker, "engine", None)
    info = getattr(engine, "info", None)
    counters = getattr(engine, "counters", None)
    return {
        "model_state": worker.state if worker else "idle",
        "model_error": worker.error if worker else "",
        "model": Path(info.path).name if info else "",
        "family": info.family if info else "",
        "backend": info.backend if info else ls.settings.model.backend,
        "completions_enabled": ls.completions_enabled,
        "last_latency_ms": ls.last_latency_ms,
        "cache_hits": ls.completion.cache.hits,
        "cache_misses": ls.completion.cache.misses,
        "indexed": ls.index is not None,
        "model_starts": ls.model_starts,
        "index_starts": ls.index_starts,
        "settings": ls.settings.to_dict(),
        # the live parts read the settings in force (nothing kept an older copy)
        "live_settings_current": ls.completion.settings is ls.settings
        and (ls.retriever is None or ls.retriever.settings is ls.settings.context)
        and (ls.security is None or ls.security.settings is ls.settings.security),
        "engine_counters": counters.as_dict() if counters is not None else {},
        # why completion.target_latency_ms lowered the prompt budgets ("" when it did not)
        "budget_note": ls.completion.budget_note,
    }


def register(server: SlmServer) -> None:
    @server.command("slm.status")
    def slm_status(ls: SlmServer, *args: Any) -> dict[str, Any]:
        return status(ls)

    @server.command("slm.toggle")
    def slm_toggle(ls: SlmServer, *args: Any) -> dict[str, Any]:
        ls.completions_enabled = not ls.completions_enabled
        ls.show_message(
            f"slm-lsp: completions {'on' if ls.completions_enabled else 'off'}",
            lsp.MessageType.Info,
        )
        return status(ls)

    @server.command("slm.reloadModel")
    def slm_reload(ls: SlmServer, *args: Any) -> dict[str, Any]:
        ls.start_model()
        return status(ls)
