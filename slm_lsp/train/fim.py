"""Turns documents into training token sequences: plain next-token documents, or fill-in-the-middle examples in PSM and SPM order with character-level random spans (Bavarian et al. 2022; the StarCoder layout)."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from slm_lsp.train.config import (
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


def random_split(text: str, rng: random.Random) -> FIMSplit:
    """Cuts a text at two uniformly random character positions (the middle may be empty)."""
    a, b = sorted((rng.randint(0, len(text)), rng.randint(0, len(text))))
    return FIMSplit(text[:a], text[a:b], text[b:])


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


def document_plan(
    text: str, rng: random.Random, cfg: FIMConfig, path: str | None = None
) -> tuple[list[str | int], str]:
    """One document as texts to tokenize and special ids between them, ending in EOS (optionally headed by `<file_sep>path`), and its kind ('plain', 'psm' or 'spm')."""
    head: list[str | int] = [special_id(FILE_SEP), path + "\n"] if path else []
    kind = "plain"
    body: list[str | int]
    if rng.random() < cfg.fim_rate:
        split = random_split(text, rng)
        if rng.random() < cfg.spm_rate:
            kind, body = "spm", spm_plan(split)
        else:
            kind, body = "psm", psm_plan(split)
    else:
        body = [text]
    return [*head, *body, special_id(EOS_TOKEN)], kind


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
            for piece in plan:
                if isinstance(piece, int):
                    parts.append(np.array([piece], dtype=np.int32))
                elif piece:
                    parts.append(np.asarray(next(encoded), dtype=np.int32))
        if parts:
            chunks.append(np.concatenate(parts))
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int32)
