"""Python helpers for the rules: import aliases, call arguments, literal values and edits.

Unlike bandit, which keeps one alias table per module, names are resolved per scope and in order:
each import, assignment and parameter binds a name in its function, class or module
(``import subprocess as sp`` → ``sp: subprocess``; ``from os import system`` → ``system: os.system``),
and a use sees the binding Python would use. The set of imported module names and simple
assignments ``name = <expr>`` (for constant propagation) are kept too.
"""

from __future__ import annotations

import ast
import re
from functools import cached_property
from typing import TYPE_CHECKING, Any

from slm_lsp.security.core import FileContext, text_of
from slm_lsp.security.model import Edit

if TYPE_CHECKING:  # pragma: no cover
    from tree_sitter import Node

_DOTTED = re.compile(r"^[A-Za-z_][\w.]*$")
STRINGISH = ("string", "concatenated_string")
#: a sentinel for "not a literal"
UNKNOWN = object()


# ---------------------------------------------------------------------- facts
#: Node types that open a Python name scope (the module is the outermost).
SCOPES = ("function_definition", "lambda", "class_definition", "module")


def imported(ctx: FileContext) -> set[str]:
    """Every module name imported anywhere in the file (for file-level "is X used here" checks)."""
    return ctx.facts.setdefault("imported", set())


def is_imported_like(ctx: FileContext, module: str) -> bool:
    """bandit's ``is_module_imported_like``: some import names ``module`` or a module inside it."""
    return any(module in m for m in imported(ctx))


def is_imported_exact(ctx: FileContext, module: str) -> bool:
    return module in imported(ctx)


def scope_of(node: Node) -> Node | None:
    """The function, lambda, class or module whose names ``node`` sees first."""
    cur = node.parent
    while cur is not None and cur.type not in SCOPES:
        cur = cur.parent
    return cur


def _bindings(ctx: FileContext) -> dict[tuple[int, str], list[tuple[int, str | None]]]:
    """(scope node id, name) → [(byte position, what it names: a dotted path or None for "a local value")]."""
    return ctx.facts.setdefault("bind", {})


def bind(
    ctx: FileContext, at: Node, name: str, target: str | None, scope: Node | None = None
) -> None:
    """Record that ``name`` is bound at ``at`` (in ``scope``, by default the scope around ``at``)."""
    scope = scope if scope is not None else scope_of(at)
    if scope is None or not name:
        return
    _bindings(ctx).setdefault((scope.id, name), []).append((at.start_byte, target))
    ctx.facts["bind_sorted"] = False


def resolve_name(ctx: FileContext, name: str, use: Node) -> str | None:
    """What ``name`` names where ``use`` stands: the import it comes from (``sp`` → ``subprocess``),
    ``name`` itself when nothing binds it (a builtin), or None when a local value shadows it.

    Python's rules, simplified: the innermost function (or lambda) scope first, then the enclosing
    functions and the module; class bodies are seen only by code directly inside them. In the scope of
    the use, the last binding before the use counts; in an enclosing scope the last binding before the
    use, or else the scope's last binding (the function runs later).
    """
    binds = _bindings(ctx)
    if not binds:
        return name
    if not ctx.facts.get("bind_sorted"):
        for entries in binds.values():
            entries.sort(key=lambda e: e[0])
        ctx.facts["bind_sorted"] = True
    pos = use.start_byte
    scope = scope_of(use)
    first = True
    while scope is not None:
        if first or scope.type != "class_definition":
            entries = binds.get((scope.id, name))
            if entries:
                before = [t for p, t in entries if p < pos]
                if before:
                    return before[-1]
                if not first:
                    return entries[-1][1]
        first = False
        scope = scope_of(scope)
    return name


