"""Python rules: the rule set lives in ``table`` (moved here unchanged; split by theme next)."""

from slm_lsp.security.rules.python.table import RULESET as RULESET
