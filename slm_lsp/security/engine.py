"""The security engine: runs every rule of a document's language over its tree-sitter tree.

Per language, all rule patterns are joined into one tree-sitter query that is compiled the first
time the language is checked and cached on the engine (engines are cheap to build and hold no
compiled state until used, so each ``--jobs`` worker process builds its own). One ``check`` is
one parse, one query run and the handlers of the matches, then suppressions and settings filters.
"""

from __future__ import annotations

import bisect
import logging
import os
import stat
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from slm_lsp import languages
from slm_lsp.config import SecuritySettings
from slm_lsp.security import taint
from slm_lsp.security.core import BudgetExceeded, FileContext, Pattern, RawFinding, RuleSet
from slm_lsp.security.model import Edit, Finding, Fix, FlowStep, Rule, level_rank
from slm_lsp.security.profiles import DEFAULT_PROFILE, PROFILES, select
from slm_lsp.security.suppress import Suppressions

if TYPE_CHECKING:  # pragma: no cover
    import tree_sitter

log = logging.getLogger(__name__)

#: Bytes looked at for a NUL when deciding whether a text is binary (git's rule).
BINARY_SAMPLE = 8192
#: Most findings reported for one file (a generated or minified file can otherwise produce thousands).
MAX_FINDINGS = 5000
#: Files larger than this run the query in slices of top-level nodes, checking the time budget in between.
SLICE_BYTES = 256 * 1024


@dataclass
class _Pack:
    """One language's compiled rules."""

    query: tree_sitter.Query | None
    patterns: list[Pattern]  #: by query pattern index
    phase0: bool  #: whether any pattern collects facts first
    text_checks: list
    parser: tree_sitter.Parser


RECENT_CHECKS = 8
"""Results kept for texts checked again unchanged (a document version seen by diagnostics, then by the completion filter)."""


