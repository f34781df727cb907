"""The index API: search, definitions, file symbols, unsaved documents, parallel build."""

from __future__ import annotations

from pathlib import Path

from slm_lsp.workspace.document import ParsedDocument

from .helpers import make_index, write_tree

FILES = {
    "app/config.py": "class Config:\n    '''Settings.'''\n    def load(self, path):\n        pass\n\ndef parse_config(path: str) -> Config:\n    '''Parse it.'''\n    return Config()\n",
    "app/util.py": "def parse_int(s):\n    return int(s)\n\nPARSER_VERSION = 2\n",
    "web/main.js": "class Parser {\n  parse(text) { return text; }\n}\nfunction parseArgs(argv) { return argv; }\n",
}


def build(tmp_path: Path, files: dict[str, str] = FILES, **kw: object):  # type: ignore[no-untyped-def]
    root = tmp_path / "ws"
    write_tree(root, files)
    index = make_index(root, tmp_path / "cache", **kw)
    stats = index.load_or_build()
    return root, index, stats


def test_stats_and_definitions(tmp_path: Path) -> None:
    root, index, stats = build(tmp_path)
    assert stats.files == 3 and stats.languages == {"python": 2, "javascript": 1}
    (sym,) = index.definitions("parse_config")
    assert sym.path == str(root / "app" / "config.py") and sym.start_line == 5 and sym.end_line == 7
    assert (
        sym.signature == "def parse_config(path: str) -> Config:"
        and sym.doc == "Parse it."
        and sym.language == "python"
    )
    assert [s.qualified_name for s in index.definitions("Config.load")] == ["Config.load"]


def test_file_symbols_hierarchy(tmp_path: Path) -> None:
    root, index, _ = build(tmp_path)
    syms = index.file_symbols(root / "app" / "config.py")
    assert [(s.name, s.kind, s.container) for s in syms] == [
        ("Config", "class", ""),
        ("load", "method", "Config"),
        ("parse_config", "function", ""),
    ]
    assert index.file_symbols(root / "nope.py") == []


def test_fuzzy_search_ranking(tmp_path: Path) -> None:
    _, index, _ = build(tmp_path)
    assert [s.name for s in index.search("parse_config")][0] == "parse_config"
    prefix = [s.name for s in index.search("parse")]
    assert prefix[:4] == ["parse", "Parser", "parseArgs", "parse_int"] or set(prefix[:5]) >= {
        "parse",
        "Parser",
        "parseArgs",
        "parse_int",
        "parse_config",
    }
    assert "parse_config" in [s.name for s in index.search("pcfg")]  # subsequence
    assert "PARSER_VERSION" in [
        s.name for s in index.search("ser_ver")
    ]  # substring, case-insensitive
    assert len(index.search("p", limit=2)) == 2
    assert index.search("") == [] and index.search("zzzzqq") == []
    assert index.search("(.*") == []  # regex characters are literal


def test_unsaved_document_overlay(tmp_path: Path) -> None:
    root, index, _ = build(tmp_path)
    path = root / "app" / "util.py"
    index.update_document(path, "def parse_float(s):\n    return float(s)\n", "python")
    assert index.definitions("parse_int") == [] and index.definitions("parse_float")
    doc = ParsedDocument("def from_tree():\n    pass\n", "python")
    index.update_document(path, doc.text, "python", tree=doc.tree)
    assert index.definitions("from_tree") and not index.definitions("parse_float")
    index.update_file(path)  # a save event does not hide unsaved edits
    assert index.definitions("from_tree")
    index.close_document(path)
    assert index.definitions("parse_int") and not index.definitions("from_tree")
    index.update_document(root / "new.ts", "export function fresh(): void {}\n", "typescript")
    assert index.definitions("fresh")
    index.update_document(root / ".env", "API_KEY=1\n", "shellscript")
    assert ".env" not in index.keys()


def test_update_and_remove_file(tmp_path: Path) -> None:
    root, index, _ = build(tmp_path)
    (root / "app" / "new.py").write_text("def newer():\n    pass\n")
    index.update_file(root / "app" / "new.py")
    assert index.definitions("newer")
    index.remove_file(root / "app")
    assert (
        not index.definitions("newer")
        and not index.definitions("parse_config")
        and index.definitions("parseArgs")
    )


def test_parallel_build_equals_serial(tmp_path: Path) -> None:
    files = {
        f"m{i}.py": f"def func_{i}(x):\n    '''Doc {i}.'''\n    return x\n\nclass K{i}:\n    pass\n"
        for i in range(120)
    }
    _, par, ps = build(tmp_path / "p", files, jobs=2)
    _, ser, ss = build(tmp_path / "s", files, jobs=1)
    assert ps.files == ss.files == 120 and ps.symbols == ss.symbols == 240
    for i in (0, 57, 119):
        a, b = par.definitions(f"func_{i}")[0], ser.definitions(f"func_{i}")[0]
        assert (a.signature, a.doc, a.start_line) == (b.signature, b.doc, b.start_line)


def test_progress_callback(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    root = tmp_path / "ws"
    write_tree(root, FILES)
    make_index(root, tmp_path / "cache").load_or_build(
        progress=lambda done, total: calls.append((done, total))
    )
    assert calls[-1] == (3, 3)


def test_no_lsp_imports_in_core_packages() -> None:
    """workspace/ and context/ stay free of pygls and lsprotocol (the server wraps them)."""
    import ast

    base = Path(__file__).resolve().parents[3] / "slm_lsp"
    for pkg in ("workspace", "context"):
        for py in (base / pkg).glob("*.py"):
            tree = ast.parse(py.read_text())
            for node in ast.walk(tree):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                    if isinstance(node, ast.ImportFrom)
                    else []
                )
                assert not any(n.split(".")[0] in ("pygls", "lsprotocol") for n in names), py


def test_cancel_stops_a_build_in_progress(tmp_path: Path) -> None:
    import threading

    import pytest

    from slm_lsp.workspace.index import IndexCancelled

    write_tree(tmp_path / "ws", {f"pkg/m{i}.py": f"def f{i}():\n    return {i}\n" for i in range(120)})
    for jobs in (1, 2):  # in this process, and in worker processes
        index = make_index(tmp_path / "ws", tmp_path / f"cache{jobs}", jobs=jobs, watch=False)
        seen: list[int] = []

        def progress(done: int, total: int, index=index, seen=seen) -> None:  # type: ignore[no-untyped-def]
            seen.append(done)
            if done > 0:
                index.cancel()

        with pytest.raises(IndexCancelled):
            index.load_or_build(progress)
        assert seen and seen[-1] < 120  # it stopped before the end
        assert not (tmp_path / f"cache{jobs}").exists() or not any((tmp_path / f"cache{jobs}").iterdir())
    # a thread in the server: the pool must not be left waiting after cancel
    index = make_index(tmp_path / "ws", tmp_path / "cache3", jobs=2, watch=False)
    index.cancel()
    errors: list[BaseException] = []
    t = threading.Thread(target=lambda: _run(index, errors))
    t.start()
    t.join(10)
    assert not t.is_alive() and len(errors) == 1 and isinstance(errors[0], IndexCancelled)


def _run(index, errors) -> None:  # type: ignore[no-untyped-def]
    try:
        index.load_or_build()
    except BaseException as exc:  # noqa: BLE001 - the test inspects it
        errors.append(exc)
