"""Stage 1: turns a corpus into FIM-mixed token streams and trains the decoder from scratch within a wall-clock budget; `run_pipeline` chains corpus → tokenizer → training → GGUF export → llama.cpp check → model card."""

from __future__ import annotations

import json
import math
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from slm_lsp_train.config import FIMConfig, ModelConfig, TrainConfig, preset
from slm_lsp_train.corpus import Corpus, CorpusConfig, Document, collect, save_manifest
from slm_lsp_train.export import write_gguf
from slm_lsp_train.fim import NO_LOSS, encode_documents
from slm_lsp_train.model import IGNORE_INDEX, Transformer, gguf_weights

CHECKPOINT_NAME = "checkpoint.pt"
"""File name of the resumable checkpoint inside a run folder."""
LOG_NAME = "train_log.json"
"""File name of the loss curve inside a run folder."""


def encode_corpus(
    docs: Sequence[Document], encode_batch: Callable[[list[str]], list[list[int]]], fim: FIMConfig
) -> np.ndarray:
    """One uint16/int32 token stream of the documents in order, each headed by `<file_sep>path` and half of them FIM examples."""
    ids = encode_documents([d.text for d in docs], [d.key for d in docs], encode_batch, fim)
    return ids.astype(np.uint16) if (ids.max(initial=0) < 2**16) else ids


@dataclass
class Batches:
    """Random windows of seq_len + 1 tokens from one stream (documents stay in repository order inside a window)."""

    data: np.ndarray
    seq_len: int
    batch_size: int
    seed: int

    def __post_init__(self) -> None:
        if len(self.data) <= self.seq_len + 1:
            reps = (self.seq_len + 2) // max(1, len(self.data)) + 1
            self.data = np.tile(self.data, reps)
        self.rng = np.random.default_rng(self.seed)

    def next(self, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        starts = self.rng.integers(0, len(self.data) - self.seq_len - 1, size=self.batch_size)
        idx = starts[:, None] + np.arange(self.seq_len + 1)[None, :]
        raw = self.data[idx].astype(np.int64)
        chunk = torch.from_numpy(raw & (NO_LOSS - 1))
        y = chunk[:, 1:].clone()
        if self.data.dtype != np.uint16:  # a stream that can carry NO_LOSS flags
            y[torch.from_numpy((raw[:, 1:] & NO_LOSS) != 0)] = IGNORE_INDEX
        x = chunk[:, :-1]
        if device.type == "cuda":
            x = x.pin_memory().to(device, non_blocking=True)
            y = y.pin_memory().to(device, non_blocking=True)
        return x, y


@dataclass
class TrainResult:
    """What a training run did."""

    steps: int = 0
    tokens: int = 0
    elapsed_s: float = 0.0
    tokens_per_s: float = 0.0
    final_train_loss: float = float("nan")
    final_eval_loss: float = float("nan")
    compiled: bool = False
    device: str = ""
    log: list[dict[str, float]] = field(default_factory=list)


def lr_at(step: int, frac: float, tcfg: TrainConfig) -> float:
    """Linear warm-up over steps, then cosine decay to min_lr_ratio over the fraction of the budget used."""
    if step < tcfg.warmup_steps:
        return tcfg.lr * (step + 1) / tcfg.warmup_steps
    frac = min(1.0, max(0.0, frac))
    return tcfg.lr * (
        tcfg.min_lr_ratio + (1 - tcfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * frac))
    )


