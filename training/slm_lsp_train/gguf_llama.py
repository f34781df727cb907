"""Writing llama-architecture GGUF files (the ``gguf`` package does the format): hyper-parameters, metadata and weights in F32, F16 or Q8_0.

Shared by the test and benchmark models (``tests.kit.synthetic``) and the trained model's export
(``train.export``). Weights are NumPy arrays named as GGUF names them (``token_embd.weight``,
``blk.0.attn_q.weight``, ...) in PyTorch's (out, in) layout. Needs ``gguf`` and ``numpy`` (the
test, bench and train extras).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FILE_TYPES = ("f32", "f16", "q8_0")
"""Weight formats written; one-dimensional tensors (norms) always stay F32."""


@dataclass(frozen=True)
class LlamaHParams:
    """The numbers a llama-architecture GGUF header carries."""

    n_vocab: int
    n_ctx: int
    n_embd: int
    n_layer: int
    n_ff: int
    n_head: int
    n_head_kv: int
    rope_theta: float = 10000.0
    norm_eps: float = 1e-5


def encode_tensor(arr: Any, ftype: str) -> tuple[Any, Any]:
    """(data, GGML type) of one tensor in ``ftype``; rows that Q8_0 blocks do not divide fall back to F16."""
    import gguf
    import numpy as np

    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if arr.ndim == 1 or ftype == "f32":
        return arr, gguf.GGMLQuantizationType.F32
    if ftype == "f16":
        return arr.astype(np.float16), gguf.GGMLQuantizationType.F16
    if ftype == "q8_0" and arr.shape[-1] % 32 == 0:
        q = gguf.GGMLQuantizationType.Q8_0
        return gguf.quants.quantize(arr, q), q
    return arr.astype(np.float16), gguf.GGMLQuantizationType.F16


def write_llama_gguf(
    path: str | Path,
    hp: LlamaHParams,
    tensors: Iterable[tuple[str, Any]],
    *,
    ftype: str = "f32",
    name: str = "",
    metadata: Callable[[Any], None] | None = None,
) -> Path:
    """Writes one GGUF file; ``metadata(writer)`` adds the tokenizer and any other keys."""
    import gguf

    if ftype not in FILE_TYPES:
        raise ValueError(f"ftype must be one of {FILE_TYPES}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    w = gguf.GGUFWriter(str(path), "llama")
    if name:
        w.add_name(name)
    w.add_context_length(hp.n_ctx)
    w.add_embedding_length(hp.n_embd)
    w.add_block_count(hp.n_layer)
    w.add_feed_forward_length(hp.n_ff)
    w.add_head_count(hp.n_head)
    w.add_head_count_kv(hp.n_head_kv)
    w.add_layer_norm_rms_eps(hp.norm_eps)
    w.add_rope_freq_base(hp.rope_theta)
    w.add_rope_dimension_count(hp.n_embd // hp.n_head)
    w.add_vocab_size(hp.n_vocab)
    w.add_file_type(
        {
            "f32": gguf.LlamaFileType.ALL_F32,
            "f16": gguf.LlamaFileType.MOSTLY_F16,
            "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0,
        }[ftype]
    )
    if metadata is not None:
        metadata(w)
    for tname, arr in tensors:
        data, qtype = encode_tensor(arr, ftype)
        w.add_tensor(tname, data, raw_dtype=qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path
