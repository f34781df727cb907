"""The completion pipeline, shared by the server and ``slm-lsp complete``; no LSP types here.

``CompletionService.plan`` (cheap, any thread) cuts the prompt window around the cursor and picks
context; ``run`` (on the engine's worker thread) builds the prompt, generates, post-processes and
vets each suggestion: it must not break a file that parsed, nor (per ``completion.secure_filter``)
introduce a security finding. ``CompletionCache`` serves typing-through without the model.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slm_lsp import languages
from slm_lsp.config import Settings
from slm_lsp.generation import Engine, Generation, GenerationParams, Prompt, Snippet
from slm_lsp.prompt import postprocess
from slm_lsp.prompt.templates import build_prompt
from slm_lsp.text import TextIndex

if TYPE_CHECKING:  # pragma: no cover
    from slm_lsp.context.retrieve import ContextRetriever
    from slm_lsp.security.engine import SecurityEngine

BREAKS_PARSE = "the file parsed before and would not after"
"""Why a suggestion was dropped by the parse check."""

log = logging.getLogger(__name__)

#: Lines the prompt window's start moves by (at most): a stable start keeps the KV cache valid while typing.
WINDOW_STEP_LINES = 16
#: Attempts at shrinking a prompt that does not fit the model's context.
MAX_FIT_ROUNDS = 6
#: Temperature used for the extra alternatives of an invoked completion.
ALTERNATIVE_TEMPERATURE = 0.7
#: Characters per prompt token assumed when fitting character budgets to a token budget.
CHARS_PER_TOKEN = 3.5
#: Share of ``completion.target_latency_ms`` that generation may take at most.
GENERATION_SHARE = 0.4
#: The smallest budgets ``completion.target_latency_ms`` lowers to: prefix characters, generated tokens.
MIN_PREFIX_CHARS = 120
MIN_MAX_TOKENS = 4
#: Steps per halving of the prompt budget when a target lowers it: the budgets move only when the
#: measured speed moves by a step (a new prefix or suffix length would re-evaluate the cached prompt).
BUDGET_STEPS_PER_HALVING = 2


@dataclass(frozen=True)
class Budgets:
    """How much of the file goes into a prompt and how much is generated (``CompletionService.budgets``)."""

    prefix_chars: int
    suffix_chars: int
    context_tokens: int
    max_tokens: int
    note: str = ""  #: why the budgets were lowered below the settings (shown in ``slm/status``)


@dataclass(frozen=True)
class Document:
    """An immutable view of one document at one version."""

    uri: str
    path: str
    text: str
    language: str | None  #: our language name (``languages.py``), or None
    language_id: str = ""
    version: int | None = None


@dataclass
class Suggestion:
    text: str
    label: str = ""  #: set when the suggestion is shown despite a finding (secure_filter = label)
    findings: list[str] = field(default_factory=list)


@dataclass
class Plan:
    """Everything decided before the model runs."""

    doc: Document
    line: int
    col: int
    prefix: str
    suffix: str
    window: tuple[int, int]
    snippets: list[Snippet]
    cursor: postprocess.CursorContext
    multiline: bool
    max_tokens: int = 0  #: tokens to generate at most (0: ``completion.max_tokens``)


@dataclass
class Outcome:
    """A finished completion: what was asked, what came back, what is shown."""

    plan: Plan | None  #: None when the cache served it (nothing was planned)
    prompt: Prompt | None = None
    prompt_ids: list[int] = field(default_factory=list)
    generations: list[Generation] = field(default_factory=list)
    suggestions: list[Suggestion] = field(default_factory=list)
    dropped: list[tuple[str, str]] = field(default_factory=list)  #: (text, why)
    cached: bool = False
    cancelled: bool = False


class CompletionCache:
    """Remembers suggestions so that typing the characters of a shown suggestion serves the rest.

    Keyed by document, the text before the cursor's line and the text after the cursor; an entry
    matches while the line typed so far extends the entry's line prefix along its suggestion.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[str, str, str, str], list[str]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def _keys(doc: Document, line: int, col: int) -> tuple[str, str, str]:
        idx = TextIndex(doc.text)
        start = idx.offset(line, 0)
        cur = idx.offset(line, col)
        before = hashlib.blake2b(
            doc.text[:start].encode("utf-8", "surrogatepass"), digest_size=12
        ).hexdigest()
        after = hashlib.blake2b(
            doc.text[cur:].encode("utf-8", "surrogatepass"), digest_size=12
        ).hexdigest()
        return before, after, doc.text[start:cur]

    def put(self, doc: Document, line: int, col: int, suggestions: list[str]) -> None:
        if self.size <= 0 or not suggestions:
            return
        before, after, line_prefix = self._keys(doc, line, col)
        key = (doc.uri, before, after, line_prefix)
        self._entries[key] = suggestions
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def get(self, doc: Document, line: int, col: int) -> list[str] | None:
        if self.size <= 0:
            return None
        before, after, line_prefix = self._keys(doc, line, col)
        for (uri, b, a, lp), suggestions in reversed(self._entries.items()):
            if uri != doc.uri or b != before or a != after or not line_prefix.startswith(lp):
                continue
            typed = line_prefix[len(lp) :]
            rest = [
                s[len(typed) :] for s in suggestions if s.startswith(typed) and len(s) > len(typed)
            ]
            if rest:
                self.hits += 1
                return rest
        self.misses += 1
        return None

    def clear(self, uri: str | None = None) -> None:
        if uri is None:
            self._entries.clear()
        else:
            for key in [k for k in self._entries if k[0] == uri]:
                del self._entries[key]


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
        self._base: _Baseline | None = (
            None  #: the last vetted document version (worker thread only)
        )
        self.budget_note = ""  #: why budgets are below the settings, as last told to the user
        self.budgets_told: tuple[int, ...] | None = None  #: the budgets ``budget_note`` was about
        self._step: int | None = None  #: the budget step last chosen (``_budget_step``)
        #: the last snippets chosen and for which line (worker thread only; see ``plan``)
        self._snippets: tuple[tuple[Any, ...], tuple[Snippet, ...]] | None = None

    # ------------------------------------------------------------------ budgets
    def budgets(self, engine: Engine | None = None) -> Budgets:
        """The budgets of the next prompt: the settings, lowered so that a cold suggestion fits
        ``completion.target_latency_ms`` at the engine's measured speed (``speed()``)."""
        cs = self.settings.completion
        full = Budgets(
            cs.prefix_chars, cs.suffix_chars, self.settings.context.budget_tokens, cs.max_tokens
        )
        speed = getattr(engine, "speed", None)
        if not cs.target_latency_ms or speed is None:
            return full
        prompt_tps, gen_tps = speed()
        target_s = cs.target_latency_ms / 1000
        max_tokens = max(
            MIN_MAX_TOKENS, min(cs.max_tokens, int(gen_tps * target_s * GENERATION_SHARE))
        )
        prompt_budget = (target_s - max_tokens / max(gen_tps, 1e-6)) * prompt_tps
        wanted = (cs.prefix_chars + cs.suffix_chars) / CHARS_PER_TOKEN + full.context_tokens
        if prompt_budget >= wanted and max_tokens == cs.max_tokens:
            return full
        scale = self._budget_step(prompt_budget / wanted if wanted else 1.0)
        # context goes first (it helps least per token), then the suffix, then the prefix
        context = int(full.context_tokens * scale * scale)
        suffix = int(cs.suffix_chars * scale)
        prefix = min(cs.prefix_chars, max(MIN_PREFIX_CHARS, int(cs.prefix_chars * scale)))
        speeds = (
            f"the model evaluates about {prompt_tps:.0f} prompt tokens/s and generates "
            f"{gen_tps:.0f} tokens/s"
        )
        if prompt_budget < MIN_PREFIX_CHARS / CHARS_PER_TOKEN:
            note = (
                f"{speeds}: no prompt fits completion.target_latency_ms = "
                f"{cs.target_latency_ms}, so suggestions use the smallest budgets and come late"
            )
        else:
            note = (
                f"{speeds}: to fit completion.target_latency_ms = {cs.target_latency_ms}, "
                f"prompts take {prefix} of {cs.prefix_chars} prefix characters, {suffix} of "
                f"{cs.suffix_chars} suffix characters, {context} of {full.context_tokens} "
                f"context tokens, and generate at most {max_tokens} of {cs.max_tokens} tokens"
            )
        return Budgets(prefix, suffix, context, max_tokens, note)

    def _budget_step(self, share: float) -> float:
        """``share`` (the part of the wanted prompt that fits) rounded down to a step of
        ``BUDGET_STEPS_PER_HALVING``, with hysteresis: the last step is kept until the share is
        half a step outside it, so a speed that wobbles around a step's edge does not change the
        prompt from key to key (at worst a prompt is a quarter-halving, 19 %, over the target)."""
        if share >= 1.0:
            self._step = None
            return 1.0
        if share <= 0.0:
            self._step = None
            return 0.0
        exact = math.log2(share) * BUDGET_STEPS_PER_HALVING
        step = math.floor(exact)
        if self._step is not None and self._step - 0.5 <= exact < self._step + 1.5:
            step = self._step
        self._step = step
        return float(2.0 ** (step / BUDGET_STEPS_PER_HALVING))

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

            def partial(piece: str, first: bool = i == 0) -> bool:
                nonlocal raw
                raw += piece
                if on_partial is not None and first:
                    on_partial(
                        postprocess.clean(
                            raw, plan.cursor, multiline_policy=cs.multiline, max_lines=cs.max_lines
                        )
                    )
                return postprocess.is_final(
                    raw, plan.cursor, multiline_policy=cs.multiline, max_lines=cs.max_lines
                )

            gen = engine.generate(prompt, params, cancel, partial)
            out.generations.append(gen)
            if not out.prompt_ids and gen.prompt_tokens:
                out.prompt_ids = gen.prompt_tokens
            if gen.stop_reason == "cancelled":
                out.cancelled = True
                break
            text = postprocess.clean(
                gen.text, plan.cursor, multiline_policy=cs.multiline, max_lines=cs.max_lines
            )
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
        """None when ``text`` may be shown; else (``drop`` | ``label``, reason)."""
        doc = plan.doc
        base = self._baseline(doc)
        cur = TextIndex(doc.text).offset(plan.line, plan.col)
        if self.settings.completion.check_parse and base.breaks_parse(doc.text, cur, text):
            return ("drop", BREAKS_PARSE)
        mode = self.settings.completion.secure_filter
        if mode != "off" and self.security is not None:
            new_text = doc.text[:cur] + text + doc.text[cur:]
            last = plan.line + text.count("\n")
            introduced = introduced_findings(
                self.security,
                doc,
                new_text,
                plan.line,
                last,
                lambda: base.findings(self.security, doc),
            )
            if introduced:
                return ("drop" if mode == "drop" else "label", "; ".join(introduced))
        return None

    def _baseline(self, doc: Document) -> _Baseline:
        """What vetting compares against, computed once per document version."""
        key = (doc.uri, doc.version, len(doc.text), hash(doc.text))
        if self._base is None or self._base.key != key:
            self._base = _Baseline(key, doc.language)
        return self._base


