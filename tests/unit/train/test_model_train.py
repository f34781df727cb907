"""The PyTorch model (needs torch): matches the NumPy reference and llama.cpp after export, trains on CPU with falling loss, and fine-tuning resumes from its checkpoint."""

from __future__ import annotations

import json
import sysconfig
from dataclasses import replace
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
np = pytest.importorskip("numpy")
pytest.importorskip("gguf")

from slm_lsp_train.config import FIMConfig, preset  # noqa: E402
from slm_lsp_train.export import byte_level_vocab, write_gguf  # noqa: E402
from slm_lsp_train.model import Transformer, from_gguf_weights, gguf_weights  # noqa: E402
from slm_lsp_train.pretrain import Batches, lr_at, train  # noqa: E402
from slm_lsp_train.reference import forward  # noqa: E402

TINY = preset("tiny")
TOKENS = [1, 40, 50, 60, 3, 70, 80, 2, 99, 100, 101, 300, 5, 7, 900, 12, 13]
STDLIB = Path(sysconfig.get_paths()["stdlib"])


def _model(seed: int = 0) -> Transformer:
    torch.manual_seed(seed)
    m = Transformer(TINY.model)
    with torch.no_grad():  # make norms non-trivial so a wrong norm shows
        for p in m.parameters():
            if p.ndim == 1:
                p.add_(0.1 * torch.randn_like(p))
    return m.eval()


def test_torch_matches_numpy_reference() -> None:
    m = _model()
    with torch.no_grad():
        got = m(torch.tensor([TOKENS]))[0].double().numpy()
    ref = forward(TINY.model, gguf_weights(m), TOKENS)
    assert np.abs(got - ref).max() / np.abs(ref).max() < 1e-4


def test_weights_round_trip_through_gguf_names() -> None:
    m = _model(1)
    again = from_gguf_weights(m.cfg, gguf_weights(m))
    for (k, a), (_, b) in zip(m.state_dict().items(), again.state_dict().items(), strict=True):
        assert torch.equal(a, b), k


def test_export_loads_in_llama_cpp_with_matching_logits(tmp_path: Path) -> None:
    llama_cpp = pytest.importorskip("llama_cpp")
    m = _model(2)
    path = write_gguf(
        tmp_path / "m.gguf", m.cfg, gguf_weights(m), byte_level_vocab(m.cfg.vocab_size), ftype="f32"
    )
    llm = llama_cpp.Llama(str(path), n_ctx=64, logits_all=True, verbose=False, n_threads=1)
    llm.eval(TOKENS)
    got = np.asarray(llm.scores[: len(TOKENS)])
    with torch.no_grad():
        ref = m(torch.tensor([TOKENS]))[0].double().numpy()
    assert np.abs(got - ref).max() / np.abs(ref).max() < 2e-3
    assert (got.argmax(-1) == ref.argmax(-1)).all()


def test_schedule_warms_up_then_decays() -> None:
    t = TINY.train
    assert lr_at(0, 0.0, t) < lr_at(t.warmup_steps, 0.0, t)
    assert lr_at(t.warmup_steps, 0.0, t) == pytest.approx(t.lr)
    assert lr_at(10_000, 1.0, t) == pytest.approx(t.lr * t.min_lr_ratio)


def _stream() -> np.ndarray:
    from slm_lsp_train.fim import encode_documents

    texts = [p.read_text() for p in sorted((STDLIB / "json").glob("*.py"))]

    def enc(xs: list[str]) -> list[list[int]]:
        return [[7 + b for b in x.encode()] for x in xs]

    return encode_documents(texts * 3, [None] * (len(texts) * 3), enc, FIMConfig()).astype(np.int64)


def test_smoke_training_loss_decreases(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = Transformer(replace(TINY.model, max_seq_len=128))
    tcfg = replace(
        TINY.train,
        seq_len=128,
        batch_size=8,
        max_steps=60,
        time_budget_s=120,
        eval_every_s=1e9,
        checkpoint_every_s=0,
    )
    data = _stream()
    first = Batches(data, 128, 8, seed=5)
    x, y = first.next(torch.device("cpu"))
    with torch.no_grad():
        before = float(model(x, y))
    res = train(model, data, data[:5000], tcfg, tmp_path, progress=False)
    with torch.no_grad():
        after = float(model(x, y))
    assert res.steps == 60
    assert after < before - 1.0
    log = json.loads((tmp_path / "train_log.json").read_text())
    assert log[-1]["step"] == 60
    assert (tmp_path / "checkpoint.pt").is_file()


def test_finetune_resumes_from_checkpoint(tmp_path: Path) -> None:
    pytest.importorskip("tokenizers")
    from slm_lsp_train.finetune import FinetuneConfig, finetune

    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    for p in sorted((STDLIB / "json").glob("*.py")):
        (repo / "pkg" / p.name).write_text(p.read_text())
    m = _model(3)
    base = write_gguf(
        tmp_path / "base.gguf",
        m.cfg,
        gguf_weights(m),
        byte_level_vocab(m.cfg.vocab_size),
        ftype="f32",
    )
    out = tmp_path / "run"
    fc = FinetuneConfig(
        repo=repo,
        base=base,
        out_dir=out,
        time_budget_s=120.0,
        max_steps=3,
        batch_size=2,
        seq_len=64,
        progress=False,
    )
    first = finetune(fc)
    assert Path(first["gguf"]).is_file()
    steps_first = first["steps"]
    assert steps_first == 3
    second = finetune(replace(fc, max_steps=6))
    assert second["steps"] == 6
    log = json.loads((out / "train_log.json").read_text())
    assert log[0]["step"] <= steps_first < log[-1]["step"]


def test_context_tokens_carry_no_loss() -> None:
    from slm_lsp_train.fim import NO_LOSS
    from slm_lsp_train.model import IGNORE_INDEX

    stream = np.arange(10, 10 + 400, dtype=np.int32)
    stream[::3] |= NO_LOSS
    x, y = Batches(stream, 16, 4, seed=0).next(torch.device("cpu"))
    assert int(x.max()) < NO_LOSS  # the model never sees the flag
    targets_flagged = (y == IGNORE_INDEX).float().mean().item()
    assert 0.2 < targets_flagged < 0.45
    model = _model()
    full = model(x, torch.where(y == IGNORE_INDEX, x[:, :1].expand_as(y) * 0 + 11, y))
    masked = model(x, y)
    logits = model(x)
    keep = y != IGNORE_INDEX
    expected = torch.nn.functional.cross_entropy(logits[keep].float(), y[keep])
    assert torch.allclose(masked, expected, atol=1e-5) and not torch.allclose(masked, full)
