"""Intra-procedural taint tracking over tree-sitter trees, the same engine for every language.

What a language contributes is data, not code: ``security/taint/<language>.toml`` and ``<language>.<framework>.toml`` tables name the
node types of its syntax (functions, calls, assignments, returns, ``if``), the sources of untrusted
data (request parameters per framework, ``argv``, the environment, stdin, file and network reads,
parameters of request handlers), the sinks (process execution, SQL, eval, file paths,
deserialisation, XML parsers, templates, redirects, HTML output), the sanitisers that end a flow and
the guards (``if x not in ALLOWED: return``) that end it for the code after them.

How one function is analysed: its nodes are visited once, in source order, with an environment
``name → trace`` (a trace is the path from the source: a tuple of steps). An assignment gives its
targets the taint of its value; an expression is tainted when a part of it is (string building of
every kind falls out of this: concatenation, format calls, f-strings, template literals,
interpolation, ``sprintf``/``fmt.Sprintf``/``String.format`` through their arguments); a call to
an unknown function is tainted when an argument or its receiver is, a sanitiser's result never is,
and a call to a helper defined in the same file uses that helper's summary (does it return a
source? does it pass a parameter through?). Literals never taint. A clean assignment removes the
taint only in straight-line code (in a branch the other path may still carry it). Nested functions
start from the environment of the function around them. The time budget of the file is checked
as nodes are visited; deep nesting is bounded by ``MAX_DEPTH``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tomllib

from slm_lsp.security import names
from slm_lsp.security.core import FileContext
from slm_lsp.security.model import Rule

if TYPE_CHECKING:  # pragma: no cover
    from tree_sitter import Node

TABLES_DIR = Path(__file__).resolve().parent / "taint"
#: Expressions nested deeper than this are not looked into (a generated file can nest thousands deep).
MAX_DEPTH = 120
#: Steps kept in one trace (the source, the last steps and the sink are what a reviewer reads).
MAX_STEPS = 12
#: Nodes visited between two checks of the file's time budget.
BUDGET_EVERY = 512
#: Languages that use another language's tables (dialects share rules).
DIALECTS = {"typescript": "javascript", "tsx": "javascript", "cpp": "c"}
#: Node-type words that make a statement conditional (a clean assignment inside does not untaint).
_BRANCHY = re.compile(
    r"(if|for|while|try|switch|case|catch|else|loop|match|conditional|when|unless|rescue|ternary)"
)

Step = tuple[str, tuple[int, int], tuple[int, int], str]


@cache
def _branchy(node_type: str) -> bool:
    return _BRANCHY.search(node_type) is not None


Trace = tuple[Step, ...]


def _rx(patterns: list[str]) -> re.Pattern[str] | None:
    """One regex that full-matches any of the patterns (None for none)."""
    return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None


@dataclass
class Sink:
    cwe: int
    callee: re.Pattern[str] | None = None
    assign: re.Pattern[str] | None = None  #: a property or variable whose assignment is the sink
    node: tuple[str, ...] = ()  #: node types that are sinks with every child
    args: tuple[int, ...] | None = None  #: argument positions (None: all)
    requires: re.Pattern[str] | None = None  #: the call's text must match (e.g. ``shell=True``)
    unless: re.Pattern[str] | None = None  #: the call's text must not match (e.g. ``SafeLoader``)
    list_first: bool = False  #: a list argument counts by its first element (the program run)
    receiver: bool = False  #: the receiver is the sink (``s.html_safe``)
    file_unless: re.Pattern[str] | None = (
        None  #: the file's text must not match (a hardened parser)
    )
    label: str = ""


@dataclass
class Table:
    """One language's syntax, sources, sinks, sanitisers and guards, merged from its TOML files."""

    language: str
    prefix: str
    syntax: dict[str, Any]
    expr_sources: list[tuple[re.Pattern[str], str]] = field(default_factory=list)
    #: labels of sources a local user controls (argv, environment, stdin): flows from them are
    #: reported with low confidence (the ``audit`` profile shows them, ``security`` does not)
    local_labels: set[str] = field(default_factory=set)
    call_sources: list[tuple[re.Pattern[str], str]] = field(default_factory=list)
    handler_sources: list[tuple[re.Pattern[str], str]] = field(default_factory=list)
    param_sources: list[tuple[re.Pattern[str], str]] = field(default_factory=list)
    out_sources: list[tuple[re.Pattern[str], int, str]] = field(default_factory=list)
    sinks: list[Sink] = field(default_factory=list)
    sanitizers: re.Pattern[str] | None = None
    propagators: list[tuple[re.Pattern[str], int]] = field(default_factory=list)
    guards: re.Pattern[str] | None = None
    examples: dict[int, tuple[str, str]] = field(default_factory=dict)
    frameworks: list[str] = field(default_factory=list)
    #: bytes that any source needs in the file's text: a file without them is not analysed
    triggers: re.Pattern[bytes] | None = None

    # syntax helpers, filled by ``_finish``
    functions: frozenset[str] = frozenset()
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    assigns: dict[str, dict[str, Any]] = field(default_factory=dict)
    returns: frozenset[str] = frozenset()
    ifs: dict[str, dict[str, Any]] = field(default_factory=dict)
    exits: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()
    members: frozenset[str] = frozenset()
    #: member node types that index a container (``a[k]``), as opposed to attribute access
    subscripts: frozenset[str] = frozenset()
    skip: frozenset[str] = frozenset()
    containers: re.Pattern[str] | None = None
    sink_types: frozenset[str] = frozenset()
    sink_assign: list[Sink] = field(default_factory=list)

    def rule_id(self, cwe: int) -> str:
        return f"{self.prefix}-T{cwe:03d}"

    @property
    def cwes(self) -> list[int]:
        return sorted({s.cwe for s in self.sinks})


