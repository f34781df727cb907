"""Helpers shared by the rule tables of the non-Python languages."""

from __future__ import annotations

import re
from collections.abc import Callable

from slm_lsp.security.core import Captures, FileContext, text_of
from slm_lsp.security.model import Fix, Rule

#: SQL text (bandit's B608 expression, also used for the other languages).
SQL_RE = re.compile(
    r"(select\s.*from\s|delete\s+from\s|insert\s+into\s.*values[\s(]|update\s.*set\s)",
    re.IGNORECASE | re.DOTALL,
)
#: Names that suggest a secret, a token or an identifier that must not be guessable.
SECRET_NAME_RE = re.compile(
    r"(?i)(token|secret|passw|pwd|nonce|salt|session|otp|api_?key|auth|csrf|reset|uuid|\bkey\b|Key$)"
)


def rule_factory(languages: tuple[str, ...], sink: list[Rule]) -> Callable[..., str]:
    """A function declaring rules for ``languages`` into ``sink`` and returning the id."""

    def make(
        id: str,
        title: str,
        cwe: int,
        severity: str,
        confidence: str,
        message: str,
        help: str,
        bad: str,
        good: str,
        fixable: bool = False,
    ) -> str:
        sink.append(
            Rule(
                id,
                title,
                cwe,
                severity,
                confidence,
                message,
                help,
                good,
                bad,
                languages,
                None,
                fixable,
            )
        )
        return id

    return make


def cap(caps: Captures, name: str):
    nodes = caps.get(name)
    return nodes[0] if nodes else None


def cap_text(caps: Captures, name: str) -> str:
    return text_of(cap(caps, name))


def looks_sql(node) -> bool:
    """Whether the text of a built string (its literal parts) looks like SQL."""
    return bool(SQL_RE.search(text_of(node)))


def replace_fix(
    title: str, capture: str, new_text: str
) -> Callable[[FileContext, Captures], Fix | None]:
    """A fix that replaces one capture's text."""

    def fix(ctx: FileContext, caps: Captures) -> Fix | None:
        node = cap(caps, capture)
        return Fix(title, (ctx.edit(node, new_text),)) if node is not None else None

    return fix


def file_mentions(*words: str) -> Callable[[FileContext, Captures], bool]:
    """A ``when`` that requires one of the words to appear somewhere in the file."""
    encoded = [w.encode() for w in words]
    return lambda ctx, caps: any(w in ctx.data for w in encoded)


def name_near(node, depth: int = 6) -> str:
    """Names of the variables/properties/functions around a node (for 'is this a secret?' heuristics)."""
    names = []
    cur = node
    for _ in range(depth):
        cur = cur.parent
        if cur is None:
            break
        for field in ("name", "left", "key", "declarator"):
            child = cur.child_by_field_name(field)
            if (
                child is not None
                and child.type not in ("arguments", "argument_list", "parameters")
                and child.end_byte - child.start_byte < 80
            ):
                names.append(text_of(child))
    return " ".join(names)


def array_declared(ctx: FileContext, name: str) -> bool:
    """Whether a C/C++ array ``name[...]`` is declared in the file (so ``sizeof name`` is its size)."""
    return (
        re.search(rb"\b" + re.escape(name.encode()) + rb"\s*\[[^\]]+\]\s*[;=]", ctx.data)
        is not None
    )
