"""Every setting, changed through workspace/didChangeConfiguration, takes effect as it declares:
the model loads again, the index is rebuilt, or the live parts read the new value."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from slm_lsp.config import iter_settings, on_change

from .conftest import start, wait_ready

#: Changed last: switching these off (or to a backend with no server) makes later changes moot.
LAST = (
    "completion.enabled",
    "context.enabled",
    "security.enabled",
    "index.enabled",
    "model.backend",
)


def new_value(
    key: str, tname: str, default: Any, meta: dict[str, Any], paths: dict[str, str]
) -> Any:
    """A valid value other than the default."""
    if key in paths:
        return paths[key]
    if meta.get("choices"):
        return next(c for c in meta["choices"] if c != default)
    if tname == "bool":
        return not default
    if tname == "list[str]":
        return ["changed-*.py"]
    if tname == "str":
        return {"model.endpoint": "http://127.0.0.1:9", "model.api_key_env": "SLM_TEST_KEY"}.get(
            key, "changed"
        )
    lo, hi = meta.get("minimum"), meta.get("maximum")
    step = 1 if tname == "int" else 0.5
    value = default + step
    if hi is not None and value > hi:
        value = default - step if tname == "int" else (default + (lo or 0)) / 2
    return value


def flat(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in data.items():
        out.update(flat(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": v})
    return out


async def status(client: LanguageClient) -> dict[str, Any]:
    return await client.workspace_execute_command_async(
        lsp.ExecuteCommandParams(command="slm.status")
    )


@pytest.mark.slow
async def test_every_setting_takes_effect(
    client: LanguageClient, tiny_model_path: Path, eos_model_path: Path, tmp_path: Path
) -> None:
    root: Path = client.root  # type: ignore[attr-defined]
    (root / "a.py").write_text("def f():\n    return 1\n", encoding="utf-8")
    await start(
        client,
        root,
        {"model": {"path": str(tiny_model_path)}, "index": {"cacheDir": str(tmp_path / "c1")}},
    )
    assert (await wait_ready(client))["model_state"] == "ready"
    paths = {"model.path": str(eos_model_path), "index.cache_dir": str(tmp_path / "c2")}
    rows = sorted(iter_settings(), key=lambda row: row[0] in LAST)
    layer: dict[str, Any] = {}
    for key, tname, default, meta in rows:
        before = await status(client)
        value = new_value(key, tname, default, meta, paths)
        assert value != flat(before["settings"])[key], key
        layer[key] = value
        client.workspace_did_change_configuration(
            lsp.DidChangeConfigurationParams(settings={"slm": dict(layer)})
        )
        for _ in range(200):
            after = await status(client)
            if flat(after["settings"])[key] == value:
                break
            await asyncio.sleep(0.02)
        else:
            pytest.fail(f"{key}: still {flat(after['settings'])[key]!r}, sent {value!r}")
        kind = on_change(key)
        loads = after["model_starts"] - before["model_starts"]
        builds = after["index_starts"] - before["index_starts"]
        assert loads == (kind == "reload_model"), f"{key} ({kind}): model started {loads} times"
        assert builds == (kind == "restart_index"), f"{key} ({kind}): index started {builds} times"
        assert after["live_settings_current"], key
    assert not [m.message for m in client.messages if "invalid settings" in m.message]
