"""Python checks for library and framework misuse: paramiko, SSH host keys, SNMP, Django raw SQL, logging listen, torch and Hugging Face loads, JWT, templates, Markup/mark_safe and Django DEBUG."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slm_lsp.security.core import (
    FileContext,
    text_of,
)
from slm_lsp.security.model import (
    Fix,
)
from slm_lsp.security.rules.python.injection import (
    _is_literal_str,
)
from slm_lsp.security.rules.python.table import (
    B612,
    B614,
    B615,
    B701,
    B702,
    B703,
    B704,
    S004,
    on_name,
    on_qual,
)
from slm_lsp.security.rules.pyutil import (
    STRINGISH,
    Call,
    add_keyword,
    is_fstring,
    is_imported_like,
    string_value,
)

if TYPE_CHECKING:  # pragma: no cover
    from tree_sitter import Node


@on_qual("logging.config.listen")
def _log_listen(ctx: FileContext, call: Call) -> None:
    if not call.has_kw("verify"):
        ctx.report(B612, call.node)


@on_qual("torch.load", "torch.serialization.load")
def _torch(ctx: FileContext, call: Call) -> None:
    if call.kwliteral("weights_only") in (True, "True"):
        return
    e = (
        add_keyword(ctx, call, "weights_only=True")
        if not call.has_kw("weights_only")
        else ctx.edit(call.kwvalue("weights_only"), "True")
    )  # type: ignore[arg-type]
    ctx.report(B614, call.node, fix=Fix("Load weights only", (e,)) if e else None)


_HF = {
    "from_pretrained": "transformers",
    "load_dataset": "datasets",
    "hf_hub_download": "huggingface_hub",
    "snapshot_download": "huggingface_hub",
    "repository_id": "huggingface_hub",
}


@on_name(*_HF)
def _hf(ctx: FileContext, call: Call) -> None:
    if not any(is_imported_like(ctx, m) for m in ("transformers", "datasets", "huggingface_hub")):
        return
    if _HF[call.name] not in call.qual.split("."):
        return
    for k in ("revision", "commit_id"):
        if call.has_kw(k) and call.kwvalue(k).type not in STRINGISH + (
            "integer",
            "true",
            "false",
            "none",
        ):  # type: ignore[union-attr]
            return
    rev = next(
        (string_value(call.kwvalue(k)) for k in ("revision", "commit_id") if call.has_kw(k)), None
    )
    if (
        rev
        and len(rev.strip("\"'")) >= 7
        and all(c in "0123456789abcdefABCDEF" for c in rev.strip("\"'"))
    ):
        return
    first = string_value(call.arg(0)) if call.args else None
    if first and first.startswith(("./", "/", "../")):
        return
    ctx.report(
        B615,
        call.node,
        f"Unsafe Hugging Face Hub download without revision pinning in {call.name}()",
    )


@on_name("Environment")
def _jinja(ctx: FileContext, call: Call) -> None:
    if "jinja2" not in call.qual.split("."):
        return
    # bandit walks the whole call (nested keyword arguments included)
    for kw in _walk_type(call.node, "keyword_argument"):
        if text_of(kw.child_by_field_name("name")) != "autoescape":
            continue
        v = kw.child_by_field_name("value")
        if v is None:
            continue
        if v.type == "false" or text_of(v) == "False":
            ctx.report(B701, call.node, fix=Fix("Turn autoescape on", (ctx.edit(v, "True"),)))
            return
        if v.type == "true" or text_of(v) == "True":
            return
        if (
            v.type == "call"
            and text_of(v.child_by_field_name("function")).split(".")[-1] == "select_autoescape"
        ):
            return
        ctx.report(
            B701,
            call.node,
            "Using jinja2 templates with autoescape=False is dangerous and can lead to XSS. Ensure autoescape=True or use the select_autoescape function to mitigate XSS vulnerabilities.",
            confidence="medium",
        )
        return
    e = add_keyword(ctx, call, "autoescape=True")
    ctx.report(
        B701,
        call.node,
        "By default, jinja2 sets autoescape to False. Consider using autoescape=True or use the select_autoescape function to mitigate XSS vulnerabilities.",
        fix=Fix("Turn autoescape on", (e,)) if e else None,
    )


def _walk_type(node: Node, typ: str):
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == typ:
            yield n
        stack.extend(reversed(n.named_children))


@on_name("Template")
def _mako(ctx: FileContext, call: Call) -> None:
    if "mako" in call.qual.split("."):
        ctx.report(B702, call.node)


@on_qual("markupsafe.Markup", "flask.Markup")
def _markup(ctx: FileContext, call: Call) -> None:
    if call.args and call.args[0].type not in STRINGISH + (
        "integer",
        "float",
        "true",
        "false",
        "none",
    ):
        ctx.report(
            B704,
            call.node,
            f"Potential XSS with ``{call.qual}`` detected. Do not use ``{call.name}`` on untrusted data.",
        )
    elif call.args and is_fstring(call.args[0]):
        ctx.report(B704, call.node)


@on_name("mark_safe", "SafeText", "SafeUnicode", "SafeString", "SafeBytes")
def _mark_safe(ctx: FileContext, call: Call) -> None:
    if not is_imported_like(ctx, "django.utils.safestring") or not call.args:
        return
    arg = call.args[0]
    if _is_literal_str(arg):
        return
    if not _xss_secure(ctx, arg, _enclosing_scope(call.node), 0):
        ctx.report(B703, call.node)


def _enclosing_scope(node: Node) -> Node:
    cur = node.parent
    while cur is not None and cur.type not in ("function_definition", "module"):
        cur = cur.parent
    return cur or node


def _param_names(fn: Node) -> set[str]:
    params = fn.child_by_field_name("parameters")
    out = set()
    if params is not None:
        for p in params.named_children:
            if p.type == "identifier":
                out.add(text_of(p))
            else:
                n = p.child_by_field_name("name")
                if n is not None:
                    out.add(text_of(n))
                elif p.named_child_count and p.named_children[0].type == "identifier":
                    out.add(text_of(p.named_children[0]))
    return out


def _xss_secure(ctx: FileContext, node: Node, scope: Node, depth: int) -> bool:
    """bandit's mark_safe analysis: data is safe when every assignment reaching it is a literal or a safe format."""
    if depth > 5:
        return False
    if _is_literal_str(node):
        return True
    if node.type == "identifier":
        until = node.start_point[0]
        name = text_of(node)
        if scope.type == "function_definition" and name in _param_names(scope):
            return False
        values = []
        for n in _walk_type(scope, "identifier"):
            if n.start_point[0] >= until or text_of(n) != name:
                continue
            par = n.parent
            if par is None:
                continue
            if (
                par.type in ("assignment", "augmented_assignment")
                and par.child_by_field_name("left") == n
            ):
                values.append(par.child_by_field_name("right"))
            elif (
                par.type == "pattern_list"
                and par.parent is not None
                and par.parent.type == "assignment"
            ):
                right = par.parent.child_by_field_name("right")
                idx = par.named_children.index(n) if n in par.named_children else -1
                if (
                    right is not None
                    and right.type in ("expression_list", "tuple")
                    and 0 <= idx < right.named_child_count
                ):
                    values.append(right.named_children[idx])
                else:
                    return False
            elif par.type in ("as_pattern_target", "for_statement", "with_item"):
                return False
        if not values:
            return False
        return all(v is not None and _xss_secure(ctx, v, scope, depth + 1) for v in values)
    if node.type == "call":
        fn = node.child_by_field_name("function")
        if (
            fn is not None
            and fn.type == "attribute"
            and text_of(fn.child_by_field_name("attribute")) == "format"
            and fn.child_by_field_name("object").type in STRINGISH
        ):  # type: ignore[union-attr]
            al = node.child_by_field_name("arguments")
            if al is None or any(c.type == "keyword_argument" for c in al.named_children):
                return False
            for a in al.named_children:
                if a.type == "list_splat":
                    inner = a.named_children[0] if a.named_child_count else None
                    if inner is not None and inner.type in ("list", "tuple"):
                        if not all(
                            _xss_secure(ctx, e, scope, depth + 1) for e in inner.named_children
                        ):
                            return False
                        continue
                    return False
                if not _xss_secure(ctx, a, scope, depth + 1):
                    return False
            return True
        return False
    if (
        node.type == "binary_operator"
        and node.child_by_field_name("operator") is not None
        and text_of(node.child_by_field_name("operator")) == "%"
    ):
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if left is not None and _is_literal_str(left) and right is not None:
            elems = right.named_children if right.type == "tuple" else [right]
            return all(_xss_secure(ctx, e, scope, depth + 1) for e in elems)
    return False


def on_django_debug(ctx: FileContext, caps: dict) -> None:
    if not ctx.path.replace("\\", "/").rsplit("/", 1)[-1].startswith("settings"):
        return
    node = caps["hit"][0]
    if (
        node.parent is not None
        and node.parent.type == "expression_statement"
        and node.parent.parent is not None
        and node.parent.parent.type == "module"
    ):
        ctx.report(S004, node, fix=Fix("Turn DEBUG off", (ctx.edit(caps["value"][0], "False"),)))
