"""``--with-model``: the local model explains each finding (and, with ``--explain-changes``, each changed
hunk) and proposes a secure rewrite, within ``review.model_token_budget`` generated tokens per run.

The rewrite is ``model_edits.run_model_edit`` (the same request as the editor's "rewrite securely"
code action). The explanation is asked in the model's own chat template when its GGUF carries one
(``prompt.chat``: the question and the flagged code as a user message); otherwise it is a
completion of a comment line placed after the flagged code. ``BudgetedEngine`` caps every generation at what is left of the budget; once it is
spent, the remaining notes say ``budget_exhausted``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from slm_lsp import languages
from slm_lsp.generation import Engine, GenerationParams, Prompt
from slm_lsp.review.report import Hunk, Item, ModelNote
from slm_lsp.security.model import Edit

#: Lines before a flagged range given to the model as context for its explanation.
EXPLAIN_CONTEXT_LINES = 20
#: Longest explanation kept, in characters (the model's first paragraph, cut here).
EXPLANATION_MAX_CHARS = 400
#: The system message and the instruction of an explanation asked in a chat template.
EXPLAIN_SYSTEM = "You are a security reviewer. You answer briefly and precisely, without links."
EXPLAIN_ASK = (
    "Answer in two or three plain sentences, no code and no links: name the concrete risk in this "
    "code and how to fix it."
)


class BudgetExhausted(Exception):
    """No tokens are left in the run's budget."""


class BudgetedEngine:
    """Wraps an engine: each generation gets at most ``cap`` tokens and what is left of the budget."""

    def __init__(self, engine: Engine, budget: int) -> None:
        self._engine = engine
        self.remaining = budget
        self.used = 0
        self.cap = budget

    def __getattr__(self, name: str) -> Any:  # info, family, count_tokens, close ...
        return getattr(self._engine, name)

    def generate(
        self,
        prompt: Prompt,
        params: GenerationParams,
        cancel: threading.Event,
        on_text: Callable[[str], None] | None = None,
    ) -> Any:
        limit = min(params.max_tokens, self.cap, self.remaining)
        if limit <= 0:
            raise BudgetExhausted()
        gen = self._engine.generate(prompt, replace(params, max_tokens=limit), cancel, on_text)
        spent = gen.n_generated or (self._engine.count_tokens(gen.text) if gen.text else 0)
        spent = min(max(spent, 1), limit)
        self.remaining -= spent
        self.used += spent
        return gen


def _clean_explanation(text: str, comment: str) -> str:
    para = text.strip().split("\n\n", 1)[0]
    lines = [ln.strip() for ln in para.split("\n")]
    lines = [ln[len(comment) :].strip() if ln.startswith(comment) else ln for ln in lines]
    out = " ".join(ln for ln in lines if ln)
    return out[:EXPLANATION_MAX_CHARS].rstrip()


class ModelReviewer:
    """Writes ``ModelNote``s for findings and hunks with one loaded engine."""

    def __init__(
        self, engine: Engine, budget: int, explain_tokens: int, rewrite_tokens: int
    ) -> None:
        self.engine = BudgetedEngine(engine, budget)
        self.explain_tokens = explain_tokens
        self.rewrite_tokens = rewrite_tokens
        self.cancel = threading.Event()

    def _explain(
        self, text: str, language: str | None, path: str, first: int, last: int, question: str
    ) -> str:
        from slm_lsp.prompt.templates import build_prompt, get_family

        spec = languages.get(language) if language else None
        comment = spec.line_comment if spec else "#"
        lines = text.split("\n")
        last = min(last, len(lines) - 1)
        lo = max(0, first - EXPLAIN_CONTEXT_LINES)
        indent = (
            lines[first][: len(lines[first]) - len(lines[first].lstrip())]
            if first < len(lines)
            else ""
        )
        from slm_lsp.prompt.chat import engine_chat_prompt

        code = "\n".join(lines[lo : last + 1])
        flagged = "\n".join(lines[first : last + 1])
        prompt = engine_chat_prompt(
            self.engine,
            [
                {"role": "system", "content": EXPLAIN_SYSTEM},
                {
                    "role": "user",
                    "content": f"```{language or 'text'}\n{code}\n```\n\nThe flagged code:\n"
                    f"```{language or 'text'}\n{flagged}\n```\n\n{question} {EXPLAIN_ASK}",
                },
            ],
        )
        if prompt is None:  # no chat template: continue a comment after the code
            prefix = code + f"\n{indent}{comment} {question}\n{indent}{comment}"
            family = getattr(self.engine._engine, "family", None) or get_family(
                self.engine.info.family
            )
            prompt = build_prompt(family, prefix=prefix, suffix="", path=path, comment=comment)
        self.engine.cap = self.explain_tokens
        gen = self.engine.generate(
            prompt, GenerationParams(max_tokens=self.explain_tokens, temperature=0.0), self.cancel
        )
        return _clean_explanation(gen.text, comment)

    def _rewrite(
        self, text: str, language: str | None, path: str, first: int, last: int, hint: str
    ) -> Edit | None:
        from slm_lsp.completion.document import Document
        from slm_lsp.model_edits import ModelEditRequest, run_model_edit

        doc = Document(
            uri=Path(path).absolute().as_uri() if not path.startswith("/") else Path(path).as_uri(),
            path=path,
            text=text,
            language=language,
        )
        self.engine.cap = self.rewrite_tokens
        edit = run_model_edit(
            self.engine, None, doc, ModelEditRequest("rewrite", first, last, hint), self.cancel
        )  # type: ignore[arg-type]
        if edit is None:
            return None
        (sl, sc), (el, ec), new_text = edit
        return Edit(sl, sc, el, ec, new_text)

    def note(
        self,
        text: str,
        language: str | None,
        path: str,
        first: int,
        last: int,
        question: str,
        hint: str,
    ) -> ModelNote:
        """Explanation and rewrite of lines ``first..last`` (0-based, inclusive)."""
        before = self.engine.used
        note = ModelNote(status="ok")
        try:
            note.explanation = self._explain(text, language, path, first, last, question)
            note.rewrite = self._rewrite(text, language, path, first, last, hint)
            if not note.explanation and note.rewrite is None:
                note.status = "no_output"
        except BudgetExhausted:
            note.status = "budget_exhausted"
        except Exception as exc:  # noqa: BLE001 - one failed generation must not lose the review
            note.status = "error"
            note.error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        note.tokens = self.engine.used - before
        return note

    def review_item(self, item: Item, text: str, rule_title: str) -> ModelNote:
        from slm_lsp.security.rules import all_rules

        f = item.finding
        rule = all_rules().get(f.rule_id)
        why = f" {rule.help}" if rule is not None and rule.help else ""
        question = f"Security review of the flagged code ({f.rule_id}, CWE-{f.cwe}, {rule_title}: {f.message}{why}): why it is unsafe here and how to fix it:"
        return self.note(
            text,
            f.language,
            f.path,
            f.start_line,
            f.end_line,
            question,
            f"{f.message} (CWE-{f.cwe}){why}",
        )

    def review_hunk(self, hunk: Hunk, text: str, language: str | None) -> ModelNote:
        question = "Security review of the change above: what could go wrong and what to check:"
        return self.note(
            text,
            language,
            hunk.path,
            hunk.start_line,
            hunk.end_line,
            question,
            "no injection, no unsafe deserialization, no secrets, validated input",
        )
