"""Every language's symbols.scm against a fixture whose expected symbols sit on exact lines.

``fixtures/symbols/<language>/<file>.expected`` lists ``LINE KIND NAME [CONTAINER]`` (1-based
lines), one symbol a line; the test checks the exact set, so a missing or extra symbol fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from slm_lsp import languages
from slm_lsp.workspace.symbols import KINDS, extract, extract_imports

FIXTURES = Path(__file__).parent / "fixtures" / "symbols"
CASES = sorted(
    p
    for p in FIXTURES.glob("*/*")
    if p.suffix != ".expected" and p.with_name(p.name + ".expected").exists()
)


def _expected(path: Path) -> set[tuple[int, str, str, str]]:
    out = set()
    for line in path.with_name(path.name + ".expected").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split()
        out.add((int(parts[0]), parts[1], parts[2], parts[3] if len(parts) > 3 else ""))
    return out


def test_every_language_has_a_fixture_and_queries() -> None:
    have = {p.parent.name for p in CASES}
    for spec in languages.LANGUAGES:
        assert spec.name in have, f"no symbols fixture for {spec.name}"
        assert languages.load_query(spec.name, "symbols") is not None, spec.name
        assert languages.load_query(spec.name, "references") is not None, spec.name


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_symbols_on_exact_lines(path: Path) -> None:
    language = path.parent.name
    src = path.read_bytes()
    tree = languages.parser(language).parse(src)
    got = {(r[2] + 1, r[1], r[0], r[6]) for r in extract(tree, src, language, 8)}
    want = _expected(path)
    assert sorted(got - want) == [] and sorted(want - got) == [], (
        f"extra: {sorted(got - want)}\nmissing: {sorted(want - got)}"
    )
    assert all(kind in KINDS for _, kind, _, _ in got)


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_signatures_and_imports(path: Path) -> None:
    language = path.parent.name
    src = path.read_bytes()
    tree = languages.parser(language).parse(src)
    records = extract(tree, src, language, 8)
    for name, _kind, start, end, signature, _doc, _container in records:
        assert start <= end
        assert name in signature or _kind in ("field", "variable", "constant"), (name, signature)
        assert "\n" not in signature and len(signature) <= 240
    if languages.load_query(language, "imports") is not None and language not in ("bash",):
        assert extract_imports(tree, src, language), f"{language}: no imports found in the fixture"


def test_python_details() -> None:
    src = (FIXTURES / "python" / "sample.py").read_bytes()
    records = {r[0]: r for r in extract(languages.parser("python").parse(src), src, "python", 8)}
    assert (
        records["parse_config"][4] == "def parse_config(path: str, strict: bool = False) -> dict:"
    )
    assert records["parse_config"][5] == "Parse the configuration file.\nReturns a dict."
    assert records["Base"][5] == "A base class."
    assert records["run"][5] == "Run n times."
    assert records["run"][3] == 27  # end line (0-based) of the method body
    imports = extract_imports(languages.parser("python").parse(src), src, "python")
    assert imports == ["os", "typing"]
