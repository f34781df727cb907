"""Build llama-architecture GGUF files with random weights and a real tokenizer vocabulary.

Tests use a tiny one (fast, real tokenizer, real llama.cpp); benchmarks use one shaped like
DeepSeek-Coder-1.3B, whose timings are those of the real model since the arithmetic does not
depend on the weights' values. Needs the ``gguf`` and ``numpy`` packages (the test/bench extras).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: The DeepSeek-Coder vocabulary (from llama.cpp's ``models/``, MIT licence), shipped as package data.
DEEPSEEK_VOCAB = Path(__file__).resolve().parent.parent / "data" / "ggml-vocab-deepseek-coder.gguf"


@dataclass(frozen=True)
class Shape:
    """The dimensions of a llama-architecture model."""

    n_layer: int = 2
    n_embd: int = 64
    n_ff: int = 128
    n_head: int = 4
    n_head_kv: int = 4
    n_ctx: int = 4096


TINY = Shape()
DEEPSEEK_1_3B = Shape(n_layer=24, n_embd=2048, n_ff=5504, n_head=16, n_head_kv=16, n_ctx=16384)


def build_model(
    out: str | Path,
    shape: Shape = TINY,
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

    out = Path(out)
    reader = gguf.GGUFReader(str(vocab))
    tokens = reader.fields["tokenizer.ggml.tokens"].contents()
    n_vocab = len(tokens)
    rng = np.random.default_rng(seed)
    writer = gguf.GGUFWriter(str(out), "llama")
    writer.add_name(name)
    writer.add_context_length(shape.n_ctx)
    writer.add_embedding_length(shape.n_embd)
    writer.add_block_count(shape.n_layer)
    writer.add_feed_forward_length(shape.n_ff)
    writer.add_head_count(shape.n_head)
    writer.add_head_count_kv(shape.n_head_kv)
    writer.add_rope_dimension_count(shape.n_embd // shape.n_head)
    writer.add_rope_freq_base(100000.0)
    writer.add_layer_norm_rms_eps(1e-6)
    writer.add_vocab_size(n_vocab)
    ftype = {
        "f32": gguf.LlamaFileType.ALL_F32,
        "f16": gguf.LlamaFileType.MOSTLY_F16,
        "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0,
    }[quant]
    writer.add_file_type(ftype)
    for key, field in reader.fields.items():
        if key.startswith("tokenizer."):
            vtype = field.types[0]
            sub = field.types[1] if len(field.types) > 1 else None
            writer.add_key_value(key, field.contents(), vtype, sub)

    def tensor(name: str, shape_: tuple[int, ...], scale: float = 0.02, ones: bool = False) -> None:
        data = (
            np.ones(shape_, dtype=np.float32)
            if ones
            else (rng.standard_normal(shape_, dtype=np.float32) * scale)
        )
        if quant == "q8_0" and len(shape_) == 2 and shape_[-1] % 32 == 0:
            q = gguf.quants.quantize(data, gguf.GGMLQuantizationType.Q8_0)
            writer.add_tensor(name, q, raw_shape=q.shape, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
        elif quant == "f16" and len(shape_) == 2:
            writer.add_tensor(name, data.astype(np.float16))
        else:
            writer.add_tensor(name, data)

    e, f = shape.n_embd, shape.n_ff
    kv = e // shape.n_head * shape.n_head_kv
    if favour_token is None:
        tensor("token_embd.weight", (n_vocab, e))
        tensor("output_norm.weight", (e,), ones=True)
        tensor("output.weight", (n_vocab, e))
    else:
        direction = np.ones(e, dtype=np.float32)
        emb = rng.standard_normal((n_vocab, e), dtype=np.float32) * 0.02 + direction
        writer.add_tensor("token_embd.weight", emb)
        tensor("output_norm.weight", (e,), ones=True)
        out_w = rng.standard_normal((n_vocab, e), dtype=np.float32) * 0.02
        out_w[favour_token] = direction * 4.0
        writer.add_tensor("output.weight", out_w)
    for i in range(shape.n_layer):
        tensor(f"blk.{i}.attn_norm.weight", (e,), ones=True)
        tensor(f"blk.{i}.attn_q.weight", (e, e))
        tensor(f"blk.{i}.attn_k.weight", (kv, e))
        tensor(f"blk.{i}.attn_v.weight", (kv, e))
        tensor(f"blk.{i}.attn_output.weight", (e, e))
        tensor(f"blk.{i}.ffn_norm.weight", (e,), ones=True)
        tensor(f"blk.{i}.ffn_gate.weight", (f, e))
        tensor(f"blk.{i}.ffn_up.weight", (f, e))
        tensor(f"blk.{i}.ffn_down.weight", (e, f))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return out
