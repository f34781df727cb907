"""What a rule module works with: the per-file context, query patterns and the helpers that report.

A language's rules are :class:`Pattern` s (a tree-sitter query text and a handler called with each
match's captures) plus optional text checks. The engine joins every pattern of a language into one
query, compiles it once per process and runs it once per file; handlers in phase 0 collect facts
(imports, assignments) before the handlers of phase 1 report.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from slm_lsp.security.model import Edit, Fix, Rule

if TYPE_CHECKING:  # pragma: no cover
    from tree_sitter import Node, Tree

Captures = dict[str, list["Node"]]
Handler = Callable[["FileContext", Captures], None]


@dataclass(frozen=True)
class Pattern:
    """One query pattern (or a few alternatives) and what to do with its matches."""

    query: str
    handler: Handler
    phase: int = 1  #: 0: collect facts; 1: report


@dataclass
class RuleSet:
    """Everything one rule module contributes for a group of languages."""

    languages: tuple[str, ...]
    rules: list[Rule] = field(default_factory=list)
    patterns: list[Pattern] = field(default_factory=list)
    #: checks over the raw text (e.g. bidirectional control characters)
    text_checks: list[Callable[[FileContext], None]] = field(default_factory=list)
    #: per-language query overrides: (language, pattern index in ``patterns``) → query text
    variants: dict[tuple[str, int], str] = field(default_factory=dict)


@dataclass
class RawFinding:
    """A finding before positions are converted and suppressions applied (byte columns)."""

    rule_id: str
    start: tuple[int, int]
    end: tuple[int, int]
    message: str | None
    severity: str | None
    confidence: str | None
    fix: Fix | None
    alternatives: tuple[Fix, ...]
    #: data-flow steps: (kind, start (row, byte col), end, note)
    flow: tuple[tuple[str, tuple[int, int], tuple[int, int], str], ...] = ()


class BudgetExceeded(Exception):
    """The file's time budget ran out; findings so far are kept."""


class FileContext:
    """One document being checked: its bytes, tree, facts gathered by handlers and findings."""

    def __init__(
        self, text: str, data: bytes, tree: Tree, language: str, path: str, deadline: float
    ) -> None:
        self.text = text
        self.data = data
        self.tree = tree
        self.root = tree.root_node
        self.language = language
        self.path = path
        self.deadline = deadline
        self.findings: list[RawFinding] = []
        self.facts: dict[str, Any] = {}
        self._lines: list[bytes] | None = None
        self._ascii = data.isascii()

    # ------------------------------------------------------------ text and positions
    def lines(self) -> list[bytes]:
        """The document's lines as bytes (split once, on demand)."""
        if self._lines is None:
            self._lines = self.data.split(b"\n")
        return self._lines

    def char_col(self, row: int, byte_col: int) -> int:
        """A byte column on ``row`` → code-point column."""
        if self._ascii:
            return byte_col
        lines = self.lines()
        if row >= len(lines):
            return byte_col
        return len(lines[row][:byte_col].decode("utf-8", errors="replace"))

    def edit(self, node: Node, new_text: str) -> Edit:
        """Replace ``node``'s text."""
        return self.edit_points(node.start_point, node.end_point, new_text)

    def edit_points(self, start: tuple[int, int], end: tuple[int, int], new_text: str) -> Edit:
        """Replace the text between two tree-sitter points (byte columns)."""
        return Edit(
            start[0],
            self.char_col(start[0], start[1]),
            end[0],
            self.char_col(end[0], end[1]),
            new_text,
        )

    def check_time(self) -> None:
        """Raise :class:`BudgetExceeded` once the deadline has passed."""
        if time.perf_counter() > self.deadline:
            raise BudgetExceeded

    # ------------------------------------------------------------ reporting
    def report(
        self,
        rule_id: str,
        node: Node | tuple[Node, Node],
        message: str | None = None,
        *,
        severity: str | None = None,
        confidence: str | None = None,
        fix: Fix | None = None,
        alternatives: Iterable[Fix] = (),
    ) -> None:
        """Report ``rule_id`` at a node (or from the start of one node to the end of another)."""
        first, last = node if isinstance(node, tuple) else (node, node)
        sp, ep = first.start_point, last.end_point
        self.findings.append(
            RawFinding(
                rule_id,
                (sp[0], sp[1]),
                (ep[0], ep[1]),
                message,
                severity,
                confidence,
                fix,
                tuple(alternatives),
            )
        )

    def report_flow(
        self,
        rule_id: str,
        node: Node,
        flow: tuple[tuple[str, tuple[int, int], tuple[int, int], str], ...],
        message: str | None = None,
        confidence: str | None = None,
    ) -> None:
        """Report a data-flow finding at the sink ``node`` with the path that reaches it."""
        sp, ep = node.start_point, node.end_point
        self.findings.append(
            RawFinding(
                rule_id, (sp[0], sp[1]), (ep[0], ep[1]), message, None, confidence, None, (), flow
            )
        )

    def report_at(
        self,
        rule_id: str,
        start: tuple[int, int],
        end: tuple[int, int],
        message: str | None = None,
        **kw: Any,
    ) -> None:
        """Report at explicit (row, byte column) points."""
        self.findings.append(
            RawFinding(
                rule_id,
                start,
                end,
                message,
                kw.get("severity"),
                kw.get("confidence"),
                kw.get("fix"),
                tuple(kw.get("alternatives", ())),
            )
        )


def text_of(node: Node | None) -> str:
    """A node's source text ('' for None)."""
    if node is None:
        return ""
    raw = node.text
    return raw.decode("utf-8", errors="replace") if raw is not None else ""


def query_rule(
    rule_id: str,
    query: str,
    *,
    capture: str = "hit",
    when: Callable[[FileContext, Captures], bool] | None = None,
    fix: Callable[[FileContext, Captures], Fix | None] | None = None,
    message: Callable[[FileContext, Captures], str | None] | None = None,
) -> Pattern:
    """A pattern that reports ``rule_id`` at ``@capture`` for every match (passing ``when``)."""

    def handler(ctx: FileContext, caps: Captures) -> None:
        nodes = caps.get(capture)
        if not nodes:
            return
        if when is not None and not when(ctx, caps):
            return
        ctx.report(
            rule_id,
            nodes[0],
            message(ctx, caps) if message else None,
            fix=fix(ctx, caps) if fix else None,
        )

    return Pattern(query, handler)
