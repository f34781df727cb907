"""JavaScript and TypeScript rules (also TSX): code evaluation, command and SQL injection, DOM XSS sinks,
weak randomness and hashes, TLS checks turned off, prototype pollution, open redirects.
"""

from __future__ import annotations

import re

from slm_lsp.security import names
from slm_lsp.security.core import Captures, FileContext, RuleSet, query_rule, text_of
from slm_lsp.security.model import Fix, Rule
from slm_lsp.security.rules.common import (
    SECRET_NAME_RE,
    cap,
    file_mentions,
    looks_sql,
    name_near,
    replace_fix,
    rule_factory,
)

LANGS = ("javascript", "typescript", "tsx")
RULES: list[Rule] = []
R = rule_factory(LANGS, RULES)

EVAL = R(
    "JS-S001",
    "eval",
    95,
    "high",
    "medium",
    "eval() runs a string as code.",
    "Parse data with JSON.parse; dispatch on names with a lookup table.",
    "eval(userInput)",
    "JSON.parse(userInput)",
)
NEWFN = R(
    "JS-S002",
    "new Function",
    95,
    "high",
    "medium",
    "new Function() compiles a string into code.",
    "Do not build functions from strings.",
    "new Function('a', body)",
    "(a) => a * 2",
)
TIMER = R(
    "JS-S003",
    "string timer callback",
    95,
    "medium",
    "high",
    "setTimeout/setInterval with a string evaluates it as code.",
    "Pass a function.",
    "setTimeout('tick()', 100)",
    "setTimeout(tick, 100)",
)
EXEC = R(
    "JS-S004",
    "child_process with a built command",
    78,
    "high",
    "medium",
    "child_process exec with a command built from variables: command injection.",
    "Use execFile/spawn with an argument array.",
    "exec(`ls ${dir}`)",
    "execFile('ls', [dir])",
)
SHELL = R(
    "JS-S005",
    "spawn with shell: true",
    78,
    "medium",
    "medium",
    "Spawning a process with shell: true lets arguments carry shell syntax.",
    "Leave shell off and pass arguments as an array.",
    "spawn(cmd, args, { shell: true })",
    "spawn(cmd, args)",
    True,
)
INNER = R(
    "JS-S006",
    "innerHTML / outerHTML assignment",
    79,
    "high",
    "medium",
    "Assigning HTML built from data to innerHTML/outerHTML is a DOM XSS sink.",
    "Use textContent, or sanitize with DOMPurify.",
    "el.innerHTML = name",
    "el.textContent = name",
    True,
)
WRITE = R(
    "JS-S007",
    "document.write / insertAdjacentHTML",
    79,
    "medium",
    "medium",
    "document.write/insertAdjacentHTML inserts HTML: a DOM XSS sink.",
    "Build nodes with createElement and textContent.",
    "document.write(html)",
    "el.append(document.createTextNode(text))",
)
RANDOM = R(
    "JS-S008",
    "Math.random for secrets",
    330,
    "medium",
    "medium",
    "Math.random() is predictable; do not use it for tokens, ids or secrets.",
    "Use crypto.randomBytes / crypto.getRandomValues / crypto.randomUUID.",
    "const token = Math.random().toString(36)",
    "const token = crypto.randomUUID()",
)
HASH = R(
    "JS-S009",
    "weak hash",
    328,
    "medium",
    "high",
    "MD5/SHA-1 are broken for security purposes.",
    "Use sha256 or better (and a password hash such as scrypt for passwords).",
    "crypto.createHash('md5')",
    "crypto.createHash('sha256')",
    True,
)
TLS = R(
    "JS-S010",
    "TLS certificate checks off",
    295,
    "high",
    "high",
    "rejectUnauthorized: false / NODE_TLS_REJECT_UNAUTHORIZED=0 accepts any certificate.",
    "Keep certificate validation on; add a CA with the ca option.",
    "https.request({ rejectUnauthorized: false })",
    "https.request({ ca: fs.readFileSync('ca.pem') })",
    True,
)
SQL = R(
    "JS-S011",
    "SQL built from strings",
    89,
    "high",
    "medium",
    "SQL built by concatenation or template interpolation: SQL injection.",
    "Use placeholders and pass values separately.",
    "db.query('SELECT * FROM u WHERE id = ' + id)",
    "db.query('SELECT * FROM u WHERE id = ?', [id])",
)
PROTO = R(
    "JS-S012",
    "prototype pollution in a merge",
    1321,
    "medium",
    "low",
    "Copying properties by a dynamic key without excluding __proto__/constructor allows prototype pollution.",
    "Skip '__proto__', 'constructor' and 'prototype' keys, or merge into Object.create(null).",
    "for (const k in src) dst[k] = src[k]",
    "for (const k of Object.keys(src)) if (!['__proto__','constructor','prototype'].includes(k)) dst[k] = src[k]",
)
REDIRECT = R(
    "JS-S013",
    "open redirect",
    601,
    "medium",
    "medium",
    "Redirecting to a URL taken from the request is an open redirect.",
    "Redirect to a fixed path or check the target against an allow-list.",
    "res.redirect(req.query.next)",
    "res.redirect(safeNext(req.query.next))",
)
SECRET = R(
    "JS-S014",
    "hard-coded secret",
    798,
    "low",
    "medium",
    "Possible hard-coded password or secret.",
    "Read secrets from the environment or a secret store.",
    "const apiKey = 'sk_live_123'",
    "const apiKey = process.env.API_KEY",
)
CIPHER = R(
    "JS-S015",
    "weak cipher",
    327,
    "high",
    "high",
    "DES/RC4/Blowfish or ECB mode is insecure.",
    "Use aes-256-gcm.",
    "crypto.createCipheriv('des-ede3', key, iv)",
    "crypto.createCipheriv('aes-256-gcm', key, iv)",
)
REACT = R(
    "JS-S016",
    "dangerouslySetInnerHTML",
    79,
    "medium",
    "medium",
    "dangerouslySetInnerHTML inserts raw HTML: an XSS sink.",
    "Render text as children, or sanitize with DOMPurify.",
    "<div dangerouslySetInnerHTML={{__html: bio}} />",
    "<div>{bio}</div>",
)