class SecurityEngine:
    """Checks documents against the rules; settings decide what is reported."""

    def __init__(
        self, settings: SecuritySettings | None = None, profile: str | None = None
    ) -> None:
        self.settings = settings or SecuritySettings()
        #: ``security`` or ``audit`` (see ``profiles``): the argument, else ``security.profile``
        self.profile = profile or self.settings.profile or DEFAULT_PROFILE
        if self.profile not in PROFILES:
            log.warning("unknown security profile %r; using %s", self.profile, DEFAULT_PROFILE)
            self.profile = DEFAULT_PROFILE
        self._packs: dict[str, _Pack | None] = {}
        self._exclude = None
        # The last documents checked: diagnostics and the completion filter ask about the same
        # version of a document, from different threads.
        self._recent: OrderedDict[
            tuple[str, str | None, int, int], tuple[list[Finding], str | None]
        ] = OrderedDict()
        self._recent_lock = threading.Lock()

    # ------------------------------------------------------------------ pickling
    def __getstate__(self) -> dict:
        return {"settings": self.settings, "profile": self.profile}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["settings"], state.get("profile"))  # type: ignore[misc]

    # ------------------------------------------------------------------ rules
    def rules(self) -> list[Rule]:
        """Every rule, sorted by id."""
        from slm_lsp.security.rules import all_rules

        return sorted(all_rules().values(), key=lambda r: r.id)

    def rule(self, rule_id: str) -> Rule | None:
        """The rule with this id, or None."""
        from slm_lsp.security.rules import all_rules

        return all_rules().get(rule_id)

    # ------------------------------------------------------------------ checking
    def check(self, text: str, path: str = "", language: str | None = None) -> list[Finding]:
        """Findings in ``text``, sorted by (line, column, rule id); never raises on bad input."""
        return self.check_status(text, path, language)[0]

    def check_status(
        self, text: str, path: str = "", language: str | None = None
    ) -> tuple[list[Finding], str | None]:
        """Findings, and why they may be incomplete (the time budget ran out), or None."""
        if not isinstance(text, str):
            return [], None
        key = (path, language, len(text), hash(text))
        with self._recent_lock:
            hit = self._recent.get(key)
            if hit is not None:
                self._recent.move_to_end(key)
                return list(hit[0]), hit[1]
        try:
            found, status = self._check(text, path, language)
        except Exception:  # noqa: BLE001 - a checker bug must not take the server down
            log.exception("security check failed for %s", path or "<text>")
            return [], "checker error"
        with self._recent_lock:
            self._recent[key] = (found, status)
            while len(self._recent) > RECENT_CHECKS:
                self._recent.popitem(last=False)
        return list(found), status

    def check_file(self, path: str) -> tuple[list[Finding], str | None]:
        """Read and check a file: (findings, None) or ([], why it was skipped)."""
        if self.is_excluded(path):
            return [], "excluded"
        try:
            if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO or device would block open()
                return [], "not a regular file"
        except OSError as exc:
            return [], f"unreadable: {exc.strerror or exc}"
        lang = self._language_for(path, None, None)
        if lang is None:
            try:
                with open(path, "rb") as fh:
                    head = fh.readline(256)
            except OSError as exc:
                return [], f"unreadable: {exc.strerror or exc}"
            spec = languages.detect(None, None, head.decode("utf-8", "replace"))
            if spec is None:
                return [], "unknown language"
            lang = spec.name
        try:
            size = Path(path).stat().st_size
            if size > self.settings.max_file_bytes:
                return [], "too large"
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError as exc:
            return [], f"unreadable: {exc.strerror or exc}"
        if b"\0" in data[:BINARY_SAMPLE]:
            return [], "binary"
        text = data.decode("utf-8", errors="replace")
        return self.check(text, path, lang), None

    def is_excluded(self, path: str) -> bool:
        """Whether ``exclude_paths`` (gitignore-style globs) names this path."""
        if not self.settings.exclude_paths or not path:
            return False
        if self._exclude is None:
            import pathspec

            try:
                self._exclude = pathspec.PathSpec.from_lines(
                    "gitignore", self.settings.exclude_paths
                )
            except (KeyError, LookupError):  # pathspec < 1.0
                self._exclude = pathspec.PathSpec.from_lines(
                    "gitwildmatch", self.settings.exclude_paths
                )
        return bool(self._exclude.match_file(Path(path).as_posix().lstrip("/")))

    # ------------------------------------------------------------------ internals
    @staticmethod
    def _language_for(path: str, language: str | None, first_line: str | None) -> str | None:
        if language:
            if languages.get(language) is not None:
                return language
            spec = languages.detect(None, language)
            return spec.name if spec else None
        spec = languages.detect(path or None, None, first_line)
        return spec.name if spec else None

    def _pack(self, lang: str) -> _Pack | None:
        if lang not in self._packs:
            self._packs[lang] = self._build_pack(lang)
        return self._packs[lang]

    @staticmethod
    def _build_pack(lang: str) -> _Pack | None:
        import tree_sitter

        from slm_lsp.security.rules import rulesets

        ts_lang = languages.ts_language(lang)
        sets: list[RuleSet] = [rs for rs in rulesets() if lang in rs.languages]
        entries: list[tuple[str, Pattern]] = []
        text_checks = []
        for rs in sets:
            text_checks.extend(rs.text_checks)
            for i, pat in enumerate(rs.patterns):
                entries.append((rs.variants.get((lang, i), pat.query), pat))
        good: list[tuple[str, Pattern]] = []
        for q, pat in entries:
            if not q:
                continue
            try:
                tree_sitter.Query(ts_lang, q)
            except Exception as exc:  # noqa: BLE001 - a pattern a grammar lacks is skipped, not fatal
                log.debug("skipping pattern for %s: %s: %s", lang, exc, q[:80])
                continue
            good.append((q, pat))
        query = None
        by_index: list[Pattern] = []
        if good:
            offsets, chunks, pos = [], [], 0
            for q, _ in good:
                offsets.append(pos)
                chunks.append(q)
                pos += len(q.encode("utf-8")) + 1
            query = tree_sitter.Query(ts_lang, "\n".join(chunks))
            for i in range(query.pattern_count):
                k = bisect.bisect_right(offsets, query.start_byte_for_pattern(i)) - 1
                by_index.append(good[k][1])
        return _Pack(
            query,
            by_index,
            any(p.phase == 0 for p in by_index),
            text_checks,
            languages.parser(lang),
        )

    def _check(
        self, text: str, path: str, language: str | None
    ) -> tuple[list[Finding], str | None]:
        st = self.settings
        if not st.enabled:
            return [], None
        if path and self.is_excluded(path):
            return [], None
        first_line = text[:256].split("\n", 1)[0] if not language else None
        lang = self._language_for(path, language, first_line)
        if lang is None:
            return [], None
        if "\0" in text[:BINARY_SAMPLE]:
            return [], None
        data = text.encode("utf-8", errors="replace")
        if len(data) > st.max_file_bytes:
            return [], None
        pack = self._pack(lang)
        if pack is None:
            return [], None
        start = time.perf_counter()
        deadline = start + st.time_budget_ms / 1000.0
        tree = _parse(pack.parser, data, deadline)
        if tree is None:
            log.info(
                "parsing %s ran past the time budget (%d ms)", path or "<text>", st.time_budget_ms
            )
            return [], f"parsing ran past the time budget ({st.time_budget_ms} ms)"
        ctx = FileContext(text, data, tree, lang, path, deadline)
        status = None
        try:
            for tc in pack.text_checks:
                tc(ctx)
            if pack.query is not None:
                import tree_sitter

                matches = _run_query(tree_sitter.QueryCursor(pack.query), tree.root_node, ctx)
                patterns = pack.patterns
                if pack.phase0:
                    for idx, caps in matches:
                        if patterns[idx].phase == 0:
                            patterns[idx].handler(ctx, caps)
                    ctx.check_time()
                for n, (idx, caps) in enumerate(matches):
                    pat = patterns[idx]
                    if pat.phase == 1:
                        pat.handler(ctx, caps)
                    if n & 255 == 255:
                        ctx.check_time()
            if st_taint(st):
                taint.analyse(ctx)
        except BudgetExceeded:
            log.info(
                "security check of %s stopped at its time budget (%d ms)",
                path or "<text>",
                st.time_budget_ms,
            )
            status = f"time budget ({st.time_budget_ms} ms) ran out: partial results"
        if ctx.facts.get("query_truncated") and status is None:
            status = f"time budget ({st.time_budget_ms} ms) ran out: partial results"
        return self._finish(ctx, path, lang), status

    def _finish(self, ctx: FileContext, path: str, lang: str) -> list[Finding]:
        from slm_lsp.security.rules import all_rules

        rules = all_rules()
        st = self.settings
        disabled = {r.upper() for r in st.disabled_rules}
        min_conf = level_rank(st.min_confidence)
        sup = Suppressions(ctx.text, lang, lambda line, col: _in_comment(ctx, line, col))
        out: dict[tuple, Finding] = {}
        for raw in ctx.findings:
            rule = rules.get(raw.rule_id)
            if rule is None:
                continue
            if rule.id.upper() in disabled or (rule.bandit and rule.bandit.upper() in disabled):
                continue
            conf = raw.confidence or rule.confidence
            if level_rank(conf) < min_conf:
                continue
            if sup.any_markers and sup.suppressed(
                rule.id, rule.bandit, *_statement_lines(ctx, raw)
            ):
                continue
            f = self._finding(ctx, raw, rule, path, lang, conf)
            key = (f.start_line, f.start_col, f.end_line, f.end_col, f.rule_id)
            out.setdefault(key, f)
            if len(out) >= MAX_FINDINGS:
                log.info("%s: stopped at %d findings", path or "<text>", MAX_FINDINGS)
                break
        found = sorted(out.values(), key=lambda f: (f.start_line, f.start_col, f.rule_id))
        return select(found, self.profile)

    @staticmethod
    def _finding(
        ctx: FileContext, raw: RawFinding, rule: Rule, path: str, lang: str, conf: str
    ) -> Finding:
        sl, sc = raw.start
        el, ec = raw.end
        return Finding(
            rule_id=rule.id,
            path=path,
            language=lang,
            start_line=sl,
            start_col=ctx.char_col(sl, sc),
            end_line=el,
            end_col=ctx.char_col(el, ec),
            message=raw.message or rule.message,
            severity=raw.severity or rule.severity,
            confidence=conf,
            cwe=rule.cwe,
            fix=raw.fix,
            alternatives=raw.alternatives,
            flow=tuple(
                FlowStep(
                    kind,
                    a[0],
                    ctx.char_col(a[0], a[1]),
                    b[0],
                    ctx.char_col(b[0], b[1]),
                    note,
                )
                for kind, a, b, note in raw.flow
            ),
        )


