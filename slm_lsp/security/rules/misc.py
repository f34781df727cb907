"""Rules for C#, Rust and shell scripts: the few checks that matter most in each."""

from __future__ import annotations

from slm_lsp.security.core import Captures, FileContext, RuleSet, query_rule, text_of
from slm_lsp.security.model import Rule
from slm_lsp.security.rules.common import cap, looks_sql, rule_factory

CS_RULES: list[Rule] = []
CS = rule_factory(("c_sharp",), CS_RULES)
CS_PROC = CS(
    "CS-S001",
    "Process.Start with a built command",
    78,
    "high",
    "medium",
    "Process.Start with a command line built from data: command injection.",
    "Use ProcessStartInfo.ArgumentList with separate arguments.",
    'Process.Start("sh", "-c " + cmd)',
    "psi.ArgumentList.Add(dir); Process.Start(psi)",
)
CS_HASH = CS(
    "CS-S002",
    "weak hash",
    328,
    "medium",
    "high",
    "MD5/SHA-1 are broken for security purposes.",
    "Use SHA256.Create().",
    "MD5.Create()",
    "SHA256.Create()",
)
CS_SQL = CS(
    "CS-S003",
    "SQL built from strings",
    89,
    "high",
    "medium",
    "SqlCommand text built by concatenation or interpolation: SQL injection.",
    "Use SqlParameter placeholders.",
    'new SqlCommand("SELECT * FROM u WHERE id = " + id, conn)',
    'new SqlCommand("SELECT * FROM u WHERE id = @id", conn)',
)
CS_DESER = CS(
    "CS-S004",
    "BinaryFormatter",
    502,
    "high",
    "high",
    "BinaryFormatter/SoapFormatter/NetDataContractSerializer deserialization of untrusted data is unsafe.",
    "Use System.Text.Json.",
    "new BinaryFormatter().Deserialize(s)",
    "JsonSerializer.Deserialize<Dto>(s)",
)
CS_TLS = CS(
    "CS-S005",
    "certificate validation bypass",
    295,
    "high",
    "medium",
    "A certificate validation callback that always returns true accepts any certificate.",
    "Do not override certificate validation.",
    "ServicePointManager.ServerCertificateValidationCallback = (a, b, c, d) => true;",
    "// use the default validation",
)

RS_RULES: list[Rule] = []
RS = rule_factory(("rust",), RS_RULES)
RS_TRANSMUTE = RS(
    "RS-S001",
    "mem::transmute",
    843,
    "medium",
    "low",
    "transmute reinterprets bits without checks; a wrong type is undefined behaviour.",
    "Use from_ne_bytes/to_bits/as casts or bytemuck.",
    "let x: u32 = unsafe { std::mem::transmute(f) };",
    "let x = f.to_bits();",
)
RS_SHELL = RS(
    "RS-S002",
    "command run through a shell",
    78,
    "high",
    "medium",
    'Command::new("sh").arg("-c") runs a shell: the command string can carry shell syntax.',
    "Run the program directly with .arg() per argument.",
    'Command::new("sh").arg("-c").arg(cmd)',
    'Command::new("ls").arg(dir)',
)

SH_RULES: list[Rule] = []
SH = rule_factory(("bash",), SH_RULES)
SH_EVAL = SH(
    "SH-S001",
    "eval of expanded data",
    95,
    "high",
    "medium",
    "eval re-parses expanded variables as shell code.",
    "Use arrays and quoted expansions instead of eval.",
    'eval "$cmd"',
    '"${cmd[@]}"',
)
SH_PIPE = SH(
    "SH-S002",
    "download piped to a shell",
    494,
    "high",
    "high",
    "Piping a download into a shell runs unverified code.",
    "Download, verify a checksum or signature, then run.",
    "curl -s https://x/install.sh | sh",
    "curl -sO https://x/install.sh && sha256sum -c install.sh.sha256 && sh install.sh",
)
SH_CHMOD = SH(
    "SH-S003",
    "world-writable permissions",
    732,
    "medium",
    "high",
    "chmod 777 / o+w makes the file writable by every user.",
    "Grant the least permissions needed (e.g. 750).",
    "chmod 777 /srv/app",
    "chmod 750 /srv/app",
)


def _cs_built(ctx: FileContext, caps: Captures) -> bool:
    al = cap(caps, "args")
    for a in al.named_children if al is not None else []:
        v = a.named_children[0] if a.named_child_count else None
        if v is not None and (
            v.type == "binary_expression" or v.type == "interpolated_string_expression"
        ):
            return True
    return False


