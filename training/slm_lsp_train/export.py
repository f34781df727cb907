"""Writes the model as a llama-architecture GGUF file that llama.cpp loads: hyper-parameters, a GPT-2-style byte-level BPE vocabulary with FIM token ids and the prompt template's name, and the weights in F32, F16 or Q8_0.

Weights come in as a dict of NumPy arrays already named as GGUF names them (`token_embd.weight`,
`blk.0.attn_q.weight`, ...), in PyTorch's (out, in) layout. The model's RoPE rotates adjacent
pairs, as llama.cpp's llama architecture does (rope type NORM), so q/k need no permutation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from slm_lsp.prompt.templates import TEMPLATE_KEY
from slm_lsp_train.config import (
    EOS_TOKEN,
    FILE_SEP,
    FIM_MIDDLE,
    FIM_PAD,
    FIM_PREFIX,
    FIM_SUFFIX,
    SPECIAL_TOKENS,
    ModelConfig,
    special_id,
)
from slm_lsp_train.gguf_llama import LlamaHParams, write_llama_gguf

PRE_TOKENIZER = "starcoder"
"""`tokenizer.ggml.pre`: llama.cpp's StarCoder pre-tokenizer (digits split one by one, then the GPT-2 regex), the same as the `tokenizers` pipeline in tokenizer.py."""
TEMPLATE = "slm-fim"
"""`slm_lsp.fim_template`: the prompt family (slm_lsp/prompt/families.toml) that lays prompts out as the training data was."""
TOKEN_TYPE_NORMAL = 1
TOKEN_TYPE_CONTROL = 3
DEFAULT_LICENSE = "Apache-2.0"
"""`general.license` of the weights."""


@dataclass
class GGUFVocab:
    """A GPT-2-style vocabulary: token strings in the byte-to-unicode alphabet, their types and the BPE merges."""

    tokens: list[str]
    token_types: list[int]
    merges: list[str] = field(default_factory=list)


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible map from bytes to printable characters."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    bs += list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs), strict=True))


def byte_level_vocab(vocab_size: int) -> GGUFVocab:
    """A vocabulary of the special tokens, the 256 bytes, one merge (two spaces; llama.cpp needs at least one) and control-type padding: enough for llama.cpp to load and run a model without the `tokenizers` library."""
    space = bytes_to_unicode()[ord(" ")]
    tokens = [*SPECIAL_TOKENS, *bytes_to_unicode().values(), space * 2]
    types = [TOKEN_TYPE_CONTROL] * len(SPECIAL_TOKENS) + [TOKEN_TYPE_NORMAL] * 257
    if vocab_size < len(tokens):
        raise ValueError(f"vocab_size {vocab_size} is smaller than {len(tokens)}")
    return pad_vocab(GGUFVocab(tokens, types, [f"{space} {space}"]), vocab_size)


def pad_vocab(vocab: GGUFVocab, vocab_size: int) -> GGUFVocab:
    """Pads a vocabulary with unused control tokens up to the model's embedding rows."""
    tokens, types = list(vocab.tokens), list(vocab.token_types)
    for i in range(len(tokens), vocab_size):
        tokens.append(f"<|unused_{i}|>")
        types.append(TOKEN_TYPE_CONTROL)
    return GGUFVocab(tokens, types, list(vocab.merges))


def tensor_names(cfg: ModelConfig) -> list[str]:
    """Every GGUF tensor name the model has, in file order."""
    names = ["token_embd.weight"]
    for i in range(cfg.n_layers):
        names += [
            f"blk.{i}.{n}.weight"
            for n in (
                "attn_norm",
                "attn_q",
                "attn_k",
                "attn_v",
                "attn_output",
                "ffn_norm",
                "ffn_gate",
                "ffn_up",
                "ffn_down",
            )
        ]
    names.append("output_norm.weight")
    if not cfg.tie_embeddings:
        names.append("output.weight")
    return names


