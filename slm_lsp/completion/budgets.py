"""Prompt and generation budgets: the settings, lowered to fit ``completion.target_latency_ms``."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from slm_lsp.config import Settings
    from slm_lsp.generation import Engine

#: Characters per prompt token assumed when fitting character budgets to a token budget.
CHARS_PER_TOKEN = 3.5
#: Share of ``completion.target_latency_ms`` that generation may take at most.
GENERATION_SHARE = 0.4
#: Share of ``completion.target_latency_ms`` after which generation stops at the next line end
#: that leaves a suggestion (a multi-line one comes one or two lines long, but in time).
LINE_STOP_SHARE = 0.2
#: The smallest budgets ``completion.target_latency_ms`` lowers to: prefix characters, generated tokens.
MIN_PREFIX_CHARS = 120
MIN_MAX_TOKENS = 4
#: Steps per halving of the prompt budget when a target lowers it: the budgets move only when the
#: measured speed moves by a step (a new prefix or suffix length would re-evaluate the cached prompt).
BUDGET_STEPS_PER_HALVING = 2


@dataclass(frozen=True)
class Budgets:
    """How much of the file goes into a prompt and how much is generated (``budgets_for``)."""

    prefix_chars: int
    suffix_chars: int
    context_tokens: int
    max_tokens: int
    note: str = ""  #: why the budgets were lowered below the settings (shown in ``slm/status``)


class BudgetSteps:
    """The budget step last chosen, kept between requests (one per ``CompletionService``)."""

    def __init__(self) -> None:
        self.step: int | None = None

    def share(self, share: float) -> float:
        """``share`` (the part of the wanted prompt that fits) rounded down to a step of
        ``BUDGET_STEPS_PER_HALVING``, with hysteresis: the last step is kept until the share is
        half a step outside it, so a speed that wobbles around a step's edge does not change the
        prompt from key to key (at worst a prompt is a quarter-halving, 19 %, over the target)."""
        if share >= 1.0 or share <= 0.0:
            self.step = None
            return 1.0 if share >= 1.0 else 0.0
        exact = math.log2(share) * BUDGET_STEPS_PER_HALVING
        step = math.floor(exact)
        if self.step is not None and self.step - 0.5 <= exact < self.step + 1.5:
            step = self.step
        self.step = step
        return float(2.0 ** (step / BUDGET_STEPS_PER_HALVING))


def budgets_for(
    settings: Settings, engine: Engine | None = None, steps: BudgetSteps | None = None
) -> Budgets:
    """The budgets of the next prompt: the settings, lowered so that a cold suggestion fits
    ``completion.target_latency_ms`` at the engine's measured speed (``speed()``), in the steps
    ``steps`` keeps (a fresh ``BudgetSteps`` when None)."""
    cs = settings.completion
    full = Budgets(cs.prefix_chars, cs.suffix_chars, settings.context.budget_tokens, cs.max_tokens)
    speed = getattr(engine, "speed", None)
    if not cs.target_latency_ms or speed is None:
        return full
    prompt_tps, gen_tps = speed()
    target_s = cs.target_latency_ms / 1000
    max_tokens = max(MIN_MAX_TOKENS, min(cs.max_tokens, int(gen_tps * target_s * GENERATION_SHARE)))
    prompt_budget = (target_s - max_tokens / max(gen_tps, 1e-6)) * prompt_tps
    wanted = (cs.prefix_chars + cs.suffix_chars) / CHARS_PER_TOKEN + full.context_tokens
    if prompt_budget >= wanted and max_tokens == cs.max_tokens:
        return full
    scale = (steps or BudgetSteps()).share(prompt_budget / wanted if wanted else 1.0)
    # context goes first (it helps least per token), then the suffix, then the prefix
    context = int(full.context_tokens * scale * scale)
    suffix = int(cs.suffix_chars * scale)
    prefix = min(cs.prefix_chars, max(MIN_PREFIX_CHARS, int(cs.prefix_chars * scale)))
    speeds = (
        f"the model evaluates about {prompt_tps:.0f} prompt tokens/s and generates "
        f"{gen_tps:.0f} tokens/s"
    )
    if prompt_budget < MIN_PREFIX_CHARS / CHARS_PER_TOKEN:
        note = (
            f"{speeds}: no prompt fits completion.target_latency_ms = "
            f"{cs.target_latency_ms}, so suggestions use the smallest budgets and come late"
        )
    else:
        note = (
            f"{speeds}: to fit completion.target_latency_ms = {cs.target_latency_ms}, "
            f"prompts take {prefix} of {cs.prefix_chars} prefix characters, {suffix} of "
            f"{cs.suffix_chars} suffix characters, {context} of {full.context_tokens} "
            f"context tokens, and generate at most {max_tokens} of {cs.max_tokens} tokens"
        )
    return Budgets(prefix, suffix, context, max_tokens, note)
