"""Typed settings for the training recipe: model shapes (presets), special tokens, and training tunables, each default defined once here."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

# Special tokens, spelled as StarCoder spells them so the product's model-family detection picks
# the StarCoder FIM template. Their ids are their positions in this tuple (EOS is id 0).
EOS_TOKEN = "<|endoftext|>"
FIM_PREFIX = "<fim_prefix>"
FIM_MIDDLE = "<fim_middle>"
FIM_SUFFIX = "<fim_suffix>"
FIM_PAD = "<fim_pad>"
FILE_SEP = "<file_sep>"
REPO_NAME = "<repo_name>"
SPECIAL_TOKENS: tuple[str, ...] = (
    EOS_TOKEN,
    FIM_PREFIX,
    FIM_MIDDLE,
    FIM_SUFFIX,
    FIM_PAD,
    FILE_SEP,
    REPO_NAME,
)


def special_id(token: str) -> int:
    """The fixed vocabulary id of one special token."""
    return SPECIAL_TOKENS.index(token)


@dataclass(frozen=True)
class ModelConfig:
    """Shape of the llama-architecture decoder; the same numbers go into the GGUF header."""

    vocab_size: int = 16384
    """Vocabulary entries, special tokens included."""
    d_model: int = 512
    """Width of the residual stream."""
    n_layers: int = 8
    """Transformer blocks."""
    n_heads: int = 8
    """Query heads; head size is d_model // n_heads."""
    n_kv_heads: int = 4
    """Key/value heads (grouped-query attention when smaller than n_heads)."""
    ffn_dim: int = 1536
    """Hidden width of the SwiGLU feed-forward block."""
    max_seq_len: int = 1024
    """Training sequence length, written as the model's context length."""
    rope_theta: float = 10000.0
    """RoPE base frequency."""
    norm_eps: float = 1e-5
    """RMSNorm epsilon."""
    tie_embeddings: bool = True
    """Share the input embedding with the output projection (GGUF then has no `output` tensor)."""

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_heads

    def n_params(self) -> int:
        """Parameter count (tied embeddings counted once)."""
        d, f, h = self.d_model, self.ffn_dim, self.head_dim
        attn = d * d * 2 + 2 * d * self.n_kv_heads * h
        block = attn + 3 * d * f + 2 * d
        emb = self.vocab_size * d * (1 if self.tie_embeddings else 2)
        return self.n_layers * block + emb + d

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


PRESETS: dict[str, ModelConfig] = {
    # A few hundred thousand parameters: CPU tests and the end-to-end dry run, seconds per step.
    "tiny": ModelConfig(
        vocab_size=1024,
        d_model=64,
        n_layers=2,
        n_heads=4,
        n_kv_heads=2,
        ffn_dim=192,
        max_seq_len=256,
    ),
    # About 34M parameters (tied embeddings): the shipped model, ~36 MB at Q8_0.
    "default": ModelConfig(),
}


@dataclass(frozen=True)
class TrainConfig:
    """Optimiser and schedule tunables shared by pretraining and fine-tuning."""

    batch_size: int = 64
    """Sequences per optimiser step."""
    seq_len: int = 1024
    """Tokens per training sequence (at most the model's max_seq_len)."""
    lr: float = 1.5e-3
    """Peak learning rate (AdamW)."""
    min_lr_ratio: float = 0.1
    """Final learning rate as a fraction of the peak (cosine decay over the time budget)."""
    warmup_steps: int = 200
    """Linear warm-up steps."""
    weight_decay: float = 0.1
    """AdamW weight decay on matrices (not on norms)."""
    betas: tuple[float, float] = (0.9, 0.95)
    """AdamW betas."""
    grad_clip: float = 1.0
    """Global gradient-norm clip."""
    time_budget_s: float = 300.0
    """Wall-clock seconds of training; the schedule decays over this budget."""
    max_steps: int = 0
    """Stop after this many steps (0: no step limit, only the time budget)."""
    eval_every_s: float = 30.0
    """Seconds between held-out loss evaluations and log lines."""
    eval_batches: int = 8
    """Batches per held-out loss evaluation."""
    checkpoint_every_s: float = 120.0
    """Seconds between checkpoints (0: only at the end)."""
    compile: bool = True
    """Use torch.compile on CUDA (falls back to eager if it fails)."""
    seed: int = 1234
    """Random seed for initialisation and batch sampling."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FIMConfig:
    """How documents become fill-in-the-middle examples (FIM paper, Bavarian et al. 2022)."""

    fim_rate: float = 0.5
    """Fraction of documents turned into FIM examples."""
    spm_rate: float = 0.5
    """Of those, the fraction in suffix-prefix-middle order (the rest prefix-suffix-middle)."""
    seed: int = 0
    """Seed for span choice."""
    max_fim_chars: int = 2048
    """A file chosen for FIM is first cut at line ends into pieces of 256..max_fim_chars characters, each its own FIM example, so that prefix end, suffix and middle fit in one training window."""
    min_fim_chars: int = 256
    """Smallest target piece size (the last piece of a file may be shorter)."""
    line_span_rate: float = 0.5
    """Fraction of FIM examples whose middle starts after a line's indentation and ends at a line end (whole lines, as an editor's holes usually are); the rest use character-level random spans. The shipped model was trained with 0.0 and starts its answers mid-word too often (see MODEL_CARD.md)."""
    line_tail_rate: float = 0.0
    """Of the line-span examples, the fraction whose middle starts inside the first line's code (a cursor stopped mid-statement) instead of after its indentation."""
    loss_on: str = "all"
    """Which tokens of a FIM example are trained on: `all`, or `middle` (what the model writes after `<fim_middle>`, and the end of text; the prefix and suffix are context only). Plain documents are always trained on in full."""
    header_rate: float = 0.5
    """Fraction of FIM pieces headed by `<file_sep>path` (the rest start with `<fim_prefix>`, as prompts do)."""


@dataclass(frozen=True)
class TrainPreset:
    """A named bundle of model and training settings."""

    model: ModelConfig
    train: TrainConfig = field(default_factory=TrainConfig)


def preset(name: str) -> TrainPreset:
    """The model and training settings for a preset name ('tiny' or 'default')."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    model = PRESETS[name]
    train = TrainConfig()
    if name == "tiny":
        train = replace(
            train,
            batch_size=8,
            seq_len=model.max_seq_len,
            lr=3e-3,
            warmup_steps=10,
            time_budget_s=20.0,
            eval_every_s=5.0,
            eval_batches=2,
            compile=False,
        )
    return TrainPreset(model=model, train=train)
