"""Generation backends behind one small interface (``slm_lsp.generation.Engine``); only this package imports llama_cpp."""
