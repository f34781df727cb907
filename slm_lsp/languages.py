"""The language registry: which tree-sitter grammar parses which files, and where its queries live.

Adding a language is one row in ``LANGUAGES`` (its grammar package and how files are recognised)
plus one folder of query files under ``grammars/<name>/``.
"""

from __future__ import annotations

import importlib
import importlib.resources
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from importlib.abc import Traversable

    import tree_sitter

#: The query folder of a source checkout (``grammars/`` beside the package, with its marker module).
SOURCE_GRAMMARS = Path(__file__).resolve().parent.parent / "grammars"
#: The installed package holding the same folder (``setup.py`` maps ``grammars/`` onto it).
GRAMMARS_PACKAGE = "slm_lsp.grammars"


class QueriesMissing(FileNotFoundError):
    """The tree-sitter query files of a language are not installed (a broken installation).

    Never swallowed as a per-file parse failure: the CLI prints it as one line (exit status 2) and
    the server shows it to the user, instead of an index that is silently empty."""


@cache
def grammars_root() -> Traversable:
    """The folder holding ``<language>/*.scm``: ``SLM_LSP_GRAMMARS`` when set, else the checkout's
    ``grammars/`` (so a worktree reads its own queries), else the installed ``slm_lsp.grammars``."""
    override = os.environ.get("SLM_LSP_GRAMMARS")
    if override:
        return Path(override)
    if (SOURCE_GRAMMARS / "__init__.py").is_file() and (
        SOURCE_GRAMMARS.parent / "pyproject.toml"
    ).is_file():
        return SOURCE_GRAMMARS
    try:
        return importlib.resources.files(GRAMMARS_PACKAGE)
    except ModuleNotFoundError:
        raise QueriesMissing(
            f"the tree-sitter queries ({GRAMMARS_PACKAGE}) are not installed: reinstall slm-lsp"
        ) from None


@dataclass(frozen=True)
class LanguageSpec:
    """How one language is recognised and parsed."""

    name: str  #: our name, also the folder under ``grammars/``
    module: str  #: the PyPI grammar package's import name
    function: str  #: the function in ``module`` returning the language pointer
    extensions: tuple[str, ...]  #: file suffixes, lower case, with the dot
    language_ids: tuple[str, ...]  #: LSP ``languageId`` values editors send
    filenames: tuple[str, ...] = ()  #: exact file names (``Makefile``-style)
    line_comment: str = "//"  #: how a one-line comment starts (used to label prompt snippets)
    shebangs: tuple[str, ...] = field(default=())  #: interpreters named on a ``#!`` line
    queries: str = (
        ""  #: folder under ``grammars/`` whose queries this language uses (default: ``name``)
    )


LANGUAGES: tuple[LanguageSpec, ...] = (
    LanguageSpec(
        "python",
        "tree_sitter_python",
        "language",
        (".py", ".pyi", ".pyw"),
        ("python",),
        line_comment="#",
        shebangs=("python", "python3"),
    ),
    LanguageSpec(
        "javascript",
        "tree_sitter_javascript",
        "language",
        (".js", ".mjs", ".cjs", ".jsx"),
        ("javascript", "javascriptreact"),
    ),
    LanguageSpec(
        "typescript",
        "tree_sitter_typescript",
        "language_typescript",
        (".ts", ".mts", ".cts"),
        ("typescript",),
    ),
    # TSX is TypeScript's grammar plus JSX: the TypeScript queries hold for it unchanged.
    LanguageSpec(
        "tsx",
        "tree_sitter_typescript",
        "language_tsx",
        (".tsx",),
        ("typescriptreact",),
        queries="typescript",
    ),
    LanguageSpec("go", "tree_sitter_go", "language", (".go",), ("go",)),
    LanguageSpec("rust", "tree_sitter_rust", "language", (".rs",), ("rust",)),
    LanguageSpec("java", "tree_sitter_java", "language", (".java",), ("java",)),
    LanguageSpec("c", "tree_sitter_c", "language", (".c", ".h"), ("c",)),
    LanguageSpec(
        "cpp",
        "tree_sitter_cpp",
        "language",
        (".cc", ".cpp", ".cxx", ".hpp", ".hh", ".hxx", ".ipp"),
        ("cpp", "c++"),
    ),
    LanguageSpec("c_sharp", "tree_sitter_c_sharp", "language", (".cs",), ("csharp", "c#")),
    LanguageSpec(
        "ruby",
        "tree_sitter_ruby",
        "language",
        (".rb", ".rake", ".gemspec"),
        ("ruby",),
        filenames=("Rakefile", "Gemfile"),
        line_comment="#",
        shebangs=("ruby",),
    ),
    LanguageSpec("php", "tree_sitter_php", "language_php", (".php", ".phtml"), ("php",)),
    LanguageSpec(
        "bash",
        "tree_sitter_bash",
        "language",
        (".sh", ".bash", ".zsh"),
        ("shellscript", "bash", "sh", "zsh"),
        filenames=(".bashrc", ".profile"),
        line_comment="#",
        shebangs=("sh", "bash", "zsh"),
    ),
)