def pick_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def make_optimizer(
    model: torch.nn.Module, tcfg: TrainConfig, device: torch.device
) -> torch.optim.Optimizer:
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    groups = [
        {"params": decay, "weight_decay": tcfg.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    kwargs: dict[str, Any] = {"lr": tcfg.lr, "betas": tcfg.betas}
    if device.type == "cuda":
        kwargs["fused"] = True
    return torch.optim.AdamW(groups, **kwargs)


@torch.no_grad()
def evaluate_loss(
    model: torch.nn.Module, data: np.ndarray, tcfg: TrainConfig, device: torch.device
) -> float:
    """Mean loss over a fixed set of held-out windows."""
    batches = Batches(data, tcfg.seq_len, tcfg.batch_size, seed=999)
    was = model.training
    model.eval()
    losses = []
    for _ in range(tcfg.eval_batches):
        x, y = batches.next(device)
        with _autocast(device):
            losses.append(float(model(x, y)))
    model.train(was)
    return float(np.mean(losses))


def _autocast(device: torch.device) -> Any:
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return torch.autocast("cpu", enabled=False)


def save_checkpoint(
    path: Path, model: Transformer, opt: torch.optim.Optimizer, state: dict[str, Any]
) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(
        {
            "model_config": model.cfg.to_dict(),
            "model": model.state_dict(),
            "optimizer": opt.state_dict(),
            "state": state,
        },
        tmp,
    )
    os.replace(tmp, path)


def load_checkpoint(path: Path, device: torch.device) -> tuple[Transformer, dict[str, Any]]:
    """The model and the saved training state (with 'optimizer' inside)."""
    ck = torch.load(path, map_location=device, weights_only=False)
    model = Transformer(ModelConfig.from_dict(ck["model_config"])).to(device)
    model.load_state_dict(ck["model"])
    state = dict(ck["state"])
    state["optimizer"] = ck["optimizer"]
    return model, state


def train(
    model: Transformer,
    train_ids: np.ndarray,
    eval_ids: np.ndarray,
    tcfg: TrainConfig,
    out_dir: Path,
    resume: dict[str, Any] | None = None,
    progress: bool = True,
    log_fn: Callable[[str], None] = print,
) -> TrainResult:
    """Trains until the time budget (or max_steps) is spent; writes checkpoints and the loss log into out_dir."""
    device = next(model.parameters()).device
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(tcfg.seed)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    opt = make_optimizer(model, tcfg, device)
    step, tokens, elapsed0 = 0, 0, 0.0
    log: list[dict[str, float]] = []
    if resume:
        opt.load_state_dict(resume["optimizer"])
        step, tokens, elapsed0 = resume["step"], resume["tokens"], resume["elapsed_s"]
        log = list(resume.get("log", []))
    batches = Batches(train_ids, tcfg.seq_len, tcfg.batch_size, seed=tcfg.seed + step)
    result = TrainResult(device=_device_name(device))

    fwd: Callable[..., torch.Tensor] = model
    if tcfg.compile and device.type == "cuda":
        try:
            fwd = torch.compile(model)  # type: ignore[assignment]
            result.compiled = True
        except Exception as exc:  # noqa: BLE001 - any compiler failure falls back to eager
            log_fn(f"torch.compile unavailable ({exc!r}); training eager")

    bar = _bar(tcfg.time_budget_s, progress)
    t0 = time.perf_counter()
    last_log = last_ck = t0
    loss_acc, loss_n = 0.0, 0
    model.train()
    while True:
        elapsed = elapsed0 + time.perf_counter() - t0
        if elapsed >= tcfg.time_budget_s or (tcfg.max_steps and step >= tcfg.max_steps):
            break
        lr = lr_at(step, elapsed / tcfg.time_budget_s, tcfg)
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = batches.next(device)
        try:
            with _autocast(device):
                loss = fwd(x, y)
            loss.backward()
        except Exception as exc:  # noqa: BLE001 - a compiled graph that fails at run time falls back too
            if fwd is model:
                raise
            log_fn(f"compiled step failed ({exc!r}); training eager")
            opt.zero_grad(set_to_none=True)
            fwd, result.compiled = model, False
            continue
        torch.nn.utils.clip_grad_norm_(model.parameters(), tcfg.grad_clip)
        opt.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        tokens += x.numel()
        loss_acc += float(loss.detach()) if (step % 10 == 0 or device.type == "cpu") else 0.0
        loss_n += 1 if (step % 10 == 0 or device.type == "cpu") else 0
        now = time.perf_counter()
        bar.update(min(tcfg.time_budget_s, elapsed0 + now - t0) - bar.n)
        if now - last_log >= tcfg.eval_every_s:
            entry = {
                "step": step,
                "elapsed_s": round(elapsed0 + now - t0, 2),
                "tokens": tokens,
                "lr": lr,
                "train_loss": loss_acc / max(1, loss_n),
                "eval_loss": evaluate_loss(model, eval_ids, tcfg, device)
                if len(eval_ids)
                else float("nan"),
            }
            log.append(entry)
            bar.set_postfix(loss=f"{entry['train_loss']:.3f}", eval=f"{entry['eval_loss']:.3f}")
            if not progress:
                log_fn(json.dumps(entry))
            loss_acc, loss_n = 0.0, 0
            last_log = time.perf_counter()
        if tcfg.checkpoint_every_s and now - last_ck >= tcfg.checkpoint_every_s:
            _save(out_dir, model, opt, step, tokens, elapsed0 + now - t0, log)
            last_ck = time.perf_counter()
    bar.close()
    total = elapsed0 + time.perf_counter() - t0
    final_eval = evaluate_loss(model, eval_ids, tcfg, device) if len(eval_ids) else float("nan")
    final_train = loss_acc / loss_n if loss_n else (log[-1]["train_loss"] if log else float("nan"))
    log.append(
        {
            "step": step,
            "elapsed_s": round(total, 2),
            "tokens": tokens,
            "lr": 0.0,
            "train_loss": final_train,
            "eval_loss": final_eval,
        }
    )
    _save(out_dir, model, opt, step, tokens, total, log)
    result.steps, result.tokens, result.elapsed_s = step, tokens, total
    run_s = total - elapsed0
    result.tokens_per_s = (tokens - (resume or {}).get("tokens", 0)) / max(1e-9, run_s)
    result.final_train_loss, result.final_eval_loss, result.log = final_train, final_eval, log
    (out_dir / LOG_NAME).write_text(json.dumps(log, indent=1))
    return result


def _save(
    out_dir: Path,
    model: Transformer,
    opt: torch.optim.Optimizer,
    step: int,
    tokens: int,
    elapsed: float,
    log: list[dict[str, float]],
) -> None:
    save_checkpoint(
        out_dir / CHECKPOINT_NAME,
        model,
        opt,
        {"step": step, "tokens": tokens, "elapsed_s": elapsed, "log": log},
    )


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({torch.get_num_threads()} threads)"


class _NoBar:
    n = 0.0

    def update(self, n: float) -> None:
        self.n += n

    def set_postfix(self, **kw: str) -> None:
        pass

    def close(self) -> None:
        pass


def _bar(total: float, enabled: bool) -> Any:
    if not enabled:
        return _NoBar()
    try:
        from tqdm import tqdm
    except ImportError:
        return _NoBar()
    return tqdm(total=total, unit="s", bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f}s {postfix}")


# ----------------------------------------------------------------------------- the whole recipe


@dataclass
class PipelineConfig:
    """Everything `slm-lsp train` needs."""

    out_dir: Path
    roots: list[Path] = field(default_factory=list)
    """Source folders (empty: this Python's stdlib and site-packages)."""
    preset: str = "default"
    time_budget_s: float | None = None
    """Training seconds (None: the preset's)."""
    vocab_size: int | None = None
    """Tokenizer size (None: the preset model's vocab_size)."""
    corpus: CorpusConfig = field(default_factory=CorpusConfig)
    fim: FIMConfig = field(default_factory=FIMConfig)
    ftypes: tuple[str, ...] = ("q8_0",)
    """GGUF formats to write."""
    model_name: str = "slm-fim"
    batch_size: int | None = None
    compile: bool | None = None
    tokenizer_path: Path | None = None
    """Reuse this tokenizer.json instead of training one."""
    progress: bool = True
    total_budget_s: float | None = None
    """Wall-clock seconds for the whole pipeline: training is shortened so that the run ends within it."""
    export_reserve_s: float = 45.0
    """Seconds kept back for export and the checks after training when total_budget_s is set."""


def run_pipeline(pc: PipelineConfig, log_fn: Callable[[str], None] = print) -> dict[str, Any]:
    """Corpus → tokenizer → pretraining → GGUF export → llama.cpp check; returns (and writes as run.json) a summary."""
    from slm_lsp_train import card
    from slm_lsp_train.tokenizer import (
        batch_encoder,
        load_tokenizer,
        save,
        to_gguf_vocab,
        train_tokenizer,
    )

    start = time.perf_counter()
    out = pc.out_dir
    out.mkdir(parents=True, exist_ok=True)
    tp = preset(pc.preset)
    mcfg: ModelConfig = tp.model
    tcfg: TrainConfig = tp.train
    if pc.time_budget_s is not None:
        tcfg = replace(tcfg, time_budget_s=pc.time_budget_s)
    if pc.batch_size:
        tcfg = replace(tcfg, batch_size=pc.batch_size)
    if pc.compile is not None:
        tcfg = replace(tcfg, compile=pc.compile)
    vocab_size = pc.vocab_size or mcfg.vocab_size
    summary: dict[str, Any] = {"preset": pc.preset, "timings_s": {}}
    timings = summary["timings_s"]

    t = time.perf_counter()
    corpus: Corpus = collect(pc.roots or None, pc.corpus, progress=pc.progress)
    save_manifest(corpus, out)
    timings["corpus"] = round(time.perf_counter() - t, 1)
    log_fn(
        f"corpus: {corpus.stats.train_files} train / {corpus.stats.eval_files} eval files, "
        f"{corpus.stats.train_bytes / 1e6:.1f} MB train ({timings['corpus']} s)"
    )
    train_docs, eval_docs = corpus.split("train"), corpus.split("eval")

    t = time.perf_counter()
    if pc.tokenizer_path:
        tok = load_tokenizer(pc.tokenizer_path)
    else:
        sample = [d.text for d in random.Random(0).sample(train_docs, len(train_docs))]
        tok = train_tokenizer(sample, vocab_size=vocab_size)
    save(tok, out / "tokenizer.json")
    vocab = to_gguf_vocab(tok)
    timings["tokenizer"] = round(time.perf_counter() - t, 1)
    padded = -(-len(vocab.tokens) // 64) * 64
    mcfg = replace(mcfg, vocab_size=padded)
    tcfg = replace(tcfg, seq_len=min(tcfg.seq_len, mcfg.max_seq_len))

    t = time.perf_counter()
    enc = batch_encoder(tok)
    train_ids = encode_corpus(train_docs, enc, pc.fim)
    eval_ids = encode_corpus(eval_docs, enc, replace(pc.fim, seed=pc.fim.seed + 1))
    timings["encode"] = round(time.perf_counter() - t, 1)
    summary["train_tokens"], summary["eval_tokens"] = int(len(train_ids)), int(len(eval_ids))
    summary["bytes_per_token"] = round(corpus.stats.train_bytes / max(1, len(train_ids)), 3)
    log_fn(f"tokens: {len(train_ids):,} train, {len(eval_ids):,} eval ({timings['encode']} s)")

    if pc.total_budget_s is not None:
        left = pc.total_budget_s - (time.perf_counter() - start) - pc.export_reserve_s
        if left < tcfg.time_budget_s:
            log_fn(f"shortening training to {left:.0f} s to end within the total budget")
            tcfg = replace(tcfg, time_budget_s=max(10.0, left))

    device = pick_device()
    torch.manual_seed(tcfg.seed)
    model = Transformer(mcfg).to(device)
    summary["model_config"] = mcfg.to_dict()
    summary["n_params"] = sum(p.numel() for p in model.parameters())
    summary["train_config"] = tcfg.to_dict()
    summary["fim"] = asdict(pc.fim)
    log_fn(f"model: {summary['n_params'] / 1e6:.2f}M parameters on {_device_name(device)}")
    t = time.perf_counter()
    res = train(model, train_ids, eval_ids, tcfg, out, progress=pc.progress, log_fn=log_fn)
    timings["train"] = round(time.perf_counter() - t, 1)
    summary["train"] = {k: v for k, v in res.__dict__.items() if k != "log"}
    summary["epochs"] = round(res.tokens / max(1, len(train_ids)), 2)
    log_fn(
        f"trained {res.steps} steps, {res.tokens:,} tokens, {res.tokens_per_s:,.0f} tok/s, "
        f"loss {res.final_train_loss:.3f} / eval {res.final_eval_loss:.3f}"
    )

    t = time.perf_counter()
    weights = gguf_weights(model)
    files: dict[str, dict[str, Any]] = {}
    for ft in pc.ftypes:
        p = write_gguf(
            out / f"{pc.model_name}.{ft}.gguf", mcfg, weights, vocab, ftype=ft, name=pc.model_name
        )
        files[ft] = {"path": p.name, "bytes": p.stat().st_size}
    summary["files"] = files
    timings["export"] = round(time.perf_counter() - t, 1)
    summary["llama_cpp_check"] = check_with_llama_cpp(model, out / files[pc.ftypes[0]]["path"], tok)
    log_fn(f"llama.cpp check: {summary['llama_cpp_check']}")
    (out / "run.json").write_text(json.dumps(summary, indent=1, default=str))
    card.write_model_card(out / "MODEL_CARD.md", summary, corpus.stats, res.log)
    return summary


def check_with_llama_cpp(model: Transformer, gguf_path: Path, tok: Any) -> dict[str, Any]:
    """Loads the GGUF in llama.cpp and compares its logits and tokenization with the PyTorch model's."""
    try:
        from slm_lsp.engine.llama import logits_for
    except ImportError:
        return {"skipped": "llama_cpp not installed"}
    text = "import os\n\ndef read(path):\n    with open(path) as f:\n        return f.read()\n"
    ids = tok.encode(text, add_special_tokens=False).ids
    cpp_tokens, got = logits_for(gguf_path, ids, text, n_threads=os.cpu_count() or 1)
    same_tokens = cpp_tokens == ids
    with torch.no_grad():
        was = model.training
        model.eval()
        ref = (
            model.float()(torch.tensor([ids], device=next(model.parameters()).device))[0]
            .double()
            .cpu()
            .numpy()
        )
        model.train(was)
    rel = float(np.abs(got - ref).max() / max(1e-9, np.abs(ref).max()))
    agree = float(np.mean(got.argmax(-1) == ref.argmax(-1)))
    return {
        "same_tokens": same_tokens,
        "max_rel_logit_err": round(rel, 5),
        "argmax_agreement": agree,
    }
