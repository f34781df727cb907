"""Imports point one way: only the LSP layer imports pygls/lsprotocol, only engine/ imports llama_cpp."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[3] / "slm_lsp"
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
    missing = [
        str(p.relative_to(PACKAGE))
        for p in MODULES
        if not ast.get_docstring(ast.parse(p.read_text(encoding="utf-8")))
    ]
    assert not missing, f"modules without a docstring: {missing}"


# ---------------------------------------------------------------------- the import graph
#: The package's layers, top to bottom, by top-level name under ``slm_lsp`` (a sub-package or a
#: module). A module may import its own package and any package of a LOWER layer; never one of its
#: own layer (a peer) nor one above. Every import counts: at the top, inside functions, and under
#: ``TYPE_CHECKING`` (an annotation is a dependency too). Adding a top-level name means adding it here.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("__main__",),  # python -m slm_lsp
    ("cli",),  # the command line: parses arguments, starts the server or a command
    ("features",),  # one module per LSP method group; builds the server (create_server)
    ("server",),  # the LanguageServer: settings, model worker, index, security engine
    ("review",),  # the headless review (text, JSON, SARIF)
    ("model_edits",),  # model-written code actions
    ("completion",),  # the completion pipeline: plan, run, vet, cache
    ("context",),  # cross-file snippets within a token budget
    ("engine",),  # the generation backends (llama.cpp in process, OpenAI-compatible HTTP)
    ("prompt",),  # FIM templates per model family (data) and post-processing (pure)
    ("security", "workspace"),  # rules and runner; crawling, parsing, the index, secrets
    ("processes", "commandline"),  # worker-process start method; what every subcommand shares
    ("generation", "config", "text", "languages", "__init__"),  # the vocabulary everything shares
)
RANK = {name: i for i, layer in enumerate(LAYERS) for name in layer}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULE_FILES = {_module_name(p): p for p in MODULES}


def _resolve(name: str) -> str | None:
    """The module of ours that ``name`` (a module or a name inside one) refers to."""
    while name and name not in MODULE_FILES:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str) -> set[str]:
    """Every ``slm_lsp`` module that ``module`` imports, wherever the import statement sits."""
    path = MODULE_FILES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            targets = [f"{base}.{a.name}" for a in node.names]
        for target in targets:
            if target == "slm_lsp" or target.startswith("slm_lsp."):
                found = _resolve(target)
                if found and found != module:
                    out.add(found)
    return out


GRAPH = {m: imports_of(m) for m in MODULE_FILES}


def top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_top_level_name_has_a_layer() -> None:
    missing = sorted({top(m) for m in MODULE_FILES} - set(RANK))
    assert not missing, f"add these to LAYERS in {__file__}: {missing}"


def test_imports_point_down() -> None:
    wrong = sorted(
        f"{m} imports {t} ({top(m)} may not import {top(t)})"
        for m, targets in GRAPH.items()
        for t in targets
        if top(m) != top(t) and RANK[top(t)] <= RANK[top(m)]
    )
    assert not wrong, "upward or sideways imports:\n" + "\n".join(wrong)


def test_no_import_loops_between_modules() -> None:
    """No cycle among modules either (inside a package too), found by depth-first search."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for t in sorted(GRAPH[m]):
            if state.get(t) == 1:
                return [*stack[stack.index(t) :], t]
            if t not in state:
                loop = visit(t)
                if loop:
                    return loop
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(GRAPH):
        if m not in state:
            loop = visit(m)
            assert loop is None, "import loop: " + " -> ".join(loop)


def test_the_rule_sees_function_local_and_type_checking_imports(tmp_path: Path) -> None:
    """The walker is not blind to imports inside functions or ``if TYPE_CHECKING`` blocks."""
    assert "slm_lsp.server" in GRAPH["slm_lsp.features.lifecycle"]  # TYPE_CHECKING only
    assert "slm_lsp.server" in GRAPH["slm_lsp.features"]  # inside create_server
    assert "slm_lsp.security.engine" in GRAPH["slm_lsp.server"]  # inside methods
