"""Fill-in-the-middle templates: load the family table, detect a model's family, build a ``Prompt``.

The templates are data (``families.toml``); this module only interprets them. A prompt is built as
parts so that the backend can tokenize file text with special tokens disabled and splice control
tokens in by id: text in a user's file can never become a control token.
"""

from __future__ import annotations

import string
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from slm_lsp.generation import FimInput, Part, Prompt, Snippet

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FAMILIES_FILE = Path(__file__).with_name("families.toml")
#: Control-token spellings of every family, defused in file text sent to a remote server as a string.
COMMON_CONTROL_TOKENS = (
    "<｜fim▁begin｜>",
    "<｜fim▁hole｜>",
    "<｜fim▁end｜>",
    "<｜end▁of▁sentence｜>",
    "<｜begin▁of▁sentence｜>",
    "<|fim_prefix|>",
    "<|fim_suffix|>",
    "<|fim_middle|>",
    "<|file_sep|>",
    "<|repo_name|>",
    "<|endoftext|>",
    "<fim_prefix>",
    "<fim_suffix>",
    "<fim_middle>",
    "<file_sep>",
    "<repo_name>",
    "<|EOT|>",
    "<|im_end|>",
)


@dataclass(frozen=True)
class Family:
    """One model family's FIM template."""

    name: str
    title: str
    specials: tuple[str, ...]
    detect: tuple[str, ...]
    fim_roles: dict[str, str]
    bos: bool
    layout: tuple[str, ...]
    file: tuple[str, ...]
    current_file: tuple[str, ...]
    context_header: tuple[str, ...]
    stop_tokens: tuple[str, ...]
    #: tokens healed when ``model.heal_tokens`` is -1 (its default): as deep as measured to pay off
    heal_tokens: int = 1

    @property
    def is_fim(self) -> bool:
        """Whether the template gives the model the text after the cursor."""
        return "$suffix" in self.layout

    @property
    def ends_in_text(self) -> bool:
        """Whether prompts end in file text (the model writes straight on from it: token healing applies)."""
        return self.layout[-1:] in (("$prefix",), ("$line_prefix",))


@lru_cache(maxsize=1)
def families() -> dict[str, Family]:
    """All families from ``families.toml``, by name."""
    data = tomllib.loads(FAMILIES_FILE.read_text(encoding="utf-8"))
    out: dict[str, Family] = {}
    for name, t in data["families"].items():
        out[name] = Family(
            name=name,
            title=t["title"],
            specials=tuple(t.get("specials", ())),
            detect=tuple(t.get("detect", ())),
            fim_roles=dict(t.get("fim_roles", {})),
            bos=bool(t.get("bos", True)),
            layout=tuple(t["layout"]),
            file=tuple(t.get("file", ())),
            current_file=tuple(t.get("current_file", ())),
            context_header=tuple(t.get("context_header", ())),
            stop_tokens=tuple(t.get("stop_tokens", ())),
            heal_tokens=int(t.get("heal_tokens", Family.heal_tokens)),
        )
    return out


TEMPLATE_KEY = "slm_lsp.fim_template"
"""GGUF metadata key by which a model names its family here (slm-lsp's own models write it)."""


@lru_cache(maxsize=1)
def detect_order() -> tuple[str, ...]:
    data = tomllib.loads(FAMILIES_FILE.read_text(encoding="utf-8"))
    return tuple(data["detect_order"])


def get_family(name: str) -> Family:
    """The family by name; raises KeyError naming the known ones."""
    table = families()
    if name not in table:
        raise KeyError(f"unknown model family {name!r}; known: {', '.join(sorted(table))}")
    return table[name]


