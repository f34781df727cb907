"""Which findings a profile reports: ``security`` (likely vulnerabilities) or ``audit`` (everything).

``audit`` is what bandit reports and more: every rule, asserts, imports of risky modules, low
severity and low confidence included. ``security`` (the default for the editor and ``review``) keeps
a finding only when it probably is a vulnerability:

* every data-flow finding from a remote source (request data, network and file reads); flows from
  what a local user controls (argv, the environment) have low confidence and show in ``audit``;
* pattern findings of at least medium severity and medium confidence, except
  - audit-only rules (asserts, try/except/pass, imports, any use of ``random``, ``0.0.0.0``,
    ``/tmp`` strings, ``urlopen``: code to look at, rarely a vulnerability by itself);
  - injection-class rules (a CWE the language's data-flow table has sinks for: command, SQL,
    code, path, deserialisation, XML, XSS, redirect): for those the data flow decides, since the
    pattern cannot tell ``eval(request.args["x"])`` from ``eval("1 + 2")`` (measured: keeping the
    high/high ones, ``shell=True`` with a variable, added 19 stdlib findings, 1 true, 2 false);
  - findings in test code (``test/``, ``tests/``, ``test_*.py``, ``*_test.go``, ``*.spec.ts`` …).
"""

from __future__ import annotations

import re
from functools import cache

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
        "PY-B104",  # the string "0.0.0.0" anywhere
        "PY-B108",  # a "/tmp/..." string anywhere
        "PY-B310",  # any urlopen
        *(f"PY-B3{n}" for n in range(13, 21)),  # any XML parser call: the data flow decides
        "JAVA-S006",  # java.util.Random anywhere
    }
)
#: Paths of test code (their findings are rarely reachable by an attacker).
TEST_PATH = re.compile(
    r"(^|/)(tests?|testing|__tests__|spec)/|(^|/)test_[^/]*$|_tests?\.[a-z]+$|\.(spec|test)\.[jt]sx?$|Tests?\.(java|cs)$"
)


@cache
def _flow_cwes(language: str) -> frozenset[int]:
    from slm_lsp.security import taint

    t = taint.table(language)
    if t is None:
        return frozenset()
    cwes = set(t.cwes)
    if 94 in cwes:
        cwes |= {95, 1336}
    if 78 in cwes:
        cwes |= {77}
    return frozenset(cwes)


#: Rule-id prefixes that are audit-only (imports of modules with a risky reputation).
AUDIT_ONLY_PREFIXES: tuple[str, ...] = ("PY-B4",)


def is_flow(f: Finding) -> bool:
    """Whether a finding was confirmed by the data flow (it carries a source → sink path)."""
    return bool(f.flow)


def keep(f: Finding) -> bool:
    """Whether the ``security`` profile reports this finding (flows aside)."""
    if is_flow(f):
        return level_rank(f.confidence) >= 1  # a flow from argv/environment is low confidence
    if f.rule_id in AUDIT_ONLY or f.rule_id.startswith(AUDIT_ONLY_PREFIXES):
        return False
    if f.cwe in _flow_cwes(f.language):
        return False
    if f.path and TEST_PATH.search(f.path.replace("\\", "/")):
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
