"""``--format sarif``: SARIF 2.1.0 as GitHub code scanning wants it.

Every rule carries a short and full description, help as text and Markdown, ``security-severity``
(a numeric string GitHub maps to critical/high/medium/low), ``precision`` and tags with ``security``
and ``external/cwe/cwe-NNN``. Results point at URIs relative to ``%SRCROOT%`` (declared in
``originalUriBaseIds``), carry ``partialFingerprints`` (``baseline.FINGERPRINT_NAME``), and their fixes
are ``fixes[].artifactChanges[].replacements``: the engine's deterministic fixes first, then the
model's rewrite. Skipped files are ``toolExecutionNotifications`` of the invocation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from slm_lsp.review.baseline import FINGERPRINT_NAME
from slm_lsp.review.report import Report
from slm_lsp.security.model import Edit, Finding, Rule

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
#: GitHub's scale: >= 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low.
SECURITY_SEVERITY = {"high": "7.5", "medium": "5.0", "low": "2.0"}
#: Severity → SARIF ``level``.
LEVEL = {"high": "error", "medium": "warning", "low": "note"}
INFORMATION_URI = "https://github.com/slm-lsp/slm-lsp"


def _location(path: str) -> dict[str, Any]:
    if path.startswith("/"):
        return {"uri": Path(path).as_uri()}
    return {"uri": _uri_escape(path), "uriBaseId": "%SRCROOT%"}


def _uri_escape(rel: str) -> str:
    from urllib.parse import quote

    return quote(rel, safe="/-_.~")


def _region(sl: int, sc: int, el: int, ec: int) -> dict[str, int]:
    return {"startLine": sl + 1, "startColumn": sc + 1, "endLine": el + 1, "endColumn": ec + 1}


def _fix(path: str, title: str, edits: tuple[Edit, ...]) -> dict[str, Any]:
    return {
        "description": {"text": title},
        "artifactChanges": [
            {
                "artifactLocation": _location(path),
                "replacements": [
                    {
                        "deletedRegion": _region(e.start_line, e.start_col, e.end_line, e.end_col),
                        "insertedContent": {"text": e.new_text},
                    }
                    for e in edits
                ],
            }
        ],
    }


def _rule_json(rule: Rule) -> dict[str, Any]:
    lang = rule.languages[0] if rule.languages else ""
    markdown = (
        f"**{rule.title}** ([CWE-{rule.cwe}](https://cwe.mitre.org/data/definitions/{rule.cwe}.html))\n\n{rule.help}\n\n"
        f"Reported:\n\n```{lang}\n{rule.bad.rstrip()}\n```\n\nInstead:\n\n```{lang}\n{rule.good.rstrip()}\n```\n"
    )
    tags = ["security", f"external/cwe/cwe-{rule.cwe}", *rule.languages]
    props: dict[str, Any] = {
        "security-severity": SECURITY_SEVERITY.get(rule.severity, "5.0"),
        "precision": {"low": "low", "medium": "medium", "high": "high"}.get(
            rule.confidence, "medium"
        ),
        "problem.severity": {"high": "error", "medium": "warning", "low": "recommendation"}.get(
            rule.severity, "warning"
        ),
        "tags": tags,
    }
    if rule.bandit:
        props["bandit"] = rule.bandit
    return {
        "id": rule.id,
        "name": "".join(w.capitalize() for w in rule.title.replace("-", " ").split()) or rule.id,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.message},
        "help": {
            "text": f"{rule.help}\n\nReported:\n{rule.bad.rstrip()}\n\nInstead:\n{rule.good.rstrip()}",
            "markdown": markdown,
        },
        "defaultConfiguration": {"level": LEVEL.get(rule.severity, "warning")},
        "properties": props,
    }


def _code_flow(f: Finding) -> dict[str, Any]:
    """A finding's data flow as one SARIF thread flow: source, steps, sink (``kinds`` name each)."""
    return {
        "message": {"text": f"{f.flow[0].note} → {f.flow[-1].note}"},
        "threadFlows": [
            {
                "locations": [
                    {
                        "location": {
                            "physicalLocation": {
                                "artifactLocation": _location(f.path),
                                "region": _region(s.line, s.col, s.end_line, s.end_col),
                            },
                            "message": {"text": s.note},
                        },
                        "kinds": [{"source": "source", "sink": "sink"}.get(s.kind, "step")],
                        "nestingLevel": 0,
                        "executionOrder": n + 1,
                    }
                    for n, s in enumerate(f.flow)
                ]
            }
        ],
    }


def to_sarif(report: Report, rules: list[Rule]) -> dict[str, Any]:
    """The SARIF 2.1.0 log of a report; ``rules`` are all the rules that ran."""
    from slm_lsp import __version__

    rule_index = {r.id: i for i, r in enumerate(rules)}
    results = []
    for item in report.items:
        f = item.finding
        region = _region(f.start_line, f.start_col, f.end_line, f.end_col)
        region["snippet"] = {"text": item.code}  # type: ignore[assignment]
        result: dict[str, Any] = {
            "ruleId": f.rule_id,
            "level": LEVEL.get(f.severity, "warning"),
            "message": {"text": f.message},
            "locations": [
                {"physicalLocation": {"artifactLocation": _location(f.path), "region": region}}
            ],
            "partialFingerprints": {FINGERPRINT_NAME: item.fingerprint},
            "properties": {
                "severity": f.severity,
                "confidence": f.confidence,
                "cwe": f"CWE-{f.cwe}",
            },
        }
        if f.rule_id in rule_index:
            result["ruleIndex"] = rule_index[f.rule_id]
        if f.flow:
            result["codeFlows"] = [_code_flow(f)]
        fixes = [_fix(f.path, fx.title, fx.edits) for fx in f.fixes]
        note = item.model
        if note is not None and note.rewrite is not None:
            fixes.append(
                _fix(
                    f.path,
                    "Secure rewrite proposed by the local model"
                    + (f": {note.explanation}" if note.explanation else ""),
                    (note.rewrite,),
                )
            )
        if fixes:
            result["fixes"] = fixes
        if note is not None and note.explanation:
            result["message"]["text"] = f"{f.message}\n\nModel review: {note.explanation}"
        results.append(result)
    notifications = [
        {
            "level": "note",
            "message": {"text": f"skipped: {reason}"},
            "locations": [{"physicalLocation": {"artifactLocation": _location(path.rstrip("/"))}}],
        }
        for path, reason in report.skipped
    ]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "slm-lsp",
                "informationUri": INFORMATION_URI,
                "semanticVersion": __version__,
                "version": __version__,
                "rules": [_rule_json(r) for r in rules],
            }
        },
        "originalUriBaseIds": {"%SRCROOT%": {"uri": Path(report.root).as_uri().rstrip("/") + "/"}},
        "columnKind": "unicodeCodePoints",
        "results": results,
        "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notifications}],
        "properties": {
            "filesScanned": report.files_scanned,
            "filesSkipped": len(report.skipped),
            "filesExcluded": report.excluded,
            "baselined": report.baselined,
        },
    }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


__all__ = ["to_sarif"]
