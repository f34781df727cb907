"""Stage 2: continues training the model on one repository (full fine-tune), bounded by a time budget, resumable from the checkpoint in its run folder, ending in a GGUF file."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from slm_lsp_train import BASE_MODEL
from slm_lsp_train.config import FIMConfig, TrainConfig
from slm_lsp_train.corpus import CorpusConfig, collect
from slm_lsp_train.export import read_gguf, write_gguf
from slm_lsp_train.model import Transformer, from_gguf_weights, gguf_weights
from slm_lsp_train.pretrain import (
    CHECKPOINT_NAME,
    encode_corpus,
    load_checkpoint,
    pick_device,
    train,
)
from slm_lsp_train.tokenizer import (
    batch_encoder,
    from_gguf_vocab,
    load_tokenizer,
    save,
    to_gguf_vocab,
)

DEFAULT_TIME_BUDGET_S = 600.0
"""Training seconds when none are given."""
DEFAULT_LR = 3e-4
"""Peak learning rate: lower than pretraining so the model adapts without forgetting."""
DEFAULT_BATCH_SIZE = 8
"""Sequences per step (CPU-friendly)."""
DEFAULT_SEQ_LEN = 512
"""Tokens per sequence."""
RUN_FOLDER = Path(".slm-lsp") / "finetune"
"""Run folder inside the repository when --out is not given."""
SOURCE_EXTENSIONS = (
    ".py", ".pyi", ".js", ".jsx", ".ts", ".tsx", ".go", ".rs", ".java", ".c", ".h", ".cc",
    ".cpp", ".hpp", ".cs", ".rb", ".php", ".sh", ".lua", ".kt", ".swift", ".scala", ".md",
)  # fmt: skip
"""Files of a repository that are trained on."""


@dataclass
class FinetuneConfig:
    """Settings of one fine-tuning run (None: the documented default)."""

    repo: Path
    base: Path | None = None
    out_dir: Path | None = None
    time_budget_s: float | None = None
    lr: float | None = None
    batch_size: int | None = None
    seq_len: int | None = None
    resume: bool = True
    progress: bool = True
    eval_fraction: float = 0.05
    max_steps: int = 0
    """Stop at this many steps in all (0: only the time budget)."""


def load_base(base: Path, device: torch.device) -> tuple[Transformer, Any]:
    """Model and tokenizer from a .gguf file or a checkpoint.pt (with tokenizer.json beside it)."""
    if base.suffix == ".gguf":
        cfg, weights, vocab = read_gguf(base)
        return from_gguf_weights(cfg, weights).to(device), from_gguf_vocab(vocab)
    model, _ = load_checkpoint(base, device)
    return model, load_tokenizer(base.parent / "tokenizer.json")


def finetune(fc: FinetuneConfig) -> dict[str, Any]:
    """Runs (or resumes) fine-tuning; returns a summary with the GGUF path."""
    repo = fc.repo.resolve()
    out = (fc.out_dir or repo / RUN_FOLDER).resolve()
    out.mkdir(parents=True, exist_ok=True)
    device = pick_device()
    ck = out / CHECKPOINT_NAME
    resume_state = None
    if fc.resume and ck.is_file() and (out / "tokenizer.json").is_file():
        model, resume_state = load_checkpoint(ck, device)
        tok = load_tokenizer(out / "tokenizer.json")
    else:
        base = fc.base or BASE_MODEL
        if not base.is_file():
            raise FileNotFoundError(f"no base model at {base}")
        model, tok = load_base(base, device)
        save(tok, out / "tokenizer.json")

    ccfg = CorpusConfig(
        extensions=SOURCE_EXTENSIONS,
        eval_fraction=fc.eval_fraction,
        skip_dirs=(*CorpusConfig().skip_dirs, ".slm-lsp", "build", "dist"),
    )
    corpus = collect([repo], ccfg)
    enc = batch_encoder(tok)
    train_ids = encode_corpus(corpus.split("train"), enc, FIMConfig())
    eval_docs = corpus.split("eval") or corpus.split("train")[:1]
    eval_ids = encode_corpus(eval_docs, enc, FIMConfig(seed=1))

    seq = min(fc.seq_len or DEFAULT_SEQ_LEN, model.cfg.max_seq_len)
    tcfg = replace(
        TrainConfig(),
        batch_size=fc.batch_size or DEFAULT_BATCH_SIZE,
        seq_len=seq,
        lr=fc.lr or DEFAULT_LR,
        warmup_steps=20,
        time_budget_s=fc.time_budget_s or DEFAULT_TIME_BUDGET_S,
        eval_every_s=30.0,
        eval_batches=4,
        checkpoint_every_s=60.0,
        compile=device.type == "cuda",
        max_steps=fc.max_steps,
    )
    res = train(model, train_ids, eval_ids, tcfg, out, resume=resume_state, progress=fc.progress)
    path = write_gguf(
        out / "finetuned.q8_0.gguf", model.cfg, gguf_weights(model), to_gguf_vocab(tok)
    )
    summary = {
        "repo": str(repo),
        "files": corpus.stats.train_files,
        "train_tokens": int(len(train_ids)),
        "steps": res.steps,
        "elapsed_s": round(res.elapsed_s, 1),
        "final_train_loss": res.final_train_loss,
        "final_eval_loss": res.final_eval_loss,
        "gguf": str(path),
    }
    (out / "finetune.json").write_text(json.dumps(summary, indent=1))
    return summary
