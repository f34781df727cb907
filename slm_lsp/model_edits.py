"""Edits the model proposes for a range: a secure rewrite of flagged code, a docstring, a function body.

Each is a fill-in-the-middle request whose hole is the range to rewrite, steered by a comment line
placed in the prefix. Also: the suppression comment for "ignore this finding here". No LSP types.
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
    new_text = wrap(text)
    if doc.language and req.kind != "docstring":
        from slm_lsp.completion.vetting import breaks_parse

        s_off, e_off = idx.offset(*start), idx.offset(*end)
        if breaks_parse(doc.text, doc.text[:s_off] + new_text + doc.text[e_off:], doc.language):
            return None
    return start, end, new_text