def _cs_sql(ctx: FileContext, caps: Captures) -> bool:
    al = cap(caps, "args")
    first = al.named_children[0] if al is not None and al.named_child_count else None
    v = first.named_children[0] if first is not None and first.named_child_count else None
    return (
        v is not None
        and v.type in ("binary_expression", "interpolated_string_expression")
        and looks_sql(v)
    )


def _rs_sh(ctx: FileContext, caps: Captures) -> bool:
    hit = cap(caps, "hit")
    parent = hit.parent
    # Command::new("sh") followed by .arg("-c")
    if parent is None or parent.type != "field_expression":
        return False
    call = parent.parent
    return (
        call is not None
        and call.type == "call_expression"
        and '"-c"' in text_of(call.child_by_field_name("arguments"))
    )


def _sh_eval_dynamic(ctx: FileContext, caps: Captures) -> bool:
    return "$" in text_of(cap(caps, "hit"))


CS_PATTERNS = [
    query_rule(
        CS_PROC,
        '(invocation_expression function: (member_access_expression expression: (identifier) @o name: (identifier) @m) arguments: (argument_list) @args (#eq? @o "Process") (#eq? @m "Start")) @hit',
        when=_cs_built,
    ),
    query_rule(
        CS_HASH,
        '(invocation_expression function: (member_access_expression expression: (identifier) @o name: (identifier) @m) (#any-of? @o "MD5" "SHA1") (#eq? @m "Create")) @hit',
    ),
    query_rule(
        CS_HASH,
        '(object_creation_expression type: (identifier) @t (#any-of? @t "MD5CryptoServiceProvider" "SHA1CryptoServiceProvider" "SHA1Managed" "MD5Cng" "SHA1Cng")) @hit',
    ),
    query_rule(
        CS_SQL,
        '(object_creation_expression type: (identifier) @t arguments: (argument_list) @args (#any-of? @t "SqlCommand" "OleDbCommand" "OdbcCommand" "MySqlCommand" "NpgsqlCommand" "SqliteCommand")) @hit',
        when=_cs_sql,
    ),
    query_rule(
        CS_DESER,
        '(object_creation_expression type: (identifier) @t (#any-of? @t "BinaryFormatter" "SoapFormatter" "NetDataContractSerializer" "LosFormatter" "ObjectStateFormatter")) @hit',
    ),
    query_rule(
        CS_TLS,
        '(assignment_expression left: (member_access_expression name: (identifier) @n) right: (lambda_expression body: (boolean_literal) @b) (#any-of? @n "ServerCertificateValidationCallback" "ServerCertificateCustomValidationCallback" "RemoteCertificateValidationCallback") (#eq? @b "true")) @hit',
    ),
]

RS_PATTERNS = [
    query_rule(
        RS_TRANSMUTE,
        '(call_expression function: [(identifier) @f (scoped_identifier name: (identifier) @f)] (#eq? @f "transmute")) @hit',
    ),
    query_rule(
        RS_SHELL,
        '(call_expression function: (scoped_identifier path: (identifier) @t name: (identifier) @n) arguments: (arguments . (string_literal) @s) (#eq? @t "Command") (#eq? @n "new") (#match? @s "^.(/bin/)?(ba|z|da)?sh.$")) @hit',
        when=_rs_sh,
    ),
]

SH_PATTERNS = [
    query_rule(
        SH_EVAL, '(command name: (command_name) @n (#eq? @n "eval")) @hit', when=_sh_eval_dynamic
    ),
    query_rule(
        SH_PIPE,
        '(pipeline (command name: (command_name) @a (#any-of? @a "curl" "wget")) . (command name: (command_name) @b (#match? @b "^(sudo|sh|bash|zsh|dash|ksh|python3?|perl|ruby)$"))) @hit',
    ),
    query_rule(
        SH_CHMOD,
        '(command name: (command_name) @n argument: [(number) (word)] @w (#eq? @n "chmod") (#match? @w "^(0?[0-7]?7[0-7][2367]|0?[0-7]?[0-7][0-7][2367]|[ugoa]*\\\\+[rwx]*w[rwx]*|o\\\\+.*w.*)$")) @hit',
        when=lambda ctx, caps: (
            text_of(cap(caps, "w")).lstrip("0").endswith(("7", "6", "3", "2"))
            or "+" in text_of(cap(caps, "w"))
        ),
    ),
]

RULESETS = [
    RuleSet(("c_sharp",), CS_RULES, CS_PATTERNS),
    RuleSet(("rust",), RS_RULES, RS_PATTERNS),
    RuleSet(("bash",), SH_RULES, SH_PATTERNS),
]
