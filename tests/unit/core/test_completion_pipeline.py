"""The completion pipeline without LSP: window, fitting to the context, vetting, the typing-through cache."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from slm_lsp.completion.cache import CompletionCache
from slm_lsp.completion.document import Document
from slm_lsp.completion.service import WINDOW_STEP_LINES, CompletionService
from slm_lsp.completion.vetting import breaks_parse
from slm_lsp.config import Settings
from slm_lsp.engine.llama import LlamaEngine
from slm_lsp.security.engine import SecurityEngine


def doc(text: str, language: str = "python", uri: str = "file:///w/a.py") -> Document:
    return Document(uri=uri, path="a.py", text=text, language=language, version=1)


def service(**layer: object) -> CompletionService:
    settings, errors = Settings.from_layers(layer)  # type: ignore[arg-type]
    assert not errors
    return CompletionService(settings, None, SecurityEngine(settings.security))


def test_window_start_is_stable_while_typing() -> None:
    text = "".join(f"line_{i} = {i}\n" for i in range(400)) + "x = \n"
    svc = service(completion={"prefix_chars": 600})
    a = svc.plan(doc(text), 400, 4)
    b = svc.plan(doc(text[:-1] + "1\n"), 400, 5)
    assert a.window[0] == b.window[0] and a.window[0] % WINDOW_STEP_LINES == 0
    assert a.prefix.endswith("x = ") and len(a.prefix) <= 600 + 16 * 13


def test_a_small_prefix_budget_keeps_its_lines() -> None:
    # 120 characters is what a latency target leaves on a slow machine: about nine of these lines
    text = "".join(f"v_{i} = {i}\n" for i in range(400)) + "x = \n"
    for line in range(380, 401):
        plan = service(completion={"prefix_chars": 120}).plan(doc(text), line, 0)
        kept = plan.prefix.count("\n")
        assert 4 <= kept and len(plan.prefix) <= 120, (line, kept)


def test_cursor_past_the_end_is_clamped() -> None:
    plan = service().plan(doc("a = 1\n"), 50, 50)
    assert plan.line == 1 and plan.col == 0


def test_secrets_are_redacted_from_the_prompt_window() -> None:
    key = "AKIA" + "ABCDEFGHIJKLMNOP"
    plan = service().plan(doc(f'aws_key = "{key}"\nclient = connect(\n'), 1, 17)
    assert key not in plan.prefix


def test_vet_drops_a_suggestion_that_breaks_parsing() -> None:
    svc = service()
    d = doc("def f(x):\n    return \n")
    plan = svc.plan(d, 1, 11)
    assert svc.vet(plan, "x + 1") is None
    verdict = svc.vet(plan, "x + (1")
    assert verdict is not None and verdict[0] == "drop" and "parsed" in verdict[1]


def test_vet_incremental_parse_agrees_with_full_parse() -> None:
    svc = service(completion={"secure_filter": "off"})
    text = "".join(f"def f{i}(a):\n    return a * {i}\n\n" for i in range(300)) + "value = \n"
    d = doc(text)
    plan = svc.plan(d, 900, 8)
    for candidate in ("f1(2)", "f1(2", "[1, 2]", "{'a': (1, 2)}", ")", "lambda: 3"):
        full = breaks_parse(text, text[: len(text) - 1] + candidate + "\n", "python")
        assert (svc.vet(plan, candidate) is not None) == full, candidate


@pytest.mark.parametrize(("mode", "expected"), [("drop", "drop"), ("label", "label")])
def test_vet_security_filter(mode: str, expected: str) -> None:
    svc = service(completion={"secure_filter": mode})
    plan = svc.plan(doc("import yaml\n\ndef read(data):\n    return \n"), 3, 11)
    verdict = svc.vet(plan, "yaml.load(data)")
    assert verdict is not None and verdict[0] == expected and "PY-B506" in verdict[1]
    assert svc.vet(plan, "yaml.safe_load(data)") is None


def test_existing_findings_do_not_block_suggestions() -> None:
    svc = service()
    plan = svc.plan(doc("import yaml\nx = yaml.load(data)\ny = \n"), 2, 4)
    assert svc.vet(plan, "1") is None


def test_cache_serves_typing_through() -> None:
    cache = CompletionCache(8)
    d = doc("def f():\n    retu\n")
    cache.put(d, 1, 8, ["rn value + 1"])
    typed = doc("def f():\n    return va\n")
    assert cache.get(typed, 1, 13) == ["lue + 1"]
    diverged = doc("def f():\n    return x\n")
    assert cache.get(diverged, 1, 12) is None
    other_line = doc("import os\ndef f():\n    return va\n")
    assert cache.get(other_line, 2, 13) is None
    assert cache.hits == 1 and cache.misses == 2


def test_fit_shrinks_a_prompt_that_does_not_fit(tiny_model_path: Path) -> None:
    engine = LlamaEngine(tiny_model_path)
    try:
        svc = service(
            completion={
                "max_tokens": 4,
                "prefix_chars": 50000,
                "suffix_chars": 50000,
                "secure_filter": "off",
            }
        )
        text = "x = 1\n" * 6000 + "y = \n" + "z = 2\n" * 6000
        plan = svc.plan(doc(text), 6000, 4)
        out = svc.run(engine, plan, cancel=threading.Event())
        assert out.generations and out.generations[0].n_prompt <= engine.info.n_ctx - 4
        assert plan.prefix.endswith("y = ")
    finally:
        engine.close()


class ScriptedEngine:
    """Answers every prompt with one fixed text (the layers above the engine, not the model, are under test)."""

    def __init__(self, text: str, stop_reason: str = "length") -> None:
        from slm_lsp.generation import ModelInfo

        self.text, self.stop_reason = text, stop_reason
        self.info = ModelInfo(path="scripted.gguf", backend="llama_cpp", family="prefix", n_ctx=0)

    def count_tokens(self, text: str) -> int:
        return len(text) // 4

    def generate(self, prompt, params, cancel, on_text=None):  # type: ignore[no-untyped-def]
        from slm_lsp.generation import Generation

        if on_text is not None:
            on_text(self.text)
        return Generation(text=self.text, stop_reason=self.stop_reason)  # type: ignore[arg-type]


def test_a_block_cut_short_keeps_the_lines_that_parse() -> None:
    svc = service(completion={"secure_filter": "off"})
    d = doc("def f(items):\n    total = 0\n    \n")
    plan = svc.plan(d, 2, 4)
    # the token limit stopped the model inside a call: the last line would break the file
    out = svc.run(
        ScriptedEngine("for x in items:\n        total += x\n    return helper(total,"), plan
    )
    assert [s.text for s in out.suggestions] == ["for x in items:\n        total += x"]
    # nothing that parses: nothing is shown
    out = svc.run(ScriptedEngine("return helper(total,\n        3"), svc.plan(d, 2, 4))
    assert out.suggestions == [] and out.dropped and "parsed" in out.dropped[-1][1]


def test_a_multi_line_suggestion_cut_by_the_token_limit_keeps_its_finished_lines() -> None:
    svc = service(completion={"secure_filter": "off"})
    d = doc("class Lexer:\n    def next(self):\n        token = self.get_token()\n")
    raw = "\n        if token is None:\n            raise StopIteration\n        return self.__"
    out = svc.run(ScriptedEngine(raw, "length"), svc.plan(d, 2, 32))
    assert [s.text for s in out.suggestions] == [
        "\n        if token is None:\n            raise StopIteration"
    ]
    # the model ended by itself: its last line is whole
    out = svc.run(ScriptedEngine(raw + "next__()\n", "eos"), svc.plan(d, 2, 32))
    assert out.suggestions[0].text.endswith("return self.__next__()")
    # one line cut short stays: it is what typing through continues
    out = svc.run(ScriptedEngine("self.get_to", "length"), svc.plan(d, 2, 16))
    assert [s.text for s in out.suggestions] == ["self.get_to"]


class PacedEngine(ScriptedEngine):
    """Writes its text piece by piece, ``pause`` seconds apart, and stops when told to."""

    def __init__(self, pieces: list[str], pause: float) -> None:
        super().__init__("".join(pieces), "eos")
        self.pieces, self.pause = pieces, pause

    def generate(self, prompt, params, cancel, on_text=None):  # type: ignore[no-untyped-def]
        from slm_lsp.generation import Generation

        text = ""
        for piece in self.pieces:
            time.sleep(self.pause)
            text += piece
            if on_text is not None and on_text(piece):
                return Generation(text=text, stop_reason="stop")
        return Generation(text=text, stop_reason="eos")


def test_with_a_latency_target_a_slow_multi_line_suggestion_ends_at_a_line_end() -> None:
    d = doc("def f():\n    x = 1\n")
    pieces = ["\n", "    y = 2", "\n", "    z = 3", "\n", "    w = 4", "\n"]
    # 4 ms of generation past the first piece is 20 % of a 20 ms target: stop at the next line end
    svc = service(completion={"secure_filter": "off", "target_latency_ms": 20})
    out = svc.run(PacedEngine(pieces, 0.01), svc.plan(d, 1, 9))
    assert [s.text for s in out.suggestions] == ["\n    y = 2"]
    assert out.generations[0].stop_reason == "stop"
    # no target: the whole block
    svc = service(completion={"secure_filter": "off", "target_latency_ms": 0})
    out = svc.run(PacedEngine(pieces, 0.01), svc.plan(d, 1, 9))
    assert [s.text for s in out.suggestions] == ["\n    y = 2\n    z = 3\n    w = 4"]


def test_the_window_and_the_suffix_stay_put_while_typing_within_a_line() -> None:
    svc = service(**{"completion.prefix_chars": 60, "completion.suffix_chars": 40})
    before = "".join(f"x{i} = {i}\n" for i in range(20))
    after = "".join(f"x{i} = {i}\n" for i in range(20, 40))
    line = before.count("\n")
    plans = [
        svc.plan(doc(before + "y = " + typed + "\n" + after), line, 4 + len(typed))
        for typed in ("", "a", "ab", "abc", "abcd")
    ]
    assert len({p.window for p in plans}) == 1
    assert len({p.suffix for p in plans}) == 1
    assert len({p.prefix[: p.prefix.rfind("\n") + 1] for p in plans}) == 1


def test_budgets_fit_a_target_latency(tiny_model_path: Path) -> None:
    engine = LlamaEngine(tiny_model_path)
    try:
        svc = service(**{"completion.target_latency_ms": 1500, "completion.max_tokens": 64})
        engine._prompt_tps, engine._gen_tps = 5000.0, 200.0  # fast: the settings fit as they are
        fast = svc.budgets(engine)
        assert (fast.prefix_chars, fast.max_tokens, fast.note) == (6000, 64, "")
        engine._prompt_tps, engine._gen_tps = (
            200.0,
            40.0,
        )  # 1.5 s: at most 24 generated tokens, the rest for the prompt
        mid = svc.budgets(engine)
        assert mid.max_tokens == 24 and 0 < mid.prefix_chars < 6000
        assert f"prompts take {mid.prefix_chars} of 6000 prefix characters" in mid.note
        assert (mid.prefix_chars + mid.suffix_chars) / 3.5 + mid.context_tokens <= 200 * 0.9 + 1
        engine._prompt_tps, engine._gen_tps = (
            5.0,
            2.0,
        )  # too slow for any prompt: the smallest budgets, and why
        slow = svc.budgets(engine)
        assert (
            slow.prefix_chars == 120 and slow.max_tokens == 4 and "target_latency_ms" in slow.note
        )
        plan = svc.plan(doc("a = 1\n" * 100), 50, 0, engine.count_tokens, slow)
        assert len(plan.prefix) <= 120 and plan.max_tokens == 4
        assert svc.budgets(None).prefix_chars == 6000  # no engine speed: the settings
        engine._prompt_tps = engine._gen_tps = None
        measured = engine.speed()  # the probe on the real model
        assert measured[0] > 0 and measured[1] > 0
    finally:
        engine.close()


class _Speed:
    """An engine that only reports a speed (``budgets`` reads nothing else)."""

    def __init__(self, prompt_tps: float, gen_tps: float) -> None:
        self.tps = (prompt_tps, gen_tps)

    def speed(self) -> tuple[float, float]:
        return self.tps


def test_lowered_budgets_move_in_steps_so_a_wobbling_speed_keeps_the_prompt() -> None:
    svc = service(**{"completion.target_latency_ms": 2000, "completion.max_tokens": 24})
    prompt_of = lambda b: (b.prefix_chars, b.suffix_chars, b.context_tokens)  # noqa: E731
    first = prompt_of(svc.budgets(_Speed(300.0, 30.0)))
    assert first[0] < 6000
    # the speed a running average reports from request to request (±10 %): the same prompt
    for tps in (290.0, 310.0, 320.0, 275.0, 330.0, 300.0):
        assert prompt_of(svc.budgets(_Speed(tps, 30.0))) == first, tps
    # a machine half as fast lowers the budgets; the same wobble there keeps them
    slower = prompt_of(svc.budgets(_Speed(150.0, 30.0)))
    assert slower[0] < first[0]
    for tps in (165.0, 140.0, 160.0):
        assert prompt_of(svc.budgets(_Speed(tps, 30.0))) == slower, tps
    assert prompt_of(svc.budgets(_Speed(300.0, 30.0))) == first
    assert prompt_of(svc.budgets(_Speed(5000.0, 300.0))) == (6000, 2000, 768)  # fast: the settings