#: Node types at which the search for a finding's enclosing statement stops (a suppression comment
#: anywhere on the statement's lines applies, as in bandit; compound statements do not widen it).
_STOP = frozenset(
    "module program translation_unit source_file compilation_unit block statement_block compound_statement "
    "function_definition class_definition decorated_definition if_statement for_statement while_statement try_statement "
    "with_statement match_statement function_declaration method_declaration class_declaration class_body declaration_list "
    "function_item impl_item body_statement method class do_block".split()
)


def st_taint(settings: SecuritySettings) -> bool:
    """Whether the data-flow analysis runs (``security.data_flow``, on unless a setting says otherwise)."""
    return bool(getattr(settings, "data_flow", True))


def _statement_lines(ctx: FileContext, raw: RawFinding) -> tuple[int, int]:
    """Lines of the smallest statement around the finding (or the finding's own lines)."""
    lo, hi = raw.start[0], raw.end[0]
    try:
        node = ctx.root.descendant_for_point_range(raw.start, raw.end)
    except Exception:  # noqa: BLE001
        return lo, hi
    while (
        node is not None
        and node.parent is not None
        and node.parent.type not in _STOP
        and node.type not in _STOP
    ):
        node = node.parent
    if node is not None and node.type not in _STOP:
        lo, hi = min(lo, node.start_point[0]), max(hi, node.end_point[0])
    return lo, hi


