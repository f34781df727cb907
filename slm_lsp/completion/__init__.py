"""The completion pipeline, shared by the server and ``slm-lsp complete``; no LSP types here."""
