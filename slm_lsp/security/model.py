"""The security engine's public data: rules, findings and the fixes that repair them.

Positions everywhere are 0-based lines and columns counted in Unicode code points (a Python
``str`` index within the line), the same convention as ``slm_lsp.text``; the LSP layer converts
to the client's units.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Levels in increasing order, for severity and confidence alike.
LEVELS: tuple[str, ...] = ("low", "medium", "high")


def level_rank(level: str) -> int:
    """0 for low, 1 for medium, 2 for high (an unknown level counts as low)."""
    try:
        return LEVELS.index(level)
    except ValueError:
        return 0


@dataclass(frozen=True)
class Rule:
    """One check: what it finds, why it matters and how to write the code instead."""

    id: str  #: stable id, e.g. ``PY-B602``, ``JS-S001``
    title: str  #: a few words
    cwe: int  #: MITRE CWE number
    severity: str  #: low / medium / high
    confidence: str  #: low / medium / high
    message: str  #: what the diagnostic says
    help: str  #: the rationale and what to do instead
    good: str  #: an example that passes
    bad: str  #: an example that is reported
    languages: tuple[str, ...]  #: our language names (see ``slm_lsp.languages``)
    bandit: str | None = None  #: the equivalent bandit test id for Python rules
    fixable: bool = False  #: whether some findings carry a deterministic fix


@dataclass(frozen=True)
class Edit:
    """Replace the text between two positions (end exclusive) with ``new_text``."""

    start_line: int
    start_col: int
    end_line: int
    end_col: int
    new_text: str


@dataclass(frozen=True)
class Fix:
    """A titled group of edits applied together."""

    title: str
    edits: tuple[Edit, ...]


@dataclass(frozen=True)
class FlowStep:
    """One step of a data flow: where tainted data comes from, each place it moves to, the sink."""

    kind: str  #: ``source``, ``step`` or ``sink``
    line: int
    col: int
    end_line: int
    end_col: int
    note: str  #: what happens here, e.g. ``cmd = "ls " + name``


@dataclass(frozen=True)
class Finding:
    """One reported problem at a range of a document."""

    rule_id: str
    path: str
    language: str
    start_line: int
    start_col: int
    end_line: int
    end_col: int
    message: str
    severity: str
    confidence: str
    cwe: int
    fix: Fix | None = None
    #: further fixes the user may prefer (e.g. ``usedforsecurity=False`` instead of a stronger hash)
    alternatives: tuple[Fix, ...] = ()
    #: for data-flow findings: the source, the steps and the sink, in order (empty for pattern rules)
    flow: tuple[FlowStep, ...] = ()

    @property
    def fixes(self) -> tuple[Fix, ...]:
        """The preferred fix first, then the alternatives."""
        return ((self.fix,) if self.fix else ()) + self.alternatives
