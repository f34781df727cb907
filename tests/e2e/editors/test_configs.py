"""The shipped editor configurations parse, start the right command, and name only real server settings."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import tomllib

from slm_lsp.config import json_schema

REPO = Path(__file__).resolve().parents[3]

CONFIGS = REPO / "editor-configs"
SERVER_KEYS = set(json_schema()["properties"])


def _flatten(data: dict[str, Any], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            keys |= _flatten(value, name + ".")
        else:
            keys.add(name)
    return keys


def _assert_server_keys(section: dict[str, Any]) -> None:
    keys = _flatten(section)
    assert keys, "no settings at all"
    assert keys <= SERVER_KEYS, f"not server settings: {sorted(keys - SERVER_KEYS)}"


def _jsonc(path: Path) -> Any:
    """JSON with // comments (Sublime Text and Zed settings files)."""
    text = "\n".join(re.sub(r"^\s*//.*$", "", line) for line in path.read_text().splitlines())
    return json.loads(text)


def test_helix_languages_toml() -> None:
    data = tomllib.loads((CONFIGS / "helix" / "languages.toml").read_text())
    server = data["language-server"]["slm-lsp"]
    assert server["command"] == "slm-lsp" and server["args"][0] == "serve"
    _assert_server_keys(server["config"]["slm"])
    assert all("slm-lsp" in lang["language-servers"] for lang in data["language"])


def test_kakoune_kak_lsp_toml() -> None:
    data = tomllib.loads((CONFIGS / "kakoune" / "kak-lsp.toml").read_text())
    server = data["language_server"]["slm-lsp"]
    assert (
        server["command"] == "slm-lsp"
        and server["args"] == ["serve"]
        and server["settings_section"] == "slm"
    )
    _assert_server_keys(server["settings"]["slm"])
    assert "python" in server["filetypes"]


def test_kakoune_kakrc_snippet_holds_valid_toml() -> None:
    text = (CONFIGS / "kakoune" / "slm-lsp.kak").read_text()
    body = re.search(r"lsp_servers %\{\n(.*?)\n\s*\}\n", text, re.S)
    assert body, "no lsp_servers block"
    data = tomllib.loads("\n".join(line.strip() for line in body.group(1).splitlines()))
    assert data["slm-lsp"]["command"] == "slm-lsp"
    _assert_server_keys(data["slm-lsp"]["settings"]["slm"])


def test_sublime_lsp_settings() -> None:
    client = _jsonc(CONFIGS / "sublime" / "LSP.sublime-settings")["clients"]["slm-lsp"]
    assert client["command"] == ["slm-lsp", "serve"] and "source.python" in client["selector"]
    _assert_server_keys(client["initializationOptions"]["slm"])
    assert {k.removeprefix("slm.") for k in client["settings"]} <= SERVER_KEYS


def test_zed_settings_and_extension() -> None:
    lsp = _jsonc(CONFIGS / "zed" / "settings.json")["lsp"]["slm-lsp"]
    assert lsp["binary"]["arguments"] == ["serve"]
    _assert_server_keys(lsp["settings"]["slm"])
    _assert_server_keys(lsp["initialization_options"]["slm"])
    ext = tomllib.loads((CONFIGS / "zed" / "extension" / "extension.toml").read_text())
    assert (
        "slm-lsp" in ext["language_servers"]
        and "Python" in ext["language_servers"]["slm-lsp"]["languages"]
    )
    tomllib.loads((CONFIGS / "zed" / "extension" / "Cargo.toml").read_text())


def _read_sexps(text: str) -> int:
    """A small Emacs Lisp reader check: balanced parens outside strings, comments and ?x characters."""
    depth, top, i = 0, 0, 0
    while i < len(text):
        c = text[i]
        if c == ";":
            i = text.find("\n", i)
            i = len(text) if i < 0 else i
        elif c == '"':
            i += 1
            while text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif c == "?":
            i += 2 if text[i + 1] == "\\" else 1
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            assert depth >= 0, f"unbalanced ')' at offset {i}"
            top += depth == 0
        i += 1
    assert depth == 0, "unclosed '('"
    return top


@pytest.mark.parametrize("name", ["slm-lsp-eglot.el", "slm-lsp-mode.el"])
def test_emacs_lisp_reads(name: str) -> None:
    path = CONFIGS / "emacs" / name
    text = path.read_text()
    assert _read_sexps(text) >= 3
    assert f"(provide '{name.removesuffix('.el')})" in text
    # the plist keys under :slm are server settings (":max_tokens" → completion.max_tokens)
    for key in re.findall(r'"slm\.([a-z_.]+)"', text):
        assert key in SERVER_KEYS, key
    emacs = shutil.which("emacs")
    if emacs:
        form = f'(with-temp-buffer (insert-file-contents "{path}") (goto-char (point-min)) (condition-case nil (while t (read (current-buffer))) (end-of-file t)))'
        proc = subprocess.run(
            [emacs, "--batch", "-Q", "--eval", form], capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 0, proc.stderr


def test_every_editor_has_docs() -> None:
    doc = (REPO / "docs" / "editors.md").read_text()
    for editor in ("Neovim", "VS Code", "Helix", "Emacs", "Sublime Text", "Zed", "Kakoune"):
        assert f"## {editor}" in doc, editor
    for phrase in ("--log-file", "--show-prompt", ":LspLog"):
        assert phrase in doc
