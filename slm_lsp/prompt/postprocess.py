"""Post-processing of raw model output into a suggestion: pure functions, no I/O, no model.

The pipeline (``clean``) decides single- vs multi-line from the cursor context (one line where
the code after the cursor is already written: the rest of the line, or the block going on below),
keeps the indentation right, stops at the end of the current block or statement, cuts where the
suggestion starts to repeat the code after the cursor, drops repeated lines, and balances brackets
the suggestion opened.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

OPEN = {"(": ")", "[": "]", "{": "}"}
CLOSE = {v: k for k, v in OPEN.items()}
#: Line endings after which a new indented block starts (Python ``:``, C-like ``{``, Ruby ``do``...).
BLOCK_OPENERS = (":", "{", "(", "[", " do", "=>", " then", "->")
#: A suggestion line this long (without whitespace) that equals any of the lines after the cursor is
#: taken as the model re-typing them; shorter ones (``pass``, ``}``, ``else:``) only when they are next.
MIN_REPEAT_CHARS = 10
#: Statements after which nothing more runs in their block: the next line may sit outside it.
TERMINATOR = re.compile(r"(return|break|continue|raise|throw|pass|exit|goto)\b")


@dataclass(frozen=True)
class CursorContext:
    """What surrounds the cursor, as far as post-processing needs to know."""

    line_prefix: str  #: text of the cursor's line before the cursor
    line_suffix: str  #: text of the cursor's line after the cursor
    next_lines: tuple[str, ...] = ()  #: a few lines after the cursor's line
    prev_lines: tuple[str, ...] = ()  #: a few lines before the cursor's line, nearest last
    indent_unit: str = "    "


def indentation(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def detect_indent_unit(lines: list[str]) -> str:
    """The file's indentation unit: a tab, or the smallest run of leading spaces seen."""
    widths = []
    for line in lines:
        ind = indentation(line)
        if not line.strip() or not ind:
            continue
        if ind.startswith("\t"):
            return "\t"
        widths.append(len(ind))
    return " " * min(widths) if widths else "    "


def wants_multiline(
    ctx: CursorContext, policy: str = "auto", *, written_block: bool = True
) -> bool:
    """Whether a multi-line suggestion fits here: never with code after the cursor on the line, and
    (``written_block``) not inside a block whose following lines are already written."""
    if policy == "always":
        return True
    if policy == "never":
        return False
    if ctx.line_suffix.strip(" \t)]}\"';,"):
        return False
    stripped = ctx.line_prefix.strip()
    if written_block and _block_goes_on(ctx):
        return False
    if not stripped:
        return True  # an empty or indentation-only line: a body or the next statements
    prev = ctx.line_prefix.rstrip()
    return prev.endswith(BLOCK_OPENERS)


def _block_goes_on(ctx: CursorContext) -> bool:
    """The next written line continues the cursor's block (as deep as the cursor on a blank line, or
    deeper than the line of a block opener): the missing code is one line, not a new block."""
    nxt = next((ln for ln in ctx.next_lines if ln.strip()), None)
    if nxt is None:
        return False
    depth = len(indentation(nxt).expandtabs(4))
    if not ctx.line_prefix.strip():
        return depth >= len(ctx.line_prefix.expandtabs(4)) and depth > 0
    if ctx.line_prefix.rstrip().endswith(BLOCK_OPENERS):
        return depth > len(indentation(ctx.line_prefix).expandtabs(4))
    return False


def _squash(line: str) -> str:
    """A line without any whitespace, for comparisons that ignore indentation and spacing."""
    return "".join(line.split())


def meets_following(lines: list[str], ctx: CursorContext) -> int | None:
    """Index of the first suggestion line (after the first) where the suggestion starts to repeat the
    code after the cursor, ignoring indentation, spacing and blank lines; None if it never does.

    A line repeats when it equals the next written line, when it is long enough
    (``MIN_REPEAT_CHARS``) and equals any later one, or when it is the suggestion's last line and
    the beginning of the next written line (a repetition cut short by the token limit).
    """
    following = [_squash(ln) for ln in (ctx.line_suffix, *ctx.next_lines) if ln.strip()]
    if not following:
        return None
    for i in range(1, len(lines)):
        s = _squash(lines[i])
        if not s:
            continue
        if s == following[0] or (len(s) >= MIN_REPEAT_CHARS and s in following):
            return i
        if i == len(lines) - 1 and len(s) >= 3 and following[0].startswith(s):
            return i
    return None


def _strip_suffix_overlap(text: str, line_suffix: str) -> str:
    """Drop the end of a one-line suggestion that repeats what follows the cursor (``foo(x)`` + ``)``)."""
    suffix = line_suffix.rstrip()
    if not suffix:
        return text
    if text.endswith(suffix):
        return text[: len(text) - len(suffix)]
    # the suggestion may end with only the start of the suffix, e.g. ")" of "):"
    for k in range(len(suffix), 0, -1):
        if text.endswith(suffix[:k]) and all(c in CLOSE or c in "\"';:," for c in suffix[:k]):
            return text[: len(text) - k]
    return text


