"""Edits the model proposes for a range: a secure rewrite of flagged code, a docstring, a function body.

A model whose GGUF carries a chat template (instruct models: Qwen2.5-Coder-Instruct, SmolLM2,
Phi-3, Llama 3) is asked in that template, with an instruction and the code (``prompt.chat``), and
the code is taken out of its reply. A model without one (our FIM model, base models) gets a
fill-in-the-middle request whose hole is the range to rewrite, steered by a comment line placed in
the prefix. Also: the suppression comment for "ignore this finding here". No LSP types.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from slm_lsp import languages
from slm_lsp.generation import Engine, GenerationParams
from slm_lsp.text import TextIndex

if TYPE_CHECKING:  # pragma: no cover
    from slm_lsp.completion.document import Document
    from slm_lsp.completion.service import CompletionService

#: Most tokens a model edit may generate.
MODEL_EDIT_MAX_TOKENS = 256
#: Tree-sitter node types that are functions, across our grammars.
FUNCTION_TYPES = frozenset(
    {
        "function_definition",
        "function_declaration",
        "method_definition",
        "method_declaration",
        "function_item",
        "constructor_declaration",
        "method",
        "singleton_method",
        "arrow_function",
        "function_expression",
        "func_literal",
        "local_function_statement",
    }
)
#: Comment syntax used for suppressions, per language.
SUPPRESS = {"python": "# nosec {id}", "ruby": "# slm-ignore: {id}", "bash": "# slm-ignore: {id}"}
DEFAULT_SUPPRESS = "// slm-ignore: {id}"


@dataclass(frozen=True)
class FunctionSpan:
    start_line: int
    end_line: int
    body_start_line: int
    indent: str
    can_docstring: bool


@dataclass(frozen=True)
class ModelEditRequest:
    kind: str  #: rewrite | docstring | body
    start_line: int
    end_line: int
    hint: str = ""


def find_enclosing_function(text: str, language: str, line: int, col: int) -> FunctionSpan | None:
    """The innermost function around (line, col), from tree-sitter."""
    try:
        tree = languages.parser(language).parse(text.encode("utf-8", "surrogatepass"))
    except Exception:
        return None
    raw_line = text.split("\n")[line] if line < text.count("\n") + 1 else ""
    byte_col = len(raw_line[:col].encode("utf-8", "surrogatepass"))
    node = tree.root_node.descendant_for_point_range((line, byte_col), (line, byte_col))
    while node is not None and node.type not in FUNCTION_TYPES:
        node = node.parent
    if node is None:
        return None
    body = node.child_by_field_name("body")
    body_line = body.start_point[0] if body is not None else node.start_point[0] + 1
    lines = text.split("\n")
    header = lines[node.start_point[0]] if node.start_point[0] < len(lines) else ""
    indent = header[: len(header) - len(header.lstrip())]
    has_doc = False
    if language == "python" and body is not None and body.named_child_count:
        first = body.named_children[0]
        has_doc = (
            first.type == "expression_statement"
            and first.named_child_count > 0
            and first.named_children[0].type == "string"
        )
    return FunctionSpan(
        node.start_point[0],
        node.end_point[0],
        body_line,
        indent,
        language == "python" and not has_doc,
    )


def suppression_edit(
    text: str, line: int, rule_id: str, language: str | None
) -> tuple[tuple[int, int], tuple[int, int], str] | None:
    """The edit adding a suppression comment for ``rule_id`` at the end of ``line``."""
    idx = TextIndex(text)
    if not idx.in_range(line, 0):
        return None
    content = idx.line(line)
    template = SUPPRESS.get(language or "", DEFAULT_SUPPRESS)
    if language in ("c", "cpp") and "//" not in content:
        template = "/* slm-ignore: {id} */"
    comment = template.format(id=rule_id)
    end = len(content)
    return ((line, end), (line, end), ("  " if content.strip() else "") + comment)


#: Lines a rewrite may add to the flagged range (an import, a split command) before it is refused.
REWRITE_EXTRA_LINES = 3
#: The system message of every instruct request.
CHAT_SYSTEM = "You are an expert software engineer who writes correct, secure code."


def _chat_edit(
    engine: Engine, doc: Document, req: ModelEditRequest, cancel: threading.Event
) -> tuple[tuple[int, int], tuple[int, int], str] | None | bool:
    """The edit from an instruct model in its chat template; None for no edit, False when the
    model has no chat template (the caller then makes a fill-in-the-middle request)."""
    from slm_lsp.prompt.chat import engine_chat_prompt, reindent, reply_code

    lang = doc.language or ""
    lines = doc.text.split("\n")
    fence = lang or "text"
    if req.kind in ("docstring", "body"):
        fn = find_enclosing_function(doc.text, lang, req.start_line, 0)
        if fn is None:
            return None
        code = "\n".join(lines[fn.start_line : fn.end_line + 1])
        at = fn.body_start_line
        body_indent = (
            lines[at][: len(lines[at]) - len(lines[at].lstrip())]
            if at < len(lines) and lines[at].strip()
            else fn.indent + "    "
        )
        if req.kind == "docstring":
            ask = (
                f"Write a one-paragraph docstring for this {lang} function: what it does, its "
                "arguments and what it returns. Reply with the docstring text only, without quotes."
            )
        else:
            ask = (
                f"Complete this {lang} function: write its body. Reply with the whole function in "
                "one code block."
            )
    else:
        first, last = req.start_line, min(req.end_line, len(lines) - 1)
        code = "\n".join(lines[first : last + 1])
        # the flagged lines alone: with the lines before them, a 0.5B model re-types those too
        ask = (
            f"This {lang} code is insecure: {req.hint}. Fix it; keep what it does and the names "
            "it uses, change as little as possible. Reply with only the fixed code in one code block."
        )
    messages = [
        {"role": "system", "content": CHAT_SYSTEM},
        {"role": "user", "content": f"{ask}\n```{fence}\n{code}\n```"},
    ]
    prompt = engine_chat_prompt(engine, messages)
    if prompt is None:
        return False
    gen = engine.generate(
        prompt, GenerationParams(max_tokens=MODEL_EDIT_MAX_TOKENS, temperature=0.0), cancel
    )
    if gen.stop_reason == "cancelled" or not gen.text.strip():
        return None
    if req.kind == "docstring":
        text = reply_code(gen.text).strip().strip("\"'").strip()
        if not text:
            return None
        quote = '"' * 3
        return (at, 0), (at, 0), body_indent + quote + text.replace(quote, "'" * 3) + quote + "\n"
    reply = reply_code(gen.text)
    if req.kind == "body":
        if at <= fn.start_line:  # a one-line function: no body line to fill
            return None
        got = find_enclosing_function(reply, lang, 0, 0) if reply.strip() else None
        rlines = reply.split("\n")
        if got is None or got.body_start_line >= len(rlines):
            return None
        body = "\n".join(rlines[got.body_start_line : got.end_line + 1])
        end = (
            (fn.end_line + 1, 0)
            if fn.end_line + 1 < len(lines)
            else (fn.end_line, len(lines[fn.end_line]))
        )
        return (at, 0), end, reindent(body, body_indent).rstrip() + "\n"
    indent = lines[first][: len(lines[first]) - len(lines[first].lstrip())]
    new_text = reindent(reply, indent).rstrip("\n")
    if (
        not new_text.strip()
        or gen.stop_reason == "length"  # cut off: not code to apply
        or new_text.count("\n") > last - first + REWRITE_EXTRA_LINES  # a new program, no fix
    ):
        return None
    return (first, 0), (last, len(lines[last])), new_text


def run_model_edit(
    engine: Engine,
    service: CompletionService,
    doc: Document,
    req: ModelEditRequest,
    cancel: threading.Event,
) -> tuple[tuple[int, int], tuple[int, int], str] | None:
    """On the worker thread: ask the model for the text of the range; returns (start, end, new text) or None."""
    from slm_lsp.prompt.templates import build_prompt, get_family

    idx = TextIndex(doc.text)
    chat = _chat_edit(engine, doc, req, cancel)
    if chat is not False:
        if not chat or (req.kind == "rewrite" and _still_flagged(doc, idx, chat)):
            return None
        return _checked(doc, idx, chat, req.kind == "docstring")
    spec = languages.get(doc.language) if doc.language else None
    comment = spec.line_comment if spec else "#"
    family = getattr(engine, "family", None) or get_family(engine.info.family)
    lines = doc.text.split("\n")
    if req.kind == "docstring":
        fn = find_enclosing_function(doc.text, doc.language or "", req.start_line, 0)
        if fn is None:
            return None
        at = fn.body_start_line
        body_indent = (
            lines[at][: len(lines[at]) - len(lines[at].lstrip())]
            if at < len(lines)
            else fn.indent + "    "
        )
        prefix = "\n".join(lines[:at]) + "\n" + body_indent + '"""'
        suffix = '"""\n' + "\n".join(lines[at:])
        start = end = (at, 0)
        wrap = lambda t: body_indent + '"""' + t.strip().replace('"""', "'''") + '"""\n'  # noqa: E731
    elif req.kind == "body":
        fn = find_enclosing_function(doc.text, doc.language or "", req.start_line, 0)
        if fn is None:
            return None
        at = fn.body_start_line
        prefix = "\n".join(lines[: at + 1]) + "\n"
        suffix = "\n".join(lines[fn.end_line + 1 :])
        start, end = (
            (at + 1, 0),
            (fn.end_line + 1, 0)
            if fn.end_line + 1 < len(lines)
            else (fn.end_line, len(lines[fn.end_line])),
        )
        wrap = lambda t: t.rstrip() + "\n"  # noqa: E731
    else:
        first, last = req.start_line, min(req.end_line, len(lines) - 1)
        indent = lines[first][: len(lines[first]) - len(lines[first].lstrip())]
        prefix = (
            "\n".join(lines[:first])
            + ("\n" if first else "")
            + f"{indent}{comment} Secure version of the next line(s): {req.hint}\n"
        )
        suffix = "\n" + "\n".join(lines[last + 1 :])
        start, end = (first, 0), (last, len(lines[last]))
        wrap = lambda t: t.rstrip("\n")  # noqa: E731
    prompt = build_prompt(
        family,
        prefix=prefix,
        suffix=suffix if family.is_fim else "",
        path=doc.path,
        comment=comment,
    )
    gen = engine.generate(
        prompt, GenerationParams(max_tokens=MODEL_EDIT_MAX_TOKENS, temperature=0.0), cancel
    )
    text = gen.text
    if req.kind == "rewrite":
        text = text.split("\n\n", 1)[0]
    if not text.strip() or gen.stop_reason == "cancelled":
        return None
    return _checked(doc, idx, (start, end, wrap(text)), req.kind == "docstring")