def _load_file(path: Path) -> dict[str, Any]:
    with open(path, "rb") as fh:
        return tomllib.load(fh)


def _finish(t: Table) -> Table:
    sx = t.syntax
    t.functions = frozenset(sx.get("functions", ()))
    t.calls = {c["type"]: c for c in sx.get("calls", ())}
    t.assigns = {a["type"]: a for a in sx.get("assigns", ())}
    t.returns = frozenset(sx.get("returns", ()))
    t.ifs = {i["type"]: i for i in sx.get("ifs", ())}
    t.exits = frozenset(sx.get("exits", ()))
    t.names = frozenset(sx.get("names", ()))
    t.members = frozenset(sx.get("members", ()))
    t.subscripts = frozenset(
        m
        for m in t.members
        if "subscript" in m or "index" in m or "element" in m or "array_access" in m
    )
    t.skip = frozenset(sx.get("skip", ()))
    t.containers = _rx([sx["containers"]]) if sx.get("containers") else None
    t.sink_types = frozenset(n for s in t.sinks for n in s.node)
    t.sink_assign = [s for s in t.sinks if s.assign is not None]
    return t


@cache
def table(language: str) -> Table | None:
    """The merged tables for ``language`` (a dialect uses its base language's), or None."""
    base = DIALECTS.get(language, language)
    main = TABLES_DIR / f"{base}.toml"
    if not main.is_file():
        return None
    files = [main, *sorted(TABLES_DIR.glob(f"{base}.*.toml"))]
    first = _load_file(main)
    t = Table(base, first["prefix"], first.get("syntax", {}))
    sanit: list[str] = []
    guards: list[str] = []
    for path in files:
        doc = first if path == main else _load_file(path)
        fw = doc.get("framework", "")
        if fw:
            t.frameworks.append(fw)
        for s in doc.get("source", ()):
            label = s.get("label", fw or "source")
            kind = s.get("kind", "expr")
            if s.get("local"):
                t.local_labels.add(label)
            rx = re.compile(s["pattern"])
            if kind == "expr":
                t.expr_sources.append((rx, label))
            elif kind == "call":
                t.call_sources.append((rx, label))
            elif kind == "handler":
                t.handler_sources.append((rx, label))
            elif kind == "param":
                t.param_sources.append((rx, label))
            elif kind == "out":
                t.out_sources.append((rx, int(s.get("arg", 0)), label))
        for s in doc.get("sink", ()):
            t.sinks.append(
                Sink(
                    int(s["cwe"]),
                    callee=re.compile(s["callee"]) if "callee" in s else None,
                    assign=re.compile(s["assign"]) if "assign" in s else None,
                    node=tuple(s.get("node", ())),
                    args=tuple(s["args"]) if "args" in s else None,
                    requires=re.compile(s["requires"]) if "requires" in s else None,
                    unless=re.compile(s["unless"]) if "unless" in s else None,
                    list_first=bool(s.get("list_first", False)),
                    receiver=bool(s.get("receiver", False)),
                    file_unless=re.compile(s["file_unless"]) if "file_unless" in s else None,
                    label=s.get("label", ""),
                )
            )
        sanit.extend(doc.get("sanitizers", ()))
        guards.extend(doc.get("guards", ()))
        for p in doc.get("propagator", ()):
            t.propagators.append((re.compile(p["callee"]), int(p.get("into", 0))))
        for cwe, ex in doc.get("examples", {}).items():
            t.examples[int(cwe)] = (ex["bad"], ex["good"])
    trig = [
        d["triggers"] for d in (first, *(_load_file(p) for p in files[1:])) if d.get("triggers")
    ]
    t.triggers = re.compile("|".join(f"(?:{x})" for x in trig).encode()) if trig else None
    t.sanitizers = _rx(sanit)
    t.guards = re.compile("|".join(f"(?:{g})" for g in guards)) if guards else None
    return _finish(t)


