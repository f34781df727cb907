"""The interface every generation backend implements, and the values that cross it.

It sits at the bottom of the package (formerly ``engine/base.py``): prompt templates build its
``Prompt``, the backends in ``engine/`` implement its ``Engine``, and callers use both, without any
of them importing another's package.

A backend turns a ``Prompt`` (text from files plus named control tokens) into a ``Generation``.
It runs on one worker thread (``engine.worker``), never on the event loop; it must stop within one
token once ``cancel`` is set, and call ``on_text`` with each new piece of text as it is generated;
when ``on_text`` returns True the caller has all it needs and generation stops (``stop_reason="stop"``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

StopReason = Literal["eos", "length", "stop", "cancelled", "error"]


class EngineError(Exception):
    """A backend failure with a message fit to show the user (missing model, server down, ...)."""


@dataclass(frozen=True)
class Part:
    """One piece of a prompt: ``text`` from files (never read as control tokens) or a ``special`` token spelled as its text."""

    kind: Literal["text", "special"]
    text: str


@dataclass(frozen=True)
class Snippet:
    """A piece of another file put into the prompt as context, with why it was chosen."""

    path: str
    text: str
    reason: str = ""
    score: float = 0.0


@dataclass(frozen=True)
class FimInput:
    """The raw pieces of a fill-in-the-middle request, for backends with a native infill API."""

    prefix: str
    suffix: str
    path: str = ""
    snippets: tuple[Snippet, ...] = ()


@dataclass
class Prompt:
    """A prompt as parts; built by ``prompt.templates``, tokenized by the backend."""

    parts: list[Part]
    family: str
    add_bos: bool = True
    fim: FimInput | None = None
    stop_tokens: tuple[
        str, ...
    ] = ()  #: control tokens (by text) that end generation, besides the model's own
    stop_text: tuple[str, ...] = ()  #: plain-text stop sequences
    specials: tuple[
        str, ...
    ] = ()  #: every control-token spelling of the family (defused in file text)
    #: parts before the typed part of the cursor's line (layouts with ``$line_prefix``): they stay
    #: the same while the user types within the line. None: the layout has no such boundary.
    stable_parts: int | None = None

    def render(self, defuse: bool = False) -> str:
        """The prompt as one string, control tokens spelled out.

        ``defuse``: break control-token spellings inside file text (a zero-width space after their
        first character), so that a server tokenizing the string cannot read them as control tokens —
        what the in-process backend gets by tokenizing file text with special tokens disabled.
        """
        return "".join(
            defuse_text(p.text, self.specials) if defuse and p.kind == "text" else p.text
            for p in self.parts
        )


#: Inserted into control-token spellings found in file text sent as a string.
ZERO_WIDTH_SPACE = "\u200b"


def defuse_text(text: str, specials: tuple[str, ...]) -> str:
    """``text`` with every spelling in ``specials`` broken by a zero-width space."""
    for tok in specials:
        if tok and tok in text:
            text = text.replace(tok, tok[0] + ZERO_WIDTH_SPACE + tok[1:])
    return text


@dataclass(frozen=True)
class GenerationParams:
    """How to sample one generation."""

    max_tokens: int = 64
    temperature: float = 0.0
    top_p: float = 0.95
    seed: int = 0


@dataclass
class Generation:
    """The result of one generation and what it cost."""

    text: str = ""
    tokens: list[int] = field(
        default_factory=list
    )  #: generated token ids (empty for remote backends)
    prompt_tokens: list[int] = field(
        default_factory=list
    )  #: the ids sent to the model (local backends)
    n_prompt: int = 0  #: prompt length in tokens
    n_prompt_evaluated: int = (
        0  #: prompt tokens actually evaluated (the rest came from the KV cache)
    )
    prompt_ms: float = 0.0
    gen_ms: float = 0.0
    stop_reason: StopReason = "eos"

    @property
    def n_generated(self) -> int:
        return len(self.tokens)

    def timings(self) -> dict[str, float | int]:
        return {
            "prompt_tokens": self.n_prompt,
            "prompt_tokens_evaluated": self.n_prompt_evaluated,
            "prompt_ms": round(self.prompt_ms, 2),
            "generated_tokens": self.n_generated,
            "generation_ms": round(self.gen_ms, 2),
        }


@dataclass(frozen=True)
class ModelInfo:
    """What a loaded model is: shown by ``slm-lsp model info`` and used to pick the prompt template."""

    path: str
    backend: str
    family: str  #: the prompt template family in use
    architecture: str = ""
    name: str = ""
    n_ctx_train: int = 0
    n_ctx: int = 0
    n_vocab: int = 0
    bos_id: int | None = None
    eog_ids: tuple[int, ...] = ()
    fim_ids: dict[str, int] = field(
        default_factory=dict
    )  #: pre/suf/mid/pad/rep/sep → id, where present
    size_bytes: int = 0


class Engine(Protocol):
    """A loaded model that generates text. Not thread-safe: one worker thread calls it.

    Everything a caller uses is declared here; both backends (``engine.llama.LlamaEngine``,
    ``engine.openai.OpenAIEngine``) provide all of it, and ``tests/engine_conformance`` runs the same
    checks against each.
    """

    info: ModelInfo

    @property
    def family(self) -> Any:
        """The prompt template family in use, a ``prompt.templates.Family`` (typed loosely here:
        this module sits below ``prompt/``). Callers build prompts with it."""
        ...

    @property
    def prompt_tokens(self) -> Callable[[Prompt], list[int]] | None:
        """The token ids a prompt is sent as, where the backend tokenizes in process; None where the
        server tokenizes (count with ``count_tokens(prompt.render())`` then)."""
        ...

    def generate(
        self,
        prompt: Prompt,
        params: GenerationParams,
        cancel: threading.Event,
        on_text: Callable[[str], bool | None] | None = None,
    ) -> Generation:
        """Generate the continuation of ``prompt``; stop at end-of-generation, ``max_tokens`` or ``cancel``."""
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` costs (an estimate where the tokenizer is remote)."""
        ...

    def close(self) -> None:
        """Free the model."""
        ...
