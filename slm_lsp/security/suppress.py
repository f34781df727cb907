"""Inline suppressions: bandit's ``# nosec`` and our ``slm-ignore`` comments, in each language's comment syntax.

Forms understood (``#`` below stands for the language's comment start: ``#``, ``//``, ``/*``, ``--``):

* ``# nosec`` — every finding on this line; ``# nosec B602, B607`` or ``# nosec: PY-B602`` — those rules only
  (bandit ids match a rule's ``bandit`` id, our ids match ``Rule.id``);
* ``# slm-ignore`` / ``# slm-ignore: ID, ID`` — the same, our spelling;
* ``# slm-ignore-next-line[: IDs]`` — on its own line, for the line below;
* ``# slm-ignore-file[: IDs]`` — anywhere in the file, for the whole file.

A finding is suppressed by a comment on any line of its range (bandit's behaviour for multi-line
statements). Words that are not rule ids (``# nosec -- reviewed by X``) make the comment a blanket one.
A malformed comment is never an error: it suppresses what it can be read to suppress, or nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

#: How a one-line or block comment starts, per language.
COMMENT_STARTS: dict[str, tuple[str, ...]] = {
    "python": ("#",),
    "ruby": ("#",),
    "bash": ("#",),
    "php": ("#", "//", "/*"),
}
_DEFAULT_STARTS = ("//", "/*")

_MARK = re.compile(
    r"(#|//|/\*|--)\s*(nosec|slm-ignore-next-line|slm-ignore-file|slm-ignore)\b(.*)", re.IGNORECASE
)
_ID = re.compile(r"^(?:B\d{3}|[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+)$", re.IGNORECASE)
#: Longest range (in lines) whose every line is searched for a suppression comment.
MAX_RANGE_LINES = 50


@dataclass(frozen=True)
class Suppression:
    """What one comment suppresses: ``ids`` empty means every rule."""

    kind: str  #: nosec / slm-ignore / slm-ignore-next-line / slm-ignore-file
    ids: frozenset[str]

    def covers(self, rule_id: str, bandit: str | None) -> bool:
        if not self.ids:
            return True
        return rule_id.upper() in self.ids or (bandit is not None and bandit.upper() in self.ids)


def parse_line(
    line: str, language: str, in_comment: Callable[[int], bool] | None = None
) -> list[Suppression]:
    """The suppressions written on one line (usually none); ``in_comment(col)`` rejects markers inside strings."""
    if "nosec" not in line and "slm-ignore" not in line and "NOSEC" not in line:
        return []
    starts = COMMENT_STARTS.get(language, _DEFAULT_STARTS)
    out: list[Suppression] = []
    pos = 0
    while True:
        m = _MARK.search(line, pos)
        if m is None:
            break
        pos = m.start() + 1
        if m.group(1) not in starts or (in_comment is not None and not in_comment(m.start())):
            continue
        rest = m.group(3).split("*/")[0]
        rest = rest.split("#")[0] if m.group(1) != "#" else rest
        tokens = [t for t in re.split(r"[\s,:;]+", rest.strip()) if t]
        ids = frozenset(t.upper() for t in tokens if _ID.match(t))
        out.append(Suppression(m.group(2).lower(), ids))
    return out


class Suppressions:
    """Suppression lookups for one document (lines parsed lazily)."""

    def __init__(
        self, text: str, language: str, in_comment: Callable[[int, int], bool] | None = None
    ) -> None:
        self._in_comment = in_comment
        self._text = text
        self._language = language
        self._lines: list[str] | None = None
        self._cache: dict[int, list[Suppression]] = {}
        self._file: list[Suppression] | None = None
        self.any_markers = self._any = "nosec" in text or "slm-ignore" in text or "NOSEC" in text

    def _line(self, n: int) -> list[Suppression]:
        if n not in self._cache:
            if self._lines is None:
                self._lines = self._text.split("\n")
            check = (lambda col: self._in_comment(n, col)) if self._in_comment is not None else None  # type: ignore[misc]
            self._cache[n] = (
                parse_line(self._lines[n], self._language, check)
                if 0 <= n < len(self._lines)
                else []
            )
        return self._cache[n]

    def _file_level(self) -> list[Suppression]:
        if self._file is None:
            self._file = []
            if "slm-ignore-file" in self._text:
                for line in self._text.split("\n"):
                    if "slm-ignore-file" in line:
                        self._file.extend(
                            s
                            for s in parse_line(line, self._language)
                            if s.kind == "slm-ignore-file"
                        )
        return self._file

    def suppressed(self, rule_id: str, bandit: str | None, start_line: int, end_line: int) -> bool:
        """Whether a finding of ``rule_id`` spanning these lines is suppressed."""
        if not self._any:
            return False
        for s in self._file_level():
            if s.covers(rule_id, bandit):
                return True
        last = min(end_line, start_line + MAX_RANGE_LINES)
        for n in range(start_line, last + 1):
            for s in self._line(n):
                if s.kind in ("nosec", "slm-ignore") and s.covers(rule_id, bandit):
                    return True
        for s in self._line(start_line - 1):
            if s.kind == "slm-ignore-next-line" and s.covers(rule_id, bandit):
                return True
        return False
