"""A scripted, seeded typing session: function bodies of real files typed out keystroke by keystroke.

``make_script(files, keystrokes, seed)`` picks one function per file whose body is a handful of
plain lines, removes the body from the document, and types it back: one character per keystroke,
a newline with its indentation as one keystroke (as an auto-indenting editor does), an inter-key
gap drawn from ``gap_ms`` and a longer "thinking" pause at the end of each line.
"""

from __future__ import annotations

import ast
import random
from dataclasses import dataclass, field
from pathlib import Path

#: Body lines a chosen function must have (fewer: nothing to type; more: the budget ends in one function).
BODY_LINES = (3, 14)


@dataclass
class Key:
    """One keystroke: insert ``text`` at (line, col); the cursor ends at ``after``; wait ``gap_ms`` first."""

    line: int
    col: int
    text: str
    after: tuple[int, int]
    gap_ms: float


@dataclass
class Session:
    """One file: the text opened in the editor and the keystrokes typed into it."""

    path: Path
    function: str
    opened: str
    keys: list[Key] = field(default_factory=list)


def _candidates(text: str) -> list[tuple[str, int, int]]:
    """(name, first body line, last body line) of functions with a short, plain body (0-based lines)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    lines = text.split("\n")
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or not node.body:
            continue
        body = node.body
        if isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) and len(body) > 1:
            body = body[1:]  # keep the docstring, type the code
        first, last = body[0].lineno - 1, (node.end_lineno or body[-1].lineno) - 1
        n = last - first + 1
        chunk = lines[first : last + 1]
        if not (BODY_LINES[0] <= n <= BODY_LINES[1]) or first <= node.lineno - 1:
            continue
        if any(not ln.isascii() or '"""' in ln or "'''" in ln or "\t" in ln for ln in chunk):
            continue
        if any(not ln.strip() for ln in chunk):
            continue
        out.append((node.name, first, last))
    return sorted(out, key=lambda c: c[1])


def make_session(path: Path, budget: int, rng: random.Random, gap_ms: tuple[float, float], pause_ms: tuple[float, float]) -> Session | None:
    """A session typing one function body of ``path`` (at most ``budget`` keystrokes)."""
    text = path.read_text(encoding="utf-8")
    cands = _candidates(text)
    if not cands:
        return None
    name, first, last = rng.choice(cands)
    lines = text.split("\n")
    body = lines[first : last + 1]
    # the editor shows the file with the body removed; the cursor sits at the end of the line above it
    opened_lines = lines[:first] + lines[last + 1 :]
    sess = Session(path=path, function=name, opened="\n".join(opened_lines))
    line, col = first - 1, len(lines[first - 1])
    for body_line in body:
        if len(sess.keys) >= budget:
            break
        indent = body_line[: len(body_line) - len(body_line.lstrip(" "))]
        gap = rng.uniform(*pause_ms) if sess.keys else rng.uniform(*gap_ms)
        sess.keys.append(Key(line, col, "\n" + indent, (line + 1, len(indent)), gap))
        line, col = line + 1, len(indent)
        for ch in body_line[len(indent) :]:
            if len(sess.keys) >= budget:
                break
            sess.keys.append(Key(line, col, ch, (line, col + 1), rng.uniform(*gap_ms)))
            col += 1
    return sess


def make_script(files: list[Path], keystrokes: int, seed: int = 0, gap_ms: tuple[float, float] = (80, 200), pause_ms: tuple[float, float] = (800, 1600)) -> list[Session]:
    """Sessions over ``files`` sharing ``keystrokes`` between them (seeded)."""
    rng = random.Random(seed)
    sessions = []
    per_file = max(1, keystrokes // max(1, len(files)))
    for p in files:
        s = make_session(p, per_file, rng, gap_ms, pause_ms)
        if s is not None and s.keys:
            sessions.append(s)
    return sessions


def apply(text: str, key: Key) -> str:
    """The document text after ``key``."""
    lines = text.split("\n")
    ln = lines[key.line]
    new = ln[: key.col] + key.text + ln[key.col :]
    lines[key.line : key.line + 1] = new.split("\n")
    return "\n".join(lines)
