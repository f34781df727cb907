"""Build glue that pyproject.toml cannot say alone: the top-level grammars/ folder ships as ``slm_lsp.grammars``.

Everything else (metadata, dependencies, package data) is in pyproject.toml.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["slm_lsp", "slm_lsp.*"]), "slm_lsp.grammars"],
    package_dir={"slm_lsp.grammars": "grammars"},
)
