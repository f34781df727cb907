"""The headless review (``slm-lsp review``): checks files with the security engine outside any editor,
for people (text), tools (JSON) and code scanning (SARIF), with an exit status CI can act on.

The pipeline: collect files (``files``) → check them over ``--jobs`` processes (``scan``) → keep the
findings on changed lines (``gitdiff``) and not in the baseline (``baseline``) → optionally ask the
local model for explanations and rewrites (``explain``) → render (``text``, ``report``, ``sarif``).
Exit status: 0 when nothing is at or above ``--fail-on`` (default ``medium``), 1 when something
is, 2 for a usage or I/O error (one line on stderr).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from slm_lsp.commandline import CliError, common_options, load_settings
from slm_lsp.config import Settings
from slm_lsp.review.report import Hunk, Item, Report

FORMATS = ("text", "json", "sarif")
FAIL_ON = ("never", "low", "medium", "high")
CONFIDENCE = ("low", "medium", "high")


def _jobs(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of processes, got {value!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"--jobs must be 0 (all cores) or more, got {n}")
    return n


def add_subparser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "review",
        parents=[common_options()],
        help="check files for security findings (text, JSON or SARIF; exit 1 on findings)",
        description="Review files for security findings outside the editor. Exit status: 0 nothing at or above --fail-on, 1 findings at or above it, 2 usage or I/O error.",
    )
    p.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="files and folders to review (default: the current folder; with --changed-since, the whole repository)",
    )
    p.add_argument(
        "--format", choices=FORMATS, default="text", help="output format (default: text)"
    )
    p.add_argument(
        "-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout"
    )
    p.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        default=None,
        help="exit 1 when a finding has at least this severity (default: review.fail_on, medium)",
    )
    p.add_argument(
        "--min-confidence",
        choices=CONFIDENCE,
        default=None,
        help="report findings of at least this confidence (default: review.min_confidence, low)",
    )
    p.add_argument(
        "--profile",
        choices=("security", "audit"),
        default=None,
        help="security: likely vulnerabilities, data-flow findings first (default); audit: everything bandit reports and more",
    )
    p.add_argument(
        "--changed-since",
        metavar="GIT_REV",
        help="review only files and lines changed since this git revision (untracked files included)",
    )
    p.add_argument(
        "--jobs",
        "-j",
        type=_jobs,
        default=None,
        metavar="N",
        help="checker processes (default: review.jobs; 0 = all cores)",
    )
    p.add_argument(
        "--baseline",
        metavar="FILE",
        help="JSON baseline of accepted findings: those are not reported and do not fail",
    )
    p.add_argument(
        "--write-baseline",
        metavar="FILE",
        help="record every current finding as accepted in FILE (then exit 0)",
    )
    p.add_argument(
        "--with-model",
        action="store_true",
        help="the local model explains each finding and proposes a secure rewrite",
    )
    p.add_argument(
        "--explain-changes",
        action="store_true",
        help="with --changed-since: the model also reviews each changed hunk (implies --with-model)",
    )
    p.add_argument(
        "--model",
        metavar="PATH",
        help="GGUF model for --with-model (default: settings, then the embedded default)",
    )
    p.add_argument(
        "--root",
        metavar="DIR",
        help="folder paths are reported relative to (default: the git repository of the first PATH, else the current folder)",
    )
    p.set_defaults(func=run)

    def one_line_error(
        message: str,
    ) -> None:  # argparse's default prints the whole usage block first
        print(f"slm-lsp: error: review: {message} (see slm-lsp review --help)", file=sys.stderr)
        raise SystemExit(2)

    p.error = one_line_error  # type: ignore[method-assign]


def run(args: argparse.Namespace) -> int:
    extra = {"model": {"path": args.model}} if getattr(args, "model", None) else None
    settings = load_settings(args, extra)
    if args.explain_changes and not args.changed_since:
        raise CliError("--explain-changes needs --changed-since GIT_REV")
    if (
        args.baseline
        and args.write_baseline
        and os.path.abspath(args.baseline) == os.path.abspath(args.write_baseline)
    ):
        raise CliError("--baseline and --write-baseline name the same file")
    paths = [Path(p) for p in args.paths]
    if (
        not paths
    ):  # like git diff: with --changed-since, the whole repository; else the current folder
        from slm_lsp.review.gitdiff import repo_root

        top = repo_root(Path.cwd()) if args.changed_since else None
        paths = [top or Path(".")]
    report = review(
        paths,
        settings,
        root=Path(args.root) if args.root else None,
        fail_on=args.fail_on,
        min_confidence=args.min_confidence,
        profile=args.profile,
        jobs=args.jobs,
        changed_since=args.changed_since,
        baseline=args.baseline,
        with_model=args.with_model or args.explain_changes,
        explain_changes=args.explain_changes,
        progress=sys.stderr.isatty(),
    )
    if args.write_baseline:
        write_baseline(report, args.write_baseline)
    render(report, args.format, args.output)
    if args.write_baseline:
        return 0
    return 1 if report.failing() else 0


# ------------------------------------------------------------------------------ the pipeline
def _default_root(paths: list[Path]) -> Path:
    from slm_lsp.review.gitdiff import repo_root

    first = paths[0].resolve() if paths else Path.cwd()
    top = repo_root(first if first.is_dir() else first.parent)
    if top is not None:
        return top
    cwd = Path.cwd().resolve()
    if all(str(p.resolve()).startswith(str(cwd)) for p in paths):
        return cwd
    return Path(
        os.path.commonpath(
            [str(p.resolve() if p.resolve().is_dir() else p.resolve().parent) for p in paths]
        )
    )


def review(
    paths: list[Path],
    settings: Settings,
    *,
    root: Path | None = None,
    fail_on: str | None = None,
    min_confidence: str | None = None,
    profile: str | None = None,
    jobs: int | None = None,
    changed_since: str | None = None,
    baseline: str | None = None,
    with_model: bool = False,
    explain_changes: bool = False,
    progress: bool = False,
) -> Report:
    """Run a review and return its report; raises CliError for a usage or I/O error."""
    from slm_lsp.review import baseline as bl
    from slm_lsp.review.files import Collector
    from slm_lsp.review.gitdiff import GitError, changes_since, repo_root
    from slm_lsp.review.scan import check_all, default_jobs
    from slm_lsp.security.engine import SecurityEngine

    t0 = time.perf_counter()
    rs = settings.review
    fail_on = fail_on or rs.fail_on
    min_confidence = min_confidence or rs.min_confidence
    jobs = jobs if jobs is not None else rs.jobs
    jobs = jobs or default_jobs()
    for p in paths:
        if not os.path.lexists(p):
            raise CliError(f"no such file or folder: {p}")
    accepted: set[str] = set()
    if baseline:
        try:
            accepted = bl.load_baseline(baseline)
        except ValueError as exc:
            raise CliError(str(exc)) from None
    if root is None:
        root = _default_root(paths)
    elif not root.is_dir():
        raise CliError(f"--root is not a folder: {root}")
    root = root.resolve()
    changes = None
    if changed_since:
        top = repo_root(root)
        if top is None:
            raise CliError(f"--changed-since needs a git repository; {root} is not in one")
        root = top.resolve()
        try:
            changes = changes_since(root, changed_since)
        except GitError as exc:
            raise CliError(str(exc)) from None

    sec = replace(settings.security, enabled=True, min_confidence=min_confidence)
    engine = SecurityEngine(sec, profile)
    profile = engine.profile
    rules = {r.id: r for r in engine.rules()}
    covered = {lang for r in rules.values() for lang in r.languages}
    collection = Collector(root, rs.exclude, covered, sec.max_file_bytes).collect(paths)
    targets, skipped = collection.targets, list(collection.skipped)
    if changes is not None:
        targets = [t for t in targets if t.rel in changes.files]
        skipped = [(p, r) for p, r in skipped if p in changes.files]

    bar = _progress("checking", len(targets)) if progress and targets else None
    results = check_all(
        targets,
        sec,
        jobs,
        on_done=(lambda _r: bar[1]()) if bar else None,
        progress=bar[0] if bar else None,
        profile=profile,
    )

    report = Report(
        root=str(root),
        fail_on=fail_on,
        min_confidence=min_confidence,
        profile=profile,
        changed_since=changed_since,
        jobs=jobs,
        uncovered=collection.uncovered,
        excluded=collection.excluded,
    )
    for res in results:
        if res.skip is not None:
            skipped.append((res.rel, res.skip))
            continue
        if res.partial is not None:
            skipped.append((res.rel, res.partial))  # checked in part: listed, findings kept
        report.files_scanned += 1
        report.bytes_scanned += res.size
        lines = res.lines or {}
        codes = [lines.get(f.start_line, "") for f in res.findings]
        prints = bl.fingerprints(
            [(f.rule_id, f.path, c) for f, c in zip(res.findings, codes, strict=True)]
        )
        for f, code, fp in zip(res.findings, codes, prints, strict=True):
            if changes is not None and not changes.covers(res.rel, f.start_line, f.end_line):
                report.outside_changes += 1
                continue
            if fp in accepted:
                report.baselined += 1
                continue
            report.items.append(Item(f, code, fp))
    report.items.sort(key=lambda i: i.rank_key)
    report.skipped = sorted(skipped)
    if explain_changes and changes is not None:
        scanned = {t.rel for t in targets}
        report.hunks = [Hunk(p, s, e) for p, s, e in changes.hunks() if p in scanned]
    if with_model:
        _model_review(report, settings, rules, progress)
    report.seconds = time.perf_counter() - t0
    return report


def _progress(label: str, total: int) -> tuple[Any, Any]:
    """A rich progress bar on stderr (a context manager) and the function that advances it."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    prog = Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = prog.add_task(label, total=total)
    return prog, lambda: prog.advance(task)


