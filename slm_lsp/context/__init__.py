"""Which snippets go into a prompt: cross-file definitions, recent chunks, similar code, within a token budget."""
