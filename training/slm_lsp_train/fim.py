"""Turns documents into training token sequences: plain next-token documents, or fill-in-the-middle examples in PSM and SPM order with character-level random spans (Bavarian et al. 2022; the StarCoder layout)."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from slm_lsp_train.config import (
    EOS_TOKEN,
    FILE_SEP,
    FIM_MIDDLE,
    FIM_PREFIX,
    FIM_SUFFIX,
    FIMConfig,
    special_id,
)

Encode = Callable[[str], list[int]]
"""Tokenizes ordinary text (special-token spellings in it stay ordinary text)."""
EncodeBatch = Callable[[list[str]], list[list[int]]]
"""Tokenizes many ordinary texts at once."""


@dataclass(frozen=True)
class FIMSplit:
    """A document cut in three at character positions."""

    prefix: str
    middle: str
    suffix: str


NO_LOSS = 1 << 30
"""Set on a token id in an encoded stream when the token is context only (no loss is computed on predicting it); see `FIMConfig.loss_on`."""


def random_split(text: str, rng: random.Random) -> FIMSplit:
    """Cuts a text at two uniformly random character positions (the middle may be empty)."""
    a, b = sorted((rng.randint(0, len(text)), rng.randint(0, len(text))))
    return FIMSplit(text[:a], text[a:b], text[b:])


def line_split(text: str, rng: random.Random) -> FIMSplit:
    """Cuts a text so the middle is one or more whole lines, starting after the first line's indentation and ending before a newline."""
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n" and i + 1 < len(text)]
    if len(starts) < 2:
        return random_split(text, rng)
    i = rng.randrange(len(starts))
    j = min(len(starts) - 1, i + rng.choice((0, 0, 0, 1, 2, 4)))
    line = text[starts[i] :]
    a = starts[i] + len(line) - len(line.lstrip(" \t"))
    end_nl = text.find("\n", starts[j])
    b = len(text) if end_nl < 0 else end_nl
    a = min(a, b)
    return FIMSplit(text[:a], text[a:b], text[b:])


def line_tail_split(text: str, rng: random.Random) -> FIMSplit:
    """Cuts a text where a cursor stops mid-line: the middle runs from a point inside a line's code to the end of that line (or of one to two more), as when the user has typed part of a statement."""
    whole = line_split(text, rng)
    line_end = whole.middle.find("\n")
    first = whole.middle if line_end < 0 else whole.middle[:line_end]
    if len(first) < 2:
        return whole
    cut = rng.randint(1, len(first) - 1)
    return FIMSplit(whole.prefix + whole.middle[:cut], whole.middle[cut:], whole.suffix)


def psm_plan(split: FIMSplit) -> list[str | int]:
    """`<fim_prefix>P<fim_suffix>S<fim_middle>M` — the order the product prompts with."""
    return [
        special_id(FIM_PREFIX),
        split.prefix,
        special_id(FIM_SUFFIX),
        split.suffix,
        special_id(FIM_MIDDLE),
        split.middle,
    ]


def spm_plan(split: FIMSplit) -> list[str | int]:
    """`<fim_prefix><fim_suffix>S<fim_middle>PM` — SPM as StarCoder trains it: prefix and middle run on as one text."""
    return [
        special_id(FIM_PREFIX),
        special_id(FIM_SUFFIX),
        split.suffix,
        special_id(FIM_MIDDLE),
        split.prefix + split.middle,
    ]


def fim_pieces(text: str, rng: random.Random, cfg: FIMConfig) -> list[str]:
    """Cuts a text at line ends into pieces of about min_fim_chars..max_fim_chars characters."""
    pieces: list[str] = []
    start = 0
    while start < len(text):
        target = rng.randint(cfg.min_fim_chars, max(cfg.min_fim_chars, cfg.max_fim_chars))
        end = start + target
        if end >= len(text):
            pieces.append(text[start:])
            break
        nl = text.rfind("\n", start, end)
        end = nl + 1 if nl > start else end
        pieces.append(text[start:end])
        start = end
    return pieces


def document_plan(
    text: str, rng: random.Random, cfg: FIMConfig, path: str | None = None
) -> tuple[list[str | int], str]:
    """One document as texts to tokenize and special ids between them, and its kind ('plain', 'psm', 'spm' or 'fim' when pieces of both).

    A plain document is `<file_sep>path\n` + text + EOS. A FIM document is cut into pieces
    (fim_pieces), each an example ending in EOS, some headed by `<file_sep>path`.
    """
    if rng.random() >= cfg.fim_rate:
        head: list[str | int] = [special_id(FILE_SEP), path + "\n"] if path else []
        return [*head, text, special_id(EOS_TOKEN)], "plain"
    plan: list[str | int] = []
    kinds = set()
    for piece in fim_pieces(text, rng, cfg):
        if path and rng.random() < cfg.header_rate:
            plan += [special_id(FILE_SEP), path + "\n"]
        if rng.random() < cfg.line_span_rate:
            tail = rng.random() < cfg.line_tail_rate
            split = (line_tail_split if tail else line_split)(piece, rng)
        else:
            split = random_split(piece, rng)
        if rng.random() < cfg.spm_rate:
            kinds.add("spm")
            plan += spm_plan(split)
        else:
            kinds.add("psm")
            plan += psm_plan(split)
        plan.append(special_id(EOS_TOKEN))
    return plan, kinds.pop() if len(kinds) == 1 else "fim"


def realise(plan: Sequence[str | int], encode: Encode) -> list[int]:
    """Token ids of a plan: texts tokenized, special ids kept."""
    out: list[int] = []
    for piece in plan:
        if isinstance(piece, int):
            out.append(piece)
        elif piece:
            out.extend(encode(piece))
    return out


def encode_documents(
    texts: Sequence[str],
    paths: Sequence[str | None],
    encode_batch: EncodeBatch,
    cfg: FIMConfig,
    seed_offset: int = 0,
    batch_docs: int = 2000,
) -> np.ndarray:
    """Concatenated token ids (int32) of documents in the given (repository) order; texts are tokenized in batches."""
    if cfg.loss_on not in ("all", "middle"):
        raise ValueError(f"loss_on must be 'all' or 'middle', not {cfg.loss_on!r}")
    pre, mid = special_id(FIM_PREFIX), special_id(FIM_MIDDLE)
    rng = random.Random(cfg.seed * 1_000_003 + seed_offset)
    chunks: list[np.ndarray] = []
    for start in range(0, len(texts), batch_docs):
        plans = [
            document_plan(t, rng, cfg, p)[0]
            for t, p in zip(
                texts[start : start + batch_docs], paths[start : start + batch_docs], strict=True
            )
        ]
        strings = [x for plan in plans for x in plan if isinstance(x, str) and x]
        encoded = iter(encode_batch(strings))
        parts: list[np.ndarray] = []
        for plan in plans:
            context = False  # inside a FIM example before its middle (only with loss_on="middle")
            for piece in plan:
                if isinstance(piece, int):
                    arr = np.array([piece], dtype=np.int32)
                elif piece:
                    arr = np.asarray(next(encoded), dtype=np.int32)
                else:
                    continue
                if cfg.loss_on == "middle":
                    if piece == pre:
                        context = True
                    if context:
                        arr = arr | NO_LOSS
                    if piece == mid:
                        context = False
                parts.append(arr)
        if parts:
            chunks.append(np.concatenate(parts))
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int32)