def _model_review(
    report: Report, settings: Settings, rules: dict[str, Any], progress: bool
) -> None:
    from slm_lsp.engine.loader import load_engine
    from slm_lsp.generation import EngineError
    from slm_lsp.review.explain import ModelReviewer

    rs = settings.review
    try:
        engine = load_engine(settings.model)
    except EngineError as exc:
        raise CliError(f"--with-model: {exc}") from None
    texts: dict[str, str] = {}

    def text_of(rel: str) -> str:
        if rel not in texts:
            path = rel if rel.startswith("/") else os.path.join(report.root, rel)
            try:
                with open(path, "rb") as fh:
                    texts[rel] = fh.read().decode("utf-8", "replace").removeprefix("\ufeff")
            except OSError:
                texts[rel] = ""
        return texts[rel]

    try:
        reviewer = ModelReviewer(
            engine, rs.model_token_budget, rs.explanation_max_tokens, rs.rewrite_max_tokens
        )
        total = len(report.items) + len(report.hunks)
        bar = _progress("model review", total) if progress and total else None
        with bar[0] if bar else contextlib.nullcontext():
            for item in report.items:
                rule = rules.get(item.finding.rule_id)
                item.model = reviewer.review_item(
                    item, text_of(item.finding.path), rule.title if rule else ""
                )
                if bar:
                    bar[1]()
            for hunk in report.hunks:
                text = text_of(hunk.path)
                if hunk.end_line < 0:
                    hunk.end_line = max(0, text.count("\n") - (1 if text.endswith("\n") else 0))
                lang = next(
                    (i.finding.language for i in report.items if i.finding.path == hunk.path), None
                )
                if lang is None:
                    from slm_lsp import languages

                    spec = languages.detect(hunk.path)
                    lang = spec.name if spec else None
                hunk.model = reviewer.review_hunk(hunk, text, lang)
                if bar:
                    bar[1]()
        report.model = {
            "path": engine.info.path,
            "family": engine.info.family,
            "backend": engine.info.backend,
            "token_budget": rs.model_token_budget,
            "tokens_used": reviewer.engine.used,
        }
    finally:
        engine.close()


