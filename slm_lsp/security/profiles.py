"""Which findings a profile reports: ``security`` (likely vulnerabilities) or ``audit`` (everything).

``audit`` is what bandit reports and more: every rule, asserts, imports of risky modules, low
severity and low confidence included. ``security`` (the default for the editor and ``review``) keeps
a finding only when it probably is a vulnerability: every data-flow finding, and pattern findings
of at least medium severity and medium confidence whose rule is not an audit-only rule; a pattern
finding on the same line and CWE as a data-flow finding is dropped (the data-flow one says more).
"""

from __future__ import annotations

from slm_lsp.security.model import Finding, level_rank

PROFILES: tuple[str, ...] = ("security", "audit")
DEFAULT_PROFILE = "security"

#: Rules that describe code to look at, not a vulnerability: reported by ``audit`` only.
AUDIT_ONLY: frozenset[str] = frozenset(
    {
        "PY-B101",  # assert (a reliability concern; 56 % of all findings on real code)
        "PY-B110",  # try/except/pass
        "PY-B112",  # try/except/continue
        "PY-B113",  # request without a timeout
        "PY-B311",  # any use of random
        "PY-B603",  # subprocess without a shell
        "PY-B606",  # process started without a shell
        "PY-B607",  # partial executable path
        "PY-B504",
        "JAVA-S006",  # java.util.Random anywhere
    }
)
#: Rule-id prefixes that are audit-only (imports of modules with a risky reputation).
AUDIT_ONLY_PREFIXES: tuple[str, ...] = ("PY-B4",)


def is_flow(f: Finding) -> bool:
    """Whether a finding was confirmed by the data flow (it carries a source → sink path)."""
    return bool(f.flow)


def keep(f: Finding) -> bool:
    """Whether the ``security`` profile reports this finding (flows aside)."""
    if is_flow(f):
        return True
    if f.rule_id in AUDIT_ONLY or f.rule_id.startswith(AUDIT_ONLY_PREFIXES):
        return False
    return level_rank(f.severity) >= 1 and level_rank(f.confidence) >= 1


def select(findings: list[Finding], profile: str) -> list[Finding]:
    """The findings ``profile`` reports, in their order."""
    if profile == "audit":
        return findings
    flows = {(f.start_line, f.cwe) for f in findings if is_flow(f)}
    return [f for f in findings if keep(f) and (is_flow(f) or (f.start_line, f.cwe) not in flows)]


def rank(f: Finding) -> int:
    """0 for data-flow findings (listed first), 1 for the rest."""
    return 0 if is_flow(f) else 1
