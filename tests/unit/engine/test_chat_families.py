"""Phi-3 and Llama 3, the general models people run locally without FIM tokens: family detection,
the prompt's token ids and the end-of-generation ids, with their real vocabularies (llama-cpp-python's
vocabulary-only GGUFs) in tiny random-weight models loaded by the real engine."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import threading
from pathlib import Path

import pytest

from slm_lsp.config import ModelSettings
from slm_lsp.generation import GenerationParams
from tests.kit.synthetic import TINY, build_model
from slm_lsp.prompt.chat import chat_prompt, engine_chat_prompt
from slm_lsp.prompt.templates import build_prompt

#: Phi-3's vocabulary (726 KB) is committed; Llama 3's (7.8 MB) comes from the llama-cpp-python sdist.
PHI3_VOCAB = Path(__file__).resolve().parent / "data" / "ggml-vocab-phi-3.gguf"
LLAMA_BPE = "ggml-vocab-llama-bpe.gguf"
SDIST = "llama-cpp-python==0.3.36"
#: Llama 3's chat template, as Meta's Llama-3-Instruct GGUF files carry it.
LLAMA3_TEMPLATE = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'"
    " + message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)


@pytest.fixture(scope="session")
def llama3_vocab() -> Path:
    """The Llama 3 vocabulary from the llama-cpp-python sdist (pip download, once, then cached)."""
    cache = Path(os.path.expanduser("~/.cache/slm-lsp/test-vocab"))
    path = cache / LLAMA_BPE
    if path.is_file():
        return path
    tmp = cache / "sdist"
    tmp.mkdir(parents=True, exist_ok=True)
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "--no-binary",
            ":all:",
            SDIST,
            "-d",
            str(tmp),
        ],
        capture_output=True,
        text=True,
    )
    sdists = list(tmp.glob("*.tar.gz"))
    if res.returncode != 0 or not sdists:
        pytest.skip(f"cannot download the {SDIST} sdist for {LLAMA_BPE}")
    with tarfile.open(sdists[0]) as tf:
        member = next(m for m in tf.getmembers() if m.name.endswith(f"models/{LLAMA_BPE}"))
        with tf.extractfile(member) as src, open(str(path) + ".part", "wb") as dst:  # type: ignore[union-attr]
            shutil.copyfileobj(src, dst)
    os.replace(str(path) + ".part", path)
    shutil.rmtree(tmp, ignore_errors=True)
    return path


def load(tmp_path: Path, vocab: Path):  # type: ignore[no-untyped-def]
    from slm_lsp.engine.llama import LlamaEngine

    model = build_model(tmp_path / f"tiny-{vocab.stem}.gguf", TINY, vocab=vocab, quant="f16")
    return LlamaEngine(model, ModelSettings(n_ctx=256, n_threads=1))


def test_phi3_detected_prompted_prefix_only_and_stopped_at_end(tmp_path: Path) -> None:
    engine = load(tmp_path, PHI3_VOCAB)
    try:
        assert engine.info.family == "phi3" and not engine.info.fim_ids
        assert {32000, 32007} <= set(engine.info.eog_ids)  # <|endoftext|>, <|end|>
        ids = engine.prompt_tokens(build_prompt(engine.family, prefix="def add(a, b):", suffix="x"))
        assert ids[0] == 1  # BOS <s>
        assert engine.detokenize(ids[1:]).strip() == "def add(a, b):"  # the suffix is not sent
        # its own chat template, from the GGUF: turn tokens by id, the user's text as text
        chat = engine_chat_prompt(engine, [{"role": "user", "content": "Fix <|end|> this"}])
        assert chat is not None
        ids = engine.prompt_tokens(chat)
        # <s><|user|> ... <|assistant|>\n. Known gap (engine): each text part is tokenized on its
        # own, so SentencePiece puts its dummy-prefix space (29871) before the "\n" that follows
        # <|assistant|>, where the template, tokenized whole, has none.
        assert ids[:2] == [1, 32010] and ids[-3:] == [32001, 29871, 13]
        assert ids.count(32007) == 1  # the <|end|> the user typed stays text
        gen = engine.generate(chat, GenerationParams(max_tokens=2), threading.Event())
        # token healing may hold back the prompt's last text token and re-spell it
        assert gen.n_prompt in (len(ids), len(ids) - 1) and gen.stop_reason in ("length", "eos")
    finally:
        engine.close()


def test_llama3_detected_prompted_prefix_only_and_stopped_at_eot(
    tmp_path: Path, llama3_vocab: Path
) -> None:
    engine = load(tmp_path, llama3_vocab)
    try:
        assert engine.info.family == "llama3" and not engine.info.fim_ids
        assert {128001, 128009} <= set(engine.info.eog_ids)  # <|end_of_text|>, <|eot_id|>
        ids = engine.prompt_tokens(build_prompt(engine.family, prefix="import os\n", suffix=""))
        assert ids[0] == 128000 and engine.detokenize(ids[1:]) == "import os\n"
        # Llama 3 GGUFs carry this template; the vocabulary file does not, so render it here
        prompt = chat_prompt(
            LLAMA3_TEMPLATE,
            [{"role": "user", "content": "Explain os.system(cmd)"}],
            family="llama3",
            is_control=lambda t: engine.special_id(t) is not None,
            bos="<|begin_of_text|>",
        )
        ids = engine.prompt_tokens(prompt)
        assert ids[:2] == [128000, 128006]  # <|begin_of_text|><|start_header_id|>
        assert (
            ids.count(128009) == 1 and ids[-1] != 128009
        )  # one <|eot_id|>, then the assistant header
        assert (
            ids[-4] == 128006 and ids[-2] == 128007
        )  # <|start_header_id|>assistant<|end_header_id|>
    finally:
        engine.close()