def collect_import(ctx: FileContext, caps: dict[str, list[Node]]) -> None:
    """Phase 0: record imported module names and the names each import binds, in its own scope."""
    node = (caps.get("imp") or caps.get("impfrom"))[0]  # type: ignore[index]
    mods = imported(ctx)
    if node.type == "import_statement":
        for child in node.named_children:
            if child.type == "dotted_name":
                name = text_of(child)
                mods.add(name)
                head = name.split(".", 1)[0]
                bind(ctx, node, head, head)
            elif child.type == "aliased_import":
                name = text_of(child.child_by_field_name("name"))
                alias = text_of(child.child_by_field_name("alias"))
                mods.add(name)
                if alias:
                    bind(ctx, node, alias, name)
        return
    module_node = node.child_by_field_name("module_name")
    module = text_of(module_node)
    if module_node is None or module_node.type == "relative_import":
        module = module.lstrip(".")
    mods.add(module)
    for child in node.children_by_field_name("name"):
        if child.type == "dotted_name":
            name = text_of(child)
            bind(ctx, node, name, f"{module}.{name}" if module else name)
            mods.add(f"{module}.{name}")
        elif child.type == "aliased_import":
            name = text_of(child.child_by_field_name("name"))
            alias = text_of(child.child_by_field_name("alias"))
            bind(ctx, node, alias or name, f"{module}.{name}" if module else name)
            mods.add(f"{module}.{name}")


def collect_assignment(ctx: FileContext, caps: dict[str, list[Node]]) -> None:
    """Phase 0: remember ``name = value`` (for constant propagation); a local rebinding shadows imports.

    A module-level ``name = None`` (the ``except ImportError`` fallback) does not shadow.
    """
    name = caps["name"][0]
    value = caps["value"][0]
    scope = scope_of(name)
    ctx.facts.setdefault("assign", {}).setdefault(text_of(name), []).append(
        (name.start_byte, value, scope.id if scope is not None else -1)
    )
    if not (value.type == "none" and scope is not None and scope.type == "module"):
        bind(ctx, name, text_of(name), None, scope)


def collect_params(ctx: FileContext, caps: dict[str, list[Node]]) -> None:
    """Phase 0: a function's parameters are local values that shadow imports of the same name."""
    fn = caps["fndef"][0]
    params = fn.child_by_field_name("parameters")
    if params is None:
        return
    for p in params.named_children:
        ident = p if p.type == "identifier" else p.child_by_field_name("name")
        if ident is None and p.named_child_count:
            ident = p.named_children[0]
        if ident is not None and ident.type == "identifier":
            _bindings(ctx).setdefault((fn.id, text_of(ident)), []).append((fn.start_byte, None))
    ctx.facts["bind_sorted"] = False


def assigned_value(ctx: FileContext, name: Node) -> Node | None:
    """The value last assigned to identifier ``name`` before it is used, in the use's own scope."""
    entries = ctx.facts.get("assign", {}).get(text_of(name))
    if not entries:
        return None
    scope = scope_of(name)
    sid = scope.id if scope is not None else -1
    best = None
    for pos, value, value_scope in entries:
        if pos < name.start_byte and value_scope == sid:
            best = value
    return best


def resolve_value(ctx: FileContext, node: Node | None, depth: int = 3) -> Node | None:
    """Follow ``x = ...`` for an identifier up to ``depth`` times; other nodes come back unchanged."""
    while node is not None and node.type == "identifier" and depth > 0:
        value = assigned_value(ctx, node)
        if value is None or value.type == "identifier" and text_of(value) == text_of(node):
            break
        node = value
        depth -= 1
    while (
        node is not None and node.type == "parenthesized_expression" and node.named_child_count == 1
    ):
        node = node.named_children[0]
    return node


