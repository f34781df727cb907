"""Python rules, at parity with bandit's source checks (each rule records its bandit test id).

How it runs: one combined query captures imports and simple assignments (phase 0, facts), then
calls, keyword arguments, strings, ``except`` clauses, asserts and function defaults (phase 1).
Calls are dispatched through two tables: by qualified name after alias resolution
(``CALLS_BY_QUAL``) and by the called name alone (``CALLS_BY_NAME``), so the per-call cost is a
dict lookup. Simple checks are table rows (``BLACKLIST_CALLS``, ``BLACKLIST_IMPORTS``).

Layout: ``table`` holds the rule table, blacklists, shared constants and the dispatch registries;
the checks live by theme in ``blacklist``, ``injection``, ``crypto``, ``web``, ``frameworks`` and
``misc`` (matching the fixture files under ``tests/security/fixtures/python/``); this module wires
the tree-sitter patterns to them and builds the rule set.
"""

from __future__ import annotations

from slm_lsp.security.core import (
    FileContext,
    Pattern,
    RuleSet,
)
from slm_lsp.security.rules.python.blacklist import (
    on_import,
    on_import_from,
)
from slm_lsp.security.rules.python.crypto import (
    _bad_tls_keyword,
    on_cert_none,
    on_tls_default,
)
from slm_lsp.security.rules.python.frameworks import (
    on_django_debug,
)
from slm_lsp.security.rules.python.injection import (
    _other_shell_keyword,
    on_exec_stmt,
    on_sql_binop,
    on_sql_format,
    on_sql_fstring,
)
from slm_lsp.security.rules.python.misc import (
    bidi_check,
    on_assert,
    on_except,
    on_password_assign,
    on_password_compare,
    on_password_default,
    on_password_kwarg,
    on_password_pair,
    on_password_subscript,
    on_py2,
)
from slm_lsp.security.rules.python.table import (
    CALLS_BY_NAME,
    CALLS_BY_QUAL,
    LANGS,
    RULES,
)
from slm_lsp.security.rules.python.web import (
    on_bind_all,
    on_tmp,
)
from slm_lsp.security.rules.pyutil import (
    Call,
    collect_assignment,
    collect_import,
    collect_params,
    qualname,
)


# ====================================================================== pattern handlers
def on_call(ctx: FileContext, caps: dict) -> None:
    fn = caps["fn"][0]
    qual = qualname(ctx, fn)
    handlers = CALLS_BY_QUAL.get(qual)
    name = qual.rsplit(".", 1)[-1]
    by_name = CALLS_BY_NAME.get(name)
    if handlers is None and by_name is None:
        return
    call = Call(ctx, caps["call"][0], fn, qual)
    for h in handlers or ():
        h(ctx, call)
    for h in by_name or ():
        h(ctx, call)


PATTERNS: list[Pattern] = [
    Pattern("(import_statement) @imp", collect_import, phase=0),
    Pattern("(import_from_statement) @impfrom", collect_import, phase=0),
    Pattern("(assignment left: (identifier) @name right: (_) @value)", collect_assignment, phase=0),
    Pattern("(function_definition) @fndef", collect_params, phase=0),
    Pattern("[(print_statement) (exec_statement)] @py2", on_py2, phase=0),
    Pattern("(call function: (_) @fn) @call", on_call),
    Pattern("(import_statement) @imp", on_import),
    Pattern("(import_from_statement) @impfrom", on_import_from),
    Pattern("(assert_statement) @assert", on_assert),
    Pattern("(exec_statement) @exec", on_exec_stmt),
    Pattern("(except_clause) @except", on_except),
    Pattern('(keyword_argument name: (identifier) @k (#eq? @k "shell")) @kw', _other_shell_keyword),
    Pattern(
        '(keyword_argument name: (identifier) @k (#any-of? @k "ssl_version" "method")) @kw',
        _bad_tls_keyword,
    ),
    Pattern(
        '(keyword_argument name: (identifier) @k value: [(string) (concatenated_string)] (#match? @k "(?i)(pas|pwd|token|secret)")) @kw',
        on_password_kwarg,
    ),
    Pattern(
        '(assignment left: [(identifier) (attribute)] @target right: [(string) (concatenated_string)] @value (#match? @target "(?i)(pas|pwd|token|secret)"))',
        on_password_assign,
    ),
    Pattern(
        '(pair key: (string) @key value: [(string) (concatenated_string)] @value (#match? @key "(?i)(pas|pwd|token|secret)"))',
        on_password_pair,
    ),
    Pattern(
        '(assignment left: (subscript subscript: (string) @key) right: (string) @value (#match? @key "(?i)(pas|pwd|token|secret)"))',
        on_password_subscript,
    ),
    Pattern(
        '(comparison_operator [(identifier) (attribute)] @left (#match? @left "(?i)(pas|pwd|token|secret)")) @cmp',
        on_password_compare,
    ),
    Pattern(
        "[(default_parameter value: (string)) (typed_default_parameter value: (string))] @param",
        on_password_default,
    ),
    Pattern(
        '([(default_parameter value: [(attribute) (identifier)] @v) (typed_default_parameter value: [(attribute) (identifier)] @v)] @param (#match? @v "(SSL|TLS)v"))',
        on_tls_default,
    ),
    Pattern(
        '((string) @str (#match? @str "^[bBrRuU]*[\\"\']0\\\\.0\\\\.0\\\\.0[\\"\']$"))', on_bind_all
    ),
    Pattern('((string_content) @content (#match? @content "^(/tmp|/var/tmp|/dev/shm)"))', on_tmp),
    Pattern("(binary_operator [(string) (concatenated_string)]) @bin", on_sql_binop),
    Pattern(
        '(call function: (attribute object: [(string) (concatenated_string)] @str attribute: (identifier) @m) (#any-of? @m "format" "replace")) @call',
        on_sql_format,
    ),
    Pattern("(string (interpolation)) @fstr", on_sql_fstring),
    Pattern(
        '(assignment left: (_) @target right: (_) @value (#match? @target "(verify_mode|cert_reqs|check_hostname)$")) @hit',
        on_cert_none,
    ),
    Pattern(
        '(keyword_argument name: (identifier) @target value: (_) @value (#eq? @target "cert_reqs")) @hit',
        on_cert_none,
    ),
    Pattern(
        '(assignment left: (identifier) @n right: (true) @value (#eq? @n "DEBUG")) @hit',
        on_django_debug,
    ),
]

RULESET = RuleSet(LANGS, RULES, PATTERNS, [bidi_check])
