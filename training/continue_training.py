"""Continues stage-1 training of an existing GGUF model (by default the embedded one) on the pretraining corpus's own train split, with a different FIM mix: the way the shipped model got its line-level infilling on a 2-core CPU when no GPU was lent.

Unlike `slm-lsp finetune` (one repository, its own split), this collects the same sources with the
same `CorpusConfig` as `slm-lsp train`, so the held-out files that `slm_lsp_train.evaluate` and
`bench quality` cut tasks from stay unseen. Resumable: run it again with the same --out to go on.

    python training/continue_training.py --out runs/continue --time-budget 3000
"""

from __future__ import annotations

import argparse
import json
import sysconfig
import time
from dataclasses import replace
from pathlib import Path

import torch
from slm_lsp_train import BASE_MODEL
from slm_lsp_train.config import FIMConfig, TrainConfig
from slm_lsp_train.corpus import CorpusConfig, collect, default_roots
from slm_lsp_train.export import write_gguf
from slm_lsp_train.finetune import load_base
from slm_lsp_train.model import gguf_weights
from slm_lsp_train.pretrain import CHECKPOINT_NAME, encode_corpus, load_checkpoint, train
from slm_lsp_train.tokenizer import batch_encoder, load_tokenizer, save, to_gguf_vocab


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--base", type=Path, default=BASE_MODEL)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--time-budget", type=float, default=1800.0, help="training seconds")
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--seq-len", type=int, default=512)
    ap.add_argument(
        "--corpus-mb", type=float, default=40.0, help="cap on source read (sampled by repository)"
    )
    ap.add_argument("--fim-rate", type=float, default=0.9)
    ap.add_argument("--line-span-rate", type=float, default=0.7)
    ap.add_argument("--line-tail-rate", type=float, default=0.4)
    ap.add_argument("--loss-on", choices=["all", "middle"], default="all")
    ap.add_argument(
        "--spm-rate", type=float, default=0.5, help="share of FIM examples in SPM order"
    )
    ap.add_argument(
        "--sources",
        choices=["all", "stdlib", "site-packages"],
        default="all",
        help="stdlib: only the standard library's train split; site-packages: only installed "
        "packages, so the held-out stdlib tasks are code from another source than training's",
    )
    ap.add_argument("--seed", type=int, default=7, help="FIM span seed (another seed: other holes)")
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    device = torch.device("cpu")
    ck = out / CHECKPOINT_NAME
    resume = None
    if ck.is_file():
        model, resume = load_checkpoint(ck, device)
        tok = load_tokenizer(out / "tokenizer.json")
    else:
        model, tok = load_base(args.base, device)
        save(tok, out / "tokenizer.json")

    t = time.perf_counter()
    ccfg = CorpusConfig(max_total_bytes=int(args.corpus_mb * 1e6))
    roots = None
    if args.sources == "stdlib":  # keys stay relative to the stdlib folder: evaluate's split
        roots = [Path(sysconfig.get_paths()["stdlib"])]
        ccfg = replace(ccfg, skip_dirs=(*ccfg.skip_dirs, "site-packages", "dist-packages"))
    elif args.sources == "site-packages":
        roots = [r for r in default_roots() if r.name in ("site-packages", "dist-packages")]
        if not roots:
            raise SystemExit("this Python has no site-packages folder")
    corpus = collect(roots, ccfg, progress=False)
    fim = FIMConfig(
        fim_rate=args.fim_rate,
        line_span_rate=args.line_span_rate,
        line_tail_rate=args.line_tail_rate,
        spm_rate=args.spm_rate,
        loss_on=args.loss_on,
        seed=args.seed,
    )
    enc = batch_encoder(tok)
    train_ids = encode_corpus(corpus.split("train"), enc, fim)
    eval_ids = encode_corpus(corpus.split("eval"), enc, replace(fim, seed=args.seed + 1))
    print(
        f"corpus {corpus.stats.train_files} train / {corpus.stats.eval_files} eval files, "
        f"{len(train_ids):,} / {len(eval_ids):,} tokens ({time.perf_counter() - t:.0f} s)",
        flush=True,
    )
    tcfg = replace(
        TrainConfig(),
        batch_size=args.batch_size,
        seq_len=min(args.seq_len, model.cfg.max_seq_len),
        lr=args.lr,
        warmup_steps=20,
        time_budget_s=args.time_budget,
        eval_every_s=120.0,
        eval_batches=4,
        checkpoint_every_s=300.0,
        compile=False,
    )
    res = train(model, train_ids, eval_ids, tcfg, out, resume=resume, progress=False)
    path = write_gguf(
        out / "slm-fim-40m.q8_0.gguf",
        model.cfg,
        gguf_weights(model),
        to_gguf_vocab(tok),
        name="slm-fim-40m",
    )
    summary = {
        "base": str(args.base),
        "sources": args.sources,
        "fim": fim.__dict__,
        "train_config": tcfg.to_dict(),
        "corpus_train_files": corpus.stats.train_files,
        "train_tokens_available": int(len(train_ids)),
        "steps": res.steps,
        "tokens": res.tokens,
        "elapsed_s": round(res.elapsed_s, 1),
        "tokens_per_s": round(res.tokens_per_s, 1),
        "final_train_loss": res.final_train_loss,
        "final_eval_loss": res.final_eval_loss,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "gguf": path.name,
    }
    (out / "continue.json").write_text(json.dumps(summary, indent=1, default=str))
    print(json.dumps(summary, default=str), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
