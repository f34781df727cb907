"""Build glue that pyproject.toml cannot say alone: the top-level grammars/ folder ships as ``slm_lsp.grammars``.

Each folder below grammars/ becomes a sub-package (``slm_lsp.grammars.python``, ...) holding its
``.scm`` files as package data, so that setuptools installs them as data of a package, not as
loose folders. Everything else (metadata, dependencies, package data) is in pyproject.toml.
"""

from pathlib import Path

from setuptools import find_packages, setup

GRAMMARS = Path(__file__).resolve().parent / "grammars"
query_packages = sorted(
    "slm_lsp.grammars." + ".".join(d.relative_to(GRAMMARS).parts)
    for d in GRAMMARS.rglob("*")
    if d.is_dir() and d.name != "__pycache__"
)

setup(
    packages=[
        *find_packages(include=["slm_lsp", "slm_lsp.*"]),
        "slm_lsp.grammars",
        *query_packages,
    ],
    package_dir={"slm_lsp.grammars": "grammars"},
    package_data={name: ["*.scm"] for name in query_packages},
)
