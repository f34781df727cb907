"""What every subcommand shares, below every package that adds one: the common options, the
settings a command runs with, and ``CliError`` (one line on stderr, exit status 2).

``cli.py`` builds the parser and imports the packages' subcommands (``workspace.cli``,
``security.cli``, ``review``); they import this module, never ``cli.py``, so imports point one way.
"""

from __future__ import annotations

import argparse
from typing import Any

from slm_lsp.config import Settings, load_toml, parse_overrides


class CliError(Exception):
    """A user error: printed as one line, exit status 2."""


def common_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--config",
        metavar="FILE",
        help="TOML settings file (same keys as the editor's `slm` section)",
    )
    parent.add_argument(
        "--set",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        dest="overrides",
        help="override one setting, e.g. --set completion.max_tokens=32 (repeatable)",
    )
    parent.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        default=None,
        help="log to stderr at this level",
    )
    return parent


def load_settings(args: argparse.Namespace, extra: dict[str, Any] | None = None) -> Settings:
    """Defaults ← --config file ← extra (e.g. --model) ← --set; an invalid value is an error on the CLI."""
    layers: list[dict[str, Any]] = []
    if getattr(args, "config", None):
        try:
            layers.append(load_toml(args.config))
        except ValueError as exc:
            raise CliError(str(exc)) from None
    if extra:
        layers.append(extra)
    try:
        layers.append(parse_overrides(getattr(args, "overrides", []) or []))
    except ValueError as exc:
        raise CliError(str(exc)) from None
    settings, errors = Settings.from_layers(*layers)
    if errors:
        raise CliError("invalid settings: " + "; ".join(errors))
    return settings
