"""Positions and documents: code-point offsets inside, client units (UTF-16/8/32) converted only here.

Inside slm-lsp a position is ``(line, column)`` with both 0-based and the column counted in Unicode
code points (a Python ``str`` index into the line). LSP clients count columns in UTF-16 code units
by default (or UTF-8 / UTF-32 when negotiated); ``Encoding`` converts at the boundary.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from enum import Enum


class Encoding(str, Enum):
    """The position encodings of LSP 3.17."""

    UTF8 = "utf-8"
    UTF16 = "utf-16"
    UTF32 = "utf-32"


def _unit_len(ch: str, enc: Encoding) -> int:
    o = ord(ch)
    if enc is Encoding.UTF32:
        return 1
    if enc is Encoding.UTF16:
        return 2 if o > 0xFFFF else 1
    return 1 if o < 0x80 else 2 if o < 0x800 else 3 if o < 0x10000 else 4


def to_client_column(line: str, column: int, enc: Encoding) -> int:
    """Code-point column → client units."""
    if enc is Encoding.UTF32:
        return column
    return sum(_unit_len(c, enc) for c in line[:column])


def from_client_column(line: str, units: int, enc: Encoding) -> int:
    """Client-unit column → code-point column, clamped to the line (a column past the end is the end)."""
    if enc is Encoding.UTF32:
        return max(0, min(units, len(line)))
    count = 0
    for i, ch in enumerate(line):
        if count >= units:
            return i
        count += _unit_len(ch, enc)
    return len(line)


def byte_column_to_char(line_bytes: bytes, byte_col: int) -> int:
    """A tree-sitter byte column → code-point column on that line (invalid UTF-8 is replaced)."""
    return len(line_bytes[:byte_col].decode("utf-8", errors="replace"))


@dataclass
class TextIndex:
    """Line starts of a text, for offset ↔ (line, column) conversion in code points."""

    text: str

    def __post_init__(self) -> None:
        starts = [0]
        find = self.text.find
        i = find("\n")
        while i >= 0:
            starts.append(i + 1)
            i = find("\n", i + 1)
        self.line_starts = starts

    @property
    def line_count(self) -> int:
        return len(self.line_starts)

    def line(self, n: int) -> str:
        """Line ``n`` without its line break ('' past the end)."""
        if n < 0 or n >= len(self.line_starts):
            return ""
        start = self.line_starts[n]
        end = self.line_starts[n + 1] - 1 if n + 1 < len(self.line_starts) else len(self.text)
        return self.text[start:end].rstrip("\r")

    def offset(self, line: int, column: int) -> int:
        """(line, column) → offset in the text, clamped to the document."""
        if line < 0:
            return 0
        if line >= len(self.line_starts):
            return len(self.text)
        return self.line_starts[line] + max(0, min(column, len(self.line(line))))

    def position(self, offset: int) -> tuple[int, int]:
        """Offset → (line, column)."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.line_starts, offset) - 1
        return line, offset - self.line_starts[line]

    def in_range(self, line: int, column: int) -> bool:
        """Whether (line, column) lies inside the document (column may equal the line's length)."""
        return 0 <= line < len(self.line_starts) and 0 <= column <= len(self.line(line))


def decode(data: bytes) -> tuple[str, bool]:
    """Decode file bytes as UTF-8; invalid sequences are replaced. Returns (text, was_valid)."""
    try:
        return data.decode("utf-8"), True
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace"), False


def looks_binary(data: bytes, sample: int = 8192) -> bool:
    """A NUL byte in the first ``sample`` bytes marks a binary file (git's rule)."""
    return b"\0" in data[:sample]
