"""The VS Code extension: its settings are the server's settings (same keys, types, defaults, choices),
its commands are all contributed, and it type-checks (`npm ci`, `tsc --noEmit`) when npm is present."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from slm_lsp.config import json_schema

REPO = Path(__file__).resolve().parents[3]

EXT = REPO / "editor-configs" / "vscode"
PACKAGE = json.loads((EXT / "package.json").read_text())
CONFIGS = {c["id"]: c["properties"] for c in PACKAGE["contributes"]["configuration"]}


def _sync_module() -> Any:
    spec = importlib.util.spec_from_file_location(
        "sync_settings", EXT / "scripts" / "sync_settings.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_extension_setting_is_a_server_setting() -> None:
    server = json_schema()["properties"]
    for key, entry in CONFIGS["slm"].items():
        assert key.startswith("slm."), key
        name = key.removeprefix("slm.")
        assert name in server, f"{key} is not a server setting"
        want = server[name]
        assert entry["type"] == want["type"], key
        assert entry["default"] == want["default"], key
        assert entry.get("enum") == want.get("enum"), key
        assert entry.get("minimum") == want.get("minimum") and entry.get("maximum") == want.get(
            "maximum"
        ), key


def test_every_server_setting_is_offered() -> None:
    offered = {k.removeprefix("slm.") for k in CONFIGS["slm"]}
    missing = set(json_schema()["properties"]) - offered
    assert not missing, (
        f"run python editor-configs/vscode/scripts/sync_settings.py; missing: {sorted(missing)}"
    )


def test_package_json_is_what_the_sync_script_writes() -> None:
    assert CONFIGS["slm"] == _sync_module().contributed_properties(json_schema()), (
        "run python editor-configs/vscode/scripts/sync_settings.py"
    )


def test_extension_only_settings_stay_out_of_the_server_section() -> None:
    assert all(k.startswith("slm-lsp.") for k in CONFIGS["slm-lsp"])
    assert CONFIGS["slm-lsp"]["slm-lsp.server.command"]["default"] == ["slm-lsp", "serve"]


def test_commands_are_contributed_and_registered() -> None:
    source = (EXT / "src" / "extension.ts").read_text()
    registered = set(re.findall(r"registerCommand\('([^']+)'", source))
    contributed = {c["command"] for c in PACKAGE["contributes"]["commands"]}
    assert contributed == registered
    assert {"slm-lsp.toggle", "slm-lsp.reviewWorkspace"} <= contributed
    # the server's own command ids (slm.toggle...) are registered by vscode-languageclient: no clash
    assert not any(c.startswith("slm.") for c in contributed)
    assert "registerProposedFeatures()" in source, "inline completion needs the proposed features"


def test_lockfile_is_committed_and_pins_languageclient_9() -> None:
    lock = json.loads((EXT / "package-lock.json").read_text())
    version = lock["packages"]["node_modules/vscode-languageclient"]["version"]
    assert int(version.split(".")[0]) >= 9


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")
def test_extension_type_checks(tmp_path: Path) -> None:
    work = tmp_path / "vscode"
    shutil.copytree(EXT, work, ignore=shutil.ignore_patterns("node_modules", "out", "*.vsix"))
    ci = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert ci.returncode == 0, ci.stdout[-3000:] + ci.stderr[-3000:]
    tsc = subprocess.run(
        ["npm", "run", "typecheck"], cwd=work, capture_output=True, text=True, timeout=300
    )
    assert tsc.returncode == 0, tsc.stdout[-5000:] + tsc.stderr[-3000:]
