"""Which files a review checks: walks the given paths, honours ``.gitignore`` and ``review.exclude``,
and records every file of a checked language that it cannot check together with the reason.

A file is a *candidate* when its name (or, without a suffix, its ``#!`` line) names a language the
security engine has rules for. Candidates that are not regular files, are broken symlinks or are
larger than ``security.max_file_bytes`` are skipped here; unreadable and binary ones are found when
a worker reads them (``scan.check_one``). Paths named on the command line are always checked, even
when a ``.gitignore`` would hide them; folders are walked in sorted order, symlinked folders once.
"""

from __future__ import annotations

import os
import stat as stat_mod
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from slm_lsp import languages
from slm_lsp.workspace.crawl import ALWAYS_SKIP_DIRS as INDEX_SKIP_DIRS

#: Folders never descended into: the index's list (version control, caches, tool and secret folders) plus virtualenvs.
ALWAYS_SKIP_DIRS: frozenset[str] = INDEX_SKIP_DIRS | {".venv"}
#: Bytes read from a suffix-less file to look for a ``#!`` line.
SHEBANG_BYTES = 128


@dataclass(frozen=True, slots=True)
class Target:
    """A file to check: its absolute path, its path relative to the root (``/``-separated) and language."""

    path: str
    rel: str
    language: str
    size: int


@dataclass
class Collection:
    """What the crawl found: files to check, candidates skipped (rel, reason), and uncovered files."""

    targets: list[Target] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    #: files of a known language that has no rules yet, by language
    uncovered: dict[str, int] = field(default_factory=dict)
    #: files of a checked language that ``review.exclude`` left out (in excluded folders too)
    excluded: int = 0


def rel_path(path: str, root: str) -> str:
    """``path`` relative to ``root`` with ``/`` separators, or its absolute POSIX form when outside."""
    p = os.path.abspath(path)
    r = root.rstrip(os.sep)
    if p.startswith(r + os.sep):
        return p[len(r) + 1 :].replace(os.sep, "/")
    return Path(p).as_posix()


