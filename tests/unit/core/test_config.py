"""Settings: layering, validation with messages instead of crashes, the generated reference."""

from __future__ import annotations

from pathlib import Path

import pytest

from slm_lsp.config import (
    Settings,
    iter_settings,
    json_schema,
    load_toml,
    parse_overrides,
    reference_markdown,
)


def test_defaults_are_defined_once_and_documented() -> None:
    rows = iter_settings()
    assert len(rows) > 40
    for key, _t, _d, meta in rows:
        assert meta.get("doc"), f"{key} has no documentation"


def test_layers_apply_in_order_and_accept_camel_case_and_dots() -> None:
    s, errors = Settings.from_layers(
        {"completion": {"max_tokens": 10}},
        {"completion": {"maxTokens": 20}},
        {"completion.max_tokens": "30"},
    )
    assert errors == [] and s.completion.max_tokens == 30


@pytest.mark.parametrize(
    ("layer", "fragment"),
    [
        ({"completion": {"max_tokens": "many"}}, "must be an integer"),
        ({"completion": {"temperature": 9}}, "between 0.0 and 2.0"),
        ({"model": {"family": "gpt9"}}, "must be one of"),
        ({"nonsense": 1}, "unknown setting 'nonsense'"),
        ({"model": 3}, "must be a table"),
        ({"completion": {"enabled": "maybe"}}, "true or false"),
    ],
)
def test_invalid_values_keep_defaults_and_explain(layer: dict, fragment: str) -> None:
    s, errors = Settings.from_layers(layer)
    assert len(errors) == 1 and fragment in errors[0]
    assert s.completion.max_tokens == Settings().completion.max_tokens


def test_lists_from_strings() -> None:
    s, _ = Settings.from_layers({"completion.disabled_languages": "markdown, text"})
    assert s.completion.disabled_languages == ["markdown", "text"]


def test_toml_file(tmp_path: Path) -> None:
    good = tmp_path / "slm.toml"
    good.write_text('[model]\npath = "/m.gguf"\n[completion]\nmax_tokens = 12\n')
    s, errors = Settings.from_layers(load_toml(good))
    assert not errors and s.model.path == "/m.gguf" and s.completion.max_tokens == 12
    bad = tmp_path / "bad.toml"
    bad.write_text("[model\npath=")
    with pytest.raises(ValueError, match="invalid TOML"):
        load_toml(bad)
    with pytest.raises(ValueError, match="not found"):
        load_toml(tmp_path / "none.toml")


def test_overrides() -> None:
    assert parse_overrides(["a.b=1", "c=x=y"]) == {"a.b": "1", "c": "x=y"}
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_overrides(["novalue"])


def test_reference_and_schema_cover_every_setting() -> None:
    md = reference_markdown()
    schema = json_schema()["properties"]
    for key, *_ in iter_settings():
        assert f"`{key}`" in md
        assert key in schema


def test_docs_configuration_md_is_current() -> None:
    doc = Path(__file__).resolve().parents[3] / "docs" / "configuration.md"
    assert doc.read_text(encoding="utf-8") == reference_markdown(), (
        "run: python -m slm_lsp config --markdown > docs/configuration.md"
    )
