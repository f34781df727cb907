"""``slm-lsp rules``: list the security rules (a table, or JSON with ``--json``), or with ``--matrix``
the coverage matrix of CWE classes × languages."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys


def add_subparser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``rules`` subcommand to the main CLI."""
    from slm_lsp.commandline import common_options

    p = subparsers.add_parser(
        "rules",
        parents=[common_options()],
        help="list the security rules",
        description="List the security rules: id, severity, CWE, languages and title.",
    )
    p.add_argument("--json", action="store_true", help="print every field of every rule as JSON")
    p.add_argument(
        "--language",
        metavar="LANG",
        help="only rules for this language (our name, e.g. python, javascript)",
    )
    p.add_argument(
        "--matrix",
        action="store_true",
        help="print the coverage matrix: CWE classes x languages, each cell a rule or why it does not apply",
    )
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Print the rules; rules switched off in the settings are marked (table) or flagged (JSON)."""
    from slm_lsp.security.engine import SecurityEngine

    settings = None
    try:
        from slm_lsp.commandline import load_settings

        settings = load_settings(args).security
    except ImportError:  # pragma: no cover - used without the main CLI
        pass
    if getattr(args, "language", None):
        from slm_lsp import languages
        from slm_lsp.commandline import CliError

        if languages.get(args.language) is None:
            known = ", ".join(spec.name for spec in languages.LANGUAGES)
            raise CliError(f"unknown language {args.language!r}; known: {known}")
    engine = SecurityEngine(settings)
    if getattr(args, "matrix", False):
        from slm_lsp.security import matrix

        if getattr(args, "json", False):
            json.dump(matrix.to_json(engine.rules()), sys.stdout, indent=2)
            sys.stdout.write("\n")
        else:
            print(matrix.render(engine.rules()))
        return 0
    disabled = {r.upper() for r in engine.settings.disabled_rules}
    rules = [
        r
        for r in engine.rules()
        if not getattr(args, "language", None) or args.language in r.languages
    ]
    if getattr(args, "json", False):
        out = [
            {
                **dataclasses.asdict(r),
                "languages": list(r.languages),
                "enabled": r.id.upper() not in disabled
                and (r.bandit or "").upper() not in disabled,
            }
            for r in rules
        ]
        json.dump(out, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    for r in rules:
        off = " (disabled)" if r.id.upper() in disabled else ""
        fix = " [fix]" if r.fixable else ""
        bandit = f" ~{r.bandit}" if r.bandit else ""
        print(
            f"{r.id:10} {r.severity:6} CWE-{r.cwe:<4} {','.join(r.languages):28} {r.title}{bandit}{fix}{off}"
        )
    print(f"{len(rules)} rules", file=sys.stderr)
    return 0