# ------------------------------------------------------------------------------ outputs
def write_baseline(report: Report, path: str) -> None:
    """Record every finding of the report as accepted."""
    from slm_lsp.review.baseline import baseline_document

    doc = baseline_document(
        [
            {
                "fingerprint": i.fingerprint,
                "rule_id": i.finding.rule_id,
                "path": i.finding.path,
                "line": i.finding.start_line + 1,
            }
            for i in report.items
        ]
    )
    try:
        Path(path).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot write baseline {path}: {exc.strerror}") from None


def render(report: Report, fmt: str, output: str | None) -> None:
    """Write the report in ``fmt`` to the file ``output`` or to stdout."""
    from slm_lsp.security.engine import SecurityEngine

    rules = SecurityEngine().rules()
    if fmt == "text":
        from slm_lsp.review.text import render_text

        buf: io.StringIO | None = io.StringIO() if output else None
        render_text(
            report, {r.id: r for r in rules}, buf or sys.stdout, color=False if output else None
        )
        data = buf.getvalue() if buf else None
    elif fmt == "json":
        from slm_lsp.review.report import to_json

        data = (
            json.dumps(
                to_json(report, {r.id: r.title for r in rules}), indent=2, ensure_ascii=False
            )
            + "\n"
        )
    else:
        from slm_lsp.review.sarif import to_sarif

        data = json.dumps(to_sarif(report, rules), indent=2, ensure_ascii=False) + "\n"
    if data is None:
        return
    if output:
        try:
            Path(output).write_text(data, encoding="utf-8")
        except OSError as exc:
            raise CliError(f"cannot write {output}: {exc.strerror}") from None
    else:
        sys.stdout.write(data)


__all__ = ["add_subparser", "run", "review", "render", "write_baseline"]
