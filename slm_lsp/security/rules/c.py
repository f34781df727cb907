"""C and C++ rules: unbounded copies and reads, shell commands, non-literal format strings, temp names."""

from __future__ import annotations

from slm_lsp.security.core import Captures, FileContext, RuleSet, query_rule, text_of
from slm_lsp.security.model import Fix, Rule
from slm_lsp.security.rules.common import array_declared, cap, rule_factory

LANGS = ("c", "cpp")
RULES: list[Rule] = []
R = rule_factory(LANGS, RULES)

GETS = R(
    "C-S001",
    "gets",
    242,
    "high",
    "high",
    "gets() cannot bound its input: a guaranteed buffer overflow.",
    "Use fgets(buf, sizeof buf, stdin).",
    "gets(buf);",
    "fgets(buf, sizeof buf, stdin);",
    True,
)
STRCPY = R(
    "C-S002",
    "strcpy",
    120,
    "high",
    "medium",
    "strcpy does not check the destination size (buffer overflow).",
    'Use snprintf(dst, sizeof dst, "%s", src) or strlcpy.',
    "strcpy(dst, src);",
    'snprintf(dst, sizeof dst, "%s", src);',
    True,
)
STRCAT = R(
    "C-S003",
    "strcat",
    120,
    "high",
    "medium",
    "strcat does not check the destination size (buffer overflow).",
    "Use strncat with the remaining space, or snprintf.",
    "strcat(dst, src);",
    "strncat(dst, src, sizeof dst - strlen(dst) - 1);",
    True,
)
SPRINTF = R(
    "C-S004",
    "sprintf",
    120,
    "high",
    "medium",
    "sprintf/vsprintf do not bound the output (buffer overflow).",
    "Use snprintf(buf, sizeof buf, ...).",
    'sprintf(buf, "%s", name);',
    'snprintf(buf, sizeof buf, "%s", name);',
    True,
)
SYSTEM = R(
    "C-S005",
    "system / popen",
    78,
    "high",
    "medium",
    "system()/popen() run a shell; a command built from data is injectable.",
    "Use execve/posix_spawn with an argument vector.",
    "system(cmd);",
    'execl("/bin/ls", "ls", dir, (char *)NULL);',
)
FORMAT = R(
    "C-S006",
    "non-literal format string",
    134,
    "high",
    "high",
    "A format string that is not a literal lets input read or write memory (%n).",
    'Pass the data as an argument: printf("%s", msg).',
    "printf(msg);",
    'printf("%s", msg);',
    True,
)
SCANF = R(
    "C-S007",
    "scanf %s without width",
    120,
    "high",
    "high",
    "scanf %s / %[ without a field width overflows the buffer.",
    'Give a width: scanf("%63s", buf).',
    'scanf("%s", buf);',
    'scanf("%63s", buf);',
)
TMPNAM = R(
    "C-S008",
    "insecure temp file name",
    377,
    "medium",
    "high",
    "tmpnam/tempnam/mktemp return a name another process can create first.",
    "Use mkstemp().",
    "tmpnam(name);",
    "int fd = mkstemp(tmpl);",
)

#: function → index of its format argument
_FORMAT_ARG = {
    "printf": 0,
    "vprintf": 0,
    "fprintf": 1,
    "vfprintf": 1,
    "dprintf": 1,
    "sprintf": 1,
    "vsprintf": 1,
    "snprintf": 2,
    "vsnprintf": 2,
    "syslog": 1,
    "wprintf": 0,
    "fwprintf": 1,
    "err": 1,
    "warn": 0,
    "warnx": 0,
    "errx": 1,
}


def _args(caps: Captures) -> list:
    al = cap(caps, "args")
    return [a for a in al.named_children if a.type != "comment"] if al is not None else []


def _is_literal(node) -> bool:
    return node is not None and node.type in (
        "string_literal",
        "concatenated_string",
        "raw_string_literal",
    )


def _array_fix(title: str, build) -> callable:
    def fix(ctx: FileContext, caps: Captures) -> Fix | None:
        args = _args(caps)
        if (
            len(args) < 2
            or args[0].type != "identifier"
            or not array_declared(ctx, text_of(args[0]))
        ):
            return None
        new = build(text_of(args[0]), [text_of(a) for a in args[1:]])
        return Fix(title, (ctx.edit(cap(caps, "hit"), new),)) if new else None

    return fix


