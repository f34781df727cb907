"""Ruby rules: command execution with interpolation, eval, SQL interpolation, unsafe deserialization, weak hashes."""

from __future__ import annotations

from slm_lsp.security.core import Captures, FileContext, RuleSet, query_rule, text_of
from slm_lsp.security.model import Rule
from slm_lsp.security.rules.common import cap, replace_fix, rule_factory

LANGS = ("ruby",)
RULES: list[Rule] = []
R = rule_factory(LANGS, RULES)

CMD = R(
    "RB-S001",
    "command built from data",
    78,
    "high",
    "medium",
    "A shell command built with interpolation: command injection.",
    "Pass the program and arguments separately: system('ls', dir).",
    'system("ls #{dir}")',
    "system('ls', dir)",
)
EVAL = R(
    "RB-S002",
    "eval of dynamic code",
    95,
    "high",
    "medium",
    "eval/instance_eval/class_eval of a non-literal string runs arbitrary code.",
    "Use public_send with an allow-list, or blocks.",
    "eval(params[:code])",
    "HANDLERS.fetch(name).call",
)
SQL = R(
    "RB-S003",
    "SQL interpolation",
    89,
    "high",
    "medium",
    "SQL fragment built with interpolation: SQL injection.",
    "Use placeholders: where('name = ?', name).",
    "User.where(\"name = '#{name}'\")",
    "User.where(name: name)",
)
DESER = R(
    "RB-S004",
    "unsafe deserialization",
    502,
    "high",
    "medium",
    "Marshal.load / YAML.load of untrusted data can instantiate arbitrary objects.",
    "Use JSON, or YAML.safe_load.",
    "YAML.load(body)",
    "YAML.safe_load(body)",
    True,
)
HASH = R(
    "RB-S005",
    "weak hash",
    328,
    "medium",
    "high",
    "MD5/SHA-1 are broken for security purposes.",
    "Use Digest::SHA256.",
    "Digest::MD5.hexdigest(s)",
    "Digest::SHA256.hexdigest(s)",
    True,
)


def _interp(node) -> bool:
    return node is not None and any(c.type == "interpolation" for c in node.named_children)


def _first_arg_dynamic(ctx: FileContext, caps: Captures) -> bool:
    al = cap(caps, "args")
    if al is None or not al.named_children:
        return False
    first = al.named_children[0]
    return not (first.type == "string" and not _interp(first))


def _deser_fix(ctx: FileContext, caps: Captures):
    if text_of(cap(caps, "r")) in ("YAML", "Psych") and text_of(cap(caps, "m")) == "load":
        return replace_fix("Use YAML.safe_load", "m", "safe_load")(ctx, caps)
    return None


PATTERNS = [
    query_rule(
        CMD,
        '(call method: (identifier) @m arguments: (argument_list . (string (interpolation)) @s) (#any-of? @m "system" "exec" "spawn" "popen" "capture2" "capture2e" "capture3" "popen2" "popen3" "pipeline" "syscall")) @hit',
    ),
    query_rule(CMD, "(subshell (interpolation)) @hit"),
    query_rule(
        EVAL,
        '(call method: (identifier) @m arguments: (argument_list) @args (#any-of? @m "eval" "instance_eval" "class_eval" "module_eval")) @hit',
        when=_first_arg_dynamic,
    ),
    query_rule(
        SQL,
        '(call method: (identifier) @m arguments: (argument_list . (string (interpolation)) @s) (#any-of? @m "where" "find_by_sql" "execute" "exec_query" "select_all" "select_value" "order" "group" "having" "joins" "from" "pluck" "query" "not" "count_by_sql" "delete_all" "update_all")) @hit',
    ),
    query_rule(
        DESER,
        '(call receiver: (constant) @r method: (identifier) @m (#any-of? @r "Marshal" "YAML" "Psych") (#any-of? @m "load" "restore" "unsafe_load" "load_stream")) @hit',
        fix=_deser_fix,
    ),
    query_rule(
        HASH,
        '(scope_resolution scope: [(constant) (scope_resolution)] @s name: (constant) @n (#match? @s "Digest$") (#any-of? @n "MD5" "SHA1")) @hit',
        fix=replace_fix("Use SHA256", "n", "SHA256"),
    ),
]

RULESET = RuleSet(LANGS, RULES, PATTERNS)
