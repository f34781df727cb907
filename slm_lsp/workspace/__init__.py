"""The workspace index: crawling, parsing, symbols, caching and watching (no LSP imports here)."""

from slm_lsp.workspace.document import DocumentParser, ParsedDocument
from slm_lsp.workspace.index import IndexStats, WorkspaceIndex
from slm_lsp.workspace.symbols import Symbol

__all__ = ["DocumentParser", "IndexStats", "ParsedDocument", "Symbol", "WorkspaceIndex"]