_CALLEE = "[(identifier) @f (member_expression property: (property_identifier) @f)]"


def _built(node) -> bool:
    if node is None:
        return False
    if node.type == "template_string":
        return any(c.type == "template_substitution" for c in node.named_children)
    return node.type == "binary_expression"


#: child_process functions that run a command line through a shell.
_SHELL_EXEC = {"child_process.exec", "child_process.execSync"}


def _process_callee(ctx: FileContext, call) -> bool:
    """``exec(...)`` or ``cp.exec(...)`` / ``child_process.execSync(...)``, not ``regex.exec(...)``.

    Names bound in the file decide (``names.toml``): ``run`` from ``import { exec as run }`` is
    child_process's, a function of the file named ``exec`` is not; a name the file does not bind
    falls back to its spelling."""
    fn = call.child_by_field_name("function")
    if fn is None:
        return True
    kind, qual = names.resolve(ctx, fn)
    if kind == "import":
        return qual in _SHELL_EXEC
    if kind == "shadow" or (kind == "local" and fn.type == "identifier"):
        return False
    if fn.type == "identifier":
        return text_of(fn) in ("exec", "execSync")
    obj = fn.child_by_field_name("object")
    prop = fn.child_by_field_name("property")
    return (
        obj is not None
        and text_of(prop) in ("exec", "execSync")
        and re.search(r"(?i)(child|^cp$|process|^proc$|shell)", text_of(obj)) is not None
    )


def _not_literal_rhs(ctx: FileContext, caps: Captures) -> bool:
    rhs = cap(caps, "rhs")
    return (
        rhs is not None
        and rhs.type not in ("string", "number")
        and not (rhs.type == "template_string" and not _built(rhs))
    )


def _inner_fix(ctx: FileContext, caps: Captures) -> Fix | None:
    p = cap(caps, "p")
    if p is None or text_of(p) != "innerHTML":
        return None
    return Fix("Assign textContent instead (text, not HTML)", (ctx.edit(p, "textContent"),))


