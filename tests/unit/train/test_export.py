"""GGUF export without torch: a NumPy-initialised model with a byte-level vocabulary loads in llama.cpp and gives the reference logits; reading back and splitting files."""

from __future__ import annotations

from pathlib import Path

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("gguf")

from slm_lsp_train.config import PRESETS  # noqa: E402
from slm_lsp_train.export import byte_level_vocab, join_files, read_gguf, split_file, write_gguf  # noqa: E402
from slm_lsp_train.reference import forward, random_weights  # noqa: E402

CFG = PRESETS["tiny"]
TOKENS = [1, 40, 50, 60, 3, 70, 80, 2, 99, 100, 101, 300, 5, 7, 900]
TOLERANCE = {"f32": 2e-3, "f16": 1e-2, "q8_0": 6e-2}


@pytest.mark.parametrize("ftype", ["f32", "f16", "q8_0"])
def test_llama_cpp_logits_match_reference(ftype: str, tmp_path: Path) -> None:
    llama_cpp = pytest.importorskip("llama_cpp")
    weights = random_weights(CFG, seed=1)
    path = write_gguf(
        tmp_path / f"m.{ftype}.gguf", CFG, weights, byte_level_vocab(CFG.vocab_size), ftype=ftype
    )
    llm = llama_cpp.Llama(str(path), n_ctx=64, logits_all=True, verbose=False, n_threads=1)
    llm.eval(TOKENS)
    got = np.asarray(llm.scores[: len(TOKENS)])
    ref = forward(CFG, weights, TOKENS)
    assert np.abs(got - ref).max() / np.abs(ref).max() < TOLERANCE[ftype]
    assert (got.argmax(-1) == ref.argmax(-1)).mean() > 0.9
    v = llama_cpp.llama_model_get_vocab(llm.model)
    assert llama_cpp.llama_vocab_fim_pre(v) == 1
    assert llama_cpp.llama_vocab_fim_sep(v) == 5
    assert llama_cpp.llama_vocab_is_eog(v, 0)


def test_untied_output_and_mha_shapes(tmp_path: Path) -> None:
    llama_cpp = pytest.importorskip("llama_cpp")
    from dataclasses import replace

    cfg = replace(CFG, tie_embeddings=False, n_kv_heads=CFG.n_heads)
    weights = random_weights(cfg, seed=2)
    path = write_gguf(
        tmp_path / "u.gguf", cfg, weights, byte_level_vocab(cfg.vocab_size), ftype="f32"
    )
    llm = llama_cpp.Llama(str(path), n_ctx=64, logits_all=True, verbose=False, n_threads=1)
    llm.eval(TOKENS)
    ref = forward(cfg, weights, TOKENS)
    assert np.abs(np.asarray(llm.scores[: len(TOKENS)]) - ref).max() / np.abs(ref).max() < 2e-3


def test_read_back_and_split(tmp_path: Path) -> None:
    weights = random_weights(CFG, seed=3)
    vocab = byte_level_vocab(CFG.vocab_size)
    path = write_gguf(tmp_path / "m.gguf", CFG, weights, vocab, ftype="q8_0")
    cfg, back, vocab2 = read_gguf(path)
    assert cfg.d_model == CFG.d_model and cfg.n_kv_heads == CFG.n_kv_heads and cfg.tie_embeddings
    assert vocab2.tokens == vocab.tokens and vocab2.merges == vocab.merges
    for name, w in weights.items():
        assert back[name].shape == w.shape
        assert np.abs(back[name] - w).max() < 0.01
    parts = split_file(path, 50_000, tmp_path / "parts")
    assert len(parts) > 1 and all(p.stat().st_size <= 50_000 for p in parts)
    assert join_files(parts, tmp_path / "joined.gguf").read_bytes() == path.read_bytes()


@pytest.mark.parametrize("named, expected", [(None, "slm-fim"), ("no-such-template", "starcoder")])
def test_complete_uses_the_template_the_export_names(
    named: str | None, expected: str, tmp_path: Path
) -> None:
    """`slm-lsp complete --json` on an exported model shows the FIM template taken from its metadata
    (`slm_lsp.fim_template`); a name the product does not know falls back to vocabulary detection."""
    import json
    import subprocess
    import sys

    pytest.importorskip("llama_cpp")
    model = write_gguf(tmp_path / "m.gguf", CFG, random_weights(CFG, seed=2), byte_level_vocab(CFG.vocab_size), ftype="f32")
    if named is not None:  # rewrite the key with another value
        cfg, weights, vocab = read_gguf(model)
        import slm_lsp_train.export as export

        old, export.TEMPLATE = export.TEMPLATE, named
        try:
            model = write_gguf(tmp_path / "m2.gguf", cfg, weights, vocab, ftype="f32")
        finally:
            export.TEMPLATE = old
    src = tmp_path / "a.py"
    src.write_text("def add(a, b):\n    return a + b\n")
    res = subprocess.run(
        [sys.executable, "-m", "slm_lsp", "complete", f"{src}:2:12", "--json", "--no-context", "--model", str(model), "--set", "completion.max_tokens=2"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["template"] == expected
    prompt = {  # slm-fim is suffix first (SPM); StarCoder's is PSM with the typed line after <fim_middle>
        "slm-fim": "<fim_prefix><fim_suffix>a + b\n<fim_middle>def add(a, b):\n    return ",
        "starcoder": "<fim_prefix>def add(a, b):\n<fim_suffix>a + b\n<fim_middle>    return ",
    }[expected]
    assert data["prompt"] == prompt
    if named is not None:
        assert "unknown template 'no-such-template'" in res.stderr
