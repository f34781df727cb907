"""Positions and file text inside slm-lsp: line/column ↔ offset, decoding, binary detection.

Inside slm-lsp a position is ``(line, column)`` with both 0-based and the column counted in Unicode
code points (a Python ``str`` index into the line). LSP clients count columns in UTF-16 code units
by default (or UTF-8 / UTF-32 when negotiated); the LSP layer converts at the boundary with pygls's
position codec (``SlmServer.to_server_position`` / ``to_client_range``), nowhere else.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass


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
