"""Retrieval for the prompt: callee signatures from other files, ring chunks, stability, budget, secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from slm_lsp.config import ContextSettings
from slm_lsp.context.retrieve import ContextRetriever
from tests.unit.workspace.helpers import make_index, write_tree

CONFIG = '''"""Configuration loading."""


def parse_config(path: str, strict: bool = False) -> dict:
    """Read the TOML file at path and return its settings."""
    with open(path) as fh:
        return {"raw": fh.read(), "strict": strict}


class Settings:
    """All settings."""

    def __init__(self, data: dict) -> None:
        self.data = data
'''
MAIN = """from app.config import parse_config, Settings


def main(argv):
    data = parse_config(argv[1])
    settings = Settings(data)
    return settings
"""


@pytest.fixture
def workspace(tmp_path: Path):  # type: ignore[no-untyped-def]
    root = tmp_path / "ws"
    write_tree(
        root,
        {
            "app/config.py": CONFIG,
            "app/main.py": MAIN,
            "app/__init__.py": "",
            "other/config.py": "def parse_config():\n    pass\n",
        },
    )
    index = make_index(root, tmp_path / "cache")
    index.load_or_build()
    return root, index


def test_call_site_gets_callee_signature_from_other_file(workspace) -> None:  # type: ignore[no-untyped-def]
    root, index = workspace
    r = ContextRetriever(index, ContextSettings())
    snippets = r.retrieve(str(root / "app/main.py"), MAIN, 5, 4, "python", (0, 6))
    by_path = {s.path for s in snippets}
    (callee,) = [s for s in snippets if "parse_config" in s.text]
    assert callee.path == str(root / "app" / "config.py")
    assert "def parse_config(path: str, strict: bool = False) -> dict:" in callee.text
    assert "Read the TOML file" in callee.text
    reasons = " | ".join(s.reason for s in snippets)
    assert "definition of function parse_config (called at line 5)" in reasons
    assert (
        str(root / "other" / "config.py") not in by_path
    )  # the import decides between the two parse_config


def test_order_is_stable_and_by_path(workspace) -> None:  # type: ignore[no-untyped-def]
    root, index = workspace
    r = ContextRetriever(index, ContextSettings())
    r.note_view(str(root / "other/config.py"), "def parse_config():\n    pass\n", 0)
    first = r.retrieve(str(root / "app/main.py"), MAIN, 5, 4, "python", (0, 6))
    typed = MAIN.replace("    return settings", "    return setti")
    second = r.retrieve(str(root / "app/main.py"), typed, 6, 15, "python", (0, 6))
    assert [(s.path, s.text) for s in first] == [(s.path, s.text) for s in second]
    assert [s.path for s in first] == sorted(s.path for s in first)


def test_budget_and_max_snippets(workspace) -> None:  # type: ignore[no-untyped-def]
    root, index = workspace
    r = ContextRetriever(index, ContextSettings(budget_tokens=40))
    snippets = r.retrieve(str(root / "app/main.py"), MAIN, 5, 4, "python", (0, 6), count_tokens=len)
    assert sum(len(s.text) + len(s.path) + 4 for s in snippets) <= 40
    r = ContextRetriever(index, ContextSettings(max_snippets=1))
    assert len(r.retrieve(str(root / "app/main.py"), MAIN, 5, 4, "python", (0, 6))) == 1
    assert (
        ContextRetriever(index, ContextSettings(enabled=False)).retrieve(
            str(root / "app/main.py"), MAIN, 5, 4, "python", (0, 6)
        )
        == []
    )


def test_window_is_not_repeated(workspace) -> None:  # type: ignore[no-untyped-def]
    root, index = workspace
    r = ContextRetriever(index, ContextSettings())
    here = str(root / "app/main.py")
    r.note_edit(here, MAIN, 2)
    assert all(s.path != here for s in r.retrieve(here, MAIN, 5, 4, "python", (0, 6)))


def test_ring_chunks_without_index() -> None:
    r = ContextRetriever(None, ContextSettings(chunk_lines=8))
    other = "\n".join(f"def helper_{i}(x):\n    return compute_total(x, {i})" for i in range(10))
    r.note_edit("/p/helpers.py", other, 4)
    snippets = r.retrieve("/p/main.py", "total = compute_total(1, 2)\n", 0, 5, "python", (0, 0))
    assert (
        snippets
        and snippets[0].path == "/p/helpers.py"
        and snippets[0].reason.startswith("recently edited")
    )


def test_similar_code_from_viewed_files() -> None:
    r = ContextRetriever(None, ContextSettings(chunk_lines=6, ring_size=0))
    viewed = "\n".join(
        ["import os"] * 30
        + [
            "def render_invoice(order, customer):",
            "    total = order.amount * customer.discount",
            "    return format_invoice(total)",
        ]
        + ["pass"] * 30
    )
    r.note_view("/p/billing.py", viewed, 0)
    current = "def render_receipt(order, customer):\n    total = order.amount * customer.discount\n"
    snippets = r.retrieve("/p/receipt.py", current, 1, 10, "python", (0, 1))
    assert any(
        "render_invoice" in s.text and s.reason.startswith("similar to the code") for s in snippets
    )


def test_secrets_never_retrieved(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    key = "AKIA" + "IOSFODNN7EXAMPLE"
    write_tree(
        root,
        {
            "app/keys.py": f'AWS_KEY = "{key}"\nAPI_TOKEN = "ghp_{"a1B2" * 9}"\n\ndef connect():\n    return AWS_KEY\n',
            ".env": f"AWS_KEY={key}\n",
            "app/main.py": "from app.keys import AWS_KEY, connect\n\nconnect()\nprint(AWS_KEY)\n",
        },
    )
    index = make_index(root, tmp_path / "cache")
    index.load_or_build()
    r = ContextRetriever(index, ContextSettings())
    r.note_view(str(root / ".env"), f"AWS_KEY={key}\n", 0)
    r.note_edit(str(root / ".env"), f"AWS_KEY={key}\n", 0)
    r.note_edit(str(root / "app/keys.py"), (root / "app/keys.py").read_text(), 0)
    main = (root / "app/main.py").read_text()
    snippets = r.retrieve(str(root / "app/main.py"), main, 3, 6, "python", (0, 3))
    assert snippets, "the definitions are still offered, redacted"
    blob = "\n".join(s.text for s in snippets)
    assert key not in blob and "ghp_" not in blob and "<redacted>" in blob
    assert all(not s.path.endswith(".env") for s in snippets)


def test_import_matching_quick_test_never_loses_a_match() -> None:
    """The last-component pre-test of ``_imported`` agrees with the full test on every key."""
    from slm_lsp.context.retrieve import _import_paths, _import_targets, _imported

    imports = ["os.path", ".models", "..util.text", "./lib/helpers", "crate::net::http", "util.h", "pkg"]
    targets = _import_targets(_import_paths(imports, "src/app/main.py"))

    def full_test(key: str) -> bool:  # every "/"-suffix of the key's stem against every stem
        stem = key.rsplit(".", 1)[0] if "." in key.rsplit("/", 1)[-1] else key
        parts = stem.split("/")
        return any("/".join(parts[i:]) in targets.stems for i in range(len(parts)))
    keys = [
        "src/app/models.py", "src/util/text.py", "src/app/lib/helpers.ts", "net/http.rs", "net/http/mod.rs",
        "os/path.py", "lib/os/path/__init__.py", "x/util.c", "util.h", "pkg/__init__.py", "pkg.py",
        "other/models_test.py", "src/app/main.py", "README", "a/b/c/d.py", "pkg/sub/mod.py",
    ]  # fmt: skip
    assert any(_imported(k, targets) for k in keys)
    for key in keys:
        assert _imported(key, targets) == full_test(key), key
