"""The values the completion pipeline passes around: a document, a plan, an outcome and its suggestions."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from slm_lsp.generation import Generation, Prompt, Snippet
from slm_lsp.prompt import postprocess


@dataclass(frozen=True)
class Document:
    """An immutable view of one document at one version."""

    uri: str
    path: str
    text: str
    language: str | None  #: our language name (``languages.py``), or None
    language_id: str = ""
    version: int | None = None


@dataclass
class Suggestion:
    text: str
    label: str = ""  #: set when the suggestion is shown despite a finding (secure_filter = label)
    findings: list[str] = field(default_factory=list)


@dataclass
class Plan:
    """Everything decided before the model runs."""

    doc: Document
    line: int
    col: int
    prefix: str
    suffix: str
    window: tuple[int, int]
    snippets: list[Snippet]
    cursor: postprocess.CursorContext
    multiline: bool
    max_tokens: int = 0  #: tokens to generate at most (0: ``completion.max_tokens``)


@dataclass
class Outcome:
    """A finished completion: what was asked, what came back, what is shown."""

    plan: Plan | None  #: None when the cache served it (nothing was planned)
    prompt: Prompt | None = None
    prompt_ids: list[int] = field(default_factory=list)
    generations: list[Generation] = field(default_factory=list)
    suggestions: list[Suggestion] = field(default_factory=list)
    dropped: list[tuple[str, str]] = field(default_factory=list)  #: (text, why)
    cached: bool = False
    cancelled: bool = False


def relative_path(path: str, root: str | None) -> str:
    """``path`` relative to the workspace root, for prompt headers (absolute paths leak usernames)."""
    if root:
        try:
            return str(Path(path).resolve().relative_to(Path(root).resolve()))
        except (ValueError, OSError):
            pass
    return Path(path).name
