"""Open documents kept parsed while they are edited: text + tree-sitter tree, updated incrementally.

Edits arrive as LSP-style ranges in code points (``(start_line, start_col, end_line, end_col,
new_text)``, 0-based; the LSP layer converts client units before this point). Each edit is
applied to the text and, in UTF-8 byte offsets and byte columns, to the tree with ``Tree.edit``;
the tree is reparsed with the old tree when it is next wanted, so unchanged parts are reused and a
burst of edits costs one reparse. The result is
the same tree a full parse of the new text gives (tested), at a fraction of the cost.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from slm_lsp import languages
from slm_lsp.text import TextIndex

if TYPE_CHECKING:  # pragma: no cover
    import tree_sitter

#: One edit: (start_line, start_col, end_line, end_col, new_text) in code points; a bare ``str`` replaces the whole text.
TextChange = tuple[int, int, int, int, str]


def _byte_len(s: str) -> int:
    return len(s) if s.isascii() else len(s.encode("utf-8", "surrogatepass"))


class ParsedDocument:
    """One document's text and syntax tree, kept in step with incremental edits."""

    def __init__(self, text: str, language: str, version: int = 0) -> None:
        self.language = language
        self.version = version
        self._parser = languages.parser(language)
        self._lock = (
            threading.RLock()
        )  #: edits and the deferred reparse (any thread may read ``tree``)
        self._set_text(text)
        self._tree: tree_sitter.Tree = self._parser.parse(self.source)
        self._edited = False  #: ``_tree`` holds edits not reparsed yet

    @property
    def tree(self) -> tree_sitter.Tree:
        """The syntax tree of the current text. Edits are applied to the old tree at once and
        reparsed here, when a tree is next wanted: a burst of keys costs one reparse, not one per
        key on the editor's thread (random edits full of syntax errors cost milliseconds each)."""
        with self._lock:
            if self._edited:
                self._tree = self._parser.parse(self.source, self._tree)
                self._edited = False
            return self._tree

    @tree.setter
    def tree(self, tree: tree_sitter.Tree) -> None:
        with self._lock:
            self._tree, self._edited = tree, False

    def _set_text(self, text: str) -> None:
        self.text = text
        self.source = text.encode("utf-8", "surrogatepass")
        self._index: TextIndex | None = None

    @property
    def index(self) -> TextIndex:
        """Line starts of the current text (built lazily after each edit)."""
        if self._index is None:
            self._index = TextIndex(self.text)
        return self._index

    def byte_offset(self, line: int, col: int) -> int:
        """(line, code-point column) → byte offset in ``source`` (clamped to the document)."""
        off = self.index.offset(line, col)
        return off if self.text.isascii() else _byte_len(self.text[:off])

    def point(self, line: int, col: int) -> tuple[int, int]:
        """(line, code-point column) → tree-sitter point (row, byte column), clamped."""
        off = self.index.offset(line, col)
        line, col = self.index.position(off)
        return line, _byte_len(self.text[off - col : off])

    def apply_change(
        self, start_line: int, start_col: int, end_line: int, end_col: int, new_text: str
    ) -> None:
        """Apply one edit to the text and the tree (reparsed when ``tree`` is next read)."""
        with self._lock:
            self._apply_change(start_line, start_col, end_line, end_col, new_text)

    def _apply_change(
        self, start_line: int, start_col: int, end_line: int, end_col: int, new_text: str
    ) -> None:
        idx = self.index
        start_off = idx.offset(start_line, start_col)
        end_off = max(start_off, idx.offset(end_line, end_col))
        srow, scol = idx.position(start_off)
        erow, ecol = idx.position(end_off)
        ascii_text = self.text.isascii()
        start_byte = start_off if ascii_text else _byte_len(self.text[:start_off])
        end_byte = start_byte + _byte_len(self.text[start_off:end_off])
        start_point = (srow, _byte_len(self.text[start_off - scol : start_off]))
        old_end_point = (erow, _byte_len(self.text[end_off - ecol : end_off]))
        new_bytes = new_text.encode("utf-8", "surrogatepass")
        new_end_byte = start_byte + len(new_bytes)
        nl = new_text.count("\n")
        if nl:
            new_end_point = (srow + nl, len(new_bytes) - new_bytes.rfind(b"\n") - 1)
        else:
            new_end_point = (srow, start_point[1] + len(new_bytes))
        self._tree.edit(
            start_byte, end_byte, new_end_byte, start_point, old_end_point, new_end_point
        )
        self.text = self.text[:start_off] + new_text + self.text[end_off:]
        self.source = self.source[:start_byte] + new_bytes + self.source[end_byte:]
        self._index = None
        self._edited = True

    def reparse(self) -> None:
        """Reparse after edits, reusing the edited old tree (now; ``tree`` does it when wanted)."""
        with self._lock:
            self._edited = True
        _ = self.tree

    def apply_changes(
        self, changes: Iterable[TextChange | str], version: int | None = None
    ) -> None:
        """Apply LSP content changes in order (ranged ones incrementally; a full text replaces all), then reparse."""
        with self._lock:
            full = False
            for change in changes:
                if isinstance(change, str):
                    self._set_text(change)
                    full = True
                else:
                    self.apply_change(*change)
            if full:
                self._tree = self._parser.parse(self.source)
                self._edited = False
            else:
                self._edited = True  # reparsed when a tree is next wanted (``tree``)
            if version is not None:
                self.version = version

    def node_at(self, line: int, col: int) -> tree_sitter.Node:
        """The smallest named node at a position."""
        b = self.byte_offset(line, col)
        return self.tree.root_node.named_descendant_for_byte_range(b, b) or self.tree.root_node


class DocumentParser:
    """The parsed open documents of a session, by URI or path; thread-safe.

    ``on_change(key, document)`` runs after each open/change (the server can feed the index with
    ``WorkspaceIndex.update_document``, debounced as it sees fit).
    """

    def __init__(self, on_change: Callable[[str, ParsedDocument], None] | None = None) -> None:
        self._docs: dict[str, ParsedDocument] = {}
        self._lock = threading.Lock()
        self._on_change = on_change

    def open(self, key: str, text: str, language: str, version: int = 0) -> ParsedDocument | None:
        """Parse a newly opened document; None when the language has no grammar."""
        if languages.get(language) is None:
            return None
        doc = ParsedDocument(text, language, version)
        with self._lock:
            self._docs[key] = doc
        if self._on_change:
            self._on_change(key, doc)
        return doc

    def change(
        self, key: str, changes: Iterable[TextChange | str], version: int | None = None
    ) -> ParsedDocument | None:
        """Apply edits to an open document; None when it is not open."""
        with self._lock:
            doc = self._docs.get(key)
            if doc is None:
                return None
            doc.apply_changes(changes, version)
        if self._on_change:
            self._on_change(key, doc)
        return doc

    def get(self, key: str) -> ParsedDocument | None:
        with self._lock:
            return self._docs.get(key)

    def close(self, key: str) -> None:
        with self._lock:
            self._docs.pop(key, None)