def _gets_fix(ctx: FileContext, caps: Captures) -> Fix | None:
    args = _args(caps)
    if len(args) != 1 or args[0].type != "identifier" or not array_declared(ctx, text_of(args[0])):
        return None
    b = text_of(args[0])
    return Fix(
        "Use fgets with the buffer size",
        (ctx.edit(cap(caps, "hit"), f"fgets({b}, sizeof {b}, stdin)"),),
    )


def _format_nonliteral(ctx: FileContext, caps: Captures) -> bool:
    i = _FORMAT_ARG.get(text_of(cap(caps, "f")))
    args = _args(caps)
    if i is None or len(args) <= i:
        return False
    fmt = args[i]
    return (
        not _is_literal(fmt)
        and fmt.type
        in ("identifier", "field_expression", "subscript_expression", "pointer_expression")
        and len(args) == i + 1
    )


def _format_fix(ctx: FileContext, caps: Captures) -> Fix | None:
    i = _FORMAT_ARG.get(text_of(cap(caps, "f")))
    args = _args(caps)
    if i is None or len(args) != i + 1 or text_of(cap(caps, "f")).startswith("v"):
        return None
    return Fix(
        'Pass the data as an argument to "%s"',
        (ctx.edit_points(args[i].start_point, args[i].start_point, '"%s", '),),
    )


def _scanf_unbounded(ctx: FileContext, caps: Captures) -> bool:
    f = text_of(cap(caps, "f"))
    args = _args(caps)
    i = 0 if f == "scanf" else 1
    if len(args) <= i or not _is_literal(args[i]):
        return False
    import re

    return re.search(r"%(\*)?(l|h|ll)?[s\[]", text_of(args[i])) is not None


def _not_literal_command(ctx: FileContext, caps: Captures) -> bool:
    args = _args(caps)
    return bool(args) and not _is_literal(args[0])


def _call(names: str) -> str:
    quoted = " ".join(f'"{n}"' for n in names.split())
    return f"(call_expression function: (identifier) @f arguments: (argument_list) @args (#any-of? @f {quoted})) @hit"


PATTERNS = [
    query_rule(GETS, _call("gets _getws"), fix=_gets_fix),
    query_rule(
        STRCPY,
        _call("strcpy wcscpy stpcpy lstrcpy _mbscpy"),
        fix=_array_fix(
            "Use snprintf bounded by the destination",
            lambda d, rest: (
                f'snprintf({d}, sizeof {d}, "%s", {rest[0]})' if len(rest) == 1 else None
            ),
        ),
    ),
    query_rule(
        STRCAT,
        _call("strcat wcscat lstrcat _mbscat"),
        fix=_array_fix(
            "Use strncat bounded by the space left",
            lambda d, rest: (
                f"strncat({d}, {rest[0]}, sizeof {d} - strlen({d}) - 1)" if len(rest) == 1 else None
            ),
        ),
    ),
    query_rule(
        SPRINTF,
        _call("sprintf vsprintf swprintf"),
        fix=_array_fix(
            "Use snprintf bounded by the buffer",
            lambda d, rest: f"snprintf({d}, sizeof {d}, {', '.join(rest)})",
        ),
    ),
    query_rule(SYSTEM, _call("system popen _popen _wsystem"), when=_not_literal_command),
    query_rule(FORMAT, _call(" ".join(_FORMAT_ARG)), when=_format_nonliteral, fix=_format_fix),
    query_rule(SCANF, _call("scanf sscanf fscanf"), when=_scanf_unbounded),
    query_rule(TMPNAM, _call("tmpnam tempnam mktemp _mktemp tmpnam_r")),
]

#: C++ spells the same calls qualified (``std::strcpy``, ``::gets``): the C patterns with that alternative.
CPP_CALLEE = "function: [(identifier) @f (qualified_identifier name: (identifier) @f)]"

RULESET = RuleSet(
    LANGS,
    RULES,
    PATTERNS,
    variants={
        ("cpp", i): p.query.replace("function: (identifier) @f", CPP_CALLEE)
        for i, p in enumerate(PATTERNS)
    },
)
