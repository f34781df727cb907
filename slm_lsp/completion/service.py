"""The completion service: plans a prompt around the cursor, fits it to the model, runs and vets it.

``CompletionService.plan`` (cheap, any thread) cuts the prompt window around the cursor and picks
context; ``run`` (on the engine's worker thread) builds the prompt, generates, post-processes and
vets each suggestion (``vetting``). ``CompletionCache`` (``cache``) serves typing-through without
the model.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from slm_lsp import languages
from slm_lsp.completion import vetting
from slm_lsp.completion.budgets import (
    CHARS_PER_TOKEN,
    LINE_STOP_SHARE,
    Budgets,
    BudgetSteps,
    budgets_for,
)
from slm_lsp.completion.cache import CompletionCache
from slm_lsp.completion.document import Document, Outcome, Plan, Suggestion, relative_path
from slm_lsp.completion.vetting import BREAKS_PARSE, Baseline
from slm_lsp.config import Settings
from slm_lsp.generation import Engine, GenerationParams, Prompt, Snippet
from slm_lsp.prompt import postprocess
from slm_lsp.prompt.templates import build_prompt
from slm_lsp.text import TextIndex

if TYPE_CHECKING:  # pragma: no cover
    from slm_lsp.context.retrieve import ContextRetriever
    from slm_lsp.security.engine import SecurityEngine

log = logging.getLogger(__name__)

#: Lines the prompt window's start moves by (at most): a stable start keeps the KV cache valid while typing.
WINDOW_STEP_LINES = 16
#: Attempts at shrinking a prompt that does not fit the model's context.
MAX_FIT_ROUNDS = 6
#: Temperature used for the extra alternatives of an invoked completion.
ALTERNATIVE_TEMPERATURE = 0.7


class CompletionService:
    """Plans, runs and vets completions; owned by the server (or the CLI) together with its settings."""

    def __init__(
        self,
        settings: Settings,
        retriever: ContextRetriever | None = None,
        security: SecurityEngine | None = None,
        repo_name: str = "",
        root: str | None = None,
    ) -> None:
        self.settings = settings
        self.retriever = retriever
        self.security = security
        self.repo_name = repo_name
        self.root = root  #: workspace root: prompt headers name files relative to it
        self.cache = CompletionCache(settings.completion.cache_size)
        self._base: Baseline | None = None  #: the last vetted document version (worker thread only)
        self.budget_note = ""  #: why budgets are below the settings, as last told to the user
        self.budgets_told: tuple[int, ...] | None = None  #: the budgets ``budget_note`` was about
        self._steps = BudgetSteps()  #: the budget step a latency target chose last (hysteresis)
        #: the last snippets chosen and for which line (worker thread only; see ``plan``)
        self._snippets: tuple[tuple[Any, ...], tuple[Snippet, ...]] | None = None

    # ------------------------------------------------------------------ budgets
    def budgets(self, engine: Engine | None = None) -> Budgets:
        """The budgets of the next prompt (``budgets.budgets_for``)."""
        return budgets_for(self.settings, engine, self._steps)

    # ------------------------------------------------------------------ planning
    def plan(
        self,
        doc: Document,
        line: int,
        col: int,
        count_tokens: Callable[[str], int] | None = None,
        budgets: Budgets | None = None,
    ) -> Plan:
        """Cut the window around the cursor and choose context (cheap; no model).

        ``budgets``: from ``budgets(engine)`` (default: the settings as they are)."""
        cs = self.settings.completion
        b = budgets or self.budgets()
        idx = TextIndex(doc.text)
        line = max(0, min(line, idx.line_count - 1))
        col = max(0, min(col, len(idx.line(line))))
        cur = idx.offset(line, col)
        # prefix window: whole lines, measured from the start of the cursor's line (so typing within
        # the line never moves it), its first line moved in steps so it stays put from line to line
        line_start = idx.offset(line, 0)
        first = line
        while first > 0 and line_start - idx.offset(first - 1, 0) <= b.prefix_chars:
            first -= 1
        if first > 0:
            # a step of at most half the lines that fit: a small budget (a latency target) keeps
            # at least half its lines instead of losing them all to the rounding
            step = max(1, min(WINDOW_STEP_LINES, (line - first) // 2))
            first = min(line, -(-first // step) * step)
        last = line
        end_limit = cur + b.suffix_chars
        while last + 1 < idx.line_count and idx.offset(last + 2, 0) <= end_limit:
            last += 1
        prefix = doc.text[idx.offset(first, 0) : cur]
        suffix_end = (
            idx.offset(last, len(idx.line(last)))
            if last > line
            else idx.offset(line, len(idx.line(line)))
        )
        suffix = doc.text[cur : max(cur, suffix_end)]
        if b.suffix_chars and last + 1 < idx.line_count:
            suffix += "\n"
        try:
            from slm_lsp.workspace.secrets import redact
        except ImportError:  # pragma: no cover - the context package is part of the product
            redact = None  # type: ignore[assignment]
        if redact is not None:
            prefix, suffix = redact(prefix), redact(suffix)
        line_text = idx.line(line)
        cursor = postprocess.CursorContext(
            line_prefix=line_text[:col],
            line_suffix=line_text[col:],
            next_lines=tuple(idx.line(i) for i in range(line + 1, min(idx.line_count, line + 4))),
            prev_lines=tuple(idx.line(i) for i in range(max(0, line - 3), line)),
            indent_unit=postprocess.detect_indent_unit(
                [idx.line(i) for i in range(max(0, line - 200), min(idx.line_count, line + 50))]
            ),
        )
        snippets: list[Snippet] = []
        if self.retriever is not None and self.settings.context.enabled and b.context_tokens > 0:
            # the snippets open the prompt: within one line they are kept as they were, so that
            # typing never changes the front of the prompt (and retrieval runs once per line)
            key = (doc.uri, line, first, last, hash(doc.text[:line_start]))
            memo = self._snippets
            if memo is not None and memo[0] == key:
                snippets = list(memo[1])
            else:
                try:
                    snippets = self.retriever.retrieve(
                        doc.path, doc.text, line, col, doc.language, (first, last), count_tokens
                    )
                    if b.context_tokens < self.settings.context.budget_tokens:
                        snippets = _within(snippets, b.context_tokens, count_tokens)
                    self._snippets = (key, tuple(snippets))
                except Exception:  # context is a bonus: never lose the completion over it
                    log.exception("context retrieval failed")
        return Plan(
            doc,
            line,
            col,
            prefix,
            suffix,
            (first, last),
            snippets,
            cursor,
            postprocess.wants_multiline(cursor, cs.multiline),
            b.max_tokens,
        )

    def prompt_for(self, engine: Engine, plan: Plan) -> Prompt:
        family = getattr(engine, "family", None)
        if family is None:
            from slm_lsp.prompt.templates import get_family

            family = get_family(engine.info.family)
        spec = languages.get(plan.doc.language) if plan.doc.language else None
        comment = spec.line_comment if spec else "#"
        rel = plan.doc.path
        return build_prompt(
            family,
            prefix=plan.prefix,
            suffix=plan.suffix if family.is_fim else "",
            path=rel,
            comment=comment,
            snippets=[replace(sn, path=relative_path(sn.path, self.root)) for sn in plan.snippets],
            repo=self.repo_name,
        )

    def fit(self, engine: Engine, plan: Plan) -> Prompt:
        """The prompt for ``plan``, shrunk until it leaves room for ``max_tokens`` in the context.

        Characters do not bound tokens (dense code costs more), so this measures: context snippets go
        first, then the far ends of the prefix and suffix, whole lines at a time. ``plan`` is updated.
        """
        prompt = self.prompt_for(engine, plan)
        n_ctx = engine.info.n_ctx
        if not n_ctx:
            return prompt
        limit = n_ctx - self.settings.completion.max_tokens - 1
        for _ in range(MAX_FIT_ROUNDS):
            n = self._count_prompt(engine, prompt)
            if n <= limit:
                break
            if plan.snippets:
                plan.snippets = plan.snippets[: len(plan.snippets) // 2]
            else:
                keep = max(0.1, limit / n * 0.9)
                plan.prefix = _keep_tail_lines(plan.prefix, int(len(plan.prefix) * keep))
                plan.suffix = _keep_head_lines(plan.suffix, int(len(plan.suffix) * keep))
            prompt = self.prompt_for(engine, plan)
        return prompt

    @staticmethod
    def _count_prompt(engine: Engine, prompt: Prompt) -> int:
        tokens_of = getattr(engine, "prompt_tokens", None)
        if tokens_of is not None:
            return len(tokens_of(prompt))
        return engine.count_tokens(prompt.render())

    # ------------------------------------------------------------------ running (worker thread)
    def run(
        self,
        engine: Engine,
        plan: Plan,
        *,
        alternatives: int = 1,
        cancel: threading.Event | None = None,
        on_partial: Callable[[str], None] | None = None,
    ) -> Outcome:
        """Generate up to ``alternatives`` suggestions for ``plan``; stops early when ``cancel`` is set."""
        cancel = cancel or threading.Event()
        cs = self.settings.completion
        out = Outcome(plan=plan)
        prompt = self.fit(engine, plan)
        out.prompt = prompt
        tokens_of = getattr(engine, "prompt_tokens", None)
        max_tokens = plan.max_tokens or cs.max_tokens
        base = GenerationParams(
            max_tokens=max_tokens, temperature=cs.temperature, top_p=cs.top_p, seed=cs.seed
        )
        seen: set[str] = set()

        def shown(raw: str) -> str:  # what of ``raw`` the editor would show
            return postprocess.clean(
                raw, plan.cursor, multiline_policy=cs.multiline, max_lines=cs.max_lines
            )

        #: with a latency target, a multi-line suggestion ends at a line end once generating has
        #: taken this long: a slow machine shows the next line in time rather than a block too late
        line_stop_s = (
            cs.target_latency_ms / 1000 * LINE_STOP_SHARE if cs.target_latency_ms > 0 else None
        )
        for i in range(max(1, alternatives)):
            params = (
                base
                if i == 0
                else GenerationParams(
                    max_tokens,
                    max(cs.temperature, ALTERNATIVE_TEMPERATURE),
                    cs.top_p,
                    cs.seed + i,
                )
            )
            raw = ""
            started = 0.0  #: when the first piece came (the prompt was evaluated)

            def partial(piece: str, first: bool = i == 0) -> bool:
                nonlocal raw, started
                raw += piece
                started = started or time.perf_counter()
                if on_partial is not None and first:
                    on_partial(shown(raw))
                if postprocess.is_final(
                    raw, plan.cursor, multiline_policy=cs.multiline, max_lines=cs.max_lines
                ):
                    return True
                # past the line-stop time, a finished line that leaves something to show ends it
                return (
                    line_stop_s is not None
                    and raw.rstrip(" \t").endswith("\n")
                    and time.perf_counter() - started >= line_stop_s
                    and bool(shown(raw[: raw.rfind("\n")]).strip())
                )

            gen = engine.generate(prompt, params, cancel, partial)
            out.generations.append(gen)
            if not out.prompt_ids and gen.prompt_tokens:
                out.prompt_ids = gen.prompt_tokens
            if gen.stop_reason == "cancelled":
                out.cancelled = True
                break
            text = shown(gen.text)
            finished = gen.text[: gen.text.rfind("\n")]
            if gen.stop_reason == "length" and "\n" in text and postprocess.closed(finished):
                # the token limit stopped a multi-line suggestion inside its last line (a half
                # identifier parses as well as a whole one): show the lines that were finished
                whole = shown(finished)
                text = whole if whole.strip() else text
            if not text or text in seen:
                if text:
                    out.dropped.append((text, "duplicate"))
                continue
            seen.add(text)
            verdict = self.vet(plan, text)
            while verdict == ("drop", BREAKS_PARSE) and "\n" in text:
                # a block cut short (the token limit, a half-written statement): keep what parses
                shorter = text[: text.rfind("\n")].rstrip()
                if not shorter.strip() or shorter in seen:
                    break
                text = shorter
                seen.add(text)
                verdict = self.vet(plan, text)
            if verdict is None:
                out.suggestions.append(Suggestion(text))
            elif verdict[0] == "label":
                out.suggestions.append(Suggestion(text, label=verdict[1], findings=[verdict[1]]))
            else:
                out.dropped.append((text, verdict[1]))
        if not out.prompt_ids and tokens_of is not None:
            try:
                out.prompt_ids = tokens_of(prompt)
            except Exception:
                out.prompt_ids = []
        if out.suggestions and not out.cancelled:
            self.cache.put(plan.doc, plan.line, plan.col, [s.text for s in out.suggestions])
        return out

    # ------------------------------------------------------------------ vetting
    def vet(self, plan: Plan, text: str) -> tuple[str, str] | None:
        """None when ``text`` may be shown; else (``drop`` | ``label``, reason) (``vetting.vet``)."""
        base = self._baseline(plan.doc)
        return vetting.vet(self.settings.completion, self.security, base, plan, text)

    def _baseline(self, doc: Document) -> Baseline:
        """What vetting compares against, computed once per document version."""
        key = (doc.uri, doc.version, len(doc.text), hash(doc.text))
        if self._base is None or self._base.key != key:
            self._base = Baseline(key, doc.language)
        return self._base


def _within(
    snippets: list[Snippet], tokens: int, count_tokens: Callable[[str], int] | None
) -> list[Snippet]:
    """The leading snippets that fit ``tokens`` (their order is kept: it is the prompt's front)."""
    count = count_tokens or (lambda t: int(len(t) / CHARS_PER_TOKEN))
    out: list[Snippet] = []
    for sn in snippets:
        tokens -= count(sn.text) + count(sn.path) + 4
        if tokens < 0:
            break
        out.append(sn)
    return out


def _keep_tail_lines(text: str, chars: int) -> str:
    """The last whole lines of ``text`` within ``chars`` characters."""
    if len(text) <= chars:
        return text
    cut = text.find("\n", len(text) - chars)
    return text[cut + 1 :] if cut >= 0 else text[len(text) - chars :]


def _keep_head_lines(text: str, chars: int) -> str:
    """The first whole lines of ``text`` within ``chars`` characters."""
    if len(text) <= chars:
        return text
    cut = text.rfind("\n", 0, chars)
    return text[: cut + 1] if cut >= 0 else text[:chars]
