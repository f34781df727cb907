"""Fingerprints that survive lines moving, and the baseline file of accepted findings.

A finding's fingerprint hashes its rule id, its path, the text of the line it starts on with all
whitespace collapsed, and its occurrence index among the findings of that file with the same rule
and line text; never the line number. Adding or removing lines elsewhere, re-indenting, or moving a
block keeps every fingerprint; editing the flagged line itself makes a new finding.

Baseline file (JSON)::

    {"schema_version": 1, "tool": "slm-lsp",
     "findings": [{"fingerprint": "…", "rule_id": "PY-B602", "path": "app/run.py", "line": 12}, …]}

Only ``fingerprint`` is used to match; ``rule_id``, ``path`` and ``line`` (1-based, as it was when
written) are there for people reading the file.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

BASELINE_SCHEMA_VERSION = 1
#: Name of our fingerprint in SARIF ``partialFingerprints`` (the version changes if the recipe does).
FINGERPRINT_NAME = "slmLspFinding/v1"


def normalize(line: str) -> str:
    """The line with whitespace runs collapsed to one space and both ends stripped."""
    return " ".join(line.split())


def fingerprints(keys: list[tuple[str, str, str]]) -> list[str]:
    """Fingerprints for (rule id, path, line text) keys, given in the file's order (line, column)."""
    seen: dict[tuple[str, str, str], int] = {}
    out = []
    for rule_id, path, line in keys:
        key = (rule_id, path, normalize(line))
        k = seen.get(key, 0)
        seen[key] = k + 1
        digest = hashlib.sha256(
            "\0".join((*key, str(k))).encode("utf-8", "surrogatepass")
        ).hexdigest()
        out.append(digest[:32])
    return out


def load_baseline(path: str | Path) -> set[str]:
    """The fingerprints in a baseline file; raises ValueError with one line when it is missing or invalid."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"baseline file not found: {path}") from None
    except OSError as exc:
        raise ValueError(f"cannot read baseline file {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"baseline file {path} is not JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        raise ValueError(f"baseline file {path} has no 'findings' list")
    if data.get("schema_version", BASELINE_SCHEMA_VERSION) > BASELINE_SCHEMA_VERSION:
        raise ValueError(
            f"baseline file {path} has schema version {data.get('schema_version')}; this slm-lsp reads {BASELINE_SCHEMA_VERSION}"
        )
    return {
        str(f["fingerprint"])
        for f in data["findings"]
        if isinstance(f, dict) and "fingerprint" in f
    }


def baseline_document(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The baseline JSON for entries with fingerprint, rule_id, path and line (sorted, so it diffs well)."""
    rows = sorted(
        ({k: e[k] for k in ("fingerprint", "rule_id", "path", "line")} for e in entries),
        key=lambda e: (e["path"], e["line"], e["rule_id"], e["fingerprint"]),
    )
    return {"schema_version": BASELINE_SCHEMA_VERSION, "tool": "slm-lsp", "findings": rows}
