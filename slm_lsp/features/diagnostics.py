"""Security findings as diagnostics: pushed (``publishDiagnostics``) to clients without pull support,
answered on ``textDocument/diagnostic`` for clients with it. Checks run on the background pool,
debounced per document, and pushed ones wait while a completion runs, so they never delay
completions; requests for one document share the check under way."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp

if TYPE_CHECKING:  # pragma: no cover
    from slm_lsp.security.model import Finding
    from slm_lsp.server import SlmServer

log = logging.getLogger(__name__)
SOURCE = "slm-lsp"
SEVERITY = {
    "high": lsp.DiagnosticSeverity.Error,
    "medium": lsp.DiagnosticSeverity.Warning,
    "low": lsp.DiagnosticSeverity.Information,
}
CONFIDENCE_RANK = {"low": 0, "medium": 1, "high": 2}
#: A debounced check waits (polling every ``YIELD_POLL_S``) while a completion runs, at most this long:
#: on a 2-core machine it would otherwise take a core from the model.
YIELD_MAX_S = 10.0
YIELD_POLL_S = 0.05


def client_pulls(ls: SlmServer) -> bool:
    td = ls.client_capabilities.text_document
    return bool(td and td.diagnostic)


def register(server: SlmServer) -> None:
    @server.feature(
        lsp.TEXT_DOCUMENT_DIAGNOSTIC,
        lsp.DiagnosticOptions(
            identifier=SOURCE, inter_file_dependencies=False, workspace_diagnostics=False
        ),
    )
    async def pull(
        ls: SlmServer, params: lsp.DocumentDiagnosticParams
    ) -> lsp.DocumentDiagnosticReport:
        uri = params.text_document.uri
        findings = await findings_for(ls, uri)
        return lsp.RelatedFullDocumentDiagnosticReport(
            items=to_diagnostics(ls, uri, findings or [])
        )


def cwe_link(cwe: int) -> str:
    return f"https://cwe.mitre.org/data/definitions/{cwe}.html"


def to_diagnostics(ls: SlmServer, uri: str, findings: list[Finding]) -> list[lsp.Diagnostic]:
    out = []
    for f in findings:
        out.append(
            lsp.Diagnostic(
                range=ls.to_client_range(uri, (f.start_line, f.start_col), (f.end_line, f.end_col)),
                message=f"{f.message} (CWE-{f.cwe})" if f.cwe else f.message,
                severity=SEVERITY.get(f.severity, lsp.DiagnosticSeverity.Warning),
                code=f.rule_id,
                code_description=lsp.CodeDescription(href=cwe_link(f.cwe)) if f.cwe else None,
                source=SOURCE,
                data={"rule": f.rule_id, "fixable": f.fix is not None},
            )
        )
    return out


def _check(ls: SlmServer, uri: str) -> tuple[int | None, list[Finding]] | None:
    """Run on the pool: the findings for the document as it is now."""
    doc = ls.document(uri)
    if doc is None or ls.security is None or not ls.settings.security.enabled:
        return None
    findings = ls.security.check(doc.text, doc.path, doc.language)
    floor = CONFIDENCE_RANK.get(ls.settings.security.min_confidence, 0)
    findings = [f for f in findings if CONFIDENCE_RANK.get(f.confidence, 0) >= floor]
    return doc.version, findings


async def _yield_to_completions(ls: SlmServer) -> None:
    """Wait (at most ``YIELD_MAX_S``) while a completion runs or waits: on a 2-core machine a
    check would take a core from the model."""
    waited = 0.0
    while ls.worker is not None and ls.worker.serving and waited < YIELD_MAX_S:
        await asyncio.sleep(YIELD_POLL_S)
        waited += YIELD_POLL_S


async def findings_for(ls: SlmServer, uri: str) -> list[Finding] | None:
    """Findings for the document's current version (cached per version). Requests for one document
    share the check under way: after a burst of edits and pulls, one or two checks run, not one
    per pull for versions that are already gone."""
    checks: dict[str, asyncio.Task[Any]] = ls.security_checks
    while True:
        doc = ls.document(uri)
        if doc is None:
            return None
        cached = ls.findings.get(uri)
        if cached is not None and cached[0] == doc.version:
            return cached[1]
        running = checks.get(uri)
        if running is None or running.done():
            break
        await asyncio.shield(running)  # it stores its findings before it ends
    task = asyncio.ensure_future(_run_check(ls, uri))
    checks[uri] = task
    try:
        result = await asyncio.shield(task)
    finally:
        if checks.get(uri) is task and task.done():
            del checks[uri]
    return [] if result is None else result[1]


async def _run_check(ls: SlmServer, uri: str) -> tuple[int | None, list[Finding]] | None:
    """One check on the pool; its findings are stored for their version before it ends."""
    try:
        result = await asyncio.get_running_loop().run_in_executor(ls.pool, _check, ls, uri)
    except Exception:
        log.exception("security check of %s failed", uri)
        return None
    if result is not None:
        ls.findings[uri] = result
    return result


def schedule(ls: SlmServer, uri: str, delay: float | None = None) -> None:
    """Re-check ``uri`` after the debounce delay; a newer edit restarts the wait."""
    tasks: dict[str, Any] = ls.diagnostic_tasks
    old = tasks.pop(uri, None)
    if old is not None:
        old.cancel()
    if delay is None:
        delay = ls.settings.security.debounce_ms / 1000

    async def run() -> None:
        await asyncio.sleep(delay)
        await _yield_to_completions(ls)  # a newer edit cancels this task meanwhile
        findings = await findings_for(ls, uri)
        if findings is None:
            return
        if client_pulls(ls):
            ws = ls.client_capabilities.workspace
            if ws and ws.diagnostics and ws.diagnostics.refresh_support:
                ls.workspace_diagnostic_refresh(None)
            return
        doc = ls.document(uri)
        ls.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(
                uri=uri,
                diagnostics=to_diagnostics(ls, uri, findings),
                version=doc.version if doc else None,
            )
        )

    try:
        tasks[uri] = asyncio.ensure_future(run())
    except RuntimeError:  # no running loop (unit tests calling handlers directly)
        pass


def forget(ls: SlmServer, uri: str) -> None:
    task = ls.diagnostic_tasks.pop(uri, None)
    if task is not None:
        task.cancel()
    ls.findings.pop(uri, None)
    if not client_pulls(ls):
        ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
