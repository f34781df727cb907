"""Go rules: shell commands, math/rand for secrets, TLS verification off, weak hashes and ciphers,
SQL built with fmt.Sprintf or concatenation, errors of security calls ignored, weak TLS versions.
"""

from __future__ import annotations

import re

from slm_lsp.security import names
from slm_lsp.security.core import Captures, FileContext, RuleSet, query_rule, text_of
from slm_lsp.security.model import Rule
from slm_lsp.security.rules.common import cap, looks_sql, replace_fix, rule_factory

LANGS = ("go",)
RULES: list[Rule] = []
R = rule_factory(LANGS, RULES)

SHELL = R(
    "GO-S001",
    "command run through a shell",
    78,
    "high",
    "medium",
    "exec.Command runs a shell with -c: the command string can carry shell syntax.",
    "Run the program directly with separate arguments.",
    'exec.Command("sh", "-c", "ls "+dir)',
    'exec.Command("ls", dir)',
)
RAND = R(
    "GO-S002",
    "math/rand",
    338,
    "medium",
    "medium",
    "math/rand is predictable; use crypto/rand for keys, tokens and ids.",
    "Use crypto/rand.",
    "rand.Intn(1000000)",
    "rand.Read(buf) // crypto/rand",
)
SKIP = R(
    "GO-S003",
    "InsecureSkipVerify",
    295,
    "high",
    "high",
    "InsecureSkipVerify: true turns off certificate verification.",
    "Verify certificates; add a CA pool with RootCAs.",
    "&tls.Config{InsecureSkipVerify: true}",
    "&tls.Config{RootCAs: pool}",
    True,
)
HASH = R(
    "GO-S004",
    "weak hash",
    328,
    "medium",
    "high",
    "MD5/SHA-1 are broken for security purposes.",
    "Use crypto/sha256.",
    "md5.Sum(data)",
    "sha256.Sum256(data)",
)
CIPHER = R(
    "GO-S005",
    "weak cipher",
    327,
    "high",
    "high",
    "DES/3DES/RC4 are insecure.",
    "Use AES-GCM.",
    "des.NewCipher(key)",
    "aes.NewCipher(key) // with cipher.NewGCM",
)
SQL = R(
    "GO-S006",
    "SQL built from strings",
    89,
    "high",
    "medium",
    "SQL built with fmt.Sprintf or concatenation: SQL injection.",
    'Use placeholders: db.Query("... WHERE id = $1", id).',
    'db.Query(fmt.Sprintf("SELECT * FROM u WHERE id = %s", id))',
    'db.Query("SELECT * FROM u WHERE id = $1", id)',
)
IGNERR = R(
    "GO-S007",
    "error of a security call ignored",
    391,
    "medium",
    "medium",
    "The error of a security-relevant call is discarded.",
    "Check the error: a failed rand.Read or key operation leaves zeroed or partial data.",
    "_, _ = rand.Read(key)",
    "if _, err := rand.Read(key); err != nil { return err }",
)
TLSVER = R(
    "GO-S008",
    "weak TLS version",
    327,
    "high",
    "high",
    "MinVersion allows SSL 3.0 / TLS 1.0 / TLS 1.1.",
    "Require TLS 1.2 or later.",
    "&tls.Config{MinVersion: tls.VersionTLS10}",
    "&tls.Config{MinVersion: tls.VersionTLS12}",
    True,
)
BIND = R(
    "GO-S009",
    "binding to all interfaces",
    605,
    "medium",
    "medium",
    "Listening on 0.0.0.0 exposes the service on every network.",
    "Bind to a specific address.",
    'net.Listen("tcp", "0.0.0.0:8080")',
    'net.Listen("tcp", "127.0.0.1:8080")',
)

_MATH_RAND = re.compile(rb'^\s*(?:import\s+)?(\w+\s+)?"math/rand(?:/v2)?"', re.MULTILINE)
_SECURITY_CALLS = {
    ("rand", "Read"),
    ("rand", "Int"),
    ("rand", "Prime"),
    ("bcrypt", "GenerateFromPassword"),
    ("bcrypt", "CompareHashAndPassword"),
    ("tls", "Dial"),
    ("tls", "LoadX509KeyPair"),
    ("x509", "ParseCertificate"),
    ("rsa", "GenerateKey"),
    ("ecdsa", "GenerateKey"),
    ("io", "ReadFull"),
    ("jwt", "Parse"),
    ("scrypt", "Key"),
    ("aes", "NewCipher"),
    ("cipher", "NewGCM"),
}


def _math_rand(ctx: FileContext, caps: Captures) -> bool:
    m = ctx.facts.get("go_math_rand")
    if m is None:
        found = _MATH_RAND.search(ctx.data)
        m = ctx.facts["go_math_rand"] = (found.group(1) or "rand").strip() if found else ""
    return bool(m) and text_of(cap(caps, "p")) == m