def languages() -> list[str]:
    """Languages with a taint table (dialects included)."""
    out = [
        p.stem for p in sorted(TABLES_DIR.glob("*.toml")) if "." not in p.stem and p.stem != "cwe"
    ]
    out += [d for d, b in DIALECTS.items() if b in out]
    return out


@cache
def cwe_texts() -> dict[int, dict[str, str]]:
    """CWE number → title, message and help shared by every language's data-flow rule."""
    return {int(k): v for k, v in _load_file(TABLES_DIR / "cwe.toml").items()}


@cache
def rules() -> list[Rule]:
    """One rule per (language, CWE) that a table has sinks for; dialects share their base's rule."""
    out: list[Rule] = []
    texts = cwe_texts()
    for lang in languages():
        if lang in DIALECTS:
            continue
        t = table(lang)
        if t is None:
            continue
        langs = (lang, *(d for d, b in DIALECTS.items() if b == lang))
        for cwe in t.cwes:
            tx = texts[cwe]
            bad, good = t.examples.get(cwe, ("", ""))
            out.append(
                Rule(
                    t.rule_id(cwe),
                    f"{tx['title']} (data flow)",
                    cwe,
                    tx.get("severity", "high"),
                    "high",
                    tx["message"],
                    tx["help"],
                    good,
                    bad,
                    langs,
                )
            )
    return out


# ====================================================================== analysis
#: Node types of argument lists (for calls whose list has no field name).
_ARG_LISTS = ("arguments", "argument_list")
#: Keyword and hash arguments: options of a call, never the text a sink runs.
_OPTIONS = ("keyword_argument", "pair", "hash", "named_argument")


def _unref(node: Node) -> Node:
    """``&x`` / ``&mut x`` → ``x`` (an out-argument)."""
    if (
        node.type in ("pointer_expression", "reference_expression", "unary_expression")
        and node.named_child_count
    ):
        return node.named_children[-1]
    return node


def _callee_parts(t: Table, node: Node) -> list[Node]:
    """The nodes that name a call's callee (``object`` and ``name`` for a Java method call)."""
    out = []
    for f in t.calls[node.type].get("callee", ()):
        c = (
            node.named_children[0]
            if f == "@first" and node.named_child_count
            else node.child_by_field_name(f)
        )
        if c is not None:
            out.append(c)
    return out


def call_name(t: Table, node: Node) -> str:
    """A call's callee as text in one spelling (``os.system``, ``Runtime.getRuntime().exec``)."""
    return _norm(".".join(_txt(c) for c in _callee_parts(t, node)))


def _norm(text: str) -> str:
    """A callee's text in one spelling: no spaces, ``->``/``::``/``?.`` as ``.``."""
    return re.sub(r"\s+", "", text).replace("->", ".").replace("::", ".").replace("?.", ".")


def _txt(node: Node | None) -> str:
    if node is None:
        return ""
    raw = node.text
    return raw.decode("utf-8", "replace") if raw is not None else ""


