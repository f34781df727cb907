"""Symbol extraction: run a language's ``symbols.scm`` and ``imports.scm`` over a tree and return compact records.

Query conventions (``grammars/<language>/symbols.scm``):

* ``@definition.<kind>`` marks the whole definition node; ``<kind>`` is one of ``KINDS``;
* ``@name`` marks its name (the first ``@name`` of a match wins);
* ``@doc`` (optional) marks a docstring inside the definition (Python); otherwise the comments
  directly above the definition, each on a line of its own, are its doc comment;
* ``@body`` (optional) marks the body; otherwise the ``body`` field is used. The signature is the
  text from the definition's start to its body (or its first line when it has none);
* ``@container`` marks a node that names the definitions inside it without being a symbol itself
  (a Rust ``impl`` block), with its own ``@name``;
* ``@scope`` (optional) names the container explicitly when the definition is not nested in it
  (a Go method's receiver type, C++ ``Shape::area`` defined outside the class).

A function whose nearest enclosing definition is class-like becomes a ``method``.
Records are plain tuples (``SymbolRecord``) so that a whole workspace stays small in memory and
crosses process boundaries cheaply; ``Symbol`` is the friendly view built on demand.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from slm_lsp import languages

if TYPE_CHECKING:  # pragma: no cover
    import tree_sitter

#: Symbol kinds a query may use after ``@definition.``.
KINDS = (
    "module",
    "namespace",
    "class",
    "interface",
    "struct",
    "enum",
    "trait",
    "type",
    "function",
    "method",
    "constructor",
    "field",
    "property",
    "constant",
    "variable",
    "macro",
)

#: Kinds whose nested functions are methods, and which name the container of what they hold.
CLASS_LIKE = frozenset({"class", "interface", "struct", "enum", "trait", "impl"})

#: Longest signature kept, in characters (longer ones are cut with an ellipsis).
MAX_SIGNATURE_CHARS = 240
#: Longest doc kept, in characters.
MAX_DOC_CHARS = 400
#: Most doc-comment lines gathered above a definition.
MAX_DOC_LINES = 12

#: One symbol as stored: (name, kind, start_line, end_line, signature, doc, container); lines are 0-based.
SymbolRecord = tuple[str, str, int, int, str, str, str]

_intern = sys.intern
_XML_DOC_TAG = re.compile(
    r"</?(?:summary|remarks|returns|para|value|example|param|typeparam|exception|see|inheritdoc)\b[^>]*>"
)
#: Capture name → symbol kind ('' for captures that are not the definition); filled as queries are met.
_CAPTURE_KIND: dict[str, str] = {
    "name": "",
    "doc": "",
    "body": "",
    "scope": "",
    "container": "impl",
}
#: Kinds that yield to any other kind found for the same node by another pattern.
_WEAK_KINDS = {"variable": 2, "constant": 1, "field": 1, "property": 1}


@dataclass(frozen=True, slots=True)
class Symbol:
    """A definition found in a file. Lines are 0-based and inclusive; ``container`` is '' at top level."""

    name: str
    kind: str
    path: str
    start_line: int
    end_line: int
    signature: str
    doc: str
    container: str
    language: str

    @classmethod
    def from_record(cls, rec: SymbolRecord, path: str, language: str) -> Symbol:
        return cls(rec[0], rec[1], path, rec[2], rec[3], rec[4], rec[5], rec[6], language)

    @property
    def qualified_name(self) -> str:
        return f"{self.container}.{self.name}" if self.container else self.name


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _signature(source: bytes, node: tree_sitter.Node, body: tree_sitter.Node | None) -> str:
    start = node.start_byte
    if body is not None and body.start_byte > start:
        end = body.start_byte
    else:
        end = source.find(b"\n", start, node.end_byte)
        if end < 0:
            end = node.end_byte
    raw = source[start : min(end, start + 4 * MAX_SIGNATURE_CHARS)].decode("utf-8", "replace")
    if body is not None and ("#" in raw or "//" in raw or "/*" in raw):
        # a comment between the header and the body is not part of the signature
        last = start
        for child in node.children:
            if child.start_byte >= end:
                break
            if "comment" not in child.type:
                last = child.end_byte
        raw = source[start : min(last, start + 4 * MAX_SIGNATURE_CHARS)].decode("utf-8", "replace")
    sig = " ".join(raw.split()).rstrip("{").rstrip()
    return _clip(sig, MAX_SIGNATURE_CHARS)


def clean_doc(raw: str) -> str:
    """Strip comment markers and string quotes from a doc comment or docstring; keep its first paragraph-ish part."""
    text = raw.strip()
    if len(text) > 2 * MAX_DOC_CHARS:  # only the start survives the clip below; skip the rest early
        head = text[: 2 * MAX_DOC_CHARS]
        for q in ('"""', "'''"):
            if text.endswith(q) and q in head:
                head += q
                break
        text = head
    for q in ('"""', "'''"):
        if text.endswith(q):
            i = text.find(q)
            if i >= 0 and i + 3 <= len(text) - 3:
                text = text[i + 3 : -3]
                break
    else:
        if len(text) >= 2 and text[-1] in "\"'" and text.lstrip("rRbBuUfF")[:1] == text[-1]:
            text = text.lstrip("rRbBuUfF")[1:-1]
    lines = []
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("/**") or s.startswith("/*"):
            s = s[3:] if s.startswith("/**") else s[2:]
        if s.endswith("*/"):
            s = s[:-2]
        s = s.strip()
        for marker in ("///", "//!", "//", "#", "*", "--"):
            if s.startswith(marker):
                s = s[len(marker) :].lstrip()
                break
        lines.append(s.rstrip())
    if "<" in text:  # XML doc comments (C#): keep the words, drop the tags
        lines = [_XML_DOC_TAG.sub("", line) for line in lines]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return _clip("\n".join(lines), MAX_DOC_CHARS)