def qualname(ctx: FileContext, fn: Node) -> str:
    """bandit's qualified call name: ``sp.Popen`` → ``subprocess.Popen`` through the imports in scope.

    A name bound to a local value (a parameter, an assignment) keeps its own spelling.
    """
    raw = fn.text or b""
    if fn.type == "identifier":
        t = raw.decode("utf-8", "replace")
        return resolve_name(ctx, t, fn) or t
    if fn.type == "attribute":
        t = raw.decode("utf-8", "replace")
        if _DOTTED.match(t):
            head, _, rest = t.partition(".")
            target = resolve_name(ctx, head, fn)
            if target is None:
                return f"<local>.{rest}" if rest else t
            return f"{target}.{rest}" if rest else target
        obj = fn.child_by_field_name("object")
        attr = text_of(fn.child_by_field_name("attribute"))
        if obj is not None and obj.type in ("identifier", "attribute"):
            return f"{qualname(ctx, obj)}.{attr}"
        return f".{attr}"
    return ""


# ---------------------------------------------------------------------- literals
def string_value(node: Node | None) -> str | None:
    """The value of a plain string literal (no interpolation), else None."""
    if node is None or node.type not in STRINGISH:
        return None
    if node.type == "concatenated_string":
        parts = [string_value(c) for c in node.named_children if c.type == "string"]
        return None if any(p is None for p in parts) else "".join(parts)  # type: ignore[arg-type]
    for c in node.named_children:
        if c.type == "interpolation":
            return None
    try:
        value = ast.literal_eval(text_of(node))
    except Exception:  # noqa: BLE001 - a malformed literal is simply not a constant
        return None
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return value if isinstance(value, str) else None


def string_parts(node: Node) -> str:
    """The literal text of a string, f-strings included (interpolations dropped)."""
    if node.type == "concatenated_string":
        return "".join(string_parts(c) for c in node.named_children if c.type == "string")
    return "".join(text_of(c) for c in node.named_children if c.type == "string_content")


def is_fstring(node: Node) -> bool:
    return node.type == "string" and any(c.type == "interpolation" for c in node.named_children)


def literal(node: Node | None) -> Any:
    """A bandit-style literal: str/int/bool/None values, names as their text, lists as lists; else UNKNOWN."""
    if node is None:
        return UNKNOWN
    t = node.type
    if t in STRINGISH:
        v = string_value(node)
        return UNKNOWN if v is None else v
    if t == "true":
        return True
    if t == "false":
        return False
    if t == "none":
        return None
    if t == "integer":
        try:
            return int(text_of(node).replace("_", ""), 0)
        except ValueError:
            try:
                return int(text_of(node).replace("_", "").lstrip("0") or "0")
            except ValueError:
                return UNKNOWN
    if t in ("identifier", "attribute"):
        return text_of(node)
    if t in ("list", "tuple"):
        return [literal(c) for c in node.named_children]
    return UNKNOWN


def is_builtin_string_building(node: Node | None) -> bool:
    """Whether an expression builds a string: f-string, ``+``/``%`` with a string, ``.format()``, ``.join()``."""
    if node is None:
        return False
    if node.type == "string":
        return is_fstring(node)
    if node.type == "binary_operator":
        return True
    if node.type == "call":
        fn = node.child_by_field_name("function")
        if fn is not None and fn.type == "attribute":
            attr = text_of(fn.child_by_field_name("attribute"))
            return attr in ("format", "join", "replace", "format_map")
    return False


