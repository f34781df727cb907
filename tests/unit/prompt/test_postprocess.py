"""Golden cases for post-processing: pure text in, text out."""

from __future__ import annotations

import pytest

from slm_lsp.prompt.postprocess import (
    CursorContext,
    clean,
    detect_indent_unit,
    is_final,
    wants_multiline,
)

CASES = [
    # (name, line_prefix, line_suffix, next_lines, raw, policy, expected)
    ("single line stops at newline", "x = compute(", "", (), "a, b)\nprint(x)\n", "auto", "a, b)"),
    ("trims what duplicates the suffix", "    x = foo(", ")", (), "a, b)", "auto", "a, b"),
    ("trims closing part of suffix", "if check(", "):", (), "value):", "auto", "value"),
    (
        "balances brackets it opened",
        "result = ",
        "",
        (),
        "max(len(a), len(b)",
        "auto",
        "max(len(a), len(b))",
    ),
    ("does not close what the suffix closes", "result = max(", ")", (), "len(a", "auto", "len(a"),
    (
        "block body after a colon",
        "def add(a, b):",
        "",
        ("",),
        "\n    return a + b\n\ndef other():\n    pass",
        "auto",
        "\n    return a + b",
    ),
    (
        "stops at dedent on an indented line",
        "    ",
        "",
        (),
        "y = 2\n    return y\nprint(3)",
        "auto",
        "y = 2\n    return y",
    ),
    ("repeated indentation removed", "    ", "", (), "    y = 2", "auto", "y = 2"),
    (
        "stops before re-typing the next line",
        "    ",
        "",
        ("    return y",),
        "y = 2\n    return y\n",
        "auto",
        "y = 2",
    ),
    (
        "a space glued to the first word goes",
        "        ",
        "",
        (),
        " self.close()",
        "auto",
        "self.close()",
    ),
    (
        "a model that first ends the blank line writes at the cursor",
        "        ",
        "",
        (),
        "\n        # start the tester\n        run()",
        "auto",
        "# start the tester\n        run()",
    ),
    (
        "deeper lines after a skipped newline shift with the first",
        "    ",
        "",
        (),
        "\n        x = 1\n        y = 2\n    z = 3",
        "auto",
        "x = 1\n    y = 2",
    ),
    (
        "a new line that closes the block is not pulled in",
        "        ",
        "",
        (),
        "\n\ndef other():\n    pass",
        "auto",
        "",
    ),
    (
        "at column 0 the model's indentation stays",
        "",
        "",
        (),
        "\n    return 1",
        "auto",
        "    return 1",
    ),
    ("drops repeated lines", "    ", "", (), "x += 1\n    x += 1\n    x += 1", "auto", "x += 1"),
    ("whitespace only is nothing", "a = ", "", (), "   \n  ", "auto", ""),
    (
        "after a written line, the next statements",
        "        i = 0",
        "",
        ("", "    def other(self):"),
        "\n        while i < n:\n            i += 1\n    def other(self):",
        "auto",
        "\n        while i < n:\n            i += 1",
    ),
    (
        "after a written line, one statement where the block goes on below",
        "    x = 1",
        "",
        ("    return x",),
        "\n    y = 2\n    z = 3",
        "auto",
        "\n    y = 2",
    ),
    (
        "after a written line, not the line below again",
        "    x = 1",
        "",
        ("    return x",),
        "\n    return x\n",
        "auto",
        "",
    ),
    (
        "after a written line, not a line that closes the block",
        "        i = 0",
        "",
        (),
        "\n    def other(self):\n        pass",
        "auto",
        "",
    ),
    ("after a written line, policy never", "x = 1", "", (), "\ny = 2", "never", ""),
    (
        "after a break, the next line outside the loop",
        "            break",
        "",
        (),
        "\n        print(tt)\n        return tt\n    def other(self):",
        "auto",
        "\n        print(tt)\n        return tt",
    ),
    ("policy never forces one line", "def f():", "", (), "\n    return 1", "never", ""),
    (
        "max lines",
        "    ",
        "",
        (),
        "a = 1\n    b = 2\n    c = 3\n    d = 4",
        "auto",
        "a = 1\n    b = 2",
    ),
    (
        "brace block stops at the enclosing close",
        "    ",
        "",
        (),
        "int y = 2;\n    return y;\n}\n\nint main() {",
        "auto",
        "int y = 2;\n    return y;",
    ),
]


@pytest.mark.parametrize(
    ("name", "prefix", "suffix", "nxt", "raw", "policy", "expected"),
    CASES,
    ids=[c[0] for c in CASES],
)
def test_golden(
    name: str, prefix: str, suffix: str, nxt: tuple[str, ...], raw: str, policy: str, expected: str
) -> None:
    ctx = CursorContext(line_prefix=prefix, line_suffix=suffix, next_lines=nxt)
    max_lines = 2 if name == "max lines" else 12
    assert clean(raw, ctx, multiline_policy=policy, max_lines=max_lines) == expected


def test_tabs_follow_the_file() -> None:
    ctx = CursorContext(line_prefix="if x:", line_suffix="", indent_unit="\t")
    assert clean("\n    y = 1\n    z = 2", ctx) == "\n\ty = 1\n\tz = 2"


