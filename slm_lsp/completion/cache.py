"""The typing-through cache: the rest of a shown suggestion, served without the model."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import TYPE_CHECKING

from slm_lsp.text import TextIndex

if TYPE_CHECKING:  # pragma: no cover
    from slm_lsp.completion.document import Document


class CompletionCache:
    """Remembers suggestions so that typing the characters of a shown suggestion serves the rest.

    Keyed by document, the text before the cursor's line and the text after the cursor; an entry
    matches while the line typed so far extends the entry's line prefix along its suggestion.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[str, str, str, str], list[str]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def _keys(doc: Document, line: int, col: int) -> tuple[str, str, str]:
        idx = TextIndex(doc.text)
        start = idx.offset(line, 0)
        cur = idx.offset(line, col)
        before = hashlib.blake2b(
            doc.text[:start].encode("utf-8", "surrogatepass"), digest_size=12
        ).hexdigest()
        after = hashlib.blake2b(
            doc.text[cur:].encode("utf-8", "surrogatepass"), digest_size=12
        ).hexdigest()
        return before, after, doc.text[start:cur]

    def put(self, doc: Document, line: int, col: int, suggestions: list[str]) -> None:
        if self.size <= 0 or not suggestions:
            return
        before, after, line_prefix = self._keys(doc, line, col)
        key = (doc.uri, before, after, line_prefix)
        self._entries[key] = suggestions
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def get(self, doc: Document, line: int, col: int) -> list[str] | None:
        if self.size <= 0:
            return None
        before, after, line_prefix = self._keys(doc, line, col)
        for (uri, b, a, lp), suggestions in reversed(self._entries.items()):
            if uri != doc.uri or b != before or a != after or not line_prefix.startswith(lp):
                continue
            typed = line_prefix[len(lp) :]
            rest = [
                s[len(typed) :] for s in suggestions if s.startswith(typed) and len(s) > len(typed)
            ]
            if rest:
                self.hits += 1
                return rest
        self.misses += 1
        return None

    def clear(self, uri: str | None = None) -> None:
        if uri is None:
            self._entries.clear()
        else:
            for key in [k for k in self._entries if k[0] == uri]:
                del self._entries[key]
