"""Entry point for ``python -m slm_lsp``."""

from slm_lsp.cli import main

raise SystemExit(main())
