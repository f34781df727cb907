"""``--format text``: findings grouped by file with their code line, then a summary table (rich; colour
only on a terminal)."""

from __future__ import annotations

from itertools import groupby
from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from slm_lsp.review.report import SEVERITIES, Report
from slm_lsp.security.model import Rule

STYLE = {"high": "bold red", "medium": "yellow", "low": "cyan"}


def render_text(
    report: Report, rules: dict[str, Rule], out: TextIO, color: bool | None = None
) -> None:
    """Write the people-readable report; ``color`` None decides from whether ``out`` is a terminal."""
    console = Console(
        file=out,
        highlight=False,
        soft_wrap=True,
        force_terminal=color,
        no_color=(color is False),
        emoji=False,
    )
    for path, group in groupby(report.items, key=lambda i: i.finding.path):
        console.print(f"[bold underline]{escape(path)}[/]")
        for item in group:
            f = item.finding
            style = STYLE.get(f.severity, "")
            console.print(
                f"  {f.start_line + 1}:{f.start_col + 1}  [{style}]{f.severity}[/] ({f.confidence} confidence)  [bold]{escape(f.rule_id)}[/] CWE-{f.cwe}  {escape(f.message)}"
            )
            console.print(f"    [dim]{f.start_line + 1:>5} |[/] {escape(item.code.strip())}")
            for step in f.flow:
                console.print(
                    f"    [blue]{step.kind:>6}[/] line {step.line + 1}: {escape(step.note)}"
                )
            if f.fix is not None:
                console.print(f"    [green]fix:[/] {escape(f.fix.title)}")
                for e in f.fix.edits:
                    console.print(f"      [green]+[/] {escape(e.new_text.strip())}")
            note = item.model
            if note is not None:
                if note.explanation:
                    console.print(f"    [magenta]model:[/] {escape(note.explanation)}")
                if note.rewrite is not None:
                    console.print("    [magenta]proposed rewrite:[/]")
                    for line in note.rewrite.new_text.split("\n"):
                        console.print(f"      [green]+[/] {escape(line)}")
                if note.status != "ok":
                    console.print(
                        f"    [dim]model: {escape(note.status)}{(': ' + escape(note.error)) if note.error else ''}[/]"
                    )
        console.print()
    if report.hunks:
        console.print("[bold]Changed hunks[/]")
        for h in report.hunks:
            note = h.model
            console.print(f"  {escape(h.path)}:{h.start_line + 1}-{h.end_line + 1}")
            if note is not None and note.explanation:
                console.print(f"    [magenta]model:[/] {escape(note.explanation)}")
            if note is not None and note.rewrite is not None:
                console.print("    [magenta]proposed rewrite:[/]")
                for line in note.rewrite.new_text.split("\n"):
                    console.print(f"      [green]+[/] {escape(line)}")
            if note is not None and note.status != "ok":
                console.print(f"    [dim]model: {escape(note.status)}[/]")
        console.print()
    if report.skipped:
        console.print("[bold]Skipped files[/]")
        for path, reason in report.skipped:
            console.print(f"  {escape(path)}: {escape(reason)}")
        console.print()
    if report.items:
        table = Table(title="Findings by rule", title_justify="left")
        table.add_column("rule")
        table.add_column("title")
        table.add_column("CWE")
        for sev in SEVERITIES:
            table.add_column(sev, justify="right", style=STYLE[sev])
        table.add_column("total", justify="right")
        by_rule: dict[str, dict[str, int]] = {}
        for item in report.items:
            row = by_rule.setdefault(item.finding.rule_id, dict.fromkeys(SEVERITIES, 0))
            row[item.finding.severity] = row.get(item.finding.severity, 0) + 1
        for rid in sorted(by_rule):
            rule = rules.get(rid)
            row = by_rule[rid]
            table.add_row(
                rid,
                rule.title if rule else "",
                f"CWE-{rule.cwe}" if rule else "",
                *(str(row[s] or "") for s in SEVERITIES),
                str(sum(row.values())),
            )
        counts = report.counts()
        table.add_row(
            "[bold]total[/]", "", "", *(str(counts[s]) for s in SEVERITIES), str(len(report.items))
        )
        console.print(table)
    counts = report.counts()
    extra = []
    if report.baselined:
        extra.append(f"{report.baselined} in the baseline")
    if report.changed_since:
        extra.append(f"{report.outside_changes} outside the changes since {report.changed_since}")
    uncovered = sum(report.uncovered.values())
    if uncovered:
        extra.append(f"{uncovered} files in languages without rules")
    failing = len(report.failing())
    console.print(
        f"{len(report.items)} findings ({counts['high']} high, {counts['medium']} medium, {counts['low']} low) in "
        f"{report.files_scanned} files scanned, {len(report.skipped)} skipped, "
        f"{report.excluded} excluded by review.exclude, {report.seconds:.2f} s"
        + (f"; not shown: {', '.join(extra)}" if extra else "")
    )
    if report.fail_on != "never":
        console.print(
            f"{failing} at or above --fail-on {report.fail_on}"
            if failing
            else f"nothing at or above --fail-on {report.fail_on}",
            style="bold red" if failing else "green",
        )
