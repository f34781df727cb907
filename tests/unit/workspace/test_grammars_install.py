"""The tree-sitter queries ship inside the package and their absence is loud, never an empty index."""

from __future__ import annotations

import fnmatch
import json
import subprocess
import sys
from pathlib import Path

import pytest

from slm_lsp import languages

ROOT = Path(__file__).resolve().parents[3]


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


def test_the_build_ships_every_query_file() -> None:
    """setup.py maps grammars/ onto slm_lsp.grammars and lists every folder of .scm files.

    setup.py runs in a fresh interpreter: setuptools refuses to import in a process where another
    test already imported the standard library's distutils.
    """
    probe = (
        "import json, runpy, setuptools\n"
        "seen = {}\n"
        "setuptools.setup = lambda **kw: seen.update(kw)\n"
        f"runpy.run_path({str(ROOT / 'setup.py')!r})\n"
        "print(json.dumps({k: seen[k] for k in ('package_dir', 'packages', 'package_data')}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    seen = json.loads(out)
    assert seen["package_dir"] == {"slm_lsp.grammars": "grammars"}
    files = list((ROOT / "grammars").rglob("*.scm"))
    assert len(files) >= 36
    for f in files:
        folder = f.parent.relative_to(ROOT / "grammars").parts
        package = ".".join(("slm_lsp", "grammars", *folder))
        assert package in seen["packages"], f
        assert any(fnmatch.fnmatch(f.name, pat) for pat in seen["package_data"][package]), f
    # pyproject.toml's package-data table replaces setup.py's in the build: it must name them too
    import tomllib

    table = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    package_data = table["tool"]["setuptools"]["package-data"]
    assert "*.scm" in package_data.get("*", []), "pyproject.toml must ship *.scm as package data"


def test_every_language_has_its_query_folder() -> None:
    for spec in languages.LANGUAGES:
        assert languages.query_path(spec.name, "symbols").is_file(), spec.name
