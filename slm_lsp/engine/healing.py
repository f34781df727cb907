"""Token healing's lookup: which vocabulary tokens may come next while a backed-off token is respelt.

A prompt that ends in text ends at a token seam the model rarely saw in training (a lone space where
training text had ``' ='``; typed indentation as one token where training text splits it before the
next word). The engine backs the prompt off its last tokens and lets the model respell them: the next
token must either start with the unspelt bytes (it finishes them) or be a non-empty start of them
(more tokens follow). This module answers that question for a whole vocabulary in O(log V + length):
tokens that start with a text are one run of the vocabulary sorted by bytes, and the starts of a text
are at most as many as its bytes.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import numpy as np


class VocabPieces:
    """The vocabulary as bytes, sorted, for prefix queries; control tokens (empty pieces) never match."""

    def __init__(self, pieces: Sequence[bytes]) -> None:
        order = sorted((p, i) for i, p in enumerate(pieces) if p)
        self._sorted = [p for p, _ in order]
        self._ids = np.fromiter((i for _, i in order), dtype=np.intc, count=len(order))
        self._by_piece: dict[bytes, list[int]] = {}
        for p, i in order:
            self._by_piece.setdefault(p, []).append(i)

    def allowed(self, remaining: bytes) -> np.ndarray:
        """Ids of the tokens whose bytes start with ``remaining`` or are a non-empty start of it."""
        lo = bisect.bisect_left(self._sorted, remaining)
        above = _successor(remaining)
        hi = len(self._sorted) if above is None else bisect.bisect_left(self._sorted, above)
        starts = [
            i for k in range(1, len(remaining)) for i in self._by_piece.get(remaining[:k], ())
        ]
        return np.concatenate([self._ids[lo:hi], np.asarray(starts, dtype=np.intc)])


def _successor(prefix: bytes) -> bytes | None:
    """The smallest byte string above every string that starts with ``prefix`` (None: there is none)."""
    head = prefix.rstrip(b"\xff")
    if not head:
        return None
    return head[:-1] + bytes([head[-1] + 1])
