"""Python checks for code, command and SQL injection: exec, dynamic imports, subprocess and shell calls, and SQL built from strings."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from slm_lsp.security.core import (
    FileContext,
    text_of,
)
from slm_lsp.security.model import (
    Fix,
)
from slm_lsp.security.rules.python.blacklist import (
    _check_import_name,
)
from slm_lsp.security.rules.python.table import (
    B102,
    B601,
    B602,
    B603,
    B604,
    B605,
    B606,
    B607,
    B608,
    B609,
    B610,
    B611,
    FULL_PATH,
    NO_SHELL,
    S005,
    SHELL,
    SHELL_META,
    SQL_RE,
    SUBPROCESS,
    on_name,
    on_qual,
)
from slm_lsp.security.rules.pyutil import (
    STRINGISH,
    Call,
    is_fstring,
    is_imported_like,
    literal,
    qualname,
    remove_keyword,
    resolve_value,
    string_parts,
    string_value,
    truthy_shell,
)

if TYPE_CHECKING:  # pragma: no cover
    from tree_sitter import Node


@on_qual("exec")
def _exec(ctx: FileContext, call: Call) -> None:
    ctx.report(B102, call.node)


@on_qual("__import__", "importlib.import_module", "importlib.__import__")
def _dynamic_import(ctx: FileContext, call: Call) -> None:
    name = string_value(call.arg(0, "name"))
    if name:
        _check_import_name(ctx, call.node, [name])


def _has_shell(call: Call) -> bool:
    return truthy_shell(call.kwvalue("shell")) if call.has_kw("shell") else False


def _is_literal_str(node: Node | None) -> bool:
    return node is not None and node.type in STRINGISH and string_value(node) is not None


def _built_command(ctx: FileContext, node: Node | None) -> bool:
    """Whether a command argument is a string built from variable data (through one assignment)."""
    node = resolve_value(ctx, node)
    if node is None:
        return False
    if node.type == "string":
        return is_fstring(node)
    if node.type == "binary_operator":
        return any(
            c.type in ("identifier", "attribute", "call", "subscript", "binary_operator")
            or (c.type == "string" and is_fstring(c))
            for c in node.named_children
        )
    if node.type == "call":
        fn = node.child_by_field_name("function")
        return (
            fn is not None
            and fn.type == "attribute"
            and text_of(fn.child_by_field_name("attribute")) in ("format", "join", "format_map")
        )
    return False


@on_qual(*SUBPROCESS)
def _subprocess(ctx: FileContext, call: Call) -> None:
    shell = _has_shell(call)
    if shell:
        if call.args:
            first = call.args[0]
            literal_cmd = _is_literal_str(first)
            fix = None
            if literal_cmd:
                fix = _shell_list_fix(ctx, call, first)
                ctx.report(
                    B602,
                    call.at_kw("shell"),
                    "subprocess call with shell=True seems safe, but may be changed in the future, consider rewriting without shell",
                    severity="low",
                    fix=fix,
                )
            else:
                if first.type == "list":
                    rm = remove_keyword(ctx, call, "shell")
                    fix = Fix("Run the argument list without a shell", (rm,)) if rm else None
                ctx.report(B602, call.at_kw("shell"), fix=fix)
            if _built_command(ctx, first):
                ctx.report(S005, first)
    else:
        ctx.report(B603, call.at_kw("shell") if call.has_kw("shell") else call.node)
    _partial_path(ctx, call)
    _wildcard(ctx, call, shell)


def _shell_list_fix(ctx: FileContext, call: Call, first: Node) -> Fix | None:
    value = string_value(first)
    if value is None or SHELL_META.search(value):
        return None
    try:
        argv = shlex.split(value)
    except ValueError:
        return None
    if not argv:
        return None
    rm = remove_keyword(ctx, call, "shell")
    if rm is None:
        return None
    new = "[" + ", ".join(repr(a) for a in argv) + "]"
    return Fix("Pass an argument list without a shell", (ctx.edit(first, new), rm))


@on_qual(*SHELL)
def _shell(ctx: FileContext, call: Call) -> None:
    if call.args:
        if _is_literal_str(call.args[0]):
            ctx.report(
                B605,
                call.node,
                "Starting a process with a shell: Seems safe, but may be changed in the future, consider rewriting without shell",
                severity="low",
            )
        else:
            ctx.report(B605, call.node)
            if _built_command(ctx, call.args[0]):
                ctx.report(S005, call.args[0])
    _partial_path(ctx, call)
    _wildcard(ctx, call, True)


@on_qual(*NO_SHELL)
def _no_shell(ctx: FileContext, call: Call) -> None:
    ctx.report(B606, call.node)
    _partial_path(ctx, call)


def _partial_path(ctx: FileContext, call: Call) -> None:
    if not call.args:
        return
    node = call.args[0]
    if node.type == "list" and node.named_child_count:
        node = node.named_children[0]
    v = string_value(node) if node.type in STRINGISH else None
    if v is not None and not FULL_PATH.match(v):
        ctx.report(B607, call.node)


def _wildcard(ctx: FileContext, call: Call, shell: bool) -> None:
    if not shell or not call.args:
        return
    a = literal(call.args[0])
    s = (
        " ".join(x for x in a if isinstance(x, str))
        if isinstance(a, list)
        else a
        if isinstance(a, str)
        else ""
    )
    if s and "*" in s and any(v in s for v in ("chown", "chmod", "tar", "rsync")):
        ctx.report(B609, call.at_kw("shell"), f"Possible wildcard injection in call: {call.qual}")


def _other_shell_keyword(ctx: FileContext, caps: dict) -> None:
    """B604: ``shell=<truthy>`` in any call that is not a subprocess function."""
    kw = caps["kw"][0]
    call_node = kw.parent.parent if kw.parent is not None else None
    if call_node is None or call_node.type != "call":
        return
    fn = call_node.child_by_field_name("function")
    if fn is None or qualname(ctx, fn) in SUBPROCESS:
        return
    if truthy_shell(kw.child_by_field_name("value")):
        ctx.report(B604, kw)


@on_name("exec_command")
def _paramiko_exec(ctx: FileContext, call: Call) -> None:
    if is_imported_like(ctx, "paramiko"):
        ctx.report(B601, call.node)


@on_name("extra")
def _django_extra(ctx: FileContext, call: Call) -> None:
    kwargs = {k: call.kwvalue(k) for k in call.keywords}
    for i, key in enumerate(("select", "where", "params", "tables", "order_by", "select_params")):
        if i < len(call.args):
            kwargs[key] = call.args[i]
    insecure = False
    for key in ("where", "tables"):
        v = kwargs.get(key)
        if v is not None:
            if v.type == "list":
                if any(string_value(e) is None for e in v.named_children):
                    insecure = True
            else:
                insecure = True
    if not insecure and kwargs.get("select") is not None:
        sel = kwargs["select"]
        if sel.type == "dictionary":
            for pair in sel.named_children:
                if (
                    pair.type != "pair"
                    or string_value(pair.child_by_field_name("key")) is None
                    or string_value(pair.child_by_field_name("value")) is None
                ):
                    insecure = True
        else:
            insecure = True
    if insecure:
        ctx.report(B610, call.node)


@on_name("RawSQL")
def _rawsql(ctx: FileContext, call: Call) -> None:
    if not is_imported_like(ctx, "django.db.models"):
        return
    sql = call.arg(0, "sql")
    if sql is not None and string_value(sql) is None:
        ctx.report(B611, call.node)


def on_exec_stmt(ctx: FileContext, caps: dict) -> None:
    ctx.report(B102, caps["exec"][0])


def _binop_top(node: Node) -> Node:
    while node.parent is not None and node.parent.type in (
        "binary_operator",
        "parenthesized_expression",
    ):
        if node.parent.type == "parenthesized_expression" and (
            node.parent.parent is None or node.parent.parent.type != "binary_operator"
        ):
            break
        node = node.parent
    return node


def _binop_strings(node: Node, out: list[str]) -> None:
    for c in node.named_children:
        if c.type in ("binary_operator", "parenthesized_expression"):
            _binop_strings(c, out)
        elif c.type in STRINGISH:
            out.append(
                string_parts(c)
                if is_fstring(c) or c.type == "concatenated_string"
                else (string_value(c) or string_parts(c))
            )


def _wrapper_is_execute(wrapper: Node | None) -> bool:
    if (
        wrapper is None
        or wrapper.type != "argument_list"
        or wrapper.parent is None
        or wrapper.parent.type != "call"
    ):
        return False
    fn = wrapper.parent.child_by_field_name("function")
    name = (
        text_of(fn.child_by_field_name("attribute"))
        if fn is not None and fn.type == "attribute"
        else text_of(fn)
    )
    return name in ("execute", "executemany")


def _literal_only(node: Node) -> bool:
    """Whether an expression is built from literals alone (``"a" + "b"``, ``"x %s" % ("y",)``): no data can reach it."""
    stack = [node]
    while stack:
        n = stack.pop()
        t = n.type
        if t in ("string", "concatenated_string"):
            if any(c.type == "interpolation" for c in n.named_children) or (
                t == "concatenated_string" and any(is_fstring(c) for c in n.named_children)
            ):
                return False
        elif t in ("integer", "float", "true", "false", "none", "comment"):
            pass
        elif t in ("binary_operator", "parenthesized_expression", "tuple", "list", "argument_list"):
            stack.extend(n.named_children)
        else:
            return False
    return True


def on_sql_binop(ctx: FileContext, caps: dict) -> None:
    top = _binop_top(caps["bin"][0])
    seen = ctx.facts.setdefault("sqlbin", set())
    if top.id in seen:
        return
    seen.add(top.id)
    if _literal_only(top):
        return
    parts: list[str] = []
    _binop_strings(top, parts)
    if SQL_RE.search("".join(parts)):
        conf = "medium" if _wrapper_is_execute(top.parent) else "low"
        ctx.report(B608, top, confidence=conf)


def on_sql_format(ctx: FileContext, caps: dict) -> None:
    s, m, call = caps["str"][0], caps["m"][0], caps["call"][0]
    args = call.child_by_field_name("arguments")
    if args is not None and _literal_only(args):
        return
    stmt = string_value(s) if s.type == "string" and not is_fstring(s) else string_parts(s)
    if stmt and SQL_RE.search(stmt):
        replace = text_of(m) == "replace"
        conf = "medium" if _wrapper_is_execute(call.parent) and not replace else "low"
        ctx.report(B608, s, confidence=conf)


def on_sql_fstring(ctx: FileContext, caps: dict) -> None:
    s = caps["fstr"][0]
    if s.parent is not None and s.parent.type == "concatenated_string":
        s = s.parent
        seen = ctx.facts.setdefault("sqlcat", set())
        if s.id in seen:
            return
        seen.add(s.id)
    if s.parent is not None and s.parent.type == "expression_statement":
        return
    if SQL_RE.search(string_parts(s)):
        par = s.parent
        if par is not None and par.type == "concatenated_string":
            par = par.parent
        conf = "medium" if _wrapper_is_execute(par) else "low"
        ctx.report(B608, s, confidence=conf)
