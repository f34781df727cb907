"""Imports, aliases and local bindings resolved per scope and in order for languages other than Python, from the per-language queries in ``rules/names.toml``."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tomllib

if TYPE_CHECKING:  # pragma: no cover
    from tree_sitter import Node

    from slm_lsp.security.core import FileContext

_WORD = re.compile(r"[A-Za-z_$][\w$]*")
_TABLE = Path(__file__).parent / "rules" / "names.toml"
#: Callee node types whose leftmost identifier names the thing called (``cp.exec``, ``osexec.Command``).
_MEMBER = {
    "member_expression": ("object", "property"),
    "selector_expression": ("operand", "field"),
    "scoped_identifier": ("path", "name"),
}


@dataclass(frozen=True)
class Binding:
    """What a name stands for where it is bound: an import (``module``, ``member``) or a local."""

    start: int
    scope: int
    module: str | None = None
    member: str | None = None
    hoisted: bool = False
    #: The declared type's name node (Java ``Statement st``), resolved like any other name.
    type: Any = None
    #: A variable whose value is built from an import (``const exec = promisify(cp.exec)``): what
    #: it stands for is not known, so it keeps its spelling (neither import nor plain local).
    derived: bool = False

    @property
    def qual(self) -> str | None:
        """The canonical dotted name of an import (``child_process.exec``); None for a local."""
        if self.module is None:
            return None
        return f"{self.module}.{self.member}" if self.member else self.module


@dataclass
class _Lang:
    scopes: frozenset[str]
    canonical: str
    imports: list[Any]
    locals: list[Any]


@lru_cache(maxsize=1)
def _data() -> dict[str, dict[str, Any]]:
    with _TABLE.open("rb") as f:
        return tomllib.load(f)


def _spec(language: str) -> dict[str, Any] | None:
    """A language's table, with what it takes over from its ``same_as`` (its own keys win)."""
    data = _data()
    chain = []
    spec = data.get(language)
    while spec is not None:
        chain.append(spec)
        spec = data[spec["same_as"]] if "same_as" in spec else None
    if not chain:
        return None
    out: dict[str, Any] = {}
    for spec in reversed(chain):
        out.update(spec)
    return out


def languages() -> list[str]:
    """Languages that have a names table."""
    return sorted(_data())


@cache
def _lang(language: str) -> _Lang | None:
    import tree_sitter

    from slm_lsp import languages as langs

    spec = _spec(language)
    if spec is None:
        return None
    ts = langs.ts_language(language)
    return _Lang(
        frozenset(spec["scopes"]),
        spec["canonical"],
        # one query per kind (its patterns together): one walk of the tree each
        [tree_sitter.Query(ts, "\n".join(spec["imports"]))],
        [tree_sitter.Query(ts, "\n".join(spec["locals"]))],
    )


def _text(node: Node) -> str:
    raw = node.text
    return raw.decode("utf-8", "replace") if raw is not None else ""


def _module(raw: str, canonical: str) -> str:
    path = raw.strip("\"'`")
    path = path.removeprefix("node:")
    return path.rsplit("/", 1)[-1] if canonical == "last" else path


