"""Chat prompts for instruct work (code actions, review explanations) in the model's own chat template.

A GGUF file may carry its chat template (``tokenizer.chat_template``, Jinja2, as Hugging Face writes
it). ``chat_prompt`` renders it with the messages and returns a ``Prompt`` whose control tokens are
``special`` parts and whose message text is ``text`` parts, so that code in a message can never
be read as a control token. ``chat_template_of`` returns None for a model without a template (our
FIM model, most base models): callers then fall back to a plain prompt. ``reply_code`` takes the
code out of a reply. Pure apart from Jinja2; no model is loaded here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from slm_lsp.generation import Part, Prompt

#: Spellings that may be control tokens in a rendered template: ChatML and Phi-3 ``<|…|>``,
#: DeepSeek's full-width ``<｜…｜>``, Gemma's ``<start_of_turn>``, Mistral's ``[INST]``. Only those
#: the vocabulary holds as one control token become ``special`` parts.
CONTROL_SPELLING = re.compile(
    r"<\|[^<>|\s]{1,48}\|>|<｜[^<>]{1,48}｜>|<[a-z_]{2,32}>|</?s>|\[/?[A-Z_]{2,16}\]"
)
#: Marks where a message's content goes while the template is rendered (cannot occur in a template).
_SLOT = "\x00slm-message-{}\x00"
_FENCE = re.compile(r"```[^\n`]*\n(.*?)(?:```|\Z)", re.S)


def chat_template_of(engine: Any) -> str | None:
    """The chat template the engine's model file carries, or None (no template, or not a local model)."""
    llm = getattr(engine, "llm", None)
    meta = getattr(llm, "metadata", None) or {}
    template = meta.get("tokenizer.chat_template")
    return template if isinstance(template, str) and template.strip() else None


def render(template: str, messages: Sequence[dict[str, str]], bos: str = "", eos: str = "") -> str:
    """The template rendered as Hugging Face renders it, ready for the assistant's reply."""
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message: str) -> None:
        raise jinja2.TemplateError(message)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = raise_exception
    return env.from_string(template).render(
        messages=list(messages), add_generation_prompt=True, bos_token=bos, eos_token=eos
    )


def chat_prompt(
    template: str,
    messages: Sequence[dict[str, str]],
    *,
    family: str,
    is_control: Callable[[str], bool],
    bos: str = "",
    eos: str = "",
) -> Prompt:
    """``messages`` in ``template`` as a ``Prompt``: template text split into control tokens (those
    ``is_control`` accepts) and plain text; each message's content one ``text`` part."""
    slots = [dict(m, content=_SLOT.format(i)) for i, m in enumerate(messages)]
    rendered = render(template, slots, bos, eos)
    parts: list[Part] = []
    pieces = re.split("(\x00slm-message-\\d+\x00)", rendered)
    for piece in pieces:
        if not piece:
            continue
        m = re.fullmatch("\x00slm-message-(\\d+)\x00", piece)
        if m:
            parts.append(Part("text", messages[int(m.group(1))]["content"]))
            continue
        at = 0
        for tok in CONTROL_SPELLING.finditer(piece):
            if not is_control(tok.group()):
                continue
            if tok.start() > at:
                parts.append(Part("text", piece[at : tok.start()]))
            parts.append(Part("special", tok.group()))
            at = tok.end()
        if at < len(piece):
            parts.append(Part("text", piece[at:]))
    return Prompt(parts=parts, family=family, add_bos=False)


def engine_chat_prompt(engine: Any, messages: Sequence[dict[str, str]]) -> Prompt | None:
    """``chat_prompt`` for a loaded engine's model, or None when it has no chat template (or the
    template fails to render these messages, e.g. one that refuses a system message)."""
    template = chat_template_of(engine)
    special_id = getattr(engine, "special_id", None)
    if template is None or special_id is None:
        return None
    info = engine.info
    bos = _spelling(engine, info.bos_id)
    try:
        return chat_prompt(
            template,
            messages,
            family=info.family,
            is_control=lambda t: special_id(t) is not None,
            bos=bos,
        )
    except Exception:  # a template error: the caller's plain prompt is the fallback
        return None


def _spelling(engine: Any, token: int | None) -> str:
    """The text of a control token (BOS), for templates that write ``{{ bos_token }}``."""
    if token is None:
        return ""
    llm = getattr(engine, "llm", None)
    try:
        return llm.detokenize([token], special=True).decode("utf-8", errors="replace")
    except Exception:
        return ""


def reply_code(reply: str) -> str:
    """The code in a chat reply: the first fenced block, else the whole reply."""
    m = _FENCE.search(reply)
    return (m.group(1) if m else reply).strip("\n")


def reindent(code: str, indent: str) -> str:
    """``code`` with its common indentation replaced by ``indent``."""
    lines = code.split("\n")
    widths = [len(ln) - len(ln.lstrip()) for ln in lines if ln.strip()]
    cut = min(widths) if widths else 0
    return "\n".join(indent + ln[cut:] if ln.strip() else "" for ln in lines)
