"""The tree-sitter queries ship inside the package and their absence is loud, never an empty index."""

from __future__ import annotations

import fnmatch
import subprocess
import sys
from pathlib import Path

import pytest

from slm_lsp import languages

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def empty_grammars(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SLM_LSP_GRAMMARS", str(tmp_path))
    languages.grammars_root.cache_clear()
    languages.load_query.cache_clear()
    yield tmp_path
    monkeypatch.delenv("SLM_LSP_GRAMMARS")
    languages.grammars_root.cache_clear()
    languages.load_query.cache_clear()


def test_a_checkout_reads_its_own_grammars_folder() -> None:
    assert Path(str(languages.grammars_root())) == ROOT / "grammars"


def test_missing_queries_are_an_error_not_an_empty_result(empty_grammars: Path) -> None:
    with pytest.raises(languages.QueriesMissing, match="python"):
        languages.load_query("python", "symbols")


def test_index_command_says_the_queries_are_missing(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("def f():\n    return 1\n")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "slm_lsp",
            "index",
            str(tmp_path),
            "--set",
            f"index.cache_dir={tmp_path / 'c'}",
        ],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "SLM_LSP_GRAMMARS": str(tmp_path / "nowhere")},
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "no tree-sitter queries" in proc.stderr and "Traceback" not in proc.stderr


def test_package_data_covers_every_query_file() -> None:
    """Every .scm under grammars/ matches the package-data patterns of ``slm_lsp.grammars``."""
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = conf["tool"]["setuptools"]["package-data"]["slm_lsp.grammars"]
    files = [
        p.relative_to(ROOT / "grammars").as_posix() for p in (ROOT / "grammars").rglob("*.scm")
    ]
    assert files
    missed = [f for f in files if not any(fnmatch.fnmatch(f, pat) for pat in patterns)]
    assert not missed, missed
    assert "slm_lsp.grammars" in (ROOT / "setup.py").read_text(encoding="utf-8")


def test_every_language_has_its_query_folder() -> None:
    for spec in languages.LANGUAGES:
        assert languages.query_path(spec.name, "symbols").is_file(), spec.name