def _short(text: str, n: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _step(kind: str, node: Node, note: str) -> Step:
    return (kind, tuple(node.start_point), tuple(node.end_point), note)  # type: ignore[return-value]


def _extend(trace: Trace, step: Step) -> Trace:
    if trace and trace[-1][1][0] == step[1][0] and trace[-1][0] != "source":
        trace = trace[:-1]  # one step per line is enough
    out = trace + (step,)
    if len(out) > MAX_STEPS:
        out = out[:1] + out[-(MAX_STEPS - 1) :]
    return out


class _Analysis:
    """Taint analysis of one file with one table."""

    def __init__(self, ctx: FileContext, t: Table) -> None:
        self.ctx = ctx
        self.t = t
        self.visited = 0
        self.reported: set[tuple[str, int]] = set()
        self.helpers: dict[str, Node] = {}
        self.summaries: dict[tuple[int, bool], Trace | None] = {}
        self.in_progress: set[int] = set()
        self.callees: dict[int, str] = {}
        self.qualname = None
        if ctx.language == "python":
            from slm_lsp.security.rules.pyutil import qualname

            self.qualname = qualname
        #: Other languages: callees resolved through imports/locals (``names.toml``); a member
        #: call's resolved name is tried after its text (``alt``); a bare local name, or a local that
        #: hides an import of the same name, is no sink.
        self.resolve = None
        if ctx.language in names.languages():
            self.resolve = names.resolve
        self.alt: dict[int, str] = {}
        self.local: set[int] = set()

    # ------------------------------------------------------------------ helpers
    def tick(self) -> None:
        self.visited += 1
        if self.visited % BUDGET_EVERY == 0:
            self.ctx.check_time()

    def callee(self, node: Node) -> str:
        hit = self.callees.get(node.id)
        if hit is None:
            hit = self.callees[node.id] = self._callee(node)
        return hit

    def _callee(self, node: Node) -> str:
        if self.qualname is None:
            text = call_name(self.t, node)
            parts = _callee_parts(self.t, node) if self.resolve is not None else []
            if len(parts) == 1:
                kind, qual = self.resolve(self.ctx, parts[0])
                bare = parts[0].type == "identifier"
                path = parts[0].type == "scoped_identifier"  # Rust ``Command::new``
                if kind == "import" and qual is not None:
                    if bare:
                        return _norm(qual)
                    self.alt[node.id] = _norm(qual)
                elif kind == "shadow" or (kind == "local" and (bare or path)):
                    self.local.add(node.id)
            elif len(parts) == 2 and parts[0].type == "identifier":
                # Java ``st.execute(q)``: a receiver declared with a class of this file is not
                # the library's class of the same simple name
                if names.resolve_type(self.ctx, parts[0])[0] == "local":
                    self.local.add(node.id)
            return text
        parts = []
        for c in _callee_parts(self.t, node):
            if c.type in ("identifier", "attribute"):
                q = self.qualname(self.ctx, c)
                parts.append(q if q else _txt(c))
            else:
                parts.append(_txt(c))
        return _norm(".".join(parts))

    def receiver(self, node: Node) -> Node | None:
        spec = self.t.calls[node.type]
        f = spec.get("receiver")
        if f:
            return node.child_by_field_name(f)
        fn = node.child_by_field_name(spec.get("callee", ["function"])[0])
        if fn is not None and fn.type in self.t.members:
            return fn.named_children[0] if fn.named_child_count else None
        return None

    def macro_taint(self, node: Node, env: dict[str, Trace], depth: int) -> Trace | None:
        """A macro's token tree (``format!("{}", html_escape::encode_text(&x))``) is not parsed
        into calls: split it at top-level commas and skip the parts that call a sanitiser."""
        tree = next((c for c in node.named_children if c.type == "token_tree"), None)
        if tree is None:
            return None
        segment: list[Node] = []
        for c in [*tree.children, None]:
            if c is None or c.type == ",":
                text = _norm("".join(_txt(n) for n in segment))
                head = text.split("(", 1)[0]
                clean = (
                    "(" in text
                    and self.t.sanitizers is not None
                    and self.t.sanitizers.fullmatch(head) is not None
                )
                if not clean:
                    for n in segment:
                        hit = self.taint(n, env, depth + 1)
                        if hit is not None:
                            return hit
                segment = []
            elif c.type not in ("(", ")", "[", "]", "{", "}"):
                segment.append(c)
        return None

    def args(self, node: Node) -> list[Node]:
        spec = self.t.calls[node.type]
        al = node.child_by_field_name(spec.get("args", "arguments"))
        if al is None:
            al = next((c for c in node.named_children if c.type in _ARG_LISTS), None)
        if al is None:
            return []
        out = []
        for c in al.named_children:
            if c.type in ("comment",):
                continue
            if c.type == "argument" and c.named_child_count:
                c = c.named_children[-1]
            out.append(c)
        return out

    def matches(self, pairs: list[tuple[re.Pattern[str], str]], text: str) -> str | None:
        for rx, label in pairs:
            if rx.fullmatch(text):
                return label
        return None

    def expr_source(self, text: str) -> str | None:
        t = _norm(text)
        for rx, label in self.t.expr_sources:
            m = rx.match(t)
            if m and (m.end() == len(t) or t[m.end()] in ".[("):
                return label
        return None

    def key(self, node: Node) -> str:
        return _norm(_txt(node))

    # ------------------------------------------------------------------ expressions
    def taint(self, node: Node | None, env: dict[str, Trace], depth: int = 0) -> Trace | None:
        """The trace that taints ``node``'s value, or None when it is clean."""
        if node is None or depth > MAX_DEPTH:
            return None
        self.tick()
        t = self.t
        typ = node.type
        if typ in t.functions or typ in t.skip:
            return None
        if typ in t.calls:
            return self.call_taint(node, env, depth)
        if typ in t.names or typ in t.members:
            k = self.key(node)
            hit = env.get(k)
            if hit is not None:
                return hit
            label = self.expr_source(k)
            if label is not None:
                return (_step("source", node, f"{label}: {_short(_txt(node))}"),)
            if typ in t.names:
                if node.named_child_count == 0:
                    return None
        if node.named_child_count == 0:
            return None
        for c in node.named_children:
            if c.type == "comment":
                continue
            hit = self.taint(c, env, depth + 1)
            if hit is not None:
                return hit
        return None

    def call_taint(self, node: Node, env: dict[str, Trace], depth: int) -> Trace | None:
        t = self.t
        name = self.callee(node)
        if t.sanitizers is not None and t.sanitizers.fullmatch(name):
            return None
        label = self.matches(t.call_sources, name)
        if label is not None:
            return (_step("source", node, f"{label}: {_short(_txt(node))}"),)
        args = self.args(node)
        helper = self.helpers.get(name.rsplit(".", 1)[-1])
        if helper is not None:
            trig = self.t.triggers
            if trig is None or trig.search(helper.text or b"") is not None:
                src = self.summary(helper, False)
                if src is not None:
                    return _extend(src, _step("step", node, f"returned by {_short(name, 40)}()"))
        for a in args:
            hit = self.taint(a, env, depth + 1)
            if hit is not None:
                if helper is not None and self.summary(helper, True) is None:
                    return None  # the helper does not pass its parameters through
                return _extend(hit, _step("step", node, _short(_txt(node))))
        if helper is not None:
            return None
        if not args:
            hit = self.macro_taint(node, env, depth)
            if hit is not None:
                return _extend(hit, _step("step", node, _short(_txt(node))))
        recv = self.receiver(node)
        if recv is not None:
            hit = self.taint(recv, env, depth + 1)
            if hit is not None:
                return hit
        fn = node.child_by_field_name(t.calls[node.type].get("callee", ["function"])[0])
        if fn is not None and fn.type not in t.names and fn.type not in t.members:
            hit = self.taint(fn, env, depth + 1)  # e.g. the object of a chained call
            if hit is not None:
                return hit
        return None

    # ------------------------------------------------------------------ summaries
    def summary(self, fn: Node, params_tainted: bool) -> Trace | None:
        key = (fn.id, params_tainted)
        if key in self.summaries:
            return self.summaries[key]
        if fn.id in self.in_progress:
            return None
        self.in_progress.add(fn.id)
        env: dict[str, Trace] = {}
        if params_tainted:
            for p in self.params(fn):
                env[self.key(p)] = (_step("source", p, f"parameter {_txt(p)}"),)
        rets: list[Trace] = []
        self.walk(fn, env, report=False, returns=rets)
        self.in_progress.discard(fn.id)
        out = rets[0] if rets else None
        self.summaries[key] = out
        return out

    def params(self, fn: Node) -> list[Node]:
        field_name = self.t.syntax.get("params", "parameters")
        pl = fn.child_by_field_name(field_name) or fn.child_by_field_name("parameter")
        if pl is None:
            decl = fn.child_by_field_name("declarator")  # C: int f(char *a)
            while decl is not None and pl is None:
                pl = decl.child_by_field_name("parameters")
                decl = decl.child_by_field_name("declarator")
        if pl is None:
            return []
        if pl.type in self.t.names:
            return [pl]
        out = []
        for p in pl.named_children:
            ident = self._ident(p)
            if ident is not None and _txt(ident) not in ("self", "cls", "this"):
                out.append(ident)
        return out

    def _ident(self, node: Node) -> Node | None:
        cur: Node | None = node
        for _ in range(6):
            if cur is None:
                return None
            if cur.type in self.t.names and cur.type not in self.t.members:
                return cur
            nxt = None
            for f in ("name", "pattern", "declarator", "left"):
                nxt = cur.child_by_field_name(f)
                if nxt is not None:
                    break
            if nxt is None:
                named = [c for c in cur.named_children if c.type in self.t.names]
                nxt = named[0] if named else None
            cur = nxt
        return None

    def function_name(self, fn: Node) -> str | None:
        n = fn.child_by_field_name("name")
        if n is None:
            decl = fn.child_by_field_name("declarator")
            while decl is not None and decl.child_by_field_name("declarator") is not None:
                decl = decl.child_by_field_name("declarator")
            n = decl
        return _txt(n) if n is not None and n.end_byte - n.start_byte < 80 else None

    def handler_taint(self, fn: Node, env: dict[str, Trace]) -> None:
        """Parameters of request handlers (decorated routes, annotated parameters) are sources."""
        t = self.t
        if t.handler_sources:
            around = []
            par = fn.parent
            if par is not None and par.type == "decorated_definition":
                around.append(_txt(par)[: fn.start_byte - par.start_byte])
            mods = fn.child_by_field_name("modifiers") or next(
                (c for c in fn.children if c.type in ("modifiers", "attribute_list")), None
            )
            if mods is not None:
                around.append(_txt(mods))
            text = " ".join(around)
            for rx, label in t.handler_sources:
                if text and rx.search(text):
                    for p in self.params(fn):
                        if _txt(p) not in ("request", "req", "res", "response"):
                            env[self.key(p)] = (
                                _step("source", p, f"{label}: parameter {_txt(p)}"),
                            )
                    break
        if t.param_sources:
            pl = fn.child_by_field_name(t.syntax.get("params", "parameters"))
            for p in pl.named_children if pl is not None else ():
                for rx, label in t.param_sources:
                    if rx.search(_txt(p)):
                        ident = self._ident(p)
                        if ident is not None:
                            env[self.key(ident)] = (
                                _step("source", ident, f"{label}: parameter {_txt(ident)}"),
                            )
                        break

    # ------------------------------------------------------------------ statements
    def run(self) -> None:
        root = self.ctx.root
        self.index(root)
        functions = self.owned.get(-1, {}).get("functions", [])
        for fn in functions:
            name = self.function_name(fn)
            if name:
                self.helpers.setdefault(name, fn)
        nested_env: dict[int, dict[str, Trace]] = {}
        self.walk(root, {}, report=True, returns=None, nested=nested_env)
        trig = self.t.triggers
        sourcey = [
            name.encode()
            for name, fn in self.helpers.items()
            if trig is None or trig.search(fn.text or b"") is not None
        ]
        helper_rx = (
            re.compile(b"|".join(re.escape(n) + rb"\s*\(" for n in sourcey)) if sourcey else None
        )
        for fn in functions:
            env = dict(nested_env.get(fn.id, {}))
            self.handler_taint(fn, env)
            if not env and trig is not None:
                text = fn.text or b""
                if trig.search(text) is None and (
                    helper_rx is None or helper_rx.search(text) is None
                ):
                    continue  # nothing can become tainted in this function
            self.walk(fn, env, report=True, returns=None, nested=nested_env)

    def index(self, root: Node) -> None:
        """One query finds every node the analysis acts on; each is filed under its innermost function
        (``-1``: the file's top level) as events in the order a post-order walk would meet them."""
        import tree_sitter

        query = _event_query(self.ctx.language)
        nodes: list[Node] = []
        if query is not None:
            for found in tree_sitter.QueryCursor(query).captures(root).values():
                nodes.extend(found)
        nodes.sort(key=lambda n: (n.start_byte, -n.end_byte))
        t = self.t
        self.owned: dict[int, dict[str, Any]] = {}
        all_functions: list[Node] = []
        stack: list[Node] = []
        for n in nodes:
            self.tick()
            while stack and stack[-1].end_byte <= n.start_byte:
                stack.pop()
            owner = stack[-1].id if stack else -1
            slot = self.owned.setdefault(owner, {"events": []})
            typ = n.type
            if typ in t.functions:
                all_functions.append(n)
                slot["events"].append(((n.start_byte, 1, 0), "enter_fn", n))
                stack.append(n)
                continue
            if typ in t.ifs:
                slot["events"].append(((n.start_byte, 1, 0), "enter_if", n))
            slot["events"].append(((n.end_byte, 0, -n.start_byte), "leave", n))
        for slot in self.owned.values():
            slot["events"].sort(key=lambda e: e[0])
        self.owned.setdefault(-1, {"events": []})["functions"] = all_functions

    def walk(
        self,
        fn: Node,
        env: dict[str, Trace],
        report: bool,
        returns: list[Trace] | None,
        nested: dict[int, dict[str, Trace]] | None = None,
    ) -> None:
        t = self.t
        is_fn = fn.type in t.functions
        body = fn.child_by_field_name("body") if is_fn else fn
        if body is None:
            return
        if (
            is_fn
            and returns is not None
            and body.type
            not in (
                "statement_block",
                "compound_statement",
                "body_statement",
                "block",
            )
        ):
            # an expression body (``x => x + 1``, a lambda) is the return value
            hit = self.taint(body, env)
            if hit is not None:
                returns.append(hit)
        events = list(self.owned.get(fn.id if is_fn else -1, {}).get("events", ()))
        restore: dict[int, list[tuple[str, Trace]]] = {}
        pending: list[
            tuple[tuple[int, int, int], int]
        ] = []  # (position, body id) of guard restores
        for pos, kind, node in events:
            self.tick()
            while pending and pending[0][0] <= pos:
                _, bid = pending.pop(0)
                for k, v in restore.pop(bid, ()):
                    env[k] = v
            if kind == "enter_fn":
                if nested is not None:
                    nested[node.id] = dict(env)
                continue
            if kind == "enter_if":
                if node.start_byte < body.start_byte:
                    continue
                bid = self.guard(node, env, restore)
                if bid is not None:
                    b = next((c for c in node.children if c.id == bid), None)
                    if b is not None:
                        pending.append(((b.end_byte, 0, -b.start_byte + 1), bid))
                        pending.sort()
                continue
            if node.start_byte < body.start_byte:
                continue  # parameters, decorators
            typ = node.type
            if typ in t.assigns:
                self.assign(node, env, self.branch_depth(node, fn))
            elif typ in t.calls:
                self.call_effects(node, env, report)
            elif typ in t.returns and returns is not None:
                for c in node.named_children:
                    hit = self.taint(c, env)
                    if hit is not None:
                        returns.append(hit)
                        break
            if report and typ in t.sink_types:
                self.node_sink(node, env)
        for bid in list(restore):
            for k, v in restore.pop(bid):
                env[k] = v

    def branch_depth(self, node: Node, fn: Node) -> int:
        """1 when ``node`` sits inside a branch or loop of ``fn`` (a clean assignment then keeps taint)."""
        cur = node.parent
        while cur is not None and cur.id != fn.id:
            if _branchy(cur.type):
                return 1
            cur = cur.parent
        return 0

    def assign(self, node: Node, env: dict[str, Trace], branch: int) -> None:
        spec = self.t.assigns[node.type]
        left = node.child_by_field_name(spec["left"])
        rf = spec.get("right")
        if rf == "@last":
            named = [c for c in node.named_children if c.type != "comment"]
            right = named[-1] if len(named) > 1 else None
        else:
            right = node.child_by_field_name(rf) if rf else None
        if left is None or right is None:
            return
        hit = self.taint(right, env)
        for s in self.t.sink_assign:
            if hit is not None and s.assign is not None and s.assign.fullmatch(self.key(left)):
                self.emit(s, left, hit)
        targets = self.targets(left)
        if hit is not None:
            step = _step("step", node, _short(_txt(node)))
            for tgt in targets:
                env[self.key(tgt)] = _extend(hit, step)
                base = tgt
                while base.type in self.t.subscripts and base.named_child_count:
                    base = base.named_children[0]  # ``a[k] = t`` taints the container ``a``
                    if base.type in self.t.names:
                        env.setdefault(self.key(base), _extend(hit, step))
        elif branch == 0 and not spec.get("augmented"):
            for tgt in targets:
                env.pop(self.key(tgt), None)

    def targets(self, left: Node) -> list[Node]:
        t = self.t
        if left.type in t.names or left.type in t.members:
            return [left]
        out = []
        for c in left.named_children:
            out.extend(self.targets(c))
        return out[:16]

    def call_effects(self, node: Node, env: dict[str, Trace], report: bool) -> None:
        t = self.t
        name = self.callee(node)
        args = self.args(node)
        for rx, idx, label in t.out_sources:
            if rx.fullmatch(name) and idx < len(args):
                target = _unref(args[idx])
                if target.type in t.names:
                    env[self.key(target)] = (
                        _step("source", node, f"{label}: {_short(_txt(node))}"),
                    )
        for rx, idx in t.propagators:
            if rx.fullmatch(name) and idx < len(args):
                target = _unref(args[idx])
                for i, a in enumerate(args):
                    if i != idx:
                        hit = self.taint(a, env)
                        if hit is not None and target.type in t.names:
                            env[self.key(target)] = _extend(
                                hit, _step("step", node, _short(_txt(node)))
                            )
                            break
        if t.containers is not None and t.containers.fullmatch(name.rsplit(".", 1)[-1]):
            recv = self.receiver(node)
            if recv is not None and (recv.type in t.names or recv.type in t.members):
                for a in args:
                    hit = self.taint(a, env)
                    if hit is not None:
                        env[self.key(recv)] = _extend(hit, _step("step", node, _short(_txt(node))))
                        break
        if not report:
            return
        if node.id in self.local:
            return  # a function/variable of this file, not the library call of the same name
        call_text = None
        alt = self.alt.get(node.id)
        for s in t.sinks:
            if s.callee is None:
                continue
            said = name
            if not s.callee.fullmatch(name):
                if alt is None or not s.callee.fullmatch(alt):
                    continue
                said = alt
            if s.requires is not None:
                call_text = call_text if call_text is not None else _txt(node)
                if not s.requires.search(call_text):
                    continue
            if s.unless is not None:
                call_text = call_text if call_text is not None else _txt(node)
                if s.unless.search(call_text):
                    continue
            if s.file_unless is not None and s.file_unless.search(self.ctx.text):
                continue
            if s.receiver:
                recv = self.receiver(node)
                hit = self.taint(recv, env) if recv is not None else None
                if hit is not None:
                    self.emit(s, node, hit, said)
                continue
            chosen = args if s.args is None else [args[i] for i in s.args if i < len(args)]
            for a in chosen:
                if a.type in _OPTIONS:
                    continue  # ``where(id: x)``, ``run(cmd, shell=True)``: options, not the sink's text
                if (
                    s.list_first
                    and a.type in ("list", "array", "array_creation_expression")
                    and a.named_child_count
                ):
                    a = a.named_children[0]
                hit = self.taint(a, env)
                if hit is not None:
                    self.emit(s, node, hit, said)
                    break

    def node_sink(self, node: Node, env: dict[str, Trace]) -> None:
        for s in self.t.sinks:
            if node.type in s.node:
                for c in node.named_children:
                    hit = self.taint(c, env)
                    if hit is not None:
                        self.emit(s, node, hit)
                        return

    def guard(
        self, node: Node, env: dict[str, Trace], restore: dict[int, list[tuple[str, Trace]]]
    ) -> int | None:
        """``if not allowed(x): return`` cleans ``x`` after the ``if``; ``if x in ALLOWED:`` inside it."""
        t = self.t
        if t.guards is None:
            return
        spec = t.ifs[node.type]
        cond = node.child_by_field_name(spec.get("condition", "condition"))
        body = node.child_by_field_name(spec.get("body", "consequence"))
        if cond is None or body is None:
            return
        ctext = _txt(cond)
        if not t.guards.search(ctext):
            return
        names = [k for k in env if re.search(r"(?<![\w$])" + re.escape(k) + r"(?![\w])", ctext)]
        if not names:
            return
        negative = bool(re.search(r"(^|[\s(])(not\s|!)|unless", ctext)) or _txt(node).startswith(
            "unless"
        )
        stmts = (
            [c for c in body.named_children if c.type != "comment"]
            if body.named_child_count
            else [body]
        )
        exits = bool(stmts) and (
            stmts[-1].type in t.exits
            or any(
                _txt(stmts[-1]).lstrip().startswith(w)
                for w in (
                    "abort",
                    "exit",
                    "die",
                    "http.Error",
                    "halt",
                    "raise",
                    "throw",
                    "return",
                    "redirect",
                )
            )
        )
        if negative and exits:
            for k in names:
                env.pop(k, None)
        elif not negative:
            restore[body.id] = [(k, env[k]) for k in names]
            for k in names:
                env.pop(k, None)
            return body.id
        return None

    def emit(self, sink: Sink, node: Node, trace: Trace, name: str = "") -> None:
        rid = self.t.rule_id(sink.cwe)
        key = (rid, node.start_byte)
        if key in self.reported:
            return
        self.reported.add(key)
        what = sink.label or (f"{name}()" if name else _short(_txt(node), 40))
        flow = _extend(trace, _step("sink", node, f"reaches {what}"))
        src = trace[0][3] if trace else "untrusted data"
        tx = cwe_texts().get(sink.cwe, {})
        msg = f"{tx.get('message', 'Untrusted data reaches a sink.')} Source: {src} (line {trace[0][1][0] + 1}); sink: {what}."
        local = any(src.startswith(label + ":") for label in self.t.local_labels)
        self.ctx.report_flow(rid, node, flow, msg, confidence="low" if local else None)


@cache
def _event_query(language: str) -> Any:
    """The query capturing every node type the analysis acts on, for one grammar (None: none)."""
    import tree_sitter

    from slm_lsp import languages as langs

    t = table(language)
    if t is None:
        return None
    ts_lang = langs.ts_language(language)
    kinds = {*t.functions, *t.calls, *t.assigns, *t.returns, *t.ifs, *t.sink_types}
    known = sorted(k for k in kinds if ts_lang.id_for_node_kind(k, True) is not None)
    if not known:
        return None
    return tree_sitter.Query(ts_lang, "[" + " ".join(f"({k})" for k in known) + "] @n")


def analyse(ctx: FileContext) -> None:
    """Run the data-flow analysis of ``ctx``'s language (nothing when it has no table)."""
    t = table(ctx.language)
    if t is None:
        return
    if t.triggers is not None and t.triggers.search(ctx.data) is None:
        return  # no source can occur in this file
    _Analysis(ctx, t).run()
