"""File-system events keep the index fresh: create, edit, rename, delete, folders (polled, no fixed sleeps)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .helpers import make_index, wait_for, write_tree


@pytest.fixture
def watched(tmp_path: Path):  # type: ignore[no-untyped-def]
    root = tmp_path / "ws"
    write_tree(root, {"a.py": "def alpha():\n    pass\n"})
    index = make_index(root, tmp_path / "cache", watch_debounce_ms=20)
    index.load_or_build()
    index.start_watching()
    yield root, index
    index.stop()


def names(index, query: str) -> set[str]:  # type: ignore[no-untyped-def]
    return {s.name for s in index.search(query)}


def test_create_edit_rename_delete(watched) -> None:  # type: ignore[no-untyped-def]
    root, index = watched
    (root / "b.py").write_text("def bravo_func():\n    pass\n")
    assert wait_for(lambda: "bravo_func" in names(index, "bravo"))
    (root / "b.py").write_text("def bravo_renamed():\n    pass\n")
    assert wait_for(lambda: names(index, "bravo") == {"bravo_renamed"})
    (root / "b.py").rename(root / "c.py")
    assert wait_for(
        lambda: [s.path for s in index.definitions("bravo_renamed")] == [str(root / "c.py")]
    )
    (root / "c.py").unlink()
    assert wait_for(lambda: index.definitions("bravo_renamed") == [])
    assert index.definitions("alpha")  # untouched files stay


def test_folders_and_ignored_files(watched) -> None:  # type: ignore[no-untyped-def]
    root, index = watched
    write_tree(
        root,
        {
            "pkg/sub/m.py": "class Moved:\n    pass\n",
            ".env": "SECRET_KEY=abc\n",
            "node_modules/x.js": "function nm() {}\n",
        },
    )
    assert wait_for(lambda: bool(index.definitions("Moved")))
    shutil.move(str(root / "pkg"), str(root / "pkg2"))
    assert wait_for(
        lambda: (
            [s.path for s in index.definitions("Moved")] == [str(root / "pkg2" / "sub" / "m.py")]
        )
    )
    shutil.rmtree(root / "pkg2")
    assert wait_for(lambda: index.definitions("Moved") == [])
    assert index.definitions("nm") == [] and ".env" not in index.keys()


def test_stop_saves_the_cache(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    write_tree(root, {"a.py": "def alpha():\n    pass\n"})
    index = make_index(root, tmp_path / "cache", watch_debounce_ms=10)
    index.load_or_build()
    index.start_watching()
    (root / "z.py").write_text("def zulu():\n    pass\n")
    assert wait_for(lambda: bool(index.definitions("zulu")))
    index.stop()
    again = make_index(root, tmp_path / "cache")
    stats = again.load_or_build()
    assert stats.from_cache and stats.parsed == 0 and again.definitions("zulu")


def test_gitignore_changes_are_followed(watched) -> None:  # type: ignore[no-untyped-def]
    root, index = watched
    write_tree(root, {"gen/out.py": "def generated_thing():\n    pass\n"})
    assert wait_for(lambda: bool(index.definitions("generated_thing")))
    (root / ".gitignore").write_text("gen/\n")
    assert wait_for(lambda: index.definitions("generated_thing") == [])
    assert index.definitions("alpha")  # files the rule does not name stay
    (root / ".gitignore").write_text("# nothing ignored\n")
    assert wait_for(lambda: bool(index.definitions("generated_thing")))
