"""Vetting a suggestion: it must not break a file that parsed, nor introduce a security finding."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from slm_lsp import languages
from slm_lsp.text import TextIndex

if TYPE_CHECKING:  # pragma: no cover
    from slm_lsp.completion.document import Document, Plan
    from slm_lsp.config import CompletionSettings
    from slm_lsp.security.engine import SecurityEngine

BREAKS_PARSE = "the file parsed before and would not after"
"""Why a suggestion was dropped by the parse check."""

log = logging.getLogger(__name__)


def vet(
    settings: CompletionSettings,
    security: SecurityEngine | None,
    base: Baseline,
    plan: Plan,
    text: str,
) -> tuple[str, str] | None:
    """None when ``text`` may be shown; else (``drop`` | ``label``, reason).

    ``base``: the document before the insertion (``Baseline``, kept by the caller per version)."""
    doc = plan.doc
    cur = TextIndex(doc.text).offset(plan.line, plan.col)
    if settings.check_parse and base.breaks_parse(doc.text, cur, text):
        return ("drop", BREAKS_PARSE)
    mode = settings.secure_filter
    if mode != "off" and security is not None:
        new_text = doc.text[:cur] + text + doc.text[cur:]
        last = plan.line + text.count("\n")
        introduced = introduced_findings(
            security,
            doc,
            new_text,
            plan.line,
            last,
            lambda: base.findings(security, doc),
        )
        if introduced:
            return ("drop" if mode == "drop" else "label", "; ".join(introduced))
    return None


class Baseline:
    """A document's syntax tree and security findings before a suggestion is inserted."""

    def __init__(self, key: tuple[Any, ...], language: str | None) -> None:
        self.key = key
        self.language = language
        self._tree: Any = None
        self._parsed = False
        self._findings: set[tuple[str, int]] | None = None

    def breaks_parse(self, text: str, offset: int, insert: str) -> bool:
        """Whether inserting ``insert`` at ``offset`` turns a file that parsed into one that does not.

        The document is parsed once; each candidate is an edit of a copy of that tree and an
        incremental reparse, so big files cost milliseconds per suggestion.
        """
        if self.language is None:
            return False
        try:
            parser = languages.parser(self.language)
        except Exception:
            return False
        if not self._parsed:
            self._parsed = True
            tree = parser.parse(text.encode("utf-8", "surrogatepass"))
            self._tree = None if tree.root_node.has_error else tree
        if self._tree is None:
            return False
        before = text[:offset].encode("utf-8", "surrogatepass")
        ins = insert.encode("utf-8", "surrogatepass")
        row = before.count(b"\n")
        col = len(before) - (before.rfind(b"\n") + 1)
        nl = ins.count(b"\n")
        end_point = (row + nl, (len(ins) - ins.rfind(b"\n") - 1) if nl else col + len(ins))
        tree = self._tree.copy()
        tree.edit(
            len(before), len(before), len(before) + len(ins), (row, col), (row, col), end_point
        )
        new = before + ins + text[offset:].encode("utf-8", "surrogatepass")
        return bool(parser.parse(new, tree).root_node.has_error)

    def findings(self, security: SecurityEngine, doc: Document) -> set[tuple[str, int]]:
        if self._findings is None:
            self._findings = {
                (f.rule_id, f.start_line) for f in security.check(doc.text, doc.path, doc.language)
            }
        return self._findings


def breaks_parse(old: str, new: str, language: str) -> bool:
    """Whether ``old`` parses without errors and ``new`` does not (tree-sitter)."""
    try:
        parser = languages.parser(language)
    except Exception:
        return False
    if parser.parse(old.encode("utf-8", "surrogatepass")).root_node.has_error:
        return False
    return bool(parser.parse(new.encode("utf-8", "surrogatepass")).root_node.has_error)


def introduced_findings(
    security: SecurityEngine,
    doc: Document,
    new_text: str,
    first_line: int,
    last_line: int,
    before: set[tuple[str, int]] | Callable[[], set[tuple[str, int]]] | None = None,
) -> list[str]:
    """Security findings on the inserted lines of ``new_text`` that the document did not have.

    ``before`` (the document's own findings, or a function computing them) is only needed when
    something turns up on the inserted lines, so the usual clean suggestion costs one check, not two.
    """
    try:
        on_inserted = [
            f
            for f in security.check(new_text, doc.path, doc.language)
            if first_line <= f.start_line <= last_line
        ]
        if not on_inserted:
            return []
        if before is None:
            before = {
                (f.rule_id, f.start_line) for f in security.check(doc.text, doc.path, doc.language)
            }
        elif callable(before):
            before = before()
        return [
            f"{f.rule_id}: {f.message}"
            for f in on_inserted
            if (f.rule_id, f.start_line) not in before or f.start_line > first_line
        ]
    except Exception:  # a checker bug must not cost the user their completion
        log.exception("security check of a completion failed")
        return []