def _still_flagged(
    doc: Document, idx: TextIndex, edit: tuple[tuple[int, int], tuple[int, int], str]
) -> bool:
    """Whether a rewrite leaves a finding of the same rule in the rewritten lines (no fix at all)."""
    from slm_lsp.security.engine import SecurityEngine

    (sl, _), (el, _), new_text = edit
    checker = SecurityEngine()
    before = {
        f.rule_id
        for f in checker.check(doc.text, doc.path, doc.language)
        if sl <= f.start_line <= el
    }
    s_off, e_off = idx.offset(*edit[0]), idx.offset(*edit[1])
    after_text = doc.text[:s_off] + new_text + doc.text[e_off:]
    last = sl + new_text.count("\n")
    after = {
        f.rule_id
        for f in checker.check(after_text, doc.path, doc.language)
        if sl <= f.start_line <= last
    }
    return bool(before & after)


def _checked(
    doc: Document,
    idx: TextIndex,
    edit: tuple[tuple[int, int], tuple[int, int], str],
    docstring: bool = False,
) -> tuple[tuple[int, int], tuple[int, int], str] | None:
    """The edit, or None when it would leave the file unparsable where it parsed before."""
    start, end, new_text = edit
    if doc.language and not docstring:
        from slm_lsp.completion.vetting import breaks_parse

        s_off, e_off = idx.offset(*start), idx.offset(*end)
        if breaks_parse(doc.text, doc.text[:s_off] + new_text + doc.text[e_off:], doc.language):
            return None
    return start, end, new_text
