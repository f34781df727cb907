"""The msgpack cache: round trip, invalidation by size/mtime/content, truncated and other-version caches."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import msgpack
import pytest

from slm_lsp.workspace import cache as cache_mod

from .helpers import make_index, write_tree

FILES = {
    "a.py": "def alpha():\n    '''Alpha doc.'''\n",
    "b/b.py": "class Beta:\n    def m(self):\n        pass\n",
    "c.js": "function gamma(x) { return x; }\n",
}


def test_round_trip(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    write_tree(root, FILES)
    first = make_index(root, tmp_path / "cache")
    s1 = first.load_or_build()
    assert not s1.from_cache and s1.files == 3 and s1.parsed == 3
    assert Path(s1.cache_path).is_file() and Path(s1.cache_path).parent == tmp_path / "cache"
    second = make_index(root, tmp_path / "cache")
    s2 = second.load_or_build()
    assert s2.from_cache and s2.parsed == 0 and s2.files == 3 and s2.symbols == s1.symbols
    for key in first.keys():
        assert first.file_symbols(root / key) == second.file_symbols(root / key)
    assert second.definitions("alpha")[0].doc == "Alpha doc."


def test_changed_file_is_reparsed(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    write_tree(root, FILES)
    make_index(root, tmp_path / "cache").load_or_build()
    (root / "a.py").write_text("def alpha2():\n    pass\n")
    os.utime(root / "a.py", ns=(1, 1))
    (root / "new.py").write_text("def delta():\n    pass\n")
    (root / "c.js").unlink()
    index = make_index(root, tmp_path / "cache")
    stats = index.load_or_build()
    assert stats.from_cache and stats.parsed == 2
    assert (
        index.definitions("alpha") == []
        and index.definitions("alpha2")
        and index.definitions("delta")
    )
    assert index.definitions("gamma") == []


def test_cache_keyed_by_root(tmp_path: Path) -> None:
    from slm_lsp.config import IndexSettings

    s = IndexSettings(cache_dir=str(tmp_path / "c"))
    assert cache_mod.cache_path(tmp_path / "one", s) != cache_mod.cache_path(tmp_path / "two", s)


def test_default_cache_dir_is_under_user_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from slm_lsp.config import IndexSettings

    monkeypatch.setenv("SLM_LSP_CACHE", str(tmp_path / "uc"))
    assert cache_mod.cache_path(tmp_path, IndexSettings()).parent == tmp_path / "uc" / "index"


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty", "version", "not-a-map"])
def test_damaged_cache_is_rebuilt(
    tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "ws"
    write_tree(root, FILES)
    stats = make_index(root, tmp_path / "cache").load_or_build()
    path = Path(stats.cache_path)
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(b"\xc1\xff\x00garbage")
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "version":
        obj = msgpack.unpackb(data, raw=False)
        obj["header"]["version"] = cache_mod.FORMAT_VERSION + 1
        path.write_bytes(msgpack.packb(obj, use_bin_type=True))
    else:
        path.write_bytes(msgpack.packb([1, 2, 3]))
    with caplog.at_level(logging.INFO, logger="slm_lsp.workspace.cache"):
        index = make_index(root, tmp_path / "cache")
        again = index.load_or_build()
    assert not again.from_cache and again.files == 3
    assert "rebuilding" in caplog.text
    assert (
        make_index(root, tmp_path / "cache").load_or_build().from_cache
    )  # and the rebuilt cache is good
