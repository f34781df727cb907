"""slm-lsp's benchmark suite: ``python -m bench {latency,index,review,quality,remote}`` (see ``bench/README.md``)."""