def _secretish_random(ctx: FileContext, caps: Captures) -> bool:
    return bool(SECRET_NAME_RE.search(name_near(cap(caps, "hit"))))


_KEY_LISTS = ("Object.keys", "Object.getOwnPropertyNames", "Reflect.ownKeys", "Object.entries")


def _key_from_object(node, key: str) -> bool:
    """Whether ``key`` is an object's property name: the variable of a ``for (key in obj)`` loop, of a
    ``for (key of Object.keys(obj))`` loop, or the first parameter of ``Object.keys(obj).forEach``.
    A numeric index (``for (i = 0; …)``, ``arr.forEach((v, i) => …)``) copies array elements only."""
    cur = node.parent
    while cur is not None:
        if cur.type == "for_in_statement":
            left = cur.child_by_field_name("left")
            right = cur.child_by_field_name("right")
            op = cur.child_by_field_name("operator")
            names = {text_of(left)} | {text_of(c) for c in (left.named_children if left else [])}
            if key in names or f"[{key}" in text_of(left).replace(" ", ""):
                return (
                    op is None
                    or text_of(op) == "in"
                    or any(k in text_of(right) for k in _KEY_LISTS)
                )
        if cur.type in ("arrow_function", "function_expression", "function"):
            call = cur.parent.parent if cur.parent is not None else None
            if call is not None and call.type == "call_expression":
                callee = text_of(call.child_by_field_name("function"))
                params = cur.child_by_field_name("parameters") or cur.child_by_field_name(
                    "parameter"
                )
                plist = (
                    [params]
                    if params is not None and params.type == "identifier"
                    else [
                        c for c in (params.named_children if params else []) if c.type != "comment"
                    ]
                )
                if plist and text_of(plist[0]).split("=")[0].strip() == key:
                    return callee.endswith(".forEach") and any(k in callee for k in _KEY_LISTS)
            return False
        cur = cur.parent
    return False


def _merge_unguarded(ctx: FileContext, caps: Captures) -> bool:
    if text_of(cap(caps, "k")) != text_of(cap(caps, "k2")):
        return False
    node = cap(caps, "hit")
    fn = node
    while fn is not None and fn.type not in (
        "function_declaration",
        "function_expression",
        "arrow_function",
        "method_definition",
        "program",
    ):
        fn = fn.parent
    body = text_of(fn) if fn is not None else ""
    in_loop = _key_from_object(node, text_of(cap(caps, "k")))
    return (
        in_loop
        and "__proto__" not in body
        and "hasOwnProperty" not in body
        and "constructor" not in body
    )


def _shell_true_fix(ctx: FileContext, caps: Captures) -> Fix | None:
    v = cap(caps, "v")
    return Fix("Run without a shell", (ctx.edit(v, "false"),)) if v is not None else None


def _tls_fix(ctx: FileContext, caps: Captures) -> Fix | None:
    v = cap(caps, "v")
    return (
        Fix("Verify certificates (rejectUnauthorized: true)", (ctx.edit(v, "true"),))
        if v is not None and v.type == "false"
        else None
    )