def write_gguf(
    path: Path | str,
    cfg: ModelConfig,
    weights: Mapping[str, np.ndarray],
    vocab: GGUFVocab,
    ftype: str = "q8_0",
    name: str = "slm-fim",
    extra: Mapping[str, str] | None = None,
) -> Path:
    """Writes one GGUF file and returns its path."""
    import gguf

    if len(vocab.tokens) != cfg.vocab_size:
        vocab = pad_vocab(vocab, cfg.vocab_size)

    def metadata(w: Any) -> None:
        w.add_license(DEFAULT_LICENSE)
        for k, v in (extra or {}).items():
            w.add_string(k, v)
        w.add_tokenizer_model("gpt2")
        w.add_tokenizer_pre(PRE_TOKENIZER)
        w.add_token_list(vocab.tokens)
        w.add_token_types(vocab.token_types)
        if vocab.merges:
            w.add_token_merges(vocab.merges)
        eos = special_id(EOS_TOKEN)
        w.add_bos_token_id(eos)
        w.add_eos_token_id(eos)
        w.add_add_bos_token(False)
        w.add_add_eos_token(False)
        w.add_uint32(gguf.Keys.Tokenizer.FIM_PRE_ID, special_id(FIM_PREFIX))
        w.add_uint32(gguf.Keys.Tokenizer.FIM_SUF_ID, special_id(FIM_SUFFIX))
        w.add_uint32(gguf.Keys.Tokenizer.FIM_MID_ID, special_id(FIM_MIDDLE))
        w.add_uint32(gguf.Keys.Tokenizer.FIM_PAD_ID, special_id(FIM_PAD))
        w.add_uint32(gguf.Keys.Tokenizer.FIM_SEP_ID, special_id(FILE_SEP))
        w.add_string(TEMPLATE_KEY, TEMPLATE)

    hp = LlamaHParams(
        n_vocab=cfg.vocab_size,
        n_ctx=cfg.max_seq_len,
        n_embd=cfg.d_model,
        n_layer=cfg.n_layers,
        n_ff=cfg.ffn_dim,
        n_head=cfg.n_heads,
        n_head_kv=cfg.n_kv_heads,
        rope_theta=cfg.rope_theta,
        norm_eps=cfg.norm_eps,
    )
    tensors = ((t, weights[t]) for t in tensor_names(cfg))
    return write_llama_gguf(path, hp, tensors, ftype=ftype, name=name, metadata=metadata)


def split_file(path: Path, chunk_bytes: int, out_dir: Path) -> list[Path]:
    """Cuts a file into numbered chunks (`NAME.part00`, ...) of at most chunk_bytes each."""
    out_dir.mkdir(parents=True, exist_ok=True)
    parts: list[Path] = []
    with open(path, "rb") as f:
        i = 0
        while chunk := f.read(chunk_bytes):
            p = out_dir / f"{path.name}.part{i:02d}"
            p.write_bytes(chunk)
            parts.append(p)
            i += 1
    return parts


def join_files(parts: Sequence[Path], out: Path) -> Path:
    """Joins chunks written by split_file back into one file."""
    with open(out, "wb") as f:
        for p in sorted(parts):
            f.write(Path(p).read_bytes())
    return out


def read_gguf(path: Path | str) -> tuple[ModelConfig, dict[str, np.ndarray], GGUFVocab]:
    """Reads a GGUF file written by write_gguf back: its shape, float32 weights (dequantized) and vocabulary. Fine-tuning starts from the shipped file this way."""
    import gguf

    r = gguf.GGUFReader(str(path))

    def val(key: str) -> Any:
        return r.fields[key].contents()

    tokens = [str(t) for t in val("tokenizer.ggml.tokens")]
    types = [int(t) for t in val("tokenizer.ggml.token_type")]
    merges = (
        [str(m) for m in val("tokenizer.ggml.merges")]
        if "tokenizer.ggml.merges" in r.fields
        else []
    )
    names = {t.name for t in r.tensors}
    cfg = ModelConfig(
        vocab_size=len(tokens),
        d_model=int(val("llama.embedding_length")),
        n_layers=int(val("llama.block_count")),
        n_heads=int(val("llama.attention.head_count")),
        n_kv_heads=int(val("llama.attention.head_count_kv")),
        ffn_dim=int(val("llama.feed_forward_length")),
        max_seq_len=int(val("llama.context_length")),
        rope_theta=float(val("llama.rope.freq_base")),
        norm_eps=float(val("llama.attention.layer_norm_rms_epsilon")),
        tie_embeddings="output.weight" not in names,
    )
    weights: dict[str, np.ndarray] = {}
    for t in r.tensors:
        shape = tuple(int(s) for s in reversed(t.shape))
        data = gguf.quants.dequantize(t.data, t.tensor_type)
        weights[t.name] = np.asarray(data, dtype=np.float32).reshape(shape)
    return cfg, weights, GGUFVocab(tokens, types, merges)