def _sh_c(ctx: FileContext, caps: Captures) -> bool:
    args = [a for a in cap(caps, "args").named_children if a.type != "comment"]
    vals = [text_of(a).strip('"`') for a in args]
    for i, v in enumerate(vals[:-1]):
        if v.rsplit("/", 1)[-1] in (
            "sh",
            "bash",
            "zsh",
            "dash",
            "cmd",
            "cmd.exe",
            "powershell",
        ) and vals[i + 1] in ("-c", "/c", "/C", "-Command"):
            return True
    return False


def _os_exec(ctx: FileContext, pkg) -> bool:
    """``exec`` (or an alias such as ``osexec``) names the package os/exec, resolved through the
    file's imports (``names.toml``); a name the file does not bind falls back to its spelling."""
    kind, qual = names.resolve(ctx, pkg)
    if kind == "import":
        return qual == "exec"
    return kind == "unknown" and text_of(pkg) == "exec"


def _ignored(ctx: FileContext, caps: Captures) -> bool:
    key = (text_of(cap(caps, "p")), text_of(cap(caps, "f")))
    if key not in _SECURITY_CALLS:
        return False
    left = cap(caps, "left")
    if left is None:
        return True  # a bare call statement drops every result
    names = [text_of(c) for c in left.named_children]
    return bool(names) and names[-1] == "_"


PATTERNS = [
    query_rule(
        SHELL,
        '(call_expression function: (selector_expression operand: (identifier) @p field: (field_identifier) @f) arguments: (argument_list) @args (#any-of? @f "Command" "CommandContext")) @hit',
        when=lambda ctx, caps: _os_exec(ctx, cap(caps, "p")) and _sh_c(ctx, caps),
    ),
    query_rule(
        RAND,
        "(call_expression function: (selector_expression operand: (identifier) @p field: (field_identifier) @f)) @hit",
        when=_math_rand,
    ),
    query_rule(
        SKIP,
        '(keyed_element key: (literal_element (identifier) @k) value: (literal_element (true) @v) (#eq? @k "InsecureSkipVerify")) @hit',
        fix=replace_fix("Verify certificates (InsecureSkipVerify: false)", "v", "false"),
    ),
    query_rule(
        HASH,
        '(call_expression function: (selector_expression operand: (identifier) @p field: (field_identifier) @f) (#any-of? @p "md5" "sha1" "md4") (#any-of? @f "New" "Sum")) @hit',
    ),
    query_rule(
        CIPHER,
        '(call_expression function: (selector_expression operand: (identifier) @p field: (field_identifier) @f) (#any-of? @p "des" "rc4") (#any-of? @f "NewCipher" "NewTripleDESCipher")) @hit',
    ),
    query_rule(
        SQL,
        '(call_expression function: (selector_expression operand: (identifier) @p field: (field_identifier) @f) arguments: (argument_list . [(interpreted_string_literal) (raw_string_literal)] @s) (#eq? @p "fmt") (#eq? @f "Sprintf")) @hit',
        when=lambda ctx, caps: looks_sql(cap(caps, "s")),
    ),
    query_rule(
        SQL,
        '(call_expression function: (selector_expression field: (field_identifier) @f) arguments: (argument_list [(binary_expression) @arg (call_expression) @arg]) (#any-of? @f "Query" "QueryRow" "Exec" "QueryContext" "QueryRowContext" "ExecContext" "Prepare")) @hit',
        when=lambda ctx, caps: (
            cap(caps, "arg").type == "binary_expression" and looks_sql(cap(caps, "arg"))
        ),
    ),
    query_rule(
        IGNERR,
        "[(assignment_statement left: (expression_list) @left right: (expression_list . (call_expression function: (selector_expression operand: (identifier) @p field: (field_identifier) @f)))) (short_var_declaration left: (expression_list) @left right: (expression_list . (call_expression function: (selector_expression operand: (identifier) @p field: (field_identifier) @f))))] @hit",
        when=_ignored,
    ),
    query_rule(
        IGNERR,
        "(expression_statement (call_expression function: (selector_expression operand: (identifier) @p field: (field_identifier) @f))) @hit",
        when=_ignored,
    ),
    query_rule(
        TLSVER,
        '(keyed_element key: (literal_element (identifier) @k) value: (literal_element (selector_expression field: (field_identifier) @v)) (#eq? @k "MinVersion") (#any-of? @v "VersionSSL30" "VersionTLS10" "VersionTLS11")) @hit',
        fix=replace_fix("Require TLS 1.2", "v", "VersionTLS12"),
    ),
    query_rule(
        BIND,
        '(call_expression function: (selector_expression field: (field_identifier) @f) arguments: (argument_list (interpreted_string_literal) @a) (#any-of? @f "Listen" "ListenAndServe" "ListenAndServeTLS" "ListenPacket") (#match? @a "^.0\\\\.0\\\\.0\\\\.0:")) @hit',
    ),
]

RULESET = RuleSet(LANGS, RULES, PATTERNS)
