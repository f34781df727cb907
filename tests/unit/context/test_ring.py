"""The ring buffer of recent chunks: similarity eviction and capacity."""

from __future__ import annotations

from slm_lsp.context.ring import ChunkRing, jaccard, line_set


def test_similar_chunks_evict_each_other() -> None:
    ring = ChunkRing(capacity=4, chunk_lines=10)
    text = "\n".join(f"line {i}" for i in range(100))
    ring.add("a.py", text, 50, "recently viewed")
    ring.add("a.py", text, 50, "recently edited")  # the same chunk again replaces the old one
    assert len(ring) == 1 and ring.chunks()[0].reason == "recently edited"
    ring.add("a.py", text, 51, "recently viewed")  # 9 of 10 lines shared: 9/11 < 0.9, kept
    assert len(ring) == 2


def test_capacity_drops_oldest() -> None:
    ring = ChunkRing(capacity=3, chunk_lines=4)
    for i in range(5):
        ring.add(f"f{i}.py", f"unique {i}\nbody {i}\n", 0, "recently edited")
    assert [c.path for c in ring.chunks()] == ["f2.py", "f3.py", "f4.py"]


def test_cut_near_edges_and_jaccard() -> None:
    ring = ChunkRing(capacity=2, chunk_lines=4)
    assert ring.cut("a\nb\nc\nd\ne\nf", 0) == (0, "a\nb\nc\nd")
    assert ring.cut("a\nb\nc\nd\ne\nf", 5) == (2, "c\nd\ne\nf")
    assert jaccard(line_set("a\nb"), line_set("b\nc")) == 1 / 3
    assert ChunkRing(0, 4).add("x", "y", 0, "r") is None
