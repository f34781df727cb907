"""FIM example construction: character-level spans, PSM and SPM layouts, pieces that fit a training window."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

pytest.importorskip("numpy")

from slm_lsp_train.config import (
    EOS_TOKEN,
    FILE_SEP,
    FIM_MIDDLE,
    FIM_PREFIX,
    FIM_SUFFIX,
    FIMConfig,
    special_id,
)  # noqa: E402
from slm_lsp_train.fim import (  # noqa: E402
    FIMSplit,
    document_plan,
    encode_documents,
    fim_pieces,
    psm_plan,
    random_split,
    realise,
    spm_plan,
)

PRE, MID, SUF, EOS, SEP = (
    special_id(t) for t in (FIM_PREFIX, FIM_MIDDLE, FIM_SUFFIX, EOS_TOKEN, FILE_SEP)
)
TEXT = "".join(f"line {i}: value = compute({i})\n" for i in range(300))


def encode(text: str) -> list[int]:
    return [100 + b for b in text.encode()]


def decode(ids: list[int]) -> str:
    return bytes(i - 100 for i in ids if i >= 100).decode()


def test_random_split_covers_text_at_character_positions() -> None:
    rng = random.Random(0)
    cuts = [random_split("abcdefghij", rng) for _ in range(200)]
    assert all(s.prefix + s.middle + s.suffix == "abcdefghij" for s in cuts)
    assert any(len(s.middle) not in (0, 10) for s in cuts)
    assert {len(s.prefix) for s in cuts} >= {0, 3, 5, 7}


def test_psm_and_spm_layouts() -> None:
    split = FIMSplit("def f():\n    ", "return 1", "\n")
    psm = realise(psm_plan(split), encode)
    assert psm[0] == PRE and psm.count(SUF) == 1 and psm.count(MID) == 1
    assert psm.index(PRE) < psm.index(SUF) < psm.index(MID)
    assert decode(psm[psm.index(MID) + 1 :]) == "return 1"
    spm = realise(spm_plan(split), encode)
    assert spm[:2] == [PRE, SUF]
    assert decode(spm[2 : spm.index(MID)]) == "\n"
    assert decode(spm[spm.index(MID) + 1 :]) == "def f():\n    return 1"


def test_pieces_fit_the_window_and_keep_the_text() -> None:
    cfg = FIMConfig(max_fim_chars=500, min_fim_chars=100)
    pieces = fim_pieces(TEXT, random.Random(1), cfg)
    assert "".join(pieces) == TEXT
    assert all(len(p) <= 500 for p in pieces)
    assert all(p.endswith("\n") for p in pieces)


def test_both_orders_and_plain_documents_occur() -> None:
    cfg = FIMConfig(max_fim_chars=400)
    rng = random.Random(3)
    kinds = set()
    for _ in range(60):
        plan, kind = document_plan(TEXT, rng, cfg, "pkg/mod.py")
        kinds.add(kind)
        ids = realise(plan, encode)
        assert ids[-1] == EOS
        if kind == "plain":
            assert ids[0] == SEP and decode(ids) == "pkg/mod.py\n" + TEXT
        else:
            assert ids.count(PRE) == ids.count(MID) == ids.count(SUF) == ids.count(EOS)
    assert {"plain", "fim"} <= kinds or {"plain", "psm", "spm"} <= kinds


def test_fim_examples_rebuild_the_document() -> None:
    cfg = FIMConfig(fim_rate=1.0, spm_rate=0.0, header_rate=0.0, max_fim_chars=300)
    plan, _ = document_plan(TEXT, random.Random(5), cfg)
    ids = realise(plan, encode)
    rebuilt = ""
    for ex in _split_on(ids, EOS):
        p = decode(ex[1 : ex.index(SUF)])
        s = decode(ex[ex.index(SUF) + 1 : ex.index(MID)])
        m = decode(ex[ex.index(MID) + 1 :])
        rebuilt += p + m + s
    assert rebuilt == TEXT


def _split_on(ids: list[int], sep: int) -> list[list[int]]:
    out, cur = [], []
    for i in ids:
        if i == sep:
            out.append(cur)
            cur = []
        else:
            cur.append(i)
    return out


def test_fim_rate_zero_gives_plain_stream() -> None:
    cfg = replace(FIMConfig(), fim_rate=0.0)
    ids = encode_documents(
        ["a = 1\n", "b = 2\n"], ["a.py", "b.py"], lambda xs: [encode(x) for x in xs], cfg
    )
    assert PRE not in ids.tolist()
    assert ids.tolist().count(EOS) == 2


def test_line_spans_are_whole_lines_after_indentation() -> None:
    from slm_lsp_train.fim import line_split

    text = "def f(x):\n    y = x + 1\n    return y\n\nprint(f(2))\n"
    rng = random.Random(7)
    for _ in range(100):
        s = line_split(text, rng)
        assert s.prefix + s.middle + s.suffix == text
        assert s.prefix == "" or s.prefix.endswith(("\n", " "))
        assert s.suffix == "" or s.suffix.startswith("\n")
        assert not s.middle.startswith((" ", "\t"))


def test_line_tail_spans_start_inside_a_line_and_end_at_a_line_end() -> None:
    from slm_lsp_train.fim import line_tail_split

    text = "def f(x):\n    y = x + 1\n    return y\n\nprint(f(2))\n"
    rng = random.Random(3)
    mid_line = 0
    for _ in range(100):
        s = line_tail_split(text, rng)
        assert s.prefix + s.middle + s.suffix == text
        assert s.suffix == "" or s.suffix.startswith("\n")
        line_start = s.prefix.rfind("\n") + 1
        mid_line += bool(s.prefix[line_start:].strip())
    assert mid_line > 50  # most holes begin after code already typed on the line


def test_line_tail_rate_routes_line_spans() -> None:
    text = "".join(f"value_{i} = compute({i}, scale=2)\n" for i in range(60))
    cfg = replace(FIMConfig(), fim_rate=1.0, line_span_rate=1.0, line_tail_rate=1.0, spm_rate=0.0)
    plan, _ = document_plan(text, random.Random(0), cfg)
    prefixes = [
        plan[i + 1] for i, x in enumerate(plan) if x == PRE and isinstance(plan[i + 1], str)
    ]
    assert prefixes
    assert all(p and not p.endswith("\n") for p in prefixes)


def test_loss_on_middle_marks_fim_context_and_keeps_plain_documents() -> None:
    from slm_lsp_train.fim import NO_LOSS

    cfg = replace(FIMConfig(), fim_rate=1.0, spm_rate=0.0, header_rate=0.0, loss_on="middle")
    ids = encode_documents([TEXT], ["a.py"], lambda xs: [encode(x) for x in xs], cfg).tolist()
    flagged = [bool(i & NO_LOSS) for i in ids]
    plain = [i & (NO_LOSS - 1) for i in ids]
    assert plain.count(PRE) > 1  # several FIM pieces
    for k, tok in enumerate(plain):
        if tok == PRE:
            assert flagged[k] and flagged[k + 1]  # the prefix is context
        if tok == MID:
            assert flagged[k] and not flagged[k + 1] or plain[k + 1] == EOS
        if tok == EOS:
            assert not flagged[k]  # ending the middle is learned
    # the same stream with loss on everything carries no flags
    everything = encode_documents(
        [TEXT], ["a.py"], lambda xs: [encode(x) for x in xs], replace(cfg, loss_on="all")
    )
    assert everything.max() < NO_LOSS and everything.tolist() == plain
    # plain documents are trained on in full
    doc = encode_documents(
        [TEXT], ["a.py"], lambda xs: [encode(x) for x in xs], replace(cfg, fim_rate=0.0)
    )
    assert doc.max() < NO_LOSS
    with pytest.raises(ValueError):
        encode_documents(
            [TEXT], ["a.py"], lambda xs: [encode(x) for x in xs], replace(cfg, loss_on="some")
        )
