"""PHP rules: command execution, eval-like constructs, SQL concatenation, unserialize, weak hashes, dynamic includes."""

from __future__ import annotations

from slm_lsp.security.core import Captures, FileContext, RuleSet, query_rule, text_of
from slm_lsp.security.model import Fix, Rule
from slm_lsp.security.rules.common import cap, looks_sql, rule_factory

LANGS = ("php",)
RULES: list[Rule] = []
R = rule_factory(LANGS, RULES)

CMD = R(
    "PHP-S001",
    "command execution",
    78,
    "high",
    "medium",
    "A shell command built from variables: command injection.",
    "Escape with escapeshellarg, or avoid the shell.",
    "system('ls ' . $dir);",
    "system('ls ' . escapeshellarg($dir));",
)
EVAL = R(
    "PHP-S002",
    "eval / assert / create_function",
    95,
    "high",
    "high",
    "eval-like constructs run strings as PHP code.",
    "Dispatch with a lookup table; never eval data.",
    "eval($code);",
    "$handlers[$name]();",
)
SQL = R(
    "PHP-S003",
    "SQL built from strings",
    89,
    "high",
    "medium",
    "SQL built by concatenation or interpolation: SQL injection.",
    "Use PDO prepared statements.",
    '$db->query("SELECT * FROM u WHERE id = " . $id);',
    '$st = $db->prepare("SELECT * FROM u WHERE id = ?"); $st->execute([$id]);',
)
UNSER = R(
    "PHP-S004",
    "unserialize",
    502,
    "high",
    "medium",
    "unserialize() of untrusted data allows object injection.",
    "Use json_decode, or pass ['allowed_classes' => false].",
    "unserialize($data);",
    "unserialize($data, ['allowed_classes' => false]);",
    True,
)
HASH = R(
    "PHP-S005",
    "weak hash",
    328,
    "medium",
    "medium",
    "md5()/sha1() are broken for security purposes.",
    "Use hash('sha256', ...) or password_hash for passwords.",
    "md5($password);",
    "hash('sha256', $data);",
    True,
)
INCLUDE = R(
    "PHP-S006",
    "dynamic include",
    98,
    "high",
    "medium",
    "include/require of a path built from request data allows file inclusion.",
    "Include from a fixed allow-list.",
    "include $_GET['page'];",
    "include __DIR__ . '/pages/home.php';",
)

_CMD_FUNCS = '"system" "exec" "shell_exec" "passthru" "popen" "proc_open" "pcntl_exec"'


def _dynamic_first(ctx: FileContext, caps: Captures) -> bool:
    al = cap(caps, "args")
    args = [a for a in al.named_children if a.type == "argument"] if al is not None else []
    if not args:
        return False
    first = args[0].named_children[0] if args[0].named_child_count else None
    if "escapeshellarg" in text_of(first) or "escapeshellcmd" in text_of(first):
        return False
    return (
        first is not None
        and first.type not in ("string",)
        and not (
            first.type == "encapsed_string"
            and not any(
                c.type in ("variable_name", "member_access_expression", "subscript_expression")
                for c in first.named_children
            )
        )
    )


def _sql_arg(ctx: FileContext, caps: Captures) -> bool:
    al = cap(caps, "args")
    for a in al.named_children if al is not None else []:
        v = a.named_children[0] if a.type == "argument" and a.named_child_count else None
        if v is None:
            continue
        built = v.type == "binary_expression" or (
            v.type == "encapsed_string"
            and any(
                c.type != "string_content" and c.type != "escape_sequence" for c in v.named_children
            )
        )
        if built and looks_sql(v):
            return True
    return False


def _unser_fix(ctx: FileContext, caps: Captures) -> Fix | None:
    al = cap(caps, "args")
    args = [a for a in al.named_children if a.type == "argument"] if al is not None else []
    if len(args) != 1:
        return None
    return Fix(
        "Forbid objects (allowed_classes => false)",
        (ctx.edit_points(args[0].end_point, args[0].end_point, ", ['allowed_classes' => false]"),),
    )


def _hash_fix(ctx: FileContext, caps: Captures) -> Fix | None:
    al = cap(caps, "args")
    args = [a for a in al.named_children if a.type == "argument"] if al is not None else []
    if len(args) != 1:
        return None
    return Fix(
        "Use hash('sha256', ...)",
        (ctx.edit(cap(caps, "hit"), f"hash('sha256', {text_of(args[0])})"),),
    )


def _assert_evaluates(caps: Captures) -> bool:
    """``assert`` evaluates its argument as code only when it is a string (PHP < 8): one built from
    data (``"$x == 1"``, ``'a' . $x``). A condition such as ``assert($a <= $b)`` is no eval."""
    al = cap(caps, "hit").child_by_field_name("arguments")
    args = [a for a in al.named_children if a.type == "argument"] if al is not None else []
    if not args or not args[0].named_child_count:
        return False
    first = args[0].named_children[0]
    if first.type == "encapsed_string":
        return any(
            c.type in ("variable_name", "member_access_expression", "subscript_expression")
            for c in first.named_children
        )
    if first.type == "binary_expression":
        op = first.child_by_field_name("operator")
        return op is not None and text_of(op) == "."
    return False


PATTERNS = [
    query_rule(
        CMD,
        f"(function_call_expression function: (name) @f arguments: (arguments) @args (#any-of? @f {_CMD_FUNCS})) @hit",
        when=_dynamic_first,
    ),
    query_rule(
        CMD,
        "(shell_command_expression [(variable_name) (member_access_expression) (subscript_expression)]) @hit",
    ),
    query_rule(
        EVAL,
        '(function_call_expression function: (name) @f (#any-of? @f "eval" "create_function" "assert")) @hit',
        when=lambda ctx, caps: text_of(cap(caps, "f")) != "assert" or _assert_evaluates(caps),
    ),
    query_rule(
        SQL,
        '(function_call_expression function: (name) @f arguments: (arguments) @args (#any-of? @f "mysql_query" "mysqli_query" "pg_query" "sqlite_query" "mysqli_multi_query" "db_query")) @hit',
        when=_sql_arg,
    ),
    query_rule(
        SQL,
        '(member_call_expression name: (name) @f arguments: (arguments) @args (#any-of? @f "query" "exec" "prepare" "execute" "multi_query" "real_query" "raw" "select" "statement" "unprepared")) @hit',
        when=_sql_arg,
    ),
    query_rule(
        UNSER,
        '(function_call_expression function: (name) @f arguments: (arguments) @args (#eq? @f "unserialize")) @hit',
        when=lambda ctx, caps: "allowed_classes" not in text_of(cap(caps, "args")),
        fix=_unser_fix,
    ),
    query_rule(
        HASH,
        '(function_call_expression function: (name) @f arguments: (arguments) @args (#any-of? @f "md5" "sha1" "md5_file" "sha1_file")) @hit',
        fix=lambda ctx, caps: (
            _hash_fix(ctx, caps) if text_of(cap(caps, "f")) in ("md5", "sha1") else None
        ),
    ),
    query_rule(
        INCLUDE,
        "[(include_expression) (include_once_expression) (require_expression) (require_once_expression)] @hit",
        when=lambda ctx, caps: (
            "$_" in text_of(cap(caps, "hit"))
            or "$" in text_of(cap(caps, "hit")).split("__DIR__")[0]
        ),
    ),
]

RULESET = RuleSet(LANGS, RULES, PATTERNS)