#: Sibling node types that may sit between a doc comment and its definition (attributes, decorators).
_BETWEEN_DOC_AND_DEF = frozenset(
    {
        "attribute_item",
        "inner_attribute_item",
        "decorator",
        "attribute_list",
        "annotation",
        "marker_annotation",
    }
)


#: How a line that may belong to a doc comment, or sit between one and its definition, starts.
_DOC_OR_ATTR_STARTS = (b"#", b"//", b"/*", b"*", b"--", b";", b"@", b"[")


def _comment_doc(source: bytes, node: tree_sitter.Node) -> str:
    """Comments directly above ``node`` (adjacent lines, each comment alone on its line).

    A definition wrapped on its own line (``export function``, ``const f = () =>``, a decorated
    definition) takes the comments above its wrapper; attributes between comment and definition
    are stepped over.
    """
    # fast path: most definitions have neither a comment nor an attribute/decorator on the line above
    line_start = source.rfind(b"\n", 0, node.start_byte) + 1
    if line_start > 0:
        prev_start = source.rfind(b"\n", 0, line_start - 1) + 1
        above = source[prev_start : line_start - 1].strip()
        if not above.startswith(_DOC_OR_ATTR_STARTS) and not above.endswith(b"*/"):
            if not source[line_start : node.start_byte].strip():
                return ""
    elif not source[: node.start_byte].strip():
        return ""
    parent = node.parent
    while (
        parent is not None
        and parent.parent is not None
        and (
            parent.type == "decorated_definition"
            or b"\n" not in source[parent.start_byte : node.start_byte]
        )
    ):
        if node.prev_sibling is not None and "comment" in node.prev_sibling.type:
            break
        node, parent = parent, parent.parent
    parts: list[str] = []
    expect_row = node.start_point[0]
    sib = node.prev_sibling
    while sib is not None and sib.type in _BETWEEN_DOC_AND_DEF:
        expect_row = sib.start_point[0]
        sib = sib.prev_sibling
    while sib is not None and "comment" in sib.type and len(parts) < MAX_DOC_LINES:
        end_row = sib.end_point[0]
        if end_row != expect_row - 1 and end_row != expect_row:
            break
        line_start = source.rfind(b"\n", 0, sib.start_byte) + 1
        if source[line_start : sib.start_byte].strip():
            break  # a trailing comment on a code line belongs to that line
        parts.append(source[sib.start_byte : sib.end_byte].decode("utf-8", "replace"))
        expect_row = sib.start_point[0]
        sib = sib.prev_sibling
    if not parts:
        return ""
    return clean_doc("\n".join(reversed(parts)))


