"""Shared fixtures for the security engine tests."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from slm_lsp.security import SecurityEngine

FIXTURES = Path(__file__).parent / "fixtures"
_EXPECT = re.compile(r"expect:\s*([A-Z][A-Z0-9]*-[A-Z0-9-]+(?:\s*,\s*[A-Z][A-Z0-9]*-[A-Z0-9-]+)*)")


def fixture_files() -> list[Path]:
    """Fixture sources (hidden folders and config files left out)."""
    return sorted(
        p
        for p in FIXTURES.rglob("*")
        if p.is_file()
        and p.suffix != ".toml"
        and not any(part.startswith(".") for part in p.relative_to(FIXTURES).parts)
    )


def expected_pairs(text: str) -> set[tuple[str, int]]:
    """(rule id, 0-based line) for every ``expect: ID[, ID]`` marker."""
    out: set[tuple[str, int]] = set()
    for n, line in enumerate(text.split("\n")):
        for m in _EXPECT.finditer(line):
            for rid in m.group(1).split(","):
                out.add((rid.strip(), n))
    return out


@pytest.fixture(scope="session")
def engine() -> SecurityEngine:
    return SecurityEngine(profile="audit")