def _balance(text: str, line_suffix: str) -> str:
    """Close brackets the suggestion opened and the rest of the line does not close."""
    stack: list[str] = []
    in_str: str | None = None
    for ch in text:
        if in_str:
            if ch == in_str:
                in_str = None
            continue
        if ch in "\"'`":
            in_str = ch
        elif ch in OPEN:
            stack.append(ch)
        elif ch in CLOSE and stack and stack[-1] == CLOSE[ch]:
            stack.pop()
    if not stack:
        return text
    available = list(line_suffix.lstrip())
    closers = ""
    for opener in reversed(stack):
        want = OPEN[opener]
        if available and available[0] == want:
            available.pop(0)
            continue
        closers += want
    return text + closers


def closed(text: str) -> bool:
    """Whether every bracket ``text`` opens (outside string literals) it also closes."""
    return _balance(text, "") == text


def _cut_block(
    lines: list[str], base_indent: str, first_is_partial: bool, max_lines: int
) -> list[str]:
    """Keep lines of the current block: stop at the first non-empty line indented less than the block."""
    out: list[str] = []
    depth = 0
    for i, line in enumerate(lines):
        if i >= max_lines:
            break
        if i > 0 and line.strip():
            ind = indentation(line)
            if len(ind.expandtabs(4)) < len(base_indent.expandtabs(4)):
                break
            if (
                depth <= 0
                and line.strip()[0] in CLOSE
                and len(ind.expandtabs(4)) < len(base_indent.expandtabs(4)) + 1
                and not first_is_partial
                and i > 0
                and base_indent == ""
            ):
                break
        for ch in line:
            if ch in OPEN:
                depth += 1
            elif ch in CLOSE:
                depth -= 1
        out.append(line)
        if depth < 0:
            break
    while out and not out[-1].strip():
        out.pop()
    return out


def _drop_repeats(lines: list[str], ctx: CursorContext, meet_following: bool = True) -> list[str]:
    """Stop at a line that repeats the previous one or re-types the code after the cursor
    (``meets_following``; without ``meet_following`` only a line equal to the next one, stripped)."""
    if meet_following:
        at = meets_following(lines, ctx)
        if at is not None:
            lines = lines[:at]
    out: list[str] = []
    following = [ln.strip() for ln in ctx.next_lines if ln.strip()]
    for i, line in enumerate(lines):
        s = line.strip()
        if s and out and s == out[-1].strip() and i > 0:
            break
        if i > 0 and s and following and s == following[0]:
            # the model is writing what is already below the cursor
            break
        out.append(line)
    while len(out) > 1 and not out[-1].strip():
        out.pop()
    return out


def clean(
    raw: str,
    ctx: CursorContext,
    *,
    multiline_policy: str = "auto",
    max_lines: int = 12,
    written_block: bool = True,
    meet_following: bool = True,
) -> str:
    """Turn raw model output into the text to insert at the cursor ('' when nothing useful is left).

    ``written_block`` and ``meet_following`` switch off the two cuts at the code after the cursor
    (``wants_multiline``, ``meets_following``), which is how ``bench quality`` measures them.
    """
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        return ""
    multiline = wants_multiline(ctx, multiline_policy, written_block=written_block)
    lines = text.split("\n")
    at_line_start = not ctx.line_prefix.strip()
    if at_line_start and not ctx.line_suffix.strip():
        lines = _to_cursor(lines, ctx.line_prefix)
    if ctx.indent_unit == "\t":
        lines = [_spaces_to_tabs(ln) for ln in lines]
    if not multiline and _ends_written_line(ctx, multiline_policy, lines):
        return _next_lines(lines, ctx, max_lines, written_block, meet_following)
    if not multiline:
        first = lines[0]
        if not first.strip() and len(lines) > 1 and at_line_start and not ctx.line_suffix.strip():
            first = ""
        lines = [first]
    else:
        base = ctx.line_prefix if at_line_start else indentation(ctx.line_prefix)
        if not at_line_start and ctx.line_prefix.rstrip().endswith(BLOCK_OPENERS):
            # a block starts: its body sits one unit deeper, and it ends where the indent drops back
            base = indentation(ctx.line_prefix) + ctx.indent_unit
        lines = [lines[0]] + [ln.rstrip() for ln in lines[1:]]
        lines = _cut_block(lines, base, not at_line_start, max_lines)
    lines = _drop_repeats(lines, ctx, meet_following)
    if not lines:
        return ""
    lines[-1] = lines[-1].rstrip() if len(lines) > 1 or not ctx.line_suffix else lines[-1]
    result = "\n".join(lines)
    if len(lines) == 1:
        result = _strip_suffix_overlap(result, ctx.line_suffix)
        result = _balance(result, ctx.line_suffix)
        if not ctx.line_suffix.strip():
            result = result.rstrip()
    return result if result.strip() else ""


