"""TSX shares the TypeScript queries (``LanguageSpec.queries``); JSX in the file must not get in the way."""

from __future__ import annotations

from pathlib import Path

from slm_lsp import languages
from slm_lsp.config import IndexSettings
from slm_lsp.workspace.index import WorkspaceIndex

SOURCE = """import { useState } from "react";

export interface ButtonProps {
  label: string;
}

export function Button({ label }: ButtonProps) {
  const [count, setCount] = useState(0);
  return <button onClick={() => setCount(count + 1)}>{label} {count}</button>;
}

export class Panel {
  render() {
    return <div className="panel" />;
  }
}
"""


def test_tsx_uses_the_typescript_queries() -> None:
    assert languages.query_path("tsx", "symbols") == languages.query_path("typescript", "symbols")
    assert languages.load_query("tsx", "symbols") is not None


def test_tsx_symbols_on_their_lines(tmp_path: Path) -> None:
    (tmp_path / "button.tsx").write_text(SOURCE)
    index = WorkspaceIndex(tmp_path, IndexSettings(cache_dir=str(tmp_path / ".cache"), watch=False))
    index.load_or_build()
    found = {(s.name, s.kind, s.start_line) for s in index.file_symbols(tmp_path / "button.tsx")}
    assert ("ButtonProps", "interface", 2) in found
    assert ("Button", "function", 6) in found
    assert ("Panel", "class", 11) in found
    assert ("render", "method", 12) in found
