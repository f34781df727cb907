"""``--changed-since REV``: which files and lines changed between a git revision and the working tree.

Tracked files come from ``git diff --unified=0 REV`` (committed and uncommitted changes alike; the
new side's hunk headers give the changed lines; a rename counts under its new name); untracked
files that ``.gitignore`` does not hide count as changed everywhere. Deleted files and pure
deletions change no line that could hold a finding.
"""

from __future__ import annotations

import codecs
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

#: ``@@ -a[,b] +c[,d] @@``: the new side starts at line c (1-based) and spans d lines (1 when absent).
_HUNK = re.compile(rb"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


class GitError(Exception):
    """git is missing, the folder is no repository, or the revision is unknown (one line for the user)."""


@dataclass
class Changes:
    """Changed lines per file (paths relative to the repository root); ``None`` means the whole file."""

    files: dict[str, list[tuple[int, int]] | None] = field(default_factory=dict)

    def covers(self, rel: str, start_line: int, end_line: int) -> bool:
        """Whether 0-based lines ``start_line..end_line`` touch a changed line of ``rel``."""
        if rel not in self.files:
            return False
        ranges = self.files[rel]
        if ranges is None:
            return True
        return any(s <= end_line and start_line <= e for s, e in ranges)

    def hunks(self) -> list[tuple[str, int, int]]:
        """(path, first line, last line), 0-based and inclusive, for every changed hunk; whole files for new ones."""
        out: list[tuple[str, int, int]] = []
        for rel in sorted(self.files):
            ranges = self.files[rel]
            if ranges is None:
                out.append((rel, 0, -1))  # -1: to the end of the file
            else:
                out.extend((rel, s, e) for s, e in ranges)
        return out


def _git(root: Path, *args: str) -> bytes:
    try:
        proc = subprocess.run(
            ["git", "-c", "core.quotePath=false", *args], cwd=root, capture_output=True
        )
    except FileNotFoundError:
        raise GitError("--changed-since needs git, which is not installed") from None
    if proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(
            f"git {args[0]} failed: {msg[-1] if msg else 'exit status ' + str(proc.returncode)}"
        )
    return proc.stdout


def repo_root(path: Path) -> Path | None:
    """The top folder of the git work tree holding ``path``, or None."""
    try:
        proc = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], cwd=path, capture_output=True, text=True
        )
    except (FileNotFoundError, NotADirectoryError):
        return None
    if proc.returncode != 0:
        return None
    return Path(proc.stdout.strip())


def _unquote(raw: bytes) -> str:
    """A path as git prints it: C-quoted (``"a\\tb"``, octal UTF-8 bytes) when it holds odd characters."""
    if raw.startswith(b'"') and raw.endswith(b'"'):
        raw = codecs.escape_decode(raw[1:-1])[0]
    return raw.decode("utf-8", "surrogateescape")


def changes_since(root: Path, rev: str) -> Changes:
    """The changes in the work tree at ``root`` since ``rev``; raises GitError for an unknown revision."""
    if rev.startswith("-"):
        raise GitError(f"not a git revision: {rev!r}")
    try:
        _git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    except GitError:
        raise GitError(f"unknown git revision {rev!r}") from None
    out = Changes()
    diff = _git(
        root, "diff", "--unified=0", "--no-color", "--no-ext-diff", "--find-renames", rev, "--"
    )
    current: str | None = None
    for line in diff.split(b"\n"):
        if line.startswith(b"+++ "):
            target = line[4:].rstrip(b"\t")
            current = None if target == b"/dev/null" else _unquote(target)
            if current is not None:
                current = current[2:] if current.startswith("b/") else current
                out.files.setdefault(current, [])
        elif line.startswith(b"@@") and current is not None:
            m = _HUNK.match(line)
            if m:
                start, count = int(m.group(1)), int(m.group(2) if m.group(2) is not None else 1)
                if count > 0:
                    ranges = out.files[current]
                    assert ranges is not None
                    ranges.append((start - 1, start + count - 2))
    for name in _git(root, "ls-files", "--others", "--exclude-standard", "-z").split(b"\0"):
        if name:
            out.files[name.decode("utf-8", "surrogateescape")] = None
    return out