def _ends_written_line(ctx: CursorContext, policy: str, lines: list[str]) -> bool:
    """The cursor ends a written line (a statement, not a block opener: those are multi-line
    anyway) and the model ended the line too: what it writes next is the next line."""
    return (
        policy != "never"
        and bool(ctx.line_prefix.strip())
        and not ctx.line_suffix.strip()
        and len(lines) > 1
        and not lines[0].strip()
    )


def _next_lines(
    lines: list[str], ctx: CursorContext, max_lines: int, written_block: bool, meet_following: bool
) -> str:
    """The suggestion after a written line: a newline, then the statements the model wrote next
    in the cursor's block (as editors show ghost text on the line below). One statement only
    where the block already goes on below (inserting between written lines); nothing when the
    model closes the block or re-types the line below."""
    rest = [ln.rstrip() for ln in lines[1:]]
    while rest and not rest[0].strip():
        rest = rest[1:]
    base = indentation(ctx.line_prefix)
    width = len(base.expandtabs(4))
    if not rest:
        return ""
    if len(indentation(rest[0]).expandtabs(4)) < width:
        if not TERMINATOR.match(ctx.line_prefix.strip()):
            return ""
        # after return/break/... nothing more runs in the block: the next line is outside it
        base = indentation(rest[0])
        width = len(base.expandtabs(4))
    rest = _cut_block(rest, base, False, max_lines)
    nxt = next((ln for ln in ctx.next_lines if ln.strip()), None)
    if written_block and nxt is not None and len(indentation(nxt).expandtabs(4)) >= width:
        rest = rest[:1]
    following = [_squash(ln) for ln in ctx.next_lines if ln.strip()]
    if rest and following and _squash(rest[0]) == following[0]:
        return ""  # the model is re-typing the line below
    rest = _drop_repeats(rest, ctx, meet_following)
    if not rest or not rest[0].strip():
        return ""
    return "\n" + "\n".join(rest)


def _to_cursor(lines: list[str], indent: str) -> list[str]:
    """Moves text meant for an indentation-only line to the cursor, which already stands at the indent.

    Models often first end the (blank) line, or write indentation of their own: a byte-level BPE
    tokenizer glues a space to the next word (`` self``), so a prompt that ends in indentation
    invites one more space. Leading blank lines are dropped; the first line's indentation is replaced
    by the cursor's; when the model started on a new line, the lines after it shift with it. A first
    line indented less than the cursor closes the block and is left for the block cut to drop.
    """
    original, width, skipped = lines, len(indent.expandtabs(4)), 0
    while len(lines) > 1 and not lines[0].strip():
        lines, skipped = lines[1:], skipped + 1
    own = indentation(lines[0])
    own_width = len(own.expandtabs(4))
    if not lines[0].strip() or (skipped and own_width < width):
        return original
    if not indent:  # column 0: the model's own indentation is all there is
        return lines
    out = [lines[0][len(own) :]]
    extra = own_width - width if skipped else 0
    for line in lines[1:]:
        ind = indentation(line)
        if extra > 0 and len(ind.expandtabs(4)) >= extra:
            line = " " * (len(ind.expandtabs(4)) - extra) + line[len(ind) :]
        out.append(line)
    return out


def _spaces_to_tabs(line: str, width: int = 4) -> str:
    ind = indentation(line)
    if "\t" in ind or not ind:
        return line
    return "\t" * (len(ind) // width) + " " * (len(ind) % width) + line[len(ind) :]


def is_final(
    raw: str,
    ctx: CursorContext,
    *,
    multiline_policy: str = "auto",
    max_lines: int = 12,
    written_block: bool = True,
    meet_following: bool = True,
) -> bool:
    """Whether more output can no longer change ``clean(raw)``: generation may stop here."""
    opts = {"written_block": written_block, "meet_following": meet_following}
    text = raw.replace("\r", "")
    if "\n" not in text:
        return False
    next_line = False
    if not wants_multiline(ctx, multiline_policy, written_block=written_block):
        next_line = _ends_written_line(ctx, multiline_policy, text.split("\n"))
        if not next_line:
            return bool(text.split("\n", 1)[0].strip()) or text.count("\n") > 1
    complete = text[: text.rfind("\n")]
    lines = complete.split("\n")
    n_complete = len(lines)
    if not ctx.line_prefix.strip() and not ctx.line_suffix.strip():
        while n_complete > 1 and not lines[len(lines) - n_complete].strip():
            n_complete -= 1  # leading blank lines that clean() drops (_to_cursor)
    if n_complete > max_lines + 1:
        return True
    kept = clean(complete, ctx, multiline_policy=multiline_policy, max_lines=max_lines, **opts)
    if next_line and not kept and any(ln.strip() for ln in lines[1:]):
        return True  # the model closed the block or re-typed the line below: nothing will come
    # a cut happened before the last complete line: later lines are dropped whatever they are
    return bool(kept) and kept.count("\n") + 1 < n_complete - 1