# ---------------------------------------------------------------------- calls
class Call:
    """A call expression with bandit-like accessors."""

    __slots__ = ("ctx", "node", "fn", "qual", "name", "__dict__")

    def __init__(self, ctx: FileContext, node: Node, fn: Node, qual: str) -> None:
        self.ctx = ctx
        self.node = node
        self.fn = fn
        self.qual = qual
        self.name = qual.rsplit(".", 1)[-1]

    @cached_property
    def arglist(self) -> Node | None:
        a = self.node.child_by_field_name("arguments")
        return a if a is not None and a.type == "argument_list" else None

    @cached_property
    def args(self) -> list[Node]:
        """Positional arguments (splats excluded)."""
        if self.arglist is None:
            return []
        return [
            c
            for c in self.arglist.named_children
            if c.type not in ("keyword_argument", "comment", "list_splat", "dictionary_splat")
        ]

    @cached_property
    def keywords(self) -> dict[str, Node]:
        """Keyword argument name → its keyword_argument node."""
        if self.arglist is None:
            return {}
        out: dict[str, Node] = {}
        for c in self.arglist.named_children:
            if c.type == "keyword_argument":
                out[text_of(c.child_by_field_name("name"))] = c
        return out

    def kwvalue(self, name: str) -> Node | None:
        kw = self.keywords.get(name)
        return kw.child_by_field_name("value") if kw is not None else None

    def kwliteral(self, name: str) -> Any:
        """The keyword's literal value; UNKNOWN when absent or not literal."""
        return literal(self.kwvalue(name))

    def has_kw(self, name: str) -> bool:
        return name in self.keywords

    def arg(self, i: int, kw: str | None = None) -> Node | None:
        """Positional argument ``i``, or keyword ``kw``."""
        if i < len(self.args):
            return self.args[i]
        return self.kwvalue(kw) if kw else None

    def at_kw(self, name: str) -> Node:
        """The keyword node if present (bandit reports such findings on its line), else the call."""
        return self.keywords.get(name) or self.node


def truthy_shell(value: Node | None) -> bool:
    """bandit's ``has_shell`` on the value of ``shell=``."""
    if value is None:
        return False
    t = value.type
    if t in ("false", "none"):
        return False
    if t == "true":
        return True
    if t in ("integer", "float"):
        try:
            return bool(float(text_of(value).replace("_", "")))
        except ValueError:
            return True
    if t == "list":
        return value.named_child_count > 0
    if t == "dictionary":
        return value.named_child_count > 0
    if t in STRINGISH:
        v = string_value(value)
        return bool(v) if v is not None else True
    if t == "identifier" and text_of(value) in ("False", "None"):
        return False
    return True


# ---------------------------------------------------------------------- edits
def remove_keyword(ctx: FileContext, call: Call, name: str) -> Edit | None:
    """Delete ``name=...`` from the call with the comma that separates it."""
    kw = call.keywords.get(name)
    if kw is None or call.arglist is None:
        return None
    prev = kw.prev_sibling
    if prev is not None and prev.type == ",":
        before = prev.prev_sibling
        start = before.end_point if before is not None else prev.start_point
        return ctx.edit_points(start, kw.end_point, "")
    nxt = kw.next_sibling
    if nxt is not None and nxt.type == ",":
        after = nxt.next_sibling
        end = after.start_point if after is not None and after.type != ")" else nxt.end_point
        return ctx.edit_points(kw.start_point, end, "")
    return ctx.edit(kw, "")


def add_keyword(ctx: FileContext, call: Call, text: str) -> Edit | None:
    """Insert ``text`` (``timeout=30``) as the last argument."""
    al = call.arglist
    if al is None or al.child_count == 0 or al.children[-1].type != ")":
        return None
    close = al.children[-1]
    prev = close.prev_sibling
    if prev is None or prev.type == "(":
        new = text
    elif prev.type == ",":
        new = f" {text}"
    else:
        new = f", {text}"
    if prev is not None and prev.type not in ("(",) and prev.end_point[0] != close.start_point[0]:
        # multi-line call: put the argument after the last one
        sep = "" if prev.type == "," else ","
        return ctx.edit_points(prev.end_point, prev.end_point, f"{sep} {text}")
    return ctx.edit_points(close.start_point, close.start_point, new)


def replace_attr(ctx: FileContext, fn: Node, new_name: str) -> Edit | None:
    """Rename the last attribute of ``a.b.name`` (or a bare name)."""
    if fn.type == "attribute":
        attr = fn.child_by_field_name("attribute")
        return ctx.edit(attr, new_name) if attr is not None else None
    if fn.type == "identifier":
        return ctx.edit(fn, new_name)
    return None
