"""The PyTorch llama-architecture decoder (RMSNorm, RoPE on adjacent pairs as llama.cpp computes it, SwiGLU, grouped-query attention) and its conversion to GGUF-named weights."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from slm_lsp_train.config import ModelConfig


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xf = x.float()
        out = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return (out * self.weight.float()).type_as(x)


def rope_cache(cfg: ModelConfig, n: int, device: torch.device | str | None = None) -> torch.Tensor:
    """cos/sin table, shape (n, head_dim // 2, 2), for rotating pairs (x[2i], x[2i+1])."""
    inv = cfg.rope_theta ** (-torch.arange(0, cfg.head_dim, 2, dtype=torch.float64) / cfg.head_dim)
    ang = torch.arange(n, dtype=torch.float64)[:, None] * inv[None, :]
    return torch.stack([ang.cos(), ang.sin()], dim=-1).float().to(device)


def apply_rope(x: torch.Tensor, cache: torch.Tensor) -> torch.Tensor:
    """x: (batch, heads, seq, head_dim); rotates adjacent pairs, as llama.cpp's rope type NORM."""
    n = x.shape[-2]
    xs = x.float().reshape(*x.shape[:-1], -1, 2)
    c = cache[:n, :, 0]
    s = cache[:n, :, 1]
    x0, x1 = xs[..., 0], xs[..., 1]
    out = torch.stack([x0 * c - x1 * s, x0 * s + x1 * c], dim=-1)
    return out.flatten(-2).type_as(x)


class Attention(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        hd = cfg.head_dim
        self.wq = nn.Linear(cfg.d_model, cfg.n_heads * hd, bias=False)
        self.wk = nn.Linear(cfg.d_model, cfg.n_kv_heads * hd, bias=False)
        self.wv = nn.Linear(cfg.d_model, cfg.n_kv_heads * hd, bias=False)
        self.wo = nn.Linear(cfg.n_heads * hd, cfg.d_model, bias=False)

    def forward(self, x: torch.Tensor, rope: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape
        hd, nh, nkv = self.cfg.head_dim, self.cfg.n_heads, self.cfg.n_kv_heads
        q = self.wq(x).view(b, n, nh, hd).transpose(1, 2)
        k = self.wk(x).view(b, n, nkv, hd).transpose(1, 2)
        v = self.wv(x).view(b, n, nkv, hd).transpose(1, 2)
        q, k = apply_rope(q, rope), apply_rope(k, rope)
        if nkv != nh:
            # llama.cpp maps query head h to key/value head h // (nh // nkv).
            k = k.repeat_interleave(nh // nkv, dim=1)
            v = v.repeat_interleave(nh // nkv, dim=1)
        o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.wo(o.transpose(1, 2).reshape(b, n, nh * hd))


class FeedForward(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.w_gate = nn.Linear(cfg.d_model, cfg.ffn_dim, bias=False)
        self.w_up = nn.Linear(cfg.d_model, cfg.ffn_dim, bias=False)
        self.w_down = nn.Linear(cfg.ffn_dim, cfg.d_model, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w_down(F.silu(self.w_gate(x)) * self.w_up(x))


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.attn_norm = RMSNorm(cfg.d_model, cfg.norm_eps)
        self.attn = Attention(cfg)
        self.ffn_norm = RMSNorm(cfg.d_model, cfg.norm_eps)
        self.ffn = FeedForward(cfg)

    def forward(self, x: torch.Tensor, rope: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.attn_norm(x), rope)
        return x + self.ffn(self.ffn_norm(x))


IGNORE_INDEX = -100
"""A target that carries no loss (PyTorch's cross-entropy default)."""


class Transformer(nn.Module):
    """Decoder-only language model; `forward(tokens)` gives logits, `forward(tokens, targets)` the mean cross-entropy."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.tok_embeddings = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.layers = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.norm = RMSNorm(cfg.d_model, cfg.norm_eps)
        self.output = (
            None if cfg.tie_embeddings else nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
        )
        self.register_buffer("rope", rope_cache(cfg, cfg.max_seq_len), persistent=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """GPT-2-style init: N(0, 0.02), residual projections scaled by 1/sqrt(2·layers)."""
        std = 0.02
        for name, p in self.named_parameters():
            if p.ndim == 2:
                s = (
                    std / math.sqrt(2 * self.cfg.n_layers)
                    if name.endswith(("wo.weight", "w_down.weight"))
                    else std
                )
                nn.init.normal_(p, mean=0.0, std=s)

    def forward(self, tokens: torch.Tensor, targets: torch.Tensor | None = None) -> torch.Tensor:
        x = self.tok_embeddings(tokens)
        rope: torch.Tensor = self.rope  # type: ignore[assignment]
        if tokens.shape[1] > rope.shape[0]:
            rope = rope_cache(self.cfg, tokens.shape[1], tokens.device)
        for layer in self.layers:
            x = layer(x, rope)
        x = self.norm(x)
        w = self.tok_embeddings.weight if self.output is None else self.output.weight
        if targets is None:
            return x @ w.t().to(x.dtype)
        # logits only where a target counts (IGNORE_INDEX marks context tokens)
        flat = targets.reshape(-1)
        keep = flat != IGNORE_INDEX
        h = x.reshape(-1, x.shape[-1])[keep]
        if h.shape[0] == 0:
            return x.sum() * 0.0
        logits = h @ w.t().to(h.dtype)
        return F.cross_entropy(logits.float(), flat[keep])


_BLOCK_NAMES = {
    "attn_norm": "attn_norm.weight",
    "attn_q": "attn.wq.weight",
    "attn_k": "attn.wk.weight",
    "attn_v": "attn.wv.weight",
    "attn_output": "attn.wo.weight",
    "ffn_norm": "ffn_norm.weight",
    "ffn_gate": "ffn.w_gate.weight",
    "ffn_up": "ffn.w_up.weight",
    "ffn_down": "ffn.w_down.weight",
}
"""GGUF block tensor name → this module's parameter name inside `layers.{i}`."""


def name_map(cfg: ModelConfig) -> dict[str, str]:
    """GGUF tensor name → state-dict name."""
    out = {"token_embd.weight": "tok_embeddings.weight", "output_norm.weight": "norm.weight"}
    if not cfg.tie_embeddings:
        out["output.weight"] = "output.weight"
    for i in range(cfg.n_layers):
        for g, t in _BLOCK_NAMES.items():
            out[f"blk.{i}.{g}.weight"] = f"layers.{i}.{t}"
    return out


def gguf_weights(model: Transformer) -> dict[str, np.ndarray]:
    """The model's parameters as float32 NumPy arrays named as GGUF's llama architecture names them."""
    sd = {k.removeprefix("_orig_mod."): v for k, v in model.state_dict().items()}
    return {g: sd[t].detach().float().cpu().numpy() for g, t in name_map(model.cfg).items()}


def from_gguf_weights(cfg: ModelConfig, weights: dict[str, np.ndarray]) -> Transformer:
    """A model holding GGUF-named weights (as read_gguf returns them)."""
    model = Transformer(cfg)
    sd = {
        t: torch.from_numpy(np.array(weights[g], dtype=np.float32))
        for g, t in name_map(cfg).items()
    }
    model.load_state_dict(sd, strict=True)
    return model
