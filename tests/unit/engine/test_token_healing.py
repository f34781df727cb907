"""Token healing in the in-process engine: the prompt backs off its last text token and the first
generated tokens must spell it again (real llama.cpp, the DeepSeek-Coder vocabulary)."""

from __future__ import annotations

import random
import threading
from pathlib import Path

import pytest

from slm_lsp.config import ModelSettings
from slm_lsp.engine.healing import VocabPieces
from slm_lsp.engine.llama import LlamaEngine
from slm_lsp.generation import GenerationParams, Part, Prompt
from slm_lsp.prompt.templates import build_prompt

from .test_llama_engine import BEGIN, EOS


@pytest.fixture(scope="module")
def engine(tiny_model_path: Path) -> LlamaEngine:
    eng = LlamaEngine(tiny_model_path, ModelSettings(n_ctx=1024, family="prefix", heal_tokens=1))
    yield eng
    eng.close()


def _spelt(engine: LlamaEngine, ids: list[int]) -> bytes:
    return b"".join(engine.piece(t) for t in ids)


def test_a_prompt_ending_in_text_loses_its_last_token(engine: LlamaEngine) -> None:
    prompt = build_prompt(engine.family, prefix="def parse(path):\n    with open(pa", suffix="")
    ids = engine.prompt_tokens(prompt)
    healed, removed = engine.heal(prompt, ids)
    assert healed == ids[:-1] and removed == engine.piece(ids[-1]) and removed
    assert _spelt(engine, healed) + removed == b"def parse(path):\n    with open(pa"


@pytest.mark.parametrize(
    "settings",
    [
        # DeepSeek's layout with nothing typed on the line: the prompt ends in <fim_end>
        (ModelSettings(n_ctx=512), "x = fo\n"),
        (ModelSettings(n_ctx=512, family="prefix", heal_tokens=0), "x = fo"),  # switched off
    ],
    ids=["ends-in-control-token", "switched-off"],
)
def test_prompts_left_alone(tiny_model_path: Path, settings: tuple[ModelSettings, str]) -> None:
    model_settings, prefix = settings
    eng = LlamaEngine(tiny_model_path, model_settings)
    try:
        prompt = build_prompt(eng.family, prefix=prefix, suffix="\n")
        ids = eng.prompt_tokens(prompt)
        assert eng.heal(prompt, ids) == (ids, b"")
    finally:
        eng.close()


@pytest.mark.parametrize("prefix", ["self.pos ", "    return os.pa", "def f():\n    "])
def test_generation_spells_the_removed_token_first_and_leaves_it_out(
    engine: LlamaEngine, prefix: str
) -> None:
    prompt = build_prompt(engine.family, prefix=prefix, suffix="")
    _, removed = engine.heal(prompt, engine.prompt_tokens(prompt))
    gen = engine.generate(prompt, GenerationParams(max_tokens=6), threading.Event())
    spelt = _spelt(engine, gen.tokens)
    assert spelt.startswith(removed), (spelt, removed)
    assert gen.text == spelt[len(removed) :].decode("utf-8", errors="ignore")
    assert gen.n_prompt == len(engine.prompt_tokens(prompt)) - 1


def test_end_of_text_waits_until_the_removed_token_is_spelt(eos_model_path: Path) -> None:
    """A model that always wants to stop still writes the text the prompt backed off, then stops."""
    eng = LlamaEngine(eos_model_path, ModelSettings(n_ctx=512, family="prefix"))
    try:
        prompt = build_prompt(eng.family, prefix="result = compute(va", suffix="")
        _, removed = eng.heal(prompt, eng.prompt_tokens(prompt))
        gen = eng.generate(prompt, GenerationParams(max_tokens=8), threading.Event())
        assert gen.stop_reason == "eos" and EOS not in gen.tokens
        spelt = _spelt(eng, gen.tokens)
        assert spelt.startswith(removed) and len(_spelt(eng, gen.tokens[:-1])) < len(removed)
        assert gen.text == spelt[len(removed) :].decode()
    finally:
        eng.close()


def test_indentation_may_come_back_split_as_training_text_was(engine: LlamaEngine) -> None:
    """Typed indentation is one token alone but splits before the next word in training text."""
    alone = engine.tokenize_text("x = 1\n    ")
    in_text = engine.tokenize_text("x = 1\n    def")
    removed = engine.piece(alone[-1])
    first_in_text = in_text[len(alone) - 1]
    assert engine.piece(first_in_text) != removed  # the seam differs, which is why healing exists
    allowed = set(engine.allowed_next(removed).tolist())
    assert first_in_text in allowed and alone[-1] in allowed
    for tid in allowed:
        piece = engine.piece(tid)
        assert piece and (piece.startswith(removed) or removed.startswith(piece))
    rest = removed[len(engine.piece(first_in_text)) :]
    assert in_text[len(alone)] in set(engine.allowed_next(rest).tolist())


