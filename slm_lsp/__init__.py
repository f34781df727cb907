"""slm-lsp: a language server that brings a small, locally run code model into any LSP editor."""

__version__ = "0.1.0"