class Collector:
    """Walks paths under a root and sorts files into targets, skipped candidates and uncovered files."""

    def __init__(self, root: Path, exclude: list[str], covered: set[str], max_bytes: int) -> None:
        self.root = os.path.abspath(root)
        self.covered = covered
        self.max_bytes = max_bytes
        self._exclude = pathspec.GitIgnoreSpec.from_lines(exclude)
        self._gitignores: dict[str, pathspec.GitIgnoreSpec | None] = {}
        self._seen: set[str] = set()
        #: the folder ``review.exclude`` patterns are relative to (the root, or a named folder that is itself ignored)
        self._exclude_base = self.root

    # -------------------------------------------------------------------- ignore rules
    def _gitignore(self, full_dir: str) -> pathspec.GitIgnoreSpec | None:
        if full_dir not in self._gitignores:
            spec = None
            try:
                with open(
                    os.path.join(full_dir, ".gitignore"), encoding="utf-8", errors="replace"
                ) as fh:
                    spec = pathspec.GitIgnoreSpec.from_lines(fh.read().splitlines())
            except OSError:
                pass
            self._gitignores[full_dir] = spec
        return self._gitignores[full_dir]

    def _chain(self, full_dir: str) -> list[tuple[str, pathspec.GitIgnoreSpec]]:
        """The ``.gitignore`` files that apply inside ``full_dir``: from the root (or the folder itself) down."""
        dirs = [full_dir]
        if full_dir.startswith(self.root + os.sep):
            cur = full_dir
            while cur != self.root:
                cur = os.path.dirname(cur)
                dirs.append(cur)
        chain = []
        for d in reversed(dirs):
            spec = self._gitignore(d)
            if spec is not None:
                chain.append((d, spec))
        return chain

    def _ignored(
        self,
        full: str,
        is_dir: bool,
        chain: list[tuple[str, pathspec.GitIgnoreSpec]],
        out: Collection | None = None,
    ) -> bool:
        suffix = "/" if is_dir else ""
        if self._exclude.match_file(rel_path(full, self._exclude_base).lstrip("/") + suffix):
            if out is not None:
                out.excluded += self._count_excluded(full, is_dir)
            return True
        for base, spec in chain:
            if spec.match_file(os.path.relpath(full, base).replace(os.sep, "/") + suffix):
                return True
        return False

    def _count_excluded(self, full: str, is_dir: bool) -> int:
        """Files of a checked language at ``full`` (a file, or everything under a folder) that an
        exclude pattern leaves out: the report counts them, so that "0 skipped" is never a lie."""
        if not is_dir:
            spec = languages.detect(os.path.basename(full))
            return int(spec is not None and spec.name in self.covered)
        n = 0
        for _folder, dirs, files in os.walk(full):
            dirs[:] = [d for d in dirs if d not in ALWAYS_SKIP_DIRS]
            for name in files:
                spec = languages.detect(name)
                n += spec is not None and spec.name in self.covered
        return n

    # -------------------------------------------------------------------- language
    @staticmethod
    def _language(full: str, name: str, probe: bool) -> str | None:
        spec = languages.detect(name)
        if spec is None and probe and "." not in name:
            try:
                with open(full, "rb") as fh:
                    head = fh.read(SHEBANG_BYTES)
            except OSError:
                return None
            if head.startswith(b"#!"):
                spec = languages.detect(
                    None, None, head.split(b"\n", 1)[0].decode("utf-8", "replace")
                )
        return spec.name if spec else None

    # -------------------------------------------------------------------- collecting
    def collect(self, paths: list[Path]) -> Collection:
        out = Collection()
        for p in paths:
            full = os.path.abspath(p)
            if os.path.isdir(full):
                self._walk(full, out)
            else:
                self._file(full, os.path.basename(full), out, explicit=True)
        out.targets.sort(key=lambda t: t.rel)
        out.skipped.sort()
        return out

    def _file(self, full: str, name: str, out: Collection, explicit: bool = False) -> None:
        rel = rel_path(full, self.root)
        if rel in self._seen:
            return
        try:
            st = os.stat(full)
        except FileNotFoundError:
            if os.path.islink(full):
                lang = languages.detect(name)
                if explicit or (lang is not None and lang.name in self.covered):
                    self._seen.add(rel)
                    out.skipped.append((rel, "broken symlink"))
            return
        except OSError as exc:
            self._seen.add(rel)
            out.skipped.append((rel, f"unreadable: {exc.strerror or exc}"))
            return
        regular = stat_mod.S_ISREG(st.st_mode)
        language = self._language(full, name, probe=regular)
        if language is None:
            if explicit:
                self._seen.add(rel)
                out.skipped.append((rel, "unknown language"))
            return
        if language not in self.covered:
            out.uncovered[language] = out.uncovered.get(language, 0) + 1
            return
        self._seen.add(rel)
        if not regular:
            out.skipped.append((rel, "not a regular file"))
        elif st.st_size > self.max_bytes:
            out.skipped.append((rel, f"too large ({st.st_size} bytes, limit {self.max_bytes})"))
        else:
            out.targets.append(Target(full, rel, language, st.st_size))

    def _walk(self, top: str, out: Collection) -> None:
        try:
            st = os.stat(top)
        except OSError:
            return
        visited = {(st.st_dev, st.st_ino)}
        chain = self._chain(top)
        self._exclude_base = self.root
        if top != self.root and self._ignored(top, True, [(b, sp) for b, sp in chain if b != top]):
            # The folder was named although git ignores it: the rules above it do not apply (as in ripgrep).
            self._exclude_base = top
            own = self._gitignore(top)
            chain = [(top, own)] if own is not None else []
        stack = [(top, chain)]
        while stack:
            folder, chain = stack.pop()
            try:
                with os.scandir(folder) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError as exc:
                out.skipped.append(
                    (rel_path(folder, self.root) + "/", f"unreadable folder: {exc.strerror or exc}")
                )
                continue
            subdirs = []
            for entry in entries:
                try:
                    is_dir = entry.is_dir()  # follows symlinks; False for a broken one
                except OSError:
                    is_dir = False
                if is_dir:
                    if entry.name in ALWAYS_SKIP_DIRS or os.path.isfile(
                        os.path.join(entry.path, "pyvenv.cfg")
                    ):
                        continue
                    if self._ignored(entry.path, True, chain, out):
                        continue
                    try:
                        dst = entry.stat()
                    except OSError:
                        continue
                    key = (dst.st_dev, dst.st_ino)
                    if key in visited:
                        continue  # a symlink loop, or a folder reached twice
                    visited.add(key)
                    subdirs.append(entry.path)
                    continue
                if self._ignored(entry.path, False, chain, out):
                    continue
                self._file(entry.path, entry.name, out)
            for sub in reversed(subdirs):
                spec = self._gitignore(sub)
                stack.append((sub, [*chain, (sub, spec)] if spec is not None else chain))
