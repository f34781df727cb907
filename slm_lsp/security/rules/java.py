"""Java rules: Runtime.exec, weak digests and ciphers, SQL concatenation, XXE-prone XML factories,
Java deserialization, java.util.Random for secrets, trust-all TLS.
"""

from __future__ import annotations

from slm_lsp.security import names
from slm_lsp.security.core import Captures, FileContext, RuleSet, query_rule, text_of
from slm_lsp.security.model import Fix, Rule
from slm_lsp.security.rules.common import cap, looks_sql, replace_fix, rule_factory

LANGS = ("java",)
RULES: list[Rule] = []
R = rule_factory(LANGS, RULES)

EXEC = R(
    "JAVA-S001",
    "Runtime.exec",
    78,
    "medium",
    "medium",
    "Runtime.exec runs a command; with a built string it is open to injection.",
    "Use ProcessBuilder with a fixed program and separate arguments.",
    'Runtime.getRuntime().exec("ls " + dir)',
    'new ProcessBuilder("ls", dir).start()',
)
DIGEST = R(
    "JAVA-S002",
    "weak MessageDigest",
    328,
    "medium",
    "high",
    "MD2/MD5/SHA-1 are broken for security purposes.",
    "Use SHA-256 or better.",
    'MessageDigest.getInstance("MD5")',
    'MessageDigest.getInstance("SHA-256")',
    True,
)
SQL = R(
    "JAVA-S003",
    "SQL built from strings",
    89,
    "high",
    "medium",
    "SQL built by concatenation and executed: SQL injection.",
    "Use a PreparedStatement with ? placeholders.",
    'stmt.executeQuery("SELECT * FROM u WHERE id = " + id)',
    'ps = conn.prepareStatement("SELECT * FROM u WHERE id = ?")',
)
XXE = R(
    "JAVA-S004",
    "XXE-prone XML factory",
    611,
    "high",
    "medium",
    "XML factory created without disabling DTDs/external entities (XXE).",
    'Call setFeature("http://apache.org/xml/features/disallow-doctype-decl", true) or set ACCESS_EXTERNAL_DTD to "".',
    "DocumentBuilderFactory.newInstance()",
    'dbf.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true)',
)
DESER = R(
    "JAVA-S005",
    "Java deserialization",
    502,
    "high",
    "medium",
    "ObjectInputStream/XMLDecoder deserialization of untrusted data runs gadget chains.",
    "Use a data format (JSON) or an ObjectInputFilter allow-list.",
    "new ObjectInputStream(in).readObject()",
    "mapper.readValue(in, Dto.class)",
)
RANDOM = R(
    "JAVA-S006",
    "java.util.Random",
    330,
    "low",
    "medium",
    "java.util.Random is predictable; use SecureRandom for secrets.",
    "Use java.security.SecureRandom.",
    "new Random()",
    "new java.security.SecureRandom()",
    True,
)
CIPHER = R(
    "JAVA-S007",
    "weak cipher or ECB",
    327,
    "high",
    "high",
    'DES/3DES/RC4/Blowfish or ECB mode ("AES" alone means ECB) is insecure.',
    "Use AES/GCM/NoPadding.",
    'Cipher.getInstance("AES")',
    'Cipher.getInstance("AES/GCM/NoPadding")',
)
TRUST = R(
    "JAVA-S008",
    "trust-all TLS",
    295,
    "high",
    "medium",
    "A TrustManager/HostnameVerifier that accepts everything disables TLS authentication.",
    "Use the default trust manager and hostname verifier.",
    "public void checkServerTrusted(X509Certificate[] c, String a) {}",
    "TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm())",
)

_HARDENED = (
    b"disallow-doctype-decl",
    b"ACCESS_EXTERNAL_DTD",
    b"SUPPORT_DTD",
    b"external-general-entities",
    b"IS_SUPPORTING_EXTERNAL_ENTITIES",
)