@pytest.mark.parametrize(
    ("prefix", "suffix", "multi"),
    [
        ("", "", True),
        ("    ", "", True),
        ("def f():", "", True),
        ("x = f(", ")", True),
        ("x = f(", "a)", False),
        ("x = 1", "", False),
        ("for i in range(3):", "", True),
    ],
)
def test_wants_multiline(prefix: str, suffix: str, multi: bool) -> None:
    assert wants_multiline(CursorContext(prefix, suffix)) is multi


def test_detect_indent_unit() -> None:
    assert detect_indent_unit(["def f():", "  x = 1", "  if x:", "    y"]) == "  "
    assert detect_indent_unit(["int f() {", "\treturn 1;"]) == "\t"
    assert detect_indent_unit([]) == "    "


@pytest.mark.parametrize(
    ("prefix", "raw", "final"),
    [
        ("x = comp", "ute(a, b)", False),
        ("x = comp", "ute(a, b)\n", True),
        ("x = comp", "\n", False),
        ("def f():", "\n    return 1", False),
        ("def f():", "\n    return 1\n\ndef g():\n", True),
        ("    ", "a = 1\n    b = 2\n", False),
        ("        ", "\n\n        x = 1\n", False),  # blank lines the cursor skips are not a cut
        ("        ", "\n\n        x = 1\n        y = 2\n", False),
        ("        ", "\n        x = 1\n    z = 0\n    w = 1\n", True),
        ("    x = 1", "\n    y = 2\n", False),  # after a written line: the next lines come
        ("    x = 1", "\n    y = 2\n    z = 3\nw = 4\nv = 5\n", True),
        ("    x = 1", "\ndef g():\n", True),  # the model closed the block: nothing will come
    ],
)
def test_is_final_agrees_with_clean(prefix: str, raw: str, final: bool) -> None:
    from slm_lsp.prompt.postprocess import is_final

    ctx = CursorContext(prefix, "")
    assert is_final(raw, ctx) is final
    if final:  # more output cannot change the result
        assert clean(raw + "zzz = 9\n    yyy\n", ctx) == clean(raw, ctx)


# The case: the first line is the missing one, the rest re-types the lines below the cursor.
PAIRS = (
    "def pairs_sum_to_zero(l):\n    for i, l1 in enumerate(l):\n",
    ("            if l1 + l[j] == 0:", "                return True", "    return False"),
)
STOP_CASES = [
    # (name, line_prefix, next_lines, raw, written_block, meet_following, expected)
    (
        "one line where the block goes on below",
        "        ",
        PAIRS[1],
        "for j in range(i + 1, len(l)):\n            if l1 + l[j] == 0:\n                return True",
        True,
        False,
        "for j in range(i + 1, len(l)):",
    ),
    (
        "without the rule the block runs on (cut at the exact next line only)",
        "        ",
        ("        if l1 + l[j] == 0:",),
        "for j in range(i + 1, len(l)):\n        if l1 + l[j]==0:\n            return True",
        False,
        False,
        "for j in range(i + 1, len(l)):\n        if l1 + l[j]==0:\n            return True",
    ),
    (
        "repeats are found whatever their spacing and indentation",
        "        ",
        ("        if l1 + l[j] == 0:",),
        "for j in range(i + 1, len(l)):\n        if l1 + l[j]==0:\n            return True",
        False,
        True,
        "for j in range(i + 1, len(l)):",
    ),
    (
        "a long line equal to any later line is a repeat",
        "",
        ("", "total = compute_total(items)", "print(total)"),
        "items = load()\nitems.sort()\ntotal = compute_total(items)\nprint(total)",
        False,
        True,
        "items = load()\nitems.sort()",
    ),
    (
        "a short line is a repeat only when it is the next one",
        "",
        ("", "x = 1", "pass"),
        "y = 0\npass\nz = 2",
        False,
        True,
        "y = 0\npass\nz = 2",
    ),
    (
        "a repetition cut short by the token limit",
        "",
        ("", "result = transform(data)"),
        "data = read()\nresult = trans",
        False,
        True,
        "data = read()",
    ),
    (
        "a body after a colon is written when the block below is dedented",
        "    def close(self):",
        ("", "    def open(self):"),
        "\n        self.fd.close()\n        self.fd = None",
        True,
        True,
        "\n        self.fd.close()\n        self.fd = None",
    ),
    (
        "no body after a colon whose body is already there",
        "    if ready:",
        ("        start()",),
        "  # go\n        start()",
        True,
        True,
        "  # go",
    ),
]


@pytest.mark.parametrize(
    ("name", "prefix", "nxt", "raw", "written_block", "meet_following", "expected"),
    STOP_CASES,
    ids=[c[0] for c in STOP_CASES],
)
def test_stops_where_the_suggestion_meets_the_code_after_the_cursor(
    name: str,
    prefix: str,
    nxt: tuple[str, ...],
    raw: str,
    written_block: bool,
    meet_following: bool,
    expected: str,
) -> None:
    ctx = CursorContext(line_prefix=prefix, line_suffix="", next_lines=nxt)
    opts = {"written_block": written_block, "meet_following": meet_following}
    assert clean(raw, ctx, **opts) == expected
    # generation may stop as soon as the cut is certain
    if "\n" in raw and expected.count("\n") < raw.count("\n") - 1:
        assert is_final(raw + "\n", ctx, **opts)
