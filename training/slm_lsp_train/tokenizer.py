"""Trains and loads the byte-level BPE tokenizer (the `tokenizers` library, StarCoder special tokens and pre-tokenizer) and converts it into a GGUF vocabulary."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers

from slm_lsp_train.config import SPECIAL_TOKENS
from slm_lsp_train.export import TOKEN_TYPE_CONTROL, TOKEN_TYPE_NORMAL, GGUFVocab

DEFAULT_VOCAB_SIZE = 16384
"""Vocabulary size, special tokens included."""
MIN_FREQUENCY = 2
"""A pair must occur this often to be merged."""
MAX_TOKEN_BYTES = 24
"""Longest token in bytes: llama-cpp-python 0.3.36's detokenize() truncates pieces longer than 32 bytes."""
TRAIN_SAMPLE_BYTES = 100_000_000
"""At most this much text is fed to the BPE trainer (the rest adds little to the merges)."""


def _pre_tokenizer() -> pre_tokenizers.PreTokenizer:
    # Same as llama.cpp's "starcoder" pre-tokenizer: each digit alone, then GPT-2's regex.
    return pre_tokenizers.Sequence(
        [
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
        ]
    )


def _sample(texts: Iterable[str], max_bytes: int) -> Iterator[str]:
    total = 0
    for t in texts:
        if total >= max_bytes:
            return
        total += len(t)
        yield t


def train_tokenizer(
    texts: Iterable[str],
    vocab_size: int = DEFAULT_VOCAB_SIZE,
    max_bytes: int = TRAIN_SAMPLE_BYTES,
) -> Tokenizer:
    """Learns a byte-level BPE tokenizer whose first ids are the special tokens (EOS is 0)."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = _pre_tokenizer()
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=MIN_FREQUENCY,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
        max_token_length=MAX_TOKEN_BYTES,
    )
    tok.train_from_iterator(_sample(texts, max_bytes), trainer)
    return prepare(tok)


def prepare(tok: Tokenizer) -> Tokenizer:
    """Sets the tokenizer to read special-token spellings in text as ordinary text (as the product tokenizes user code)."""
    tok.encode_special_tokens = True
    for i, s in enumerate(SPECIAL_TOKENS):
        if tok.token_to_id(s) != i:
            raise ValueError(f"special token {s!r} must have id {i}, has {tok.token_to_id(s)}")
    return tok


def load_tokenizer(path: Path | str) -> Tokenizer:
    """Loads a tokenizer.json written by save()."""
    return prepare(Tokenizer.from_file(str(path)))


def save(tok: Tokenizer, path: Path | str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tok.save(str(path))
    return path


def encoder(tok: Tokenizer):  # type: ignore[no-untyped-def]
    """A function text → ids."""

    def encode(text: str) -> list[int]:
        return tok.encode(text, add_special_tokens=False).ids

    return encode


def batch_encoder(tok: Tokenizer):  # type: ignore[no-untyped-def]
    """A function [text] → [ids], parallel inside the tokenizers library."""

    def encode_batch(texts: list[str]) -> list[list[int]]:
        return [e.ids for e in tok.encode_batch(texts, add_special_tokens=False)]

    return encode_batch


def to_gguf_vocab(tok: Tokenizer) -> GGUFVocab:
    """Tokens (GPT-2 byte alphabet), types (specials are CONTROL) and merges for GGUF."""
    data = json.loads(tok.to_str())
    vocab: dict[str, int] = data["model"]["vocab"]
    for added in data.get("added_tokens", []):
        vocab[added["content"]] = added["id"]
    size = max(vocab.values()) + 1
    tokens = [""] * size
    for t, i in vocab.items():
        tokens[i] = t
    special = set(SPECIAL_TOKENS) | {a["content"] for a in data.get("added_tokens", [])}
    types = [TOKEN_TYPE_CONTROL if t in special else TOKEN_TYPE_NORMAL for t in tokens]
    merges = [m if isinstance(m, str) else " ".join(m) for m in data["model"]["merges"]]
    return GGUFVocab(tokens=tokens, token_types=types, merges=merges)


def from_gguf_vocab(vocab: GGUFVocab) -> Tokenizer:
    """Rebuilds the `tokenizers` tokenizer from a GGUF vocabulary (fine-tuning from a shipped .gguf file)."""
    ids = {t: i for i, t in enumerate(vocab.tokens)}
    merges = [tuple(m.split(" ", 1)) for m in vocab.merges]
    tok = Tokenizer(models.BPE(vocab=ids, merges=merges))  # type: ignore[arg-type]
    tok.pre_tokenizer = _pre_tokenizer()
    tok.decoder = decoders.ByteLevel()
    specials = [
        AddedToken(t, special=True, normalized=False)
        for i, t in enumerate(vocab.tokens)
        if vocab.token_types[i] != TOKEN_TYPE_NORMAL
    ]
    # Special and padding tokens are in the BPE vocabulary too, so they keep their ids.
    tok.add_special_tokens(specials)  # type: ignore[arg-type]
    return prepare(tok)
