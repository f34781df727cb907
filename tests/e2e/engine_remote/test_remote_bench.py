"""The remote-vs-local latency comparison: its arithmetic with stub engines, and one real run."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from bench.remote_bench import compare_latency, sample_prompts
from slm_lsp.generation import Generation, GenerationParams, ModelInfo, Prompt


class StubEngine:
    """Takes ``delay_s`` (simulated work: a sleep, which CPU contention barely stretches) before its only piece of text."""

    def __init__(self, name: str, delay_s: float, text: str = "x") -> None:
        self.info = ModelInfo(path=name, backend=name, family="deepseek")
        self.delay_s = delay_s
        self.text = text
        self.calls = 0

    def generate(
        self,
        prompt: Prompt,
        params: GenerationParams,
        cancel: threading.Event,
        on_text: Callable[[str], None] | None = None,
    ) -> Generation:
        self.calls += 1
        time.sleep(self.delay_s)
        if on_text:
            on_text(self.text)
        return Generation(text=self.text, stop_reason="length")

    def count_tokens(self, text: str) -> int:
        return len(text)

    def close(self) -> None:
        pass


def test_ratio_of_two_stub_engines():
    prompts = sample_prompts("deepseek", 2)
    assert len(prompts) == 2 and all(p.fim and p.fim.prefix for p in prompts)
    local, remote = StubEngine("local", 0.01), StubEngine("remote", 0.04, text="y")
    result = compare_latency(local, remote, prompts, repeats=2, warmup=1)
    assert local.calls == remote.calls == 1 + 2 * 2
    assert 2 < result.total_ratio < 8
    assert result.overhead_ms > 20
    assert result.same_text == 0.0
    assert len(result.samples) == 8 and "samples" not in result.to_dict()


def test_no_prompts_is_an_error():
    with pytest.raises(ValueError):
        compare_latency(StubEngine("a", 0), StubEngine("b", 0), [])


@pytest.mark.slow
def test_real_run_against_llama_cpp_python(remote_model_path):
    pytest.importorskip("llama_cpp.server")
    from bench.remote_bench import run_bench

    result = run_bench(remote_model_path, n_prompts=2, repeats=1, max_tokens=8, n_ctx=2048)
    assert result["local_total_ms"] > 0 and result["remote_total_ms"] > 0
    assert result["total_ratio"] == pytest.approx(
        result["remote_total_ms"] / result["local_total_ms"], rel=0.01, abs=1e-3
    )  # the ratio is reported to 3 decimals
    assert result["server"].startswith("llama-cpp-python")
