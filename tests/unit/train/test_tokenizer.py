"""The byte-level BPE tokenizer: StarCoder special tokens as single fixed ids, round trips, GGUF vocabulary, and llama.cpp tokenizing exactly as the `tokenizers` library does."""

from __future__ import annotations

import sysconfig
from dataclasses import replace
from pathlib import Path

import pytest

pytest.importorskip("tokenizers")
pytest.importorskip("numpy")

from slm_lsp_train.config import PRESETS, SPECIAL_TOKENS  # noqa: E402
from slm_lsp_train.export import TOKEN_TYPE_CONTROL, write_gguf  # noqa: E402
from slm_lsp_train.reference import random_weights  # noqa: E402
from slm_lsp_train.tokenizer import (  # noqa: E402
    MAX_TOKEN_BYTES,
    encoder,
    from_gguf_vocab,
    load_tokenizer,
    save,
    to_gguf_vocab,
    train_tokenizer,
)

STDLIB = Path(sysconfig.get_paths()["stdlib"])
SAMPLES = [
    "def f(x):\n    return 12345 + x\n",
    "  \t\n\n   x = 'héllo wörld'  # ünïcode 日本語\n",
    "class A:\n\tpass\r\n",
    "x=1;y=2\n\n\n\ndef   g():  \n  ...",
    "😀 emoji and \u00a0nbsp",
    "                                        deep = indentation\n",
    "text that spells <fim_prefix> and <|endoftext|> stays text",
]


@pytest.fixture(scope="module")
def tok():  # type: ignore[no-untyped-def]
    texts = [p.read_text() for p in sorted((STDLIB / "json").glob("*.py"))]
    texts += [p.read_text() for p in sorted((STDLIB / "email").glob("*.py"))]
    return train_tokenizer(texts, vocab_size=1024)


def test_special_tokens_are_single_fixed_ids(tok) -> None:  # type: ignore[no-untyped-def]
    for i, s in enumerate(SPECIAL_TOKENS):
        assert tok.token_to_id(s) == i
    assert tok.token_to_id("<|endoftext|>") == 0


def test_special_spellings_in_text_stay_text(tok) -> None:  # type: ignore[no-untyped-def]
    ids = encoder(tok)("<fim_prefix>")
    assert len(ids) > 1 and not set(ids) & set(range(len(SPECIAL_TOKENS)))


def test_round_trip_and_token_length(tok, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    enc = encoder(tok)
    for s in SAMPLES:
        assert tok.decode(enc(s)) == s
    vocab = to_gguf_vocab(tok)
    assert (
        max(
            len(t)
            for t, ty in zip(vocab.tokens, vocab.token_types, strict=True)
            if ty != TOKEN_TYPE_CONTROL
        )
        <= MAX_TOKEN_BYTES
    )
    again = load_tokenizer(save(tok, tmp_path / "tokenizer.json"))
    assert all(encoder(again)(s) == enc(s) for s in SAMPLES)


def test_gguf_vocabulary_and_rebuild(tok) -> None:  # type: ignore[no-untyped-def]
    vocab = to_gguf_vocab(tok)
    assert vocab.tokens[: len(SPECIAL_TOKENS)] == list(SPECIAL_TOKENS)
    assert all(t == TOKEN_TYPE_CONTROL for t in vocab.token_types[: len(SPECIAL_TOKENS)])
    assert vocab.merges and all(len(m.split(" ")) == 2 for m in vocab.merges)
    rebuilt = from_gguf_vocab(vocab)
    assert all(encoder(rebuilt)(s) == encoder(tok)(s) for s in SAMPLES)


def test_llama_cpp_tokenizes_like_tokenizers(tok, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    llama_cpp = pytest.importorskip("llama_cpp")
    pytest.importorskip("gguf")
    cfg = replace(PRESETS["tiny"], vocab_size=1024)
    path = write_gguf(
        tmp_path / "t.gguf", cfg, random_weights(cfg), to_gguf_vocab(tok), ftype="f16"
    )
    llm = llama_cpp.Llama(str(path), vocab_only=True, verbose=False)
    enc = encoder(tok)
    texts = SAMPLES + [p.read_text() for p in sorted((STDLIB / "collections").glob("*.py"))]
    for s in texts:
        assert llm.tokenize(s.encode(), add_bos=False, special=False) == enc(s)
    assert llm.tokenize(b"<fim_prefix>", add_bos=False, special=True) == [1]
    v = llama_cpp.llama_model_get_vocab(llm.model)
    fim = [
        llama_cpp.llama_vocab_fim_pre(v),
        llama_cpp.llama_vocab_fim_suf(v),
        llama_cpp.llama_vocab_fim_mid(v),
    ]
    assert fim == [1, 3, 2]
    assert llama_cpp.llama_vocab_eos(v) == 0
