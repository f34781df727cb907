"""Renders the model card (markdown): what data went in, the recipe, the run's hardware, time and losses, and the file sizes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from slm_lsp_train.config import FIMConfig
from slm_lsp_train.corpus import CorpusStats


def _mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB"


def _pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def _fim_mix(f: Mapping[str, Any]) -> str:
    """The FIM mix of a run in words (from its recorded ``FIMConfig``)."""
    line = f.get("line_span_rate", 0.0)
    spans = (
        f"whole-line holes {_pct(line)} ({_pct(f.get('line_tail_rate', 0.0))} of them starting "
        f"mid-line), character-level random spans the rest"
        if line
        else "character-level random spans"
    )
    loss = "; loss on the middles only" if f.get("loss_on") == "middle" else ""
    return (
        f"{_pct(f.get('fim_rate', 0.5))} of them are cut at line ends into pieces of "
        f"{f.get('min_fim_chars', 256)}-{f.get('max_fim_chars', 2048)} characters that become FIM "
        f"examples ({_pct(1 - f.get('spm_rate', 0.5))} PSM, {_pct(f.get('spm_rate', 0.5))} SPM; "
        f"{spans}; each ending in `<|endoftext|>`){loss}."
    )


def render(
    summary: Mapping[str, Any],
    stats: CorpusStats | Mapping[str, Any],
    log: Sequence[Mapping[str, float]],
) -> str:
    """The card's text."""
    s: Mapping[str, Any] = stats if isinstance(stats, Mapping) else stats.to_dict()
    m = summary.get("model_config", {})
    tr = summary.get("train", {})
    tc = summary.get("train_config", {})
    lines = [
        f"# {summary.get('name', 'slm-fim')} — model card",
        "",
        "A small llama-architecture code model trained from scratch for fill-in-the-middle (FIM) completion, "
        "with StarCoder's special tokens (`<fim_prefix>`, `<fim_suffix>`, `<fim_middle>`, `<|endoftext|>`).",
        "",
        "## Data",
        f"- Sources: Python {s.get('python', '?')} installation — {', '.join(s.get('roots', []))}",
        f"- Files seen: {s.get('files_seen', 0):,} ({_mb(s.get('bytes_seen', 0))})",
        f"- Kept for training: {s.get('train_files', 0):,} files, {_mb(s.get('train_bytes', 0))}, "
        f"{s.get('repos', 0)} repositories (top-level packages)",
        f"- Held out (seeded by path): {s.get('eval_files', 0):,} files, {_mb(s.get('eval_bytes', 0))}",
        "- Dropped: " + ", ".join(f"{k} {v:,}" for k, v in s.get("dropped", {}).items()),
        "- Licences of the kept files (from each distribution's metadata; the standard library is PSF-2.0): "
        + ", ".join(f"{k} {v:,}" for k, v in list(s.get("licences", {}).items())[:20]),
        "- Largest repositories: "
        + ", ".join(f"{r} ({_mb(b)})" for r, b in s.get("top_repos", [])[:10]),
        "",
        "## Recipe",
        f"- Tokenizer: byte-level BPE, {m.get('vocab_size', '?')} entries (padded to a multiple of 64), "
        "StarCoder pre-tokenizer (digits split), special tokens `<|endoftext|>`=0 … `<repo_name>`=6.",
        f"- Model: d_model {m.get('d_model')}, {m.get('n_layers')} layers, {m.get('n_heads')} heads "
        f"({m.get('n_kv_heads')} KV), SwiGLU {m.get('ffn_dim')}, context {m.get('max_seq_len')}, "
        f"tied embeddings; {summary.get('n_params', 0) / 1e6:.2f}M parameters.",
        "- Objective: next-token prediction. Files are grouped by package, ordered so imported files "
        f"come first, and headed by `<file_sep>path`; {_fim_mix(summary.get('fim') or asdict(FIMConfig()))}",
        f"- Optimiser: AdamW lr {tc.get('lr')}, cosine over a {tc.get('time_budget_s')} s budget, "
        f"batch {tc.get('batch_size')} × {tc.get('seq_len')} tokens, bf16 autocast on GPU.",
        "",
        "## Training run",
        f"- Hardware: {tr.get('device', '?')}; torch.compile: {tr.get('compiled')}",
        f"- Steps {tr.get('steps', 0):,}, tokens {tr.get('tokens', 0):,} "
        f"({summary.get('epochs', '?')} epochs of {summary.get('train_tokens', 0):,}), "
        f"{tr.get('tokens_per_s', 0):,.0f} tokens/s, {tr.get('elapsed_s', 0):.0f} s",
        f"- Final loss: train {tr.get('final_train_loss', float('nan')):.3f}, "
        f"held-out {tr.get('final_eval_loss', float('nan')):.3f} (nats/token)",
        f"- Stage timings (s): {summary.get('timings_s', {})}",
        f"- llama.cpp check: {summary.get('llama_cpp_check', {})}",
        "",
        "| step | seconds | tokens | train loss | held-out loss |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for e in log:
        lines.append(
            f"| {int(e['step'])} | {e['elapsed_s']:.0f} | {int(e['tokens']):,} | "
            f"{e['train_loss']:.3f} | {e['eval_loss']:.3f} |"
        )
    lines += ["", "## Files", ""]
    for ft, f in summary.get("files", {}).items():
        lines.append(f"- `{f['path']}` ({ft}): {_mb(f['bytes'])}")
    lines.append("")
    return "\n".join(lines)


def write_model_card(
    path: Path,
    summary: Mapping[str, Any],
    stats: CorpusStats | Mapping[str, Any],
    log: Sequence[Mapping[str, float]],
) -> Path:
    path.write_text(render(summary, stats, log))
    return path
