"""Regenerate the extension's `contributes.configuration` from the server's settings schema.

Run from the repository root after changing `slm_lsp/config.py`:
    python editor-configs/vscode/scripts/sync_settings.py
`tests/e2e/editors/test_vscode.py` fails when package.json and the server's schema differ.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PACKAGE = HERE.parent / "package.json"
SECTION = "slm"

#: Settings VS Code may override per language (`"[python]": {"slm.completion.enabled": false}`);
#: the extension reads them for each document before asking the server.
LANGUAGE_OVERRIDABLE = {"completion.enabled"}


def contributed_properties(schema: dict[str, Any]) -> dict[str, Any]:
    """The `slm.*` properties VS Code shows, one per server setting, with the same type, default and enum."""
    props: dict[str, Any] = {}
    for key, entry in schema["properties"].items():
        item = {
            k: entry[k]
            for k in ("type", "default", "enum", "minimum", "maximum", "items")
            if k in entry
        }
        item["markdownDescription"] = entry.get("description", "")
        if key in LANGUAGE_OVERRIDABLE:
            item["scope"] = "language-overridable"
        elif key.startswith("model."):
            item["scope"] = "machine-overridable"
        props[f"{SECTION}.{key}"] = item
    return props


def main() -> int:
    sys.path.insert(0, str(HERE.parents[2]))
    from slm_lsp.config import json_schema

    package = json.loads(PACKAGE.read_text())
    configs = package["contributes"]["configuration"]
    server = next(c for c in configs if c.get("id") == "slm")
    server["properties"] = contributed_properties(json_schema())
    PACKAGE.write_text(json.dumps(package, indent=2, ensure_ascii=False) + "\n")
    print(f"{PACKAGE}: {len(server['properties'])} server settings")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