def _in_comment(ctx: FileContext, line: int, col: int) -> bool:
    """Whether code-point column ``col`` of ``line`` lies in a comment node."""
    lines = ctx.facts.get("_text_lines")
    if lines is None:
        lines = ctx.facts["_text_lines"] = ctx.text.split("\n")
    if line >= len(lines):
        return True
    byte_col = len(lines[line][:col].encode("utf-8", "replace"))
    try:
        node = ctx.root.descendant_for_point_range((line, byte_col), (line, byte_col + 1))
    except Exception:  # noqa: BLE001
        return True
    while node is not None:
        if "comment" in node.type:
            return True
        if node.type in (
            "string",
            "string_content",
            "string_literal",
            "template_string",
            "interpreted_string_literal",
            "raw_string_literal",
            "encapsed_string",
            "heredoc_body",
        ):
            return False
        node = node.parent
    return True


def _parse(parser: tree_sitter.Parser, data: bytes, deadline: float) -> tree_sitter.Tree | None:
    """Parse the bytes. The parse itself is bounded by ``max_file_bytes`` (tree-sitter parses about
    8 MB/s), not by the deadline: a tree parsed through tree-sitter's cancellable callback API keeps
    no source, which makes every later node text read go back through Python, several times slower."""
    del deadline
    return parser.parse(data)


def _run_query(cursor: tree_sitter.QueryCursor, root: tree_sitter.Node, ctx: FileContext) -> list:
    """All matches; a large file is queried in slices of top-level nodes so the budget can stop it early."""
    if root.end_byte <= SLICE_BYTES or root.child_count < 2:
        return cursor.matches(root)
    out: list = []
    children = root.children
    i = 0
    try:
        while i < len(children):
            j = i
            start = children[i].start_byte
            while j < len(children) and children[j].end_byte - start < SLICE_BYTES:
                j += 1
            j = max(j, i + 1)
            cursor.set_byte_range(start, children[j - 1].end_byte)
            out.extend(
                m
                for m in cursor.matches(root)
                if not any(n[0].id == root.id for n in m[1].values())
            )
            i = j
            ctx.check_time()
    except BudgetExceeded:
        log.info("query of %s stopped at its time budget", ctx.path or "<text>")
        ctx.facts["query_truncated"] = True
    return out


def apply_fix(text: str, fix: Fix) -> str:
    """The text with the fix's edits applied (edits must not overlap; order does not matter)."""
    lines = text.split("\n")
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)

    def offset(line: int, col: int) -> int:
        if line >= len(lines):
            return len(text)
        if line < 0:
            return 0
        return starts[line] + max(0, min(col, len(lines[line])))

    spans = sorted(
        ((offset(e.start_line, e.start_col), offset(e.end_line, e.end_col), e) for e in fix.edits),
        key=lambda t: (t[0], t[1]),
        reverse=True,
    )
    out = text
    for s, e, edit in spans:
        out = out[:s] + edit.new_text + out[e:]
    return out


__all__ = ["SecurityEngine", "apply_fix", "Edit", "Fix", "Finding", "Rule"]