def extract(
    tree: tree_sitter.Tree,
    source: bytes,
    language: str,
    max_depth: int = 0,
    byte_range: tuple[int, int] | None = None,
) -> list[SymbolRecord]:
    """The definitions in ``tree`` (parsed from ``source``) as records, in source order.

    ``max_depth`` (0: unlimited) bounds how deep a definition may start in the tree; a small bound
    makes the query several times faster on big files. ``byte_range`` restricts the search to
    definitions that intersect it (used to find the definitions around a cursor).
    """
    query = languages.load_query(language, "symbols")
    if query is None:
        return []
    import tree_sitter

    cursor = tree_sitter.QueryCursor(query)
    if max_depth:
        cursor.set_max_start_depth(max_depth)
    if byte_range is not None:
        cursor.set_byte_range(*byte_range)
    found: list[
        tuple[
            int,
            int,
            str,
            str,
            tree_sitter.Node,
            tree_sitter.Node | None,
            tree_sitter.Node | None,
            str,
        ]
        | None
    ] = []
    seen: dict[tuple[int, str], int] = {}
    for _, caps in cursor.matches(tree.root_node):
        names = caps.get("name")
        if not names:
            continue
        kind = ""
        defn = None
        for key in caps:
            k = _CAPTURE_KIND.get(key)
            if k is None:
                k = _CAPTURE_KIND[key] = key[11:] if key.startswith("definition.") else ""
            if k:
                kind = k
                defn = caps[key][0]
                break
        if defn is None:
            continue
        name_node = names[0]
        name = source[name_node.start_byte : name_node.end_byte].decode("utf-8", "replace")
        if not name or "\n" in name:
            continue
        key = (defn.start_byte, name)
        prev = seen.get(key)
        if prev is not None:
            # two patterns found the same definition: the more specific kind wins
            if _WEAK_KINDS.get(kind, 0) >= _WEAK_KINDS.get(found[prev][2], 0):  # type: ignore[index]
                continue
            found[prev] = None
        seen[key] = len(found)
        docs = caps.get("doc")
        bodies = caps.get("body")
        scopes = caps.get("scope")
        scope = (
            source[scopes[0].start_byte : scopes[0].end_byte].decode("utf-8", "replace")
            if scopes
            else ""
        )
        found.append(
            (
                defn.start_byte,
                -defn.end_byte,
                kind,
                name,
                defn,
                docs[0] if docs else None,
                bodies[0] if bodies else defn.child_by_field_name("body"),
                scope,
            )
        )
    defs = sorted((f for f in found if f is not None), key=lambda f: (f[0], f[1]))
    out: list[SymbolRecord] = []
    stack: list[tuple[int, str, str]] = []  # (end_byte, name, kind) of open definitions
    for _start, neg_end, kind, name, defn, doc_node, body, scope in defs:
        end = -neg_end
        while stack and stack[-1][0] < end:  # the open definition does not contain this one
            stack.pop()
        parent_kind = stack[-1][2] if stack else ""
        container = stack[-1][1] if stack else ""
        if scope:  # an explicit container: a Go receiver, a C++ ``Class::method``
            container, parent_kind = _intern(scope), "class"
        if kind == "impl":
            stack.append((end, _intern(name), kind))
            continue
        if kind == "function" and parent_kind in CLASS_LIKE:
            kind = "method"
        if doc_node is not None:
            doc = clean_doc(
                source[doc_node.start_byte : doc_node.end_byte].decode("utf-8", "replace")
            )
        else:
            doc = _comment_doc(source, defn)
        iname = _intern(name)
        out.append(
            (
                iname,
                _intern(kind),
                defn.start_point[0],
                defn.end_point[0],
                _signature(source, defn, body),
                doc,
                container,
            )
        )
        stack.append((end, iname, kind))
    return out


def extract_imports(tree: tree_sitter.Tree, source: bytes, language: str) -> list[str]:
    """Module paths the file imports (``@import`` captures of ``imports.scm``), in order, without duplicates."""
    query = languages.load_query(language, "imports")
    if query is None:
        return []
    import tree_sitter

    cursor = tree_sitter.QueryCursor(query)
    cursor.set_max_start_depth(4)
    out: dict[str, None] = {}
    for node in cursor.captures(tree.root_node).get("import", []):
        text = (
            source[node.start_byte : node.end_byte]
            .decode("utf-8", "replace")
            .strip()
            .strip("\"'<>`")
        )
        if text and len(text) < 300:
            out[_intern(text)] = None
    return list(out)
