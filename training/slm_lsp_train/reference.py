"""A plain NumPy forward pass of the llama-architecture model, from GGUF-named weights: the ground truth that the PyTorch model and the exported GGUF are checked against, with no torch needed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from slm_lsp_train.config import ModelConfig


def rope_tables(cfg: ModelConfig, n: int) -> tuple[np.ndarray, np.ndarray]:
    """cos and sin, shape (n, head_dim // 2), for rotating adjacent pairs (llama.cpp's rope type NORM)."""
    inv = cfg.rope_theta ** (-np.arange(0, cfg.head_dim, 2, dtype=np.float64) / cfg.head_dim)
    ang = np.arange(n, dtype=np.float64)[:, None] * inv[None, :]
    return np.cos(ang), np.sin(ang)


def apply_rope(x: np.ndarray, cos: np.ndarray, sin: np.ndarray) -> np.ndarray:
    """Rotates (x[2i], x[2i+1]) by the position's angle; x is (seq, heads, head_dim)."""
    x0, x1 = x[..., 0::2], x[..., 1::2]
    c, s = cos[:, None, :], sin[:, None, :]
    out = np.empty_like(x)
    out[..., 0::2] = x0 * c - x1 * s
    out[..., 1::2] = x0 * s + x1 * c
    return out


def rms_norm(x: np.ndarray, w: np.ndarray, eps: float) -> np.ndarray:
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def forward(
    cfg: ModelConfig, weights: Mapping[str, np.ndarray], tokens: Sequence[int]
) -> np.ndarray:
    """Logits (seq, vocab) for one sequence, computed in float64."""
    w = {k: np.asarray(v, dtype=np.float64) for k, v in weights.items()}
    n = len(tokens)
    hd, nh, nkv = cfg.head_dim, cfg.n_heads, cfg.n_kv_heads
    x = w["token_embd.weight"][np.asarray(tokens)]
    cos, sin = rope_tables(cfg, n)
    mask = np.triu(np.full((n, n), -np.inf), k=1)
    for i in range(cfg.n_layers):
        p = f"blk.{i}."
        h = rms_norm(x, w[p + "attn_norm.weight"], cfg.norm_eps)
        q = (h @ w[p + "attn_q.weight"].T).reshape(n, nh, hd)
        k = (h @ w[p + "attn_k.weight"].T).reshape(n, nkv, hd)
        v = (h @ w[p + "attn_v.weight"].T).reshape(n, nkv, hd)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        rep = nh // nkv
        k, v = np.repeat(k, rep, axis=1), np.repeat(v, rep, axis=1)
        att = np.einsum("qhd,khd->hqk", q, k) / np.sqrt(hd) + mask
        att = np.exp(att - att.max(axis=-1, keepdims=True))
        att /= att.sum(axis=-1, keepdims=True)
        o = np.einsum("hqk,khd->qhd", att, v).reshape(n, nh * hd)
        x = x + o @ w[p + "attn_output.weight"].T
        h = rms_norm(x, w[p + "ffn_norm.weight"], cfg.norm_eps)
        g = h @ w[p + "ffn_gate.weight"].T
        u = h @ w[p + "ffn_up.weight"].T
        x = x + (g / (1 + np.exp(-g)) * u) @ w[p + "ffn_down.weight"].T
    x = rms_norm(x, w["output_norm.weight"], cfg.norm_eps)
    out = w["output.weight"] if "output.weight" in w else w["token_embd.weight"]
    return x @ out.T


def random_weights(cfg: ModelConfig, seed: int = 0, scale: float = 0.08) -> dict[str, np.ndarray]:
    """Random float32 GGUF-named weights of the right shapes (for export tests without torch)."""
    rng = np.random.default_rng(seed)
    d, f, hd = cfg.d_model, cfg.ffn_dim, cfg.head_dim
    shapes: dict[str, tuple[int, ...]] = {"token_embd.weight": (cfg.vocab_size, d)}
    for i in range(cfg.n_layers):
        p = f"blk.{i}."
        shapes |= {
            p + "attn_norm.weight": (d,),
            p + "attn_q.weight": (cfg.n_heads * hd, d),
            p + "attn_k.weight": (cfg.n_kv_heads * hd, d),
            p + "attn_v.weight": (cfg.n_kv_heads * hd, d),
            p + "attn_output.weight": (d, cfg.n_heads * hd),
            p + "ffn_norm.weight": (d,),
            p + "ffn_gate.weight": (f, d),
            p + "ffn_up.weight": (f, d),
            p + "ffn_down.weight": (d, f),
        }
    shapes["output_norm.weight"] = (d,)
    if not cfg.tie_embeddings:
        shapes["output.weight"] = (cfg.vocab_size, d)
    out: dict[str, np.ndarray] = {}
    for name, shape in shapes.items():
        if len(shape) == 1:
            out[name] = (1.0 + 0.1 * rng.standard_normal(shape)).astype(np.float32)
        else:
            out[name] = (scale * rng.standard_normal(shape)).astype(np.float32)
    return out
