"""Python checks for web and network exposure: requests without a timeout, Flask debug, tar extraction, YAML loading, binding to all interfaces and temporary paths."""

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
    B104,
    B108,
    B113,
    B201,
    B202,
    B501,
    B506,
    CALLS_BY_NAME,
    FIX_TIMEOUT_S,
    HTTP_VERBS,
    HTTPX_ATTRS,
    on_name,
)
from slm_lsp.security.rules.pyutil import (
    Call,
    add_keyword,
    is_imported_exact,
    is_imported_like,
    remove_keyword,
    string_value,
)

if TYPE_CHECKING:  # pragma: no cover
    from tree_sitter import Node


def _requests(ctx: FileContext, call: Call) -> None:
    root = call.qual.split(".")[0]
    is_req = root == "requests" and call.name in HTTP_VERBS
    is_httpx = root == "httpx" and call.name in HTTPX_ATTRS
    if not (is_req or is_httpx):
        return
    if call.has_kw("verify") and call.kwliteral("verify") in (False, "False"):
        rm = remove_keyword(ctx, call, "verify")
        ctx.report(
            B501,
            call.at_kw("verify"),
            f"Call to {root} with verify=False disabling SSL certificate checks, security issue.",
            fix=Fix("Remove verify=False (verify certificates)", (rm,)) if rm else None,
        )
    if is_req and not call.has_kw("timeout") and not _has_kwargs_splat(call):
        e = add_keyword(ctx, call, f"timeout={FIX_TIMEOUT_S}")
        ctx.report(
            B113,
            call.node,
            f"Call to {root} without timeout",
            fix=Fix(f"Add timeout={FIX_TIMEOUT_S}", (e,)) if e else None,
        )
    elif call.has_kw("timeout") and call.kwliteral("timeout") in (None, "None"):
        ctx.report(
            B113,
            call.at_kw("timeout"),
            f"Call to {root} with timeout set to None",
            fix=Fix(
                f"Use timeout={FIX_TIMEOUT_S}",
                (ctx.edit(call.kwvalue("timeout"), str(FIX_TIMEOUT_S)),),
            ),
        )


def _has_kwargs_splat(call: Call) -> bool:
    return call.arglist is not None and any(
        c.type == "dictionary_splat" for c in call.arglist.named_children
    )


for _verb in HTTPX_ATTRS:
    CALLS_BY_NAME.setdefault(_verb, []).append(_requests)


@on_name("run")
def _flask_debug(ctx: FileContext, call: Call) -> None:
    if (
        is_imported_like(ctx, "flask")
        and call.qual.endswith(".run")
        and call.kwliteral("debug") in (True, "True")
    ):
        v = call.kwvalue("debug")
        ctx.report(
            B201,
            call.at_kw("debug"),
            fix=Fix("Turn debug off", (ctx.edit(v, "False"),)) if v is not None else None,
        )


@on_name("extractall")
def _tar(ctx: FileContext, call: Call) -> None:
    if not is_imported_exact(ctx, "tarfile"):
        return
    if call.has_kw("filter") and string_value(call.kwvalue("filter")) == "data":
        return
    if call.has_kw("members"):
        m = call.kwvalue("members")
        if m is not None and m.type == "call":
            ctx.report(
                B202,
                call.node,
                "Usage of tarfile.extractall(members=function(tarfile)). Make sure your function properly discards dangerous members.",
                severity="low",
                confidence="low",
            )
        else:
            ctx.report(
                B202,
                call.node,
                "Found tarfile.extractall(members=?) but couldn't identify the type of members. Check if the members were properly validated.",
                severity="medium",
                confidence="medium",
            )
        return
    if call.has_kw("filter"):
        e = ctx.edit(call.kwvalue("filter"), "'data'")  # type: ignore[arg-type]
    else:
        e = add_keyword(ctx, call, "filter='data'")
    ctx.report(B202, call.node, fix=Fix("Extract with filter='data'", (e,)) if e else None)


@on_name("load")
def _yaml_load(ctx: FileContext, call: Call) -> None:
    if not is_imported_exact(ctx, "yaml"):
        return
    parts = call.qual.split(".")
    if "yaml" not in parts:
        return
    loader = call.kwvalue("Loader") if call.has_kw("Loader") else call.arg(1)
    if loader is not None and text_of(loader).split(".")[-1] in ("SafeLoader", "CSafeLoader"):
        return
    fix = None
    if call.fn.type == "attribute" and call.args:
        obj = text_of(call.fn.child_by_field_name("object"))
        fix = Fix(
            "Use yaml.safe_load",
            (ctx.edit(call.node, f"{obj}.safe_load({text_of(call.args[0])})"),),
        )
    ctx.report(B506, call.node, fix=fix)


def _not_docstring(node: Node) -> bool:
    par = node.parent
    return par is None or par.type != "expression_statement"


def on_bind_all(ctx: FileContext, caps: dict) -> None:
    s = caps["str"][0]
    if _not_docstring(s) and string_value(s) == "0.0.0.0":
        ctx.report(B104, s)


def on_tmp(ctx: FileContext, caps: dict) -> None:
    content = caps["content"][0]
    s = content.parent
    if s is None or not _not_docstring(s):
        return
    prev = content.prev_sibling
    if prev is None or prev.type not in ("string_start", "interpolation"):
        return
    if (
        s.parent is not None
        and s.parent.type == "concatenated_string"
        and s.parent.named_children[0] != s
    ):
        return
    ctx.report(B108, s)