def detect_family(has_special: Callable[[str], bool], fim_roles_present: Iterable[str] = ()) -> str:
    """Pick the family whose detection tokens the vocabulary holds as special tokens.

    ``has_special(text)`` tells whether ``text`` is one special token of the model.
    ``fim_roles_present`` are llama.cpp's detected FIM roles (``pre``, ``suf``, ``mid``...), used when
    a vocabulary spells the tokens differently (CodeLlama's ``▁<PRE>``). No match: ``prefix``.
    """
    table = families()
    roles = set(fim_roles_present)
    for name in detect_order():
        fam = table[name]
        if fam.detect and all(has_special(tok) for tok in fam.detect):
            return name
    if {"pre", "suf", "mid"} <= roles:
        # llama.cpp recognised FIM tokens we could not match by text (e.g. SentencePiece "▁<PRE>").
        return "codellama"
    return "prefix"


def _subst(item: str, values: dict[str, str]) -> str:
    return string.Template(item).safe_substitute(values)


def _emit(items: Sequence[str], fam: Family, values: dict[str, str], out: list[Part]) -> None:
    for item in items:
        if item in fam.specials:
            out.append(Part("special", item))
        else:
            text = _subst(item, values)
            if text:
                out.append(Part("text", text))


def split_line(prefix: str) -> tuple[str, str]:
    """``prefix`` cut at the start of the cursor's line: (text up to that line, the typed part of the line)."""
    cut = prefix.rfind("\n") + 1
    return prefix[:cut], prefix[cut:]


def build_prompt(
    family: Family,
    *,
    prefix: str,
    suffix: str,
    path: str = "",
    comment: str = "#",
    snippets: Sequence[Snippet] = (),
    repo: str = "",
) -> Prompt:
    """Lay the cursor's surroundings and the context snippets out as the family expects.

    Context files come first and in the order given (keep it stable between keystrokes so that the
    model's KV cache is reused); the current file's path header is added only when there is context,
    as in repository-level training data. A layout with ``$line_prefix`` puts the typed part of the
    cursor's line there (after the middle token, as llama.cpp's ``/infill`` does) and only the text
    up to the line's start in ``$prefix``: typing within a line then changes nothing before it.
    """
    values = {"path": path, "comment": comment, "repo": repo}
    parts: list[Part] = []
    head, line_text = split_line(prefix) if "$line_prefix" in family.layout else (prefix, "")
    volatile_at: int | None = None
    for item in family.layout:
        if item == "$prefix":
            if head:
                parts.append(Part("text", head))
        elif item == "$line_prefix":
            volatile_at = len(parts)
            if line_text:
                parts.append(Part("text", line_text))
        elif item == "$suffix":
            if suffix:
                parts.append(Part("text", suffix))
        elif item == "$context":
            if snippets:
                _emit(family.context_header, family, values, parts)
                for snip in snippets:
                    _emit(
                        family.file,
                        family,
                        {**values, "path": snip.path, "text": snip.text.rstrip("\n")},
                        parts,
                    )
        elif item == "$current_file":
            if snippets and path:
                _emit(family.current_file, family, values, parts)
        elif item in family.specials:
            parts.append(Part("special", item))
        else:
            text = _subst(item, values)
            if text:
                parts.append(Part("text", text))
    # Merge neighbouring text parts: fewer tokenizer calls, and tokens can merge across the seam.
    # The typed line is never merged into what precedes it: the parts before it are what stays
    # the same while the user types within the line (``Prompt.stable_parts``).
    merged: list[Part] = []
    stable_parts: int | None = None
    for i, part in enumerate(parts):
        if i == volatile_at:
            stable_parts = len(merged)
        if (
            merged
            and part.kind == "text"
            and merged[-1].kind == "text"
            and i != volatile_at
            and stable_parts != len(merged) - 1
        ):
            merged[-1] = Part("text", merged[-1].text + part.text)
        else:
            merged.append(part)
    if volatile_at is not None and stable_parts is None:
        stable_parts = len(merged)  # the line is empty so far: the whole prompt is stable
    return Prompt(
        parts=merged,
        family=family.name,
        add_bos=family.bos,
        fim=FimInput(prefix=prefix, suffix=suffix, path=path, snippets=tuple(snippets)),
        stop_tokens=family.stop_tokens,
        specials=tuple(dict.fromkeys(family.specials + family.stop_tokens + COMMON_CONTROL_TOKENS)),
        stable_parts=stable_parts,
    )