_BY_NAME = {spec.name: spec for spec in LANGUAGES}
_BY_EXT = {ext: spec for spec in LANGUAGES for ext in spec.extensions}
_BY_ID = {lid: spec for spec in LANGUAGES for lid in spec.language_ids}
_BY_FILENAME = {fn: spec for spec in LANGUAGES for fn in spec.filenames}


def get(name: str) -> LanguageSpec | None:
    """The spec for our language name, or None."""
    return _BY_NAME.get(name)


def detect(
    path: str | os.PathLike[str] | None = None,
    language_id: str | None = None,
    first_line: str | None = None,
) -> LanguageSpec | None:
    """Find the language of a file: the editor's ``languageId`` wins, then the file name, then a shebang."""
    if language_id and language_id in _BY_ID:
        return _BY_ID[language_id]
    if path is not None:
        p = Path(path)
        spec = _BY_FILENAME.get(p.name) or _BY_EXT.get(p.suffix.lower())
        if spec is not None:
            return spec
    if first_line and first_line.startswith("#!"):
        words = first_line[2:].replace("/", " ").split()
        for spec in LANGUAGES:
            if any(
                w.rstrip("0123456789.") in spec.shebangs or w in spec.shebangs for w in words[-2:]
            ):
                return spec
    return None


@cache
def ts_language(name: str) -> tree_sitter.Language:
    """The tree-sitter ``Language`` for our language name (loaded once per process)."""
    import tree_sitter

    spec = _BY_NAME[name]
    module = importlib.import_module(spec.module)
    return tree_sitter.Language(getattr(module, spec.function)())


def parser(name: str) -> tree_sitter.Parser:
    """A new parser for the language (parsers are cheap; one per thread or document)."""
    import tree_sitter

    return tree_sitter.Parser(ts_language(name))


def query_path(name: str, query: str) -> Traversable:
    """Path of ``grammars/<language>/<query>.scm`` (may not exist); a language may share another's folder.

    Raises ``QueriesMissing`` when the language's folder itself is absent: every language in
    ``LANGUAGES`` has one, so its absence is a broken installation, not a language without queries.
    """
    spec = _BY_NAME.get(name)
    folder = grammars_root() / ((spec.queries if spec else "") or name)
    if spec is not None and not folder.is_dir():
        raise QueriesMissing(
            f"no tree-sitter queries for {name} (looked in {folder}): reinstall slm-lsp, or point "
            "SLM_LSP_GRAMMARS at a grammars/ folder"
        )
    return folder / f"{query}.scm"


@cache
def load_query(name: str, query: str) -> tree_sitter.Query | None:
    """The compiled query ``grammars/<language>/<query>.scm``, or None when the language has none.

    A language whose whole query folder is missing raises ``QueriesMissing`` (see ``query_path``).
    """
    import tree_sitter

    path = query_path(name, query)
    if not path.is_file():
        return None
    return tree_sitter.Query(ts_language(name), path.read_text(encoding="utf-8"))
