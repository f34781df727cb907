"""Python checks for bandit's blacklisted calls and imports (B3xx, B4xx), with their quick fixes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slm_lsp.security.core import (
    FileContext,
    text_of,
)
from slm_lsp.security.model import (
    Fix,
)
from slm_lsp.security.rules.python.table import (
    B304,
    B305,
    B306,
    B307,
    B311,
    B323,
    BLACKLIST_CALLS,
    BLACKLIST_IMPORTS,
    CALLS_BY_QUAL,
    RULE_BY_ID,
)
from slm_lsp.security.rules.pyutil import (
    STRINGISH,
    Call,
    is_imported_exact,
    replace_attr,
)

if TYPE_CHECKING:  # pragma: no cover
    from tree_sitter import Node


# ====================================================================== call checks
def _blacklist(ctx: FileContext, call: Call) -> None:
    rid = BLACKLIST_CALLS[call.qual]
    fix = None
    if rid == B311:
        fix = _random_fix(ctx, call)
    elif rid == B306:
        e = replace_attr(ctx, call.fn, "mkstemp")
        fix = (
            Fix("Use tempfile.mkstemp() (returns (fd, path) and creates the file safely)", (e,))
            if e and call.fn.type == "attribute"
            else None
        )
    elif rid == B307:
        e = _literal_eval_fix(ctx, call)
        fix = e
    elif rid == B323:
        e = replace_attr(ctx, call.fn, "create_default_context")
        fix = (
            Fix("Use ssl.create_default_context()", (e,))
            if e and call.fn.type == "attribute"
            else None
        )
    msg = None
    if rid in (B304, B305):
        msg = (
            RULE_BY_ID[rid].message.replace("insecure cipher", f"insecure cipher {call.qual}")
            if rid == B304
            else f"Use of insecure cipher mode {call.qual}."
        )
    ctx.report(rid, call.node, msg, fix=fix)


for _qual in BLACKLIST_CALLS:
    CALLS_BY_QUAL.setdefault(_qual, []).append(_blacklist)


def _literal_eval_fix(ctx: FileContext, call: Call) -> Fix | None:
    if call.fn.type != "identifier" or len(call.args) != 1 or call.keywords:
        return None
    edits = [ctx.edit(call.fn, "ast.literal_eval")]
    if not is_imported_exact(ctx, "ast"):
        edits.append(_import_edit(ctx, "ast"))
    return Fix("Use ast.literal_eval (literals only)", tuple(edits))


def _import_edit(ctx: FileContext, module: str):
    """Insert ``import module`` before the first statement that is not a docstring or __future__ import."""
    row = ctx.facts.get("import_row")
    if row is None:
        row = ctx.facts["import_row"] = _import_row(ctx)
    return ctx.edit_points((row, 0), (row, 0), f"import {module}\n")


def _import_row(ctx: FileContext) -> int:
    root = ctx.root
    row = 0
    for child in root.named_children:
        if child.type == "comment":
            continue
        if (
            child.type == "expression_statement"
            and child.named_child_count == 1
            and child.named_children[0].type in STRINGISH
            and row == 0
        ):
            row = child.end_point[0] + 1
            continue
        if child.type == "future_import_statement":
            row = child.end_point[0] + 1
            continue
        row = max(row, child.start_point[0])
        break
    return row


_SECRETS_SAME = {"choice": "choice", "getrandbits": "randbits"}


def _random_fix(ctx: FileContext, call: Call) -> Fix | None:
    if call.fn.type != "attribute" or call.name == "Random":
        return None
    obj = call.fn.child_by_field_name("object")
    if obj is None or obj.type != "identifier":
        return None
    if call.name in _SECRETS_SAME:
        new = f"secrets.{_SECRETS_SAME[call.name]}"
    elif call.name == "randrange" and len(call.args) == 1 and not call.keywords:
        new = "secrets.randbelow"
    else:
        new = f"secrets.SystemRandom().{call.name}"
    edits = [ctx.edit(call.fn, new)]
    if not is_imported_exact(ctx, "secrets"):
        edits.append(_import_edit(ctx, "secrets"))
    return Fix(f"Use {new} (cryptographically secure)", tuple(edits))


def _check_import_name(ctx: FileContext, node: Node, names: list[str]) -> None:
    for rid, prefixes in BLACKLIST_IMPORTS:
        for name in names:
            if any(name.startswith(p) for p in prefixes):
                ctx.report(
                    rid,
                    node,
                    f"Consider possible security implications associated with the {name} module."
                    if RULE_BY_ID[rid].severity == "low"
                    else None,
                )
                break


def _import_call(ctx: FileContext, call: Call) -> None:
    _check_import_name(ctx, call.node, [call.qual])


for _rid, _prefixes in BLACKLIST_IMPORTS:
    for _p in _prefixes:
        CALLS_BY_QUAL.setdefault(_p, []).append(_import_call)


def on_import(ctx: FileContext, caps: dict) -> None:
    node = caps["imp"][0]
    names = []
    for child in node.named_children:
        if child.type == "dotted_name":
            names.append(text_of(child))
        elif child.type == "aliased_import":
            names.append(text_of(child.child_by_field_name("name")))
    _check_import_name(ctx, node, names)


def on_import_from(ctx: FileContext, caps: dict) -> None:
    node = caps["impfrom"][0]
    module_node = node.child_by_field_name("module_name")
    module = text_of(module_node).lstrip(".") if module_node is not None else ""
    prefix = f"{module}." if module else ""
    names = []
    for child in node.children_by_field_name("name"):
        n = child.child_by_field_name("name") if child.type == "aliased_import" else child
        names.append(prefix + text_of(n))
    if not names and module:
        names.append(module + ".*")
    _check_import_name(ctx, node, names)
