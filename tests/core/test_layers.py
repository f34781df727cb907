"""Imports point one way: only the LSP layer imports pygls/lsprotocol, only engine/ imports llama_cpp."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "slm_lsp"
LSP_LAYER = ("server.py", "features/")
MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


def imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_layering(path: Path) -> None:
    rel = str(path.relative_to(PACKAGE))
    names = imported(path)
    if not rel.startswith(LSP_LAYER):
        assert not names & {"pygls", "lsprotocol"}, f"{rel} imports the LSP layer"
    if not rel.startswith("engine/"):
        assert "llama_cpp" not in names, f"{rel} imports llama_cpp outside engine/"


def test_every_module_says_what_it_is_for() -> None:
    missing = [str(p.relative_to(PACKAGE)) for p in MODULES if not ast.get_docstring(ast.parse(p.read_text(encoding="utf-8")))]
    assert not missing, f"modules without a docstring: {missing}"