def _random_fix(ctx: FileContext, caps: Captures) -> Fix | None:
    t = cap(caps, "t")
    return (
        Fix("Use java.security.SecureRandom", (ctx.edit(t, "java.security.SecureRandom"),))
        if t is not None
        else None
    )


def _weak_cipher(ctx: FileContext, caps: Captures) -> bool:
    alg = text_of(cap(caps, "alg")).strip('"').upper()
    base = alg.split("/")[0]
    return (
        base in ("DES", "DESEDE", "TRIPLEDES", "RC4", "ARCFOUR", "RC2", "BLOWFISH")
        or "/ECB/" in alg
        or alg in ("AES",)
    )


def _empty_body(ctx: FileContext, caps: Captures) -> bool:
    body = cap(caps, "b")
    return body is not None and not [
        c for c in body.named_children if c.type not in ("line_comment", "block_comment")
    ]


def _own_class(ctx: FileContext, call) -> bool:
    """The call's receiver is declared with a class of this file (``Statement st`` where
    ``Statement`` is the file's own class, not java.sql's), resolved through ``names.toml``."""
    obj = call.child_by_field_name("object")
    return obj is not None and names.resolve_type(ctx, obj)[0] == "local"


PATTERNS = [
    query_rule(
        EXEC,
        '(method_invocation object: (method_invocation name: (identifier) @g) name: (identifier) @m (#eq? @g "getRuntime") (#eq? @m "exec")) @hit',
    ),
    query_rule(
        DIGEST,
        '(method_invocation object: (identifier) @o name: (identifier) @m arguments: (argument_list . (string_literal) @alg) (#eq? @o "MessageDigest") (#eq? @m "getInstance") (#match? @alg "(?i)^.(md2|md4|md5|sha-?1|sha).$")) @hit',
        fix=replace_fix("Use SHA-256", "alg", '"SHA-256"'),
    ),
    query_rule(
        SQL,
        '(method_invocation name: (identifier) @m arguments: (argument_list . (binary_expression) @arg) (#any-of? @m "execute" "executeQuery" "executeUpdate" "executeLargeUpdate" "addBatch" "prepareStatement" "createQuery" "createNativeQuery" "queryForList" "queryForObject" "update")) @hit',
        when=lambda ctx, caps: (
            looks_sql(cap(caps, "arg")) and not _own_class(ctx, cap(caps, "hit"))
        ),
    ),
    query_rule(
        XXE,
        '(method_invocation object: (identifier) @o name: (identifier) @m (#any-of? @o "DocumentBuilderFactory" "SAXParserFactory" "XMLInputFactory" "TransformerFactory" "SchemaFactory" "SAXTransformerFactory") (#any-of? @m "newInstance" "newFactory" "newDefaultInstance")) @hit',
        when=lambda ctx, caps: not any(h in ctx.data for h in _HARDENED),
    ),
    query_rule(
        DESER,
        '(object_creation_expression type: (type_identifier) @t (#any-of? @t "ObjectInputStream" "XMLDecoder")) @hit',
    ),
    query_rule(
        RANDOM,
        '(object_creation_expression type: (type_identifier) @t (#eq? @t "Random")) @hit',
        fix=_random_fix,
    ),
    query_rule(
        CIPHER,
        '(method_invocation object: (identifier) @o name: (identifier) @m arguments: (argument_list . (string_literal) @alg) (#eq? @o "Cipher") (#eq? @m "getInstance")) @hit',
        when=_weak_cipher,
    ),
    query_rule(
        TRUST,
        '(method_declaration name: (identifier) @n body: (block) @b (#any-of? @n "checkServerTrusted" "checkClientTrusted")) @hit',
        when=_empty_body,
    ),
    query_rule(
        TRUST,
        '(method_declaration name: (identifier) @n body: (block . (return_statement (true)) .) (#eq? @n "verify")) @hit',
    ),
]

RULESET = RuleSet(LANGS, RULES, PATTERNS)
