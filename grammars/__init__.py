"""Tree-sitter query files, one folder per language (``<language>/<query>.scm``).

This folder is installed as the package ``slm_lsp.grammars`` (see setup.py); ``slm_lsp.languages``
finds it through ``importlib.resources`` in a wheel and reads it in place in a checkout.
"""
