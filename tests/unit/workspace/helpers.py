"""Helpers for workspace tests: build small trees and wait for conditions without fixed sleeps."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from slm_lsp.config import IndexSettings
from slm_lsp.workspace.index import WorkspaceIndex


def write_tree(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")


def make_index(root: Path, cache: Path, **overrides: object) -> WorkspaceIndex:
    settings = IndexSettings(cache_dir=str(cache), **overrides)  # type: ignore[arg-type]
    return WorkspaceIndex(root, settings)


def wait_for(cond: Callable[[], bool], timeout: float = 10.0, interval: float = 0.02) -> bool:
    """Poll ``cond`` until it holds or ``timeout`` passes; return whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(interval)
    return cond()
