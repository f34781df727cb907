"""The review's result (``Report``) and its JSON form: the stable, documented schema of ``--format json``.

Positions in the output are 1-based lines and columns counted in Unicode code points; an end
column is exclusive (the column just after the last character), as in SARIF.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from slm_lsp.security.model import Edit, Finding, Fix, FlowStep, level_rank

#: Version of the JSON schema below; it changes only when a field changes meaning or disappears.
JSON_SCHEMA_VERSION = 1
#: Severity names in the order the text report lists them.
SEVERITIES = ("high", "medium", "low")


@dataclass
class ModelNote:
    """What the model said about one finding or changed hunk."""

    status: str  #: ok | no_output | budget_exhausted | error
    explanation: str = ""
    rewrite: Edit | None = (
        None  #: the proposed secure rewrite (0-based, code points), when the model made one
    )
    tokens: int = 0  #: tokens generated for this note
    error: str = ""


@dataclass
class Item:
    """One reported finding with what the outputs need besides the engine's ``Finding``."""

    finding: Finding  #: path relative to the review root, ``/``-separated
    code: str  #: the text of the line the finding starts on
    fingerprint: str
    model: ModelNote | None = None

    @property
    def sort_key(self) -> tuple[Any, ...]:
        f = self.finding
        return (f.path, f.start_line, f.start_col, f.rule_id, f.end_line, f.end_col)

    @property
    def rank_key(self) -> tuple[Any, ...]:
        """Data-flow-confirmed findings first, then by place."""
        return (0 if self.finding.flow else 1, *self.sort_key)


@dataclass
class Hunk:
    """A changed range (``--explain-changes``): 0-based inclusive lines of the new file."""

    path: str
    start_line: int
    end_line: int
    model: ModelNote | None = None


@dataclass
class Report:
    """Everything a review found; the formats only render it."""

    root: str
    items: list[Item] = field(default_factory=list)
    files_scanned: int = 0
    bytes_scanned: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    uncovered: dict[str, int] = field(default_factory=dict)
    #: files of a checked language left out by ``review.exclude``
    excluded: int = 0
    baselined: int = 0
    outside_changes: int = 0
    seconds: float = 0.0
    jobs: int = 1
    fail_on: str = "medium"
    min_confidence: str = "low"
    profile: str = "security"
    changed_since: str | None = None
    hunks: list[Hunk] = field(default_factory=list)
    model: dict[str, Any] | None = None  #: model name, tokens used, budget (with --with-model)

    def failing(self) -> list[Item]:
        """The findings at or above ``fail_on``."""
        if self.fail_on == "never":
            return []
        bar = level_rank(self.fail_on)
        return [i for i in self.items if level_rank(i.finding.severity) >= bar]

    def counts(self) -> dict[str, int]:
        out = {s: 0 for s in SEVERITIES}
        for i in self.items:
            out[i.finding.severity] = out.get(i.finding.severity, 0) + 1
        return out


def _edit_json(e: Edit) -> dict[str, Any]:
    return {
        "start_line": e.start_line + 1,
        "start_column": e.start_col + 1,
        "end_line": e.end_line + 1,
        "end_column": e.end_col + 1,
        "new_text": e.new_text,
    }


def _step_json(s: FlowStep) -> dict[str, Any]:
    return {
        "kind": s.kind,
        "line": s.line + 1,
        "column": s.col + 1,
        "end_line": s.end_line + 1,
        "end_column": s.end_col + 1,
        "note": s.note,
    }


def _fix_json(fix: Fix) -> dict[str, Any]:
    return {"title": fix.title, "edits": [_edit_json(e) for e in fix.edits]}


def _model_json(note: ModelNote | None) -> dict[str, Any] | None:
    if note is None:
        return None
    out: dict[str, Any] = {
        "status": note.status,
        "explanation": note.explanation,
        "rewrite": _edit_json(note.rewrite) if note.rewrite else None,
        "tokens": note.tokens,
    }
    if note.error:
        out["error"] = note.error
    return out


def to_json(report: Report, rule_titles: dict[str, str]) -> dict[str, Any]:
    """The ``--format json`` document (see docs/review.md for every field)."""
    findings = []
    for item in report.items:
        f = item.finding
        entry: dict[str, Any] = {
            "rule_id": f.rule_id,
            "title": rule_titles.get(f.rule_id, ""),
            "cwe": f"CWE-{f.cwe}",
            "severity": f.severity,
            "confidence": f.confidence,
            "path": f.path,
            "language": f.language,
            "start_line": f.start_line + 1,
            "start_column": f.start_col + 1,
            "end_line": f.end_line + 1,
            "end_column": f.end_col + 1,
            "message": f.message,
            "code": item.code,
            "fingerprint": item.fingerprint,
            "fix": _fix_json(f.fix) if f.fix else None,
            "alternative_fixes": [_fix_json(a) for a in f.alternatives],
            "flow": [_step_json(s) for s in f.flow],
        }
        if report.model is not None:
            entry["model"] = _model_json(item.model)
        findings.append(entry)
    doc: dict[str, Any] = {
        "schema_version": JSON_SCHEMA_VERSION,
        "tool": {"name": "slm-lsp", "version": _version()},
        "root": report.root,
        "settings": {
            "fail_on": report.fail_on,
            "min_confidence": report.min_confidence,
            "profile": report.profile,
            "changed_since": report.changed_since,
        },
        "summary": {
            "findings": len(report.items),
            "data_flow_findings": sum(1 for i in report.items if i.finding.flow),
            "by_severity": report.counts(),
            "failing": len(report.failing()),
            "baselined": report.baselined,
            "outside_changes": report.outside_changes,
            "files_scanned": report.files_scanned,
            "bytes_scanned": report.bytes_scanned,
            "files_skipped": len(report.skipped),
            "files_excluded": report.excluded,
            "seconds": round(report.seconds, 3),
        },
        "findings": findings,
        "files_skipped": [{"path": p, "reason": r} for p, r in report.skipped],
        "files_uncovered": dict(sorted(report.uncovered.items())),
    }
    if report.model is not None:
        doc["model"] = report.model
        doc["hunks"] = [
            {
                "path": h.path,
                "start_line": h.start_line + 1,
                "end_line": h.end_line + 1,
                "model": _model_json(h.model),
            }
            for h in report.hunks
        ]
    return doc


def _version() -> str:
    from slm_lsp import __version__

    return __version__
