"""Settings are layered in one place (``config.layer_settings``) and each declares what a change needs."""

from __future__ import annotations

import subprocess
import sys

from slm_lsp import config
from slm_lsp.config import ON_CHANGE_KINDS, Settings, changed_keys, iter_settings, layer_settings


def test_layers_apply_in_the_documented_order() -> None:
    key = "completion.max_tokens"
    layers = {
        "files": ({key: 10}, {key: 11}),
        "environ": {"SLM_LSP__COMPLETION__MAX_TOKENS": "12"},
        "editor": ({key: 13}, {key: 14}),
        "flags": {key: 15},
        "overrides": {key: "16"},
    }
    order = ["overrides", "flags", "editor", "environ", "files"]
    expected = [16, 15, 14, 12, 11]
    for i, name in enumerate(order):
        kept = {k: v for k, v in layers.items() if k not in order[:i]}
        settings, errors = layer_settings(**kept)  # type: ignore[arg-type]
        assert not errors
        assert settings.completion.max_tokens == expected[i], name
    assert layer_settings(environ={})[0] == Settings()


def test_environment_names_a_setting_with_double_underscores() -> None:
    env = {"SLM_LSP__MODEL__PATH": "/x.gguf", "SLM_LSP__LOG_LEVEL": "debug", "OTHER": "1"}
    assert config.environment_layer(env) == {"model.path": "/x.gguf", "log_level": "debug"}
    settings, errors = layer_settings(environ={"SLM_LSP__MODEL__N_CTX": "many"})
    assert errors == ["setting 'model.n_ctx' must be an integer, got 'many'"]
    assert settings.model.n_ctx == Settings().model.n_ctx


def test_the_command_line_reads_the_environment_too(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {**__import__("os").environ, "SLM_LSP__COMPLETION__MAX_TOKENS": "7"}
    out = subprocess.run(
        [sys.executable, "-m", "slm_lsp", "config", "--set", "context.max_snippets=3"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    data = __import__("json").loads(out)
    assert data["completion"]["max_tokens"] == 7 and data["context"]["max_snippets"] == 3


def test_every_setting_declares_what_a_change_needs() -> None:
    kinds = {key: config.on_change(key) for key, *_ in iter_settings()}
    assert set(kinds.values()) <= set(ON_CHANGE_KINDS)
    assert all(kinds[k] == "reload_model" for k in kinds if k.startswith("model."))
    assert all(kinds[k] == "restart_index" for k in kinds if k.startswith("index."))
    assert kinds["completion.max_tokens"] == "live" and kinds["log_level"] == "live"


def test_changed_keys_names_exactly_what_changed() -> None:
    a = Settings()
    b, _ = Settings.from_layers({"model.heal_tokens": 2, "index.exclude": ["x/"]})
    assert changed_keys(a, b) == ["model.heal_tokens", "index.exclude"]
    assert changed_keys(a, a.copy()) == []