class Names:
    """All bindings of one file, by name."""

    def __init__(self, ctx: FileContext, lang: _Lang) -> None:
        import tree_sitter

        self.scopes = lang.scopes
        self.root = ctx.root.id
        #: scope id → (start byte, end byte): a use finds its scopes by position, no walk up
        self.ranges: dict[int, tuple[int, int]] = {self.root: (0, ctx.root.end_byte)}
        self.order: dict[int, list[tuple[int, int, int]]] = {}
        self.by_name: dict[str, list[Binding]] = {}
        taken: set[int] = set()
        for q in lang.imports:
            for _, caps in tree_sitter.QueryCursor(q).matches(ctx.root):
                name = caps["name"][0]
                after = caps["module"][0].next_named_sibling
                if after is not None and after.type == "asterisk":
                    continue  # ``import java.sql.*``: binds no single name
                mod = _module(_text(caps["module"][0]), lang.canonical)
                member = _text(caps["member"][0]) if "member" in caps else None
                local = mod if name.id == caps["module"][0].id else _text(name)
                if local in ("", "_", "."):
                    continue
                taken.add(name.id)
                self._add(local, Binding(name.start_byte, self._scope(name), mod, member, True))
        sources = {*self.by_name, "require"}  # names that stand for imports
        for q in lang.locals:
            for _, caps in tree_sitter.QueryCursor(q).matches(ctx.root):
                name = caps["name"][0]
                if name.id in taken:
                    continue
                parent = name.parent
                decl = parent.type if parent is not None else ""
                hoisted = decl.endswith(("declaration", "_item")) or decl == "type_spec"
                typ = caps["type"][0] if "type" in caps else None
                value = parent.child_by_field_name("value") if parent is not None else None
                derived = value is not None and not sources.isdisjoint(_WORD.findall(_text(value)))
                self._add(
                    _text(name),
                    Binding(
                        name.start_byte,
                        self._scope(name),
                        hoisted=hoisted,
                        type=typ,
                        derived=derived,
                    ),
                )
        #: name → scope id → bindings in source order
        self.scoped: dict[str, dict[int, list[Binding]]] = {}
        for name, bs in self.by_name.items():
            bs.sort(key=lambda b: b.start)
            per = self.scoped[name] = {}
            for b in bs:
                per.setdefault(b.scope, []).append(b)
        #: Names that stand for an import somewhere in the file, and the modules' own names
        #: (``exec`` for ``osexec "os/exec"``): a local spelt like one hides a module.
        self.imported = {n for n, bs in self.by_name.items() if any(b.module for b in bs)}
        self.imported |= {b.module for bs in self.by_name.values() for b in bs if b.module}

    def _add(self, name: str, b: Binding) -> None:
        self.by_name.setdefault(name, []).append(b)

    def _scope(self, node: Node) -> int:
        """The scope a binding belongs to: a function's parameters and name belong to the function
        (its name to the scope around it)."""
        cur = node.parent
        if cur is not None and cur.type in self.scopes and cur.child_by_field_name("name") == node:
            cur = cur.parent  # a declaration's own name binds outside it
        while cur is not None and cur.type not in self.scopes:
            cur = cur.parent
        if cur is None:
            return -1
        self.ranges[cur.id] = (cur.start_byte, cur.end_byte)
        return cur.id

    def lookup(self, ident: Node) -> Binding | None:
        """The binding an identifier sees: innermost scope first, there the last binding before the
        use (a hoisted one — import, function, class — also when it comes later)."""
        per = self.scoped.get(_text(ident))
        if not per:
            return None
        pos = ident.start_byte
        if len(per) == 1 and self.root in per:  # bound only at file level
            return self._pick(per[self.root], pos)
        # the scopes around the use, innermost first: among the name's scopes that start before
        # the use, walking back, the first that also ends after it is the innermost
        order = self.order.get(id(per))
        if order is None:
            order = self.order[id(per)] = sorted((*self.ranges[sid], sid) for sid in per)
        i = bisect_right(order, (pos, float("inf"), 0))
        while i > 0:
            i -= 1
            start, end, sid = order[i]
            if end > pos:
                hit = self._pick(per[sid], pos)
                if hit is not None:
                    return hit
        return None

    @staticmethod
    def _pick(here: list[Binding], pos: int) -> Binding | None:
        """In one scope: the last binding before ``pos``, else the first hoisted one."""
        before = [b for b in here if b.start <= pos]
        if before:
            return before[-1]
        return next((b for b in here if b.hoisted), None)


def names(ctx: FileContext) -> Names | None:
    """The file's bindings (computed once per file); None for a language without a table."""
    if "names" not in ctx.facts:
        lang = _lang(ctx.language)
        ctx.facts["names"] = Names(ctx, lang) if lang is not None else None
    return ctx.facts["names"]


def root_identifier(node: Node) -> Node | None:
    """The leftmost identifier of a callee (``cp`` in ``cp.exec``), or the callee itself."""
    cur = node
    while cur is not None and cur.type in _MEMBER:
        cur = cur.child_by_field_name(_MEMBER[cur.type][0])
    if cur is not None and cur.type in ("identifier", "package_identifier"):
        return cur
    return None


def resolve(ctx: FileContext, callee: Node) -> tuple[str, str | None]:
    """What a callee stands for: ``("import", "child_process.exec")``, ``("local", None)`` (bound in
    the file to something that is not an import), ``("shadow", None)`` (a local spelt like an
    import or an imported module's name, which it hides) or ``("unknown", None)`` (not bound here: a
    global, a builtin, or a language without a table)."""
    table = names(ctx)
    root = root_identifier(callee)
    if table is None or root is None:
        return ("unknown", None)
    b = table.lookup(root)
    if b is None or b.derived:
        return ("unknown", None)
    if b.qual is None:
        return ("shadow" if _text(root) in table.imported else "local", None)
    rest = []
    cur = root
    while cur is not callee and cur is not None and cur.parent is not None:
        parent = cur.parent
        if parent.type not in _MEMBER:
            break
        prop = parent.child_by_field_name(_MEMBER[parent.type][1])
        if prop is not None:
            rest.append(_text(prop))
        cur = parent
    return ("import", ".".join([b.qual, *rest]))


def resolve_type(ctx: FileContext, ident: Node) -> tuple[str, str | None]:
    """The declared type of the variable ``ident`` names, resolved like a name: ``("import",
    "java.sql.Statement")``, ``("local", None)`` (a class of this file) or ``("unknown", None)``."""
    table = names(ctx)
    if table is None or ident.type != "identifier":
        return ("unknown", None)
    b = table.lookup(ident)
    if b is None or b.type is None:
        return ("unknown", None)
    t = table.lookup(b.type)
    if t is None:
        return ("unknown", None)
    return ("import", t.qual) if t.qual is not None else ("local", None)
