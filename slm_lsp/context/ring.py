"""Recently edited and viewed chunks: a ring buffer with similarity-based eviction (as llama.vim does).

A chunk is a few dozen lines around a place the user edited or looked at. When a new chunk
arrives, every chunk whose line set is too similar to it (Jaccard similarity of the sets of
stripped, non-empty lines above ``EVICT_SIMILARITY``) is evicted first, so moving the cursor
inside one function does not fill the ring with near copies; then the oldest chunk goes when the
ring is full.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from dataclasses import dataclass, field

#: Chunks at least this similar (Jaccard of line sets) to a new chunk are evicted by it.
EVICT_SIMILARITY = 0.9

_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")


def line_set(text: str) -> frozenset[str]:
    """The distinct stripped, non-empty lines of ``text``."""
    return frozenset(s for s in (line.strip() for line in text.splitlines()) if s)


def token_set(text: str) -> frozenset[str]:
    """Identifier-like words of ``text`` (3+ characters), for similarity between code fragments."""
    return frozenset(_TOKEN.findall(text))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


@dataclass
class Chunk:
    """Lines ``start_line``.. of ``path`` as they were when noted."""

    path: str
    start_line: int
    text: str
    reason: str
    lines: frozenset[str] = field(default_factory=frozenset)
    tokens: frozenset[str] = field(default_factory=frozenset)
    seq: int = 0  #: when it was noted (higher is more recent)

    @property
    def end_line(self) -> int:
        return self.start_line + self.text.count("\n")


class ChunkRing:
    """The last ``capacity`` distinct chunks; thread-safe."""

    def __init__(self, capacity: int, chunk_lines: int) -> None:
        self.capacity = capacity
        self.chunk_lines = chunk_lines
        self._chunks: deque[Chunk] = deque()
        self._seq = 0
        self._lock = threading.Lock()

    def cut(self, text: str, line: int) -> tuple[int, str]:
        """The chunk of ``chunk_lines`` lines around ``line`` of ``text``: (first line, text)."""
        lines = text.split("\n")
        half = self.chunk_lines // 2
        start = max(0, min(line - half, len(lines) - self.chunk_lines))
        return start, "\n".join(lines[start : start + self.chunk_lines])

    def add(self, path: str, text: str, line: int, reason: str) -> Chunk | None:
        """Note the chunk around ``line``; return it (None when empty or the ring has no room at all)."""
        if self.capacity <= 0:
            return None
        start, body = self.cut(text, line)
        lines = line_set(body)
        if not lines:
            return None
        with self._lock:
            self._seq += 1
            chunk = Chunk(path, start, body, reason, lines, token_set(body), self._seq)
            kept = deque(c for c in self._chunks if jaccard(c.lines, lines) < EVICT_SIMILARITY)
            kept.append(chunk)
            while len(kept) > self.capacity:
                kept.popleft()
            self._chunks = kept
        return chunk

    def chunks(self) -> list[Chunk]:
        """The chunks, oldest first."""
        with self._lock:
            return list(self._chunks)

    def __len__(self) -> int:
        return len(self._chunks)
