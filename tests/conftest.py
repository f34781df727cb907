"""Shared fixtures: real GGUF models built at test time (random weights, the real DeepSeek-Coder
vocabulary), SmolLM2 when fetched, and an isolated cache folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.kit.synthetic import TINY, build_model

DEEPSEEK_EOS = 32014


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer, 64-wide llama GGUF with the DeepSeek-Coder tokenizer (FIM tokens detected by llama.cpp)."""
    return build_model(tmp_path_factory.mktemp("models") / "tiny-deepseek.gguf", TINY, quant="f16")


@pytest.fixture(scope="session")
def eos_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Like ``tiny_model_path`` but every generation ends at once with EOS."""
    return build_model(
        tmp_path_factory.mktemp("models") / "tiny-eos.gguf", TINY, favour_token=DEEPSEEK_EOS
    )


@pytest.fixture(scope="session")
def smollm2_path() -> Path:
    """SmolLM2-135M (`model.embedded = smollm2-135m`); skipped when it was never fetched (`slm-lsp model fetch`)."""
    from slm_lsp.engine.loader import find_smollm2

    path = find_smollm2()
    if path is None:
        pytest.skip("SmolLM2 not installed: run `slm-lsp model fetch`")
    return path


@pytest.fixture(scope="session")
def default_model_path() -> Path:
    """The default model (`model.embedded`'s default); skipped when it was never fetched (`slm-lsp model fetch`)."""
    from slm_lsp.config import ModelSettings
    from slm_lsp.engine.loader import find_model

    name = ModelSettings().embedded
    path = find_model(name)
    if path is None:
        pytest.skip(f"{name} not fetched: run `slm-lsp model fetch`")
    return path


@pytest.fixture(autouse=True)
def isolated_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Index caches go to a temporary folder; fetched models are still found where they live."""
    from slm_lsp.engine.fetch import load_table
    from slm_lsp.engine.loader import find_model

    models = [p for p in map(find_model, load_table()) if p is not None]
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("SLM_LSP_CACHE", str(cache))
    for model in models:
        if str(model).startswith(os.path.expanduser("~")):
            (cache / "models").mkdir(exist_ok=True)
            link = cache / "models" / model.name
            if not link.exists():
                link.symlink_to(model)
    return cache
