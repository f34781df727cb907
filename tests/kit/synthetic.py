"""Build llama-architecture GGUF files with random weights and a real tokenizer vocabulary.

Tests use a tiny one (fast, real tokenizer, real llama.cpp); benchmarks use one shaped like
DeepSeek-Coder-1.3B, whose timings are those of the real model since the arithmetic does not
depend on the weights' values. Needs the ``gguf`` and ``numpy`` packages (the test/bench extras) and the GGUF writer of
``training/slm_lsp_train`` (``tests.kit`` puts ``training/`` on the path).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from slm_lsp_train.gguf_llama import LlamaHParams

#: The DeepSeek-Coder vocabulary (from llama.cpp's ``models/``, MIT licence), kept beside this module.
DEEPSEEK_VOCAB = Path(__file__).resolve().parent / "ggml-vocab-deepseek-coder.gguf"


TINY = LlamaHParams(
    n_vocab=0,  # build_model takes it from the vocabulary file
    n_ctx=4096,
    n_embd=64,
    n_layer=2,
    n_ff=128,
    n_head=4,
    n_head_kv=4,
    rope_theta=100000.0,
    norm_eps=1e-6,
)
DEEPSEEK_1_3B = replace(
    TINY, n_layer=24, n_embd=2048, n_ff=5504, n_head=16, n_head_kv=16, n_ctx=16384
)


def build_model(
    out: str | Path,
    shape: LlamaHParams = TINY,
    *,
    vocab: str | Path = DEEPSEEK_VOCAB,
    quant: str = "f32",
    seed: int = 0,
    name: str = "slm-lsp synthetic",
    favour_token: int | None = None,
) -> Path:
    """Write a random-weight llama GGUF with the tokenizer of ``vocab``; ``quant`` is ``f32``, ``f16`` or ``q8_0``.

    ``favour_token``: make that token the most likely next token after any input (a shared direction
    is added to every embedding and that token's output row points along it) — e.g. the EOS id, for a
    model that ends every generation at once.
    """
    import gguf
    import numpy as np
    from slm_lsp_train.gguf_llama import write_llama_gguf

    reader = gguf.GGUFReader(str(vocab))
    n_vocab = len(reader.fields["tokenizer.ggml.tokens"].contents())
    rng = np.random.default_rng(seed)

    def tokenizer(writer: Any) -> None:
        for key, field in reader.fields.items():
            if key.startswith("tokenizer."):
                sub = field.types[1] if len(field.types) > 1 else None
                writer.add_key_value(key, field.contents(), field.types[0], sub)

    def normal(*shape_: int) -> np.ndarray:
        return rng.standard_normal(shape_, dtype=np.float32) * 0.02

    e, f = shape.n_embd, shape.n_ff
    kv = e // shape.n_head * shape.n_head_kv
    ones = np.ones(e, dtype=np.float32)
    tensors: list[tuple[str, np.ndarray]] = []
    if favour_token is None:
        tensors += [("token_embd.weight", normal(n_vocab, e)), ("output_norm.weight", ones)]
        tensors.append(("output.weight", normal(n_vocab, e)))
    else:
        emb = normal(n_vocab, e) + ones  # a shared direction in every embedding
        out_w = normal(n_vocab, e)
        out_w[favour_token] = ones * 4.0
        tensors += [("token_embd.weight", emb), ("output_norm.weight", ones)]
        tensors.append(("output.weight", out_w))
    for i in range(shape.n_layer):
        p = f"blk.{i}."
        tensors += [
            (p + "attn_norm.weight", ones),
            (p + "attn_q.weight", normal(e, e)),
            (p + "attn_k.weight", normal(kv, e)),
            (p + "attn_v.weight", normal(kv, e)),
            (p + "attn_output.weight", normal(e, e)),
            (p + "ffn_norm.weight", ones),
            (p + "ffn_gate.weight", normal(f, e)),
            (p + "ffn_up.weight", normal(f, e)),
            (p + "ffn_down.weight", normal(e, f)),
        ]
    hp = replace(shape, n_vocab=n_vocab)
    return write_llama_gguf(out, hp, tensors, ftype=quant, name=name, metadata=tokenizer)
