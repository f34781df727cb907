"""Python checks that fit no other theme: assert, except/pass, file permissions, hard-coded secrets, Python 2 input and bidirectional control characters."""

from __future__ import annotations

import stat

from slm_lsp.security.core import (
    FileContext,
    text_of,
)
from slm_lsp.security.model import (
    Fix,
)
from slm_lsp.security.rules.python.table import (
    B101,
    B103,
    B105,
    B106,
    B107,
    B110,
    B112,
    B613,
    BIDI,
    S003,
    on_name,
    on_qual,
    secret_name,
)
from slm_lsp.security.rules.pyutil import (
    STRINGISH,
    Call,
    literal,
    resolve_value,
    string_parts,
    string_value,
)


@on_name("chmod", "fchmod", "lchmod")
def _chmod(ctx: FileContext, call: Call) -> None:
    if len(call.args) + len(call.keywords) != 2 or len(call.args) < 2:
        return
    mode = literal(resolve_value(ctx, call.args[1]))
    if not isinstance(mode, int) or isinstance(mode, bool):
        return
    if mode & (stat.S_IWOTH | stat.S_IWGRP | stat.S_IXGRP | stat.S_IXOTH):
        # writable by others is the vulnerability; executable by others (0o755) is how programs are installed
        sev = "high" if mode & stat.S_IWOTH else "medium" if mode & stat.S_IWGRP else "low"
        ctx.report(
            B103, call.node, f"Chmod setting a permissive mask {oct(mode)} on file.", severity=sev
        )


@on_qual("input")
def _py2_input(ctx: FileContext, call: Call) -> None:
    if ctx.facts.get("py2"):
        ctx.report(S003, call.node, fix=Fix("Use raw_input()", (ctx.edit(call.fn, "raw_input"),)))


def on_assert(ctx: FileContext, caps: dict) -> None:
    ctx.report(B101, caps["assert"][0])


def on_except(ctx: FileContext, caps: dict) -> None:
    node = caps["except"][0]
    block = None
    type_node = None
    for c in node.named_children:
        if c.type == "block":
            block = c
        elif c.type != "comment" and type_node is None:
            type_node = c
    if block is None:
        return
    body = [c for c in block.named_children if c.type != "comment"]
    if len(body) != 1 or body[0].type not in ("pass_statement", "continue_statement"):
        return
    if type_node is not None:
        t = (
            type_node.named_children[0]
            if type_node.type == "as_pattern" and type_node.named_child_count
            else type_node
        )
        if text_of(t) != "Exception":
            return
    rid = B110 if body[0].type == "pass_statement" else B112
    ctx.report(rid, (node, body[0]))


def on_password_assign(ctx: FileContext, caps: dict) -> None:
    target = caps["target"][0]
    value = caps["value"][0]
    assign = target.parent
    if assign is None or assign.child_by_field_name("type") is not None:
        return
    name = (
        text_of(target.child_by_field_name("attribute"))
        if target.type == "attribute"
        else text_of(target)
    )
    if secret_name(name):
        sv = string_value(value)
        ctx.report(
            B105,
            value,
            f"Possible hardcoded password: '{sv if sv is not None else string_parts(value)}'",
        )


def on_password_pair(ctx: FileContext, caps: dict) -> None:
    key, value = caps["key"][0], caps["value"][0]
    k = string_value(key)
    if k is not None and secret_name(k):
        ctx.report(B105, key, f"Possible hardcoded password: '{string_value(value)}'")


def on_password_subscript(ctx: FileContext, caps: dict) -> None:
    key, value = caps["key"][0], caps["value"][0]
    k = string_value(key)
    if k is not None and secret_name(k) and string_value(value) is not None:
        ctx.report(B105, key, f"Possible hardcoded password: '{string_value(value)}'")


def on_password_compare(ctx: FileContext, caps: dict) -> None:
    cmp_node = caps["cmp"][0]
    named = [c for c in cmp_node.named_children if c.type != "comment"]
    if len(named) < 2 or named[1].type not in STRINGISH:
        return
    left = named[0]
    name = (
        text_of(left.child_by_field_name("attribute"))
        if left.type == "attribute"
        else text_of(left)
        if left.type == "identifier"
        else ""
    )
    if name and secret_name(name) and string_value(named[1]) is not None:
        ctx.report(B105, named[1], f"Possible hardcoded password: '{string_value(named[1])}'")


def on_password_kwarg(ctx: FileContext, caps: dict) -> None:
    kw = caps["kw"][0]
    if kw.parent is None or kw.parent.parent is None or kw.parent.parent.type != "call":
        return
    name = text_of(kw.child_by_field_name("name"))
    value = kw.child_by_field_name("value")
    if secret_name(name) and string_value(value) is not None:
        ctx.report(B106, value, f"Possible hardcoded password: '{string_value(value)}'")  # type: ignore[arg-type]


def on_password_default(ctx: FileContext, caps: dict) -> None:
    param = caps["param"][0]
    params = param.parent
    if (
        params is None
        or params.type != "parameters"
        or params.parent is None
        or params.parent.type != "function_definition"
    ):
        return
    # keyword-only parameters (after * or *args) are not checked, as in bandit
    for sib in params.named_children:
        if sib == param:
            break
        if sib.type in ("keyword_separator", "list_splat_pattern"):
            return
    name = text_of(param.child_by_field_name("name"))
    value = param.child_by_field_name("value")
    if not secret_name(name) or string_value(value) is None:
        return
    fn = params.parent
    seen = ctx.facts.setdefault("b107", set())
    if fn.id in seen:
        return
    seen.add(fn.id)
    ctx.report(B107, (fn, value), f"Possible hardcoded password: '{string_value(value)}'")  # type: ignore[arg-type]


def on_py2(ctx: FileContext, caps: dict) -> None:
    ctx.facts["py2"] = True


def bidi_check(ctx: FileContext) -> None:
    m = BIDI.search(ctx.text)
    if m is None:
        return
    line = ctx.text.count("\n", 0, m.start())
    line_start = ctx.text.rfind("\n", 0, m.start()) + 1
    col_chars = m.start() - line_start
    # report in byte columns (the engine converts back)
    col_bytes = len(ctx.text[line_start : m.start()].encode("utf-8", "replace"))
    del col_chars
    ctx.report_at(
        B613,
        (line, col_bytes),
        (line, col_bytes + len(m.group().encode("utf-8"))),
        f"A Python source file contains bidirectional control characters ({m.group()!r}).",
    )
