"""The rule registry: every rule module's :class:`~slm_lsp.security.core.RuleSet` and the data-flow rules, loaded once per process."""

from __future__ import annotations

import importlib
from functools import lru_cache

from slm_lsp.security.core import RuleSet
from slm_lsp.security.model import Rule

#: Rule modules, each exposing ``RULESET`` (or ``RULESETS``).
MODULES: tuple[str, ...] = (
    "python",
    "javascript",
    "go",
    "java",
    "c",
    "ruby",
    "php",
    "misc",
    "tables",
)


@lru_cache(maxsize=1)
def rulesets() -> tuple[RuleSet, ...]:
    """All rule sets, in module order."""
    out: list[RuleSet] = []
    for name in MODULES:
        mod = importlib.import_module(f"{__name__}.{name}")
        if hasattr(mod, "RULESETS"):
            out.extend(mod.RULESETS)
        else:
            out.append(mod.RULESET)
    return tuple(out)


@lru_cache(maxsize=1)
def all_rules() -> dict[str, Rule]:
    """Rule id → rule, across all modules (a duplicate id is a programming error)."""
    from slm_lsp.security import taint

    out: dict[str, Rule] = {}
    for rs in (*rulesets(), RuleSet((), taint.rules())):
        for rule in rs.rules:
            if rule.id in out and out[rule.id] != rule:
                raise ValueError(f"duplicate rule id {rule.id}")
            out[rule.id] = rule
    return out