def test_vocabulary_lookup_matches_a_brute_force_scan() -> None:
    rng = random.Random(3)
    alphabet = [b"a", b"b", b" ", b"\n", b"\xff", b"\xfe"]
    pieces = [b""] * 3 + [
        b"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 4))) for _ in range(400)
    ]
    vocab = VocabPieces(pieces)
    queries = {p for p in pieces if p} | {b"\xff\xff", b"a\xff", b" \n", b"zz"}
    for q in queries:
        want = {i for i, p in enumerate(pieces) if p and (p.startswith(q) or q.startswith(p))}
        got = vocab.allowed(q).tolist()
        assert sorted(got) == sorted(want), q


def test_respelling_does_not_count_against_max_tokens(engine: LlamaEngine) -> None:
    """``max_tokens`` bounds the new text: tokens that only respell the healed text are extra."""
    prompt = build_prompt(engine.family, prefix="x = 1\n    ", suffix="")
    _, removed = engine.heal(prompt, engine.prompt_tokens(prompt))
    gen = engine.generate(prompt, GenerationParams(max_tokens=3), threading.Event())
    pieces = [engine.piece(t) for t in gen.tokens]
    spelt, only_respelling = b"", 0
    for p in pieces:
        if len(spelt) + len(p) <= len(removed):
            only_respelling += 1
        spelt += p
    assert gen.stop_reason == "length" and len(gen.tokens) == 3 + only_respelling


def test_several_tokens_are_backed_off_and_respelt(tiny_model_path: Path) -> None:
    eng = LlamaEngine(tiny_model_path, ModelSettings(n_ctx=512, family="prefix", heal_tokens=3))
    try:
        prompt = build_prompt(eng.family, prefix="value = compute(total, cou", suffix="")
        ids = eng.prompt_tokens(prompt)
        healed, removed = eng.heal(prompt, ids)
        assert healed == ids[:-3] and removed == _spelt(eng, ids[-3:])
        gen = eng.generate(prompt, GenerationParams(max_tokens=4), threading.Event())
        spelt = _spelt(eng, gen.tokens)
        assert spelt.startswith(removed) and gen.text == spelt[len(removed) :].decode(
            errors="ignore"
        )
    finally:
        eng.close()


def test_backing_off_stops_at_a_control_token(tiny_model_path: Path) -> None:
    eng = LlamaEngine(tiny_model_path, ModelSettings(n_ctx=512, heal_tokens=8))
    try:
        prompt = Prompt(
            parts=[Part("special", "<｜fim▁begin｜>"), Part("text", "x = fo")], family="deepseek"
        )
        ids = eng.prompt_tokens(prompt)
        healed, removed = eng.heal(prompt, ids)
        assert removed == b"x = fo" and healed[-1] == BEGIN
    finally:
        eng.close()


@pytest.mark.parametrize(
    ("family", "indexed"),
    [("prefix", True), ("deepseek", True), ("codellama", False)],  # deepseek: $line_prefix last
)
def test_the_vocabulary_is_indexed_at_load_only_where_prompts_end_in_text(
    tiny_model_path: Path, family: str, indexed: bool
) -> None:
    eng = LlamaEngine(tiny_model_path, ModelSettings(n_ctx=256, family=family))
    try:
        assert (eng._vocab_pieces is not None) is indexed
    finally:
        eng.close()


@pytest.mark.parametrize(
    ("family", "setting", "depth"),
    [
        ("prefix", -1, 1),
        ("codestral", -1, 1),
        ("slm-fim", -1, 3),
        ("slm-fim", 2, 2),
        ("prefix", 0, 0),
    ],
)
def test_healing_depth_is_the_familys_unless_set(
    tiny_model_path: Path, family: str, setting: int, depth: int
) -> None:
    eng = LlamaEngine(tiny_model_path, ModelSettings(n_ctx=256, family=family, heal_tokens=setting))
    try:
        assert eng.heal_tokens == depth
        prompt = Prompt(
            parts=[Part("text", "total = first + second + third + fourth")], family=family
        )
        ids = eng.prompt_tokens(prompt)
        healed, removed = eng.heal(prompt, ids)
        assert len(ids) - len(healed) == depth  # plain text: every backed-off token is text
        assert _spelt(eng, ids[len(healed) :]) == removed
    finally:
        eng.close()