class _Baseline:
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


def describe(outcome: Outcome) -> dict[str, Any]:
    """A JSON-ready description of a completion (``slm-lsp complete --json``)."""
    gen = outcome.generations[0] if outcome.generations else Generation()
    total = outcome.generations
    return {
        "completion": outcome.suggestions[0].text if outcome.suggestions else "",
        "alternatives": [s.text for s in outcome.suggestions],
        "template": outcome.prompt.family if outcome.prompt else "",
        "prompt": outcome.prompt.render() if outcome.prompt else "",
        "prompt_tokens": outcome.prompt_ids,
        "raw": gen.text,
        "stop_reason": gen.stop_reason,
        "dropped": [{"text": t, "why": w} for t, w in outcome.dropped],
        "context": [
            {"path": s.path, "reason": s.reason, "score": round(s.score, 3), "text": s.text}
            for s in (outcome.plan.snippets if outcome.plan else [])
        ],
        "window": {
            "first_line": outcome.plan.window[0] + 1 if outcome.plan else None,
            "last_line": outcome.plan.window[1] + 1 if outcome.plan else None,
        },
        "multiline": outcome.plan.multiline if outcome.plan else None,
        "timings": {
            "prompt_tokens": gen.n_prompt,
            "prompt_tokens_evaluated": gen.n_prompt_evaluated,
            "prompt_ms": round(sum(g.prompt_ms for g in total), 2),
            "generated_tokens": sum(g.n_generated for g in total),
            "generation_ms": round(sum(g.gen_ms for g in total), 2),
        },
    }


def relative_path(path: str, root: str | None) -> str:
    """``path`` relative to the workspace root, for prompt headers (absolute paths leak usernames)."""
    if root:
        try:
            return str(Path(path).resolve().relative_to(Path(root).resolve()))
        except (ValueError, OSError):
            pass
    return Path(path).name
