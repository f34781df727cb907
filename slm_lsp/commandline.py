"""What every subcommand shares, below every package that adds one: the common options, the
settings a command runs with, the check of the paths it is given, and ``CliError`` (one line on
stderr, exit status 2).

``cli.py`` builds the parser and imports the packages' subcommands (``workspace.cli``,
``security.cli``, ``review``); they import this module, never ``cli.py``, so imports point one way.
"""

from __future__ import annotations

import argparse
import errno
import os
import stat
from pathlib import Path
from typing import Any

from slm_lsp.config import Settings, layer_settings, load_toml, parse_overrides


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
    """The command's settings (``config.layer_settings``: defaults ← --config file ← environment ←
    ``extra``, the command's own flags such as --model ← --set); an invalid value is an error here."""
    try:
        file_layer = load_toml(args.config) if getattr(args, "config", None) else None
        overrides = parse_overrides(getattr(args, "overrides", []) or [])
    except ValueError as exc:
        raise CliError(str(exc)) from None
    settings, errors = layer_settings(files=(file_layer,), flags=extra, overrides=overrides)
    if errors:
        raise CliError("invalid settings: " + "; ".join(errors))
    return settings


#: Attributes of a parsed command line that name paths to read (``FILE:LINE:COL`` is checked by
#: ``complete`` itself); each is checked by ``check_path`` before the command runs.
PATH_ARGUMENTS = ("path", "paths", "root", "model", "config", "baseline")
_SPECIAL = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def check_path(path: str | os.PathLike[str], what: str = "", want: str = "any") -> Path:
    """A path the user named, checked before anything opens it: a symbolic-link loop, a FIFO, a
    device or a socket is a ``CliError`` (reading a FIFO would block, a loop would end in a
    traceback). ``want`` = ``file`` or ``dir`` also asks for that kind. A missing or unreadable path
    passes: the command says so in its own words."""
    p = Path(path)
    label = f"{what} {path}" if what else str(path)
    try:
        mode = os.stat(p).st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise CliError(f"{label}: a loop of symbolic links") from None
        return p
    for test, kind in _SPECIAL:
        if test(mode):
            raise CliError(f"{label} is {kind}, not a file or folder")
    if want == "file" and not stat.S_ISREG(mode):
        raise CliError(f"{label} is not a file")
    if want == "dir" and not stat.S_ISDIR(mode):
        raise CliError(f"{label} is not a folder")
    return p


def check_path_arguments(args: argparse.Namespace) -> None:
    """``check_path`` on every path argument of a parsed command line (``PATH_ARGUMENTS``)."""
    for name in PATH_ARGUMENTS:
        value = getattr(args, name, None)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, (str, os.PathLike)) and str(item):
                check_path(
                    item, f"--{name}" if name in ("root", "model", "config", "baseline") else ""
                )
