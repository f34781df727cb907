"""Secure-code checks: tree-sitter rules per language, suppressions and deterministic fixes (no LSP imports)."""

from slm_lsp.security.engine import SecurityEngine, apply_fix
from slm_lsp.security.model import Edit, Finding, Fix, Rule

__all__ = ["Edit", "Finding", "Fix", "Rule", "SecurityEngine", "apply_fix"]