PATTERNS = [
    query_rule(EVAL, '(call_expression function: (identifier) @f (#eq? @f "eval")) @hit'),
    query_rule(NEWFN, '(new_expression constructor: (identifier) @c (#eq? @c "Function")) @hit'),
    query_rule(
        TIMER,
        '(call_expression function: (identifier) @f arguments: (arguments . [(string) (template_string) (binary_expression)]) (#any-of? @f "setTimeout" "setInterval")) @hit',
    ),
    query_rule(
        EXEC,
        "(call_expression function: [(identifier) (member_expression)] arguments: (arguments . [(binary_expression) (template_string)] @arg)) @hit",
        when=lambda ctx, caps: (
            _built(cap(caps, "arg"))
            and b"child_process" in ctx.data
            and _process_callee(ctx, cap(caps, "hit"))
        ),
    ),
    query_rule(
        SHELL,
        '(pair key: (property_identifier) @k value: (true) @v (#eq? @k "shell")) @hit',
        when=file_mentions("child_process"),
        fix=_shell_true_fix,
    ),
    query_rule(
        INNER,
        '(assignment_expression left: (member_expression property: (property_identifier) @p) right: (_) @rhs (#any-of? @p "innerHTML" "outerHTML")) @hit',
        when=_not_literal_rhs,
        fix=_inner_fix,
    ),
    query_rule(
        WRITE,
        '(call_expression function: (member_expression object: (identifier) @o property: (property_identifier) @p) (#eq? @o "document") (#any-of? @p "write" "writeln")) @hit',
    ),
    query_rule(
        WRITE,
        '(call_expression function: (member_expression property: (property_identifier) @p) arguments: (arguments (_) . [(identifier) (binary_expression) (template_string) (member_expression)]) (#eq? @p "insertAdjacentHTML")) @hit',
    ),
    query_rule(
        RANDOM,
        '(call_expression function: (member_expression object: (identifier) @o property: (property_identifier) @p) (#eq? @o "Math") (#eq? @p "random")) @hit',
        when=_secretish_random,
    ),
    query_rule(
        HASH,
        '(call_expression function: (member_expression property: (property_identifier) @p) arguments: (arguments . (string) @alg) (#any-of? @p "createHash" "createHmac") (#match? @alg "^.(md5|md4|sha1|sha-1|ripemd160|MD5|SHA1).$")) @hit',
        fix=replace_fix("Use sha256", "alg", "'sha256'"),
    ),
    query_rule(
        TLS,
        '(pair key: [(property_identifier) (string)] @k value: [(false) (number)] @v (#match? @k "rejectUnauthorized")) @hit',
        when=lambda ctx, caps: text_of(cap(caps, "v")) in ("false", "0"),
        fix=_tls_fix,
    ),
    query_rule(
        TLS,
        '(assignment_expression left: (member_expression property: (property_identifier) @p) right: (_) @v (#eq? @p "NODE_TLS_REJECT_UNAUTHORIZED")) @hit',
        when=lambda ctx, caps: text_of(cap(caps, "v")).strip("'\"`") == "0",
    ),
    query_rule(
        SQL,
        f'(call_expression function: {_CALLEE} arguments: (arguments . [(binary_expression) (template_string)] @arg) (#any-of? @f "query" "execute" "raw" "run" "all" "prepare" "exec" "$queryRawUnsafe" "$executeRawUnsafe" "whereRaw")) @hit',
        when=lambda ctx, caps: _built(cap(caps, "arg")) and looks_sql(cap(caps, "arg")),
    ),
    query_rule(
        PROTO,
        "(assignment_expression left: (subscript_expression index: (identifier) @k) right: (subscript_expression index: (identifier) @k2)) @hit",
        when=_merge_unguarded,
    ),
    query_rule(
        REDIRECT,
        '(call_expression function: (member_expression property: (property_identifier) @p) arguments: (arguments . (_) @arg) (#eq? @p "redirect") (#match? @arg "^req(uest)?\\\\.(query|body|params|param|get)")) @hit',
    ),
    query_rule(
        SECRET,
        '(variable_declarator name: (identifier) @n value: (string) @v (#match? @n "(?i)(passw(or)?d|secret|api_?key|access_?token|auth_?token|private_?key)$")) @hit',
        when=lambda ctx, caps: len(text_of(cap(caps, "v"))) > 2,
    ),
    query_rule(
        CIPHER,
        '(call_expression function: (member_expression property: (property_identifier) @p) arguments: (arguments . (string) @alg) (#any-of? @p "createCipheriv" "createCipher" "createDecipheriv") (#match? @alg "(?i)(des|rc4|rc2|bf|blowfish|ecb)")) @hit',
    ),
]

JSX_PATTERNS = [
    query_rule(
        REACT, '(jsx_attribute (property_identifier) @a (#eq? @a "dangerouslySetInnerHTML")) @hit'
    ),
]

RULESETS = [RuleSet(LANGS, RULES, PATTERNS), RuleSet(("javascript", "tsx"), [], JSX_PATTERNS)]
