"""What the index gives for free: workspace/symbol (fuzzy), textDocument/documentSymbol (hierarchical), textDocument/definition."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp
from pygls.uris import from_fs_path, to_fs_path

if TYPE_CHECKING:  # pragma: no cover
    from slm_lsp.server import SlmServer

log = logging.getLogger(__name__)
KIND = {
    "function": lsp.SymbolKind.Function,
    "method": lsp.SymbolKind.Method,
    "class": lsp.SymbolKind.Class,
    "interface": lsp.SymbolKind.Interface,
    "struct": lsp.SymbolKind.Struct,
    "enum": lsp.SymbolKind.Enum,
    "type": lsp.SymbolKind.Class,
    "constant": lsp.SymbolKind.Constant,
    "variable": lsp.SymbolKind.Variable,
    "module": lsp.SymbolKind.Module,
    "namespace": lsp.SymbolKind.Namespace,
    "field": lsp.SymbolKind.Field,
    "constructor": lsp.SymbolKind.Constructor,
    "trait": lsp.SymbolKind.Interface,
    "property": lsp.SymbolKind.Property,
}
WORD = re.compile(r"[A-Za-z_$][\w$]*")


def _abs(ls: SlmServer, path: str) -> Path:
    if ls.index is not None:
        return Path(ls.index.abspath(path))
    p = Path(path)
    return p if p.is_absolute() or ls.root is None else ls.root / p


def _range(sym: Any) -> lsp.Range:
    start = lsp.Position(line=sym.start_line, character=0)
    end = lsp.Position(line=max(sym.end_line, sym.start_line), character=0)
    return lsp.Range(start=start, end=end)


def _location(ls: SlmServer, sym: Any) -> lsp.Location:
    return lsp.Location(uri=from_fs_path(str(_abs(ls, sym.path))) or "", range=_range(sym))


def _parsed(ls: SlmServer, uri: str, path: Path) -> list[Any]:
    """The definitions of an open document from its syntax tree (no index needed)."""
    from slm_lsp.workspace.symbols import Symbol, extract

    parsed = ls.parsed.get(uri)
    if parsed is None:
        return []
    records = extract(parsed.tree, parsed.source, parsed.language, ls.settings.index.symbol_depth)
    return [Symbol.from_record(r, str(path), parsed.language) for r in records]


def register(server: SlmServer) -> None:
    @server.feature(lsp.WORKSPACE_SYMBOL)
    def workspace_symbol(
        ls: SlmServer, params: lsp.WorkspaceSymbolParams
    ) -> list[lsp.SymbolInformation] | None:
        if ls.index is None:
            return []
        return [
            lsp.SymbolInformation(
                name=s.name,
                kind=KIND.get(s.kind, lsp.SymbolKind.Variable),
                location=_location(ls, s),
                container_name=s.container or None,
            )
            for s in ls.index.search(params.query, limit=200)
        ]

    @server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def document_symbol(
        ls: SlmServer, params: lsp.DocumentSymbolParams
    ) -> list[lsp.DocumentSymbol] | None:
        uri = params.text_document.uri
        if ls.document(uri) is None or not uri.startswith("file:"):
            return None
        path = Path(to_fs_path(uri) or "")
        # until the index is built (or with it switched off), the open document's own tree
        symbols = ls.index.file_symbols(path) if ls.index is not None else _parsed(ls, uri, path)
        nodes: dict[str, lsp.DocumentSymbol] = {}
        roots: list[lsp.DocumentSymbol] = []
        for s in sorted(symbols, key=lambda s: (s.start_line, -s.end_line)):
            rng = _range(s)
            node = lsp.DocumentSymbol(
                name=s.name,
                kind=KIND.get(s.kind, lsp.SymbolKind.Variable),
                range=rng,
                selection_range=lsp.Range(start=rng.start, end=rng.start),
                detail=(s.signature or "")[:120] or None,
                children=[],
            )
            parent = nodes.get(s.container) if s.container else None
            (
                parent.children if parent is not None and parent.children is not None else roots
            ).append(node)
            nodes.setdefault(s.name, node)
        return roots

    @server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: SlmServer, params: lsp.DefinitionParams) -> list[lsp.Location] | None:
        uri = params.text_document.uri
        doc = ls.document(uri)
        pos = ls.to_server_position(uri, params.position) if doc is not None else None
        if doc is None or pos is None or ls.index is None:
            return None
        line = doc.text.split("\n")[pos[0]]
        name = None
        for m in WORD.finditer(line):
            if m.start() <= pos[1] <= m.end():
                name = m.group(0)
                break
        if not name:
            return None
        defs = ls.index.definitions(name)
        if (
            not defs
            or len(defs) > 1
            and len({(d.path, d.start_line) for d in defs}) > 1
            and len(defs) > 5
        ):
            return None  # unknown, or too ambiguous to be useful
        return [_location(ls, d) for d in defs]
