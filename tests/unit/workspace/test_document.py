"""Incremental reparse of open documents: after any edits the tree equals a full parse of the text."""

from __future__ import annotations

import random

import pytest

from slm_lsp import languages
from slm_lsp.workspace.document import DocumentParser, ParsedDocument

SOURCE = '''import os

def greet(name: str) -> str:
    """Say hello — ünïcödé 😀."""
    return f"hello {name}"

class Greeter:
    def __init__(self):
        self.names = ["José", "Zoë"]
'''


def full_parse(text: str, language: str) -> str:
    return str(languages.parser(language).parse(text.encode()).root_node)


def test_single_edit_matches_full_parse() -> None:
    doc = ParsedDocument(SOURCE, "python")
    doc.apply_changes([(3, 4, 3, 10, "result =")])
    assert "result =" in doc.text and str(doc.tree.root_node) == full_parse(doc.text, "python")


def test_edit_after_multibyte_characters() -> None:
    doc = ParsedDocument(SOURCE, "python")
    line = doc.text.splitlines()[3]
    col = line.index("😀") + 1  # code points: the emoji is one column
    doc.apply_changes([(3, col, 3, col, " added")])
    assert doc.text.splitlines()[3].endswith('😀 added."""')
    assert str(doc.tree.root_node) == full_parse(doc.text, "python")
    line8 = doc.text.splitlines()[8]
    node = doc.node_at(8, line8.index("Zoë") + 1)
    assert node.text.decode() == "Zoë"
    assert doc.source == doc.text.encode()


@pytest.mark.parametrize("seed", range(8))
def test_random_edits_match_full_parse(seed: int) -> None:
    rng = random.Random(seed)
    doc = ParsedDocument(SOURCE, "python")
    pieces = [
        "x",
        "(",
        ")",
        ":",
        "\n    ",
        "def f():\n    pass\n",
        "😀",
        "é",
        '"',
        "",
        "class",
        " ",
    ]
    for _ in range(40):
        lines = doc.text.split("\n")
        sl = rng.randrange(len(lines))
        sc = rng.randrange(len(lines[sl]) + 1)
        el = min(len(lines) - 1, sl + rng.choice([0, 0, 1]))
        ec = (
            rng.randrange(len(lines[el]) + 1) if el != sl else rng.randrange(sc, len(lines[sl]) + 1)
        )
        doc.apply_changes([(sl, sc, el, ec, rng.choice(pieces))])
        assert doc.source == doc.text.encode()
        assert str(doc.tree.root_node) == full_parse(doc.text, "python")


def test_batch_of_changes_and_full_replace() -> None:
    doc = ParsedDocument("a = 1\n", "python")
    doc.apply_changes([(0, 4, 0, 5, "2"), (1, 0, 1, 0, "b = 3\n")], version=2)
    assert doc.text == "a = 2\nb = 3\n" and doc.version == 2
    assert str(doc.tree.root_node) == full_parse(doc.text, "python")
    doc.apply_changes(["def f(): pass\n"])
    assert str(doc.tree.root_node) == full_parse("def f(): pass\n", "python")


def test_positions_past_the_end_are_clamped() -> None:
    doc = ParsedDocument("x = 1\n", "python")
    doc.apply_changes([(0, 99, 7, 0, "  # end")])
    assert doc.text == "x = 1  # end"
    assert str(doc.tree.root_node) == full_parse(doc.text, "python")


def test_other_language_and_crlf() -> None:
    text = "function a() {\r\n  return 1;\r\n}\r\n"
    doc = ParsedDocument(text, "javascript")
    doc.apply_changes([(1, 9, 1, 10, "42")])
    assert doc.text == "function a() {\r\n  return 42;\r\n}\r\n"
    assert str(doc.tree.root_node) == full_parse(doc.text, "javascript")


def test_document_parser_store() -> None:
    seen = []
    store = DocumentParser(on_change=lambda key, d: seen.append((key, d.version)))
    assert store.open("file:///x.txt", "hello", "plaintext") is None
    store.open("file:///a.py", "x = 1\n", "python", version=1)
    store.change("file:///a.py", [(0, 4, 0, 5, "2")], version=2)
    assert store.get("file:///a.py").text == "x = 2\n"  # type: ignore[union-attr]
    assert store.change("file:///missing.py", []) is None
    store.close("file:///a.py")
    assert store.get("file:///a.py") is None
    assert seen == [("file:///a.py", 1), ("file:///a.py", 2)]


class _CountingParser:
    """Delegates to the real tree-sitter parser and counts the parses."""

    def __init__(self, real: object) -> None:
        self.real, self.calls = real, 0

    def parse(self, *args: object) -> object:
        self.calls += 1
        return self.real.parse(*args)  # type: ignore[attr-defined]


def test_a_burst_of_edits_is_reparsed_once_when_the_tree_is_wanted() -> None:
    """Keys arrive faster than an error-laden reparse takes on the editor's thread: edits go into
    the old tree at once, and one reparse happens when a tree is next read."""
    doc = ParsedDocument(SOURCE, "python")
    counter = _CountingParser(doc._parser)
    doc._parser = counter  # type: ignore[assignment]
    text = SOURCE
    for i in range(30):
        doc.apply_changes([(1, 0, 1, 0, f"x{i} = (")], version=i + 2)
        text = text.split("\n", 1)[0] + "\n" + f"x{i} = (" + text.split("\n", 1)[1]
    assert counter.calls == 0 and doc.text == text
    tree = doc.tree
    assert counter.calls == 1 and doc.tree is tree and counter.calls == 1
    assert str(tree.root_node) == full_parse(text, "python")
