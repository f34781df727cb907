"""Prompt and generation budgets: the settings, lowered to fit ``completion.target_latency_ms``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from slm_lsp.config import Settings
    from slm_lsp.generation import Engine

#: Characters per prompt token assumed when fitting character budgets to a token budget.
CHARS_PER_TOKEN = 3.5
#: Share of ``completion.target_latency_ms`` that generation may take at most.
GENERATION_SHARE = 0.4
#: The smallest budgets ``completion.target_latency_ms`` lowers to: prefix characters, generated tokens.
MIN_PREFIX_CHARS = 120
MIN_MAX_TOKENS = 4


@dataclass(frozen=True)
class Budgets:
    """How much of the file goes into a prompt and how much is generated (``budgets_for``)."""

    prefix_chars: int
    suffix_chars: int
    context_tokens: int
    max_tokens: int
    note: str = ""  #: why the budgets were lowered below the settings (shown in ``slm/status``)


def budgets_for(settings: Settings, engine: Engine | None = None) -> Budgets:
    """The budgets of the next prompt: the settings, lowered so that a cold suggestion fits
    ``completion.target_latency_ms`` at the engine's measured speed (``speed()``)."""
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
    scale = max(0.0, min(1.0, prompt_budget / wanted)) if wanted else 1.0
    # context goes first (it helps least per token), then the suffix, then the prefix
    context = int(full.context_tokens * scale * scale)
    suffix = int(cs.suffix_chars * scale)
    prefix = max(MIN_PREFIX_CHARS, int(cs.prefix_chars * scale))
    note = ""
    if prompt_budget < MIN_PREFIX_CHARS / CHARS_PER_TOKEN:
        note = (
            f"the model evaluates about {prompt_tps:.0f} prompt tokens/s and generates "
            f"{gen_tps:.0f} tokens/s: no prompt fits completion.target_latency_ms = "
            f"{cs.target_latency_ms}, so suggestions use the smallest budgets and come late"
        )
    return Budgets(min(prefix, cs.prefix_chars), suffix, context, max_tokens, note)
