"""Python checks for weak cryptography and TLS: hashes, key sizes, TLS versions and certificate verification."""

from __future__ import annotations

from slm_lsp.security.core import (
    FileContext,
    text_of,
)
from slm_lsp.security.model import (
    Fix,
)
from slm_lsp.security.rules.python.table import (
    B324,
    B502,
    B503,
    B504,
    B505,
    B507,
    B508,
    B509,
    BAD_TLS,
    CALLS_BY_NAME,
    S001,
    S002,
    WEAK_HASHES,
    on_name,
    on_qual,
)
from slm_lsp.security.rules.pyutil import (
    Call,
    add_keyword,
    is_imported_like,
    literal,
    qualname,
    replace_attr,
    string_value,
)


def _hashlib(ctx: FileContext, call: Call) -> None:
    parts = call.qual.split(".")
    func = parts[-1]
    if "hashlib" in parts:
        if call.kwliteral("usedforsecurity") in (False, "False"):
            return
        if func in WEAK_HASHES:
            fixes = []
            if call.fn.type == "attribute":
                e = replace_attr(ctx, call.fn, "sha256")
                if e:
                    fixes.append(Fix("Use hashlib.sha256", (e,)))
            e2 = add_keyword(ctx, call, "usedforsecurity=False")
            if e2:
                fixes.append(Fix("Mark as not used for security (usedforsecurity=False)", (e2,)))
            ctx.report(
                B324,
                call.node,
                f"Use of weak {func.upper()} hash for security. Consider usedforsecurity=False",
                fix=fixes[0] if fixes else None,
                alternatives=fixes[1:],
            )
        elif func == "new":
            name_node = call.arg(0, "name")
            name = string_value(name_node)
            if name and name.lower() in WEAK_HASHES:
                fixes = [Fix("Use sha256", (ctx.edit(name_node, "'sha256'"),))]  # type: ignore[arg-type]
                e2 = add_keyword(ctx, call, "usedforsecurity=False")
                if e2:
                    fixes.append(
                        Fix("Mark as not used for security (usedforsecurity=False)", (e2,))
                    )
                ctx.report(
                    B324,
                    call.node,
                    f"Use of weak {name.upper()} hash for security. Consider usedforsecurity=False",
                    fix=fixes[0],
                    alternatives=fixes[1:],
                )
    elif "crypt" in parts and func in ("crypt", "mksalt"):
        node = call.arg(1, "salt") if func == "crypt" else call.arg(0, "method")
        v = literal(node)
        if isinstance(v, str) and v.split(".")[-1] in (
            "METHOD_CRYPT",
            "METHOD_MD5",
            "METHOD_BLOWFISH",
        ):
            ctx.report(
                B324,
                call.node,
                f"Use of insecure crypt.{v.split('.')[-1]} hash function.",
                severity="medium",
            )


for _h in WEAK_HASHES + ("new", "crypt", "mksalt"):
    CALLS_BY_NAME.setdefault(_h, []).append(_hashlib)


@on_qual("ssl.wrap_socket")
def _wrap_socket(ctx: FileContext, call: Call) -> None:
    if not call.has_kw("ssl_version"):
        ctx.report(B504, call.node)


def _bad_tls_keyword(ctx: FileContext, caps: dict) -> None:
    """B502: ``ssl_version=``/``method=`` naming a broken protocol in any call."""
    kw = caps["kw"][0]
    value = kw.child_by_field_name("value")
    call_node = kw.parent.parent if kw.parent is not None else None
    if value is None or call_node is None or call_node.type != "call":
        return
    v = text_of(value).split(".")[-1]
    if v not in BAD_TLS:
        return
    fn = call_node.child_by_field_name("function")
    q = qualname(ctx, fn) if fn is not None else ""
    name = text_of(kw.child_by_field_name("name"))
    strong = (q == "ssl.wrap_socket" and name == "ssl_version") or (
        q == "pyOpenSSL.SSL.Context" and name == "method"
    )
    fix = None
    if v.startswith("PROTOCOL_") and value.type == "attribute":
        fix = Fix("Use PROTOCOL_TLS_CLIENT", (replace_attr(ctx, value, "PROTOCOL_TLS_CLIENT"),))  # type: ignore[arg-type]
    if strong:
        ctx.report(B502, kw, fix=fix)
    elif q not in ("ssl.wrap_socket", "pyOpenSSL.SSL.Context"):
        ctx.report(
            B502,
            kw,
            "Function call with insecure SSL/TLS protocol identified, possible security issue.",
            severity="medium",
            confidence="medium",
            fix=fix,
        )


@on_qual("pyOpenSSL.SSL.Context", "OpenSSL.SSL.Context")
def _ossl_ctx(ctx: FileContext, call: Call) -> None:
    if call.args and text_of(call.args[0]).split(".")[-1] in BAD_TLS and not call.has_kw("method"):
        ctx.report(
            B502,
            call.node,
            "SSL.Context call with insecure SSL/TLS protocol version identified, security issue.",
        )


_KEYS = {
    "cryptography.hazmat.primitives.asymmetric.dsa.generate_private_key": ("DSA", 0, "key_size"),
    "cryptography.hazmat.primitives.asymmetric.rsa.generate_private_key": ("RSA", 1, "key_size"),
    "Crypto.PublicKey.DSA.generate": ("DSA", 0, "bits"),
    "Crypto.PublicKey.RSA.generate": ("RSA", 0, "bits"),
    "Cryptodome.PublicKey.DSA.generate": ("DSA", 0, "bits"),
    "Cryptodome.PublicKey.RSA.generate": ("RSA", 0, "bits"),
}
_CURVES = {
    "SECT571K1": 571,
    "SECT571R1": 570,
    "SECP521R1": 521,
    "BrainpoolP512R1": 512,
    "SECT409K1": 409,
    "SECT409R1": 409,
    "BrainpoolP384R1": 384,
    "SECP384R1": 384,
    "SECT283K1": 283,
    "SECT283R1": 283,
    "BrainpoolP256R1": 256,
    "SECP256K1": 256,
    "SECP256R1": 256,
    "SECT233K1": 233,
    "SECT233R1": 233,
    "SECP224R1": 224,
    "SECP192R1": 192,
    "SECT163K1": 163,
    "SECT163R2": 163,
}


@on_qual(*_KEYS)
def _key_size(ctx: FileContext, call: Call) -> None:
    kind, pos, kw = _KEYS[call.qual]
    size = literal(call.kwvalue(kw)) if call.has_kw(kw) else literal(call.arg(pos))
    if not isinstance(size, int) or isinstance(size, bool):
        return
    _classify_key(ctx, call, kind, size)


@on_qual("cryptography.hazmat.primitives.asymmetric.ec.generate_private_key")
def _ec_key(ctx: FileContext, call: Call) -> None:
    node = call.arg(0, "curve")
    if node is None:
        return
    name = text_of(node).split("(")[0].split(".")[-1]
    _classify_key(ctx, call, "EC", _CURVES.get(name, 224))


def _classify_key(ctx: FileContext, call: Call, kind: str, size: int) -> None:
    limits = {
        "DSA": ((1024, "high"), (2048, "medium")),
        "RSA": ((1024, "high"), (2048, "medium")),
        "EC": ((160, "high"), (224, "medium")),
    }[kind]
    for limit, sev in limits:
        if size < limit:
            ctx.report(
                B505,
                call.node,
                f"{kind} key sizes below {limit} bits are considered breakable.",
                severity=sev,
            )
            return


@on_name("set_missing_host_key_policy")
def _ssh_policy(ctx: FileContext, call: Call) -> None:
    if not is_imported_like(ctx, "paramiko") or not call.args:
        return
    arg = call.args[0]
    target = arg.child_by_field_name("function") if arg.type == "call" else arg
    if target is None:
        return
    last = text_of(target).split(".")[-1]
    if last in ("AutoAddPolicy", "WarningPolicy"):
        name_node = (
            target.child_by_field_name("attribute") if target.type == "attribute" else target
        )
        fix = (
            Fix("Reject unknown host keys", (ctx.edit(name_node, "RejectPolicy"),))
            if name_node is not None
            else None
        )  # type: ignore[arg-type]
        ctx.report(B507, call.node, fix=fix)


@on_qual("pysnmp.hlapi.CommunityData")
def _snmp_v12(ctx: FileContext, call: Call) -> None:
    if call.kwliteral("mpModel") in (0, 1):
        ctx.report(B508, call.node)


@on_qual("pysnmp.hlapi.UsmUserData")
def _snmp_v3(ctx: FileContext, call: Call) -> None:
    if len(call.args) < 3:
        ctx.report(B509, call.node)


@on_qual("jwt.decode")
def _jwt(ctx: FileContext, call: Call) -> None:
    if call.kwliteral("verify") in (False, "False"):
        ctx.report(S002, call.at_kw("verify"))
        return
    opts = call.kwvalue("options")
    if opts is not None and opts.type == "dictionary":
        for pair in opts.named_children:
            if (
                pair.type == "pair"
                and string_value(pair.child_by_field_name("key")) == "verify_signature"
                and literal(pair.child_by_field_name("value")) in (False, "False")
            ):
                ctx.report(S002, pair)


def on_tls_default(ctx: FileContext, caps: dict) -> None:
    param = caps["param"][0]
    value = param.child_by_field_name("value")
    if value is None or text_of(value).split(".")[-1] not in BAD_TLS:
        return
    fn = param.parent.parent if param.parent is not None else None
    if fn is None or fn.type != "function_definition":
        return
    seen = ctx.facts.setdefault("b503", set())
    if fn.id not in seen:
        seen.add(fn.id)
        ctx.report(B503, (fn, value))


def on_cert_none(ctx: FileContext, caps: dict) -> None:
    node = caps["hit"][0]
    value = caps["value"][0]
    target = caps.get("target", [None])[0]
    tname = text_of(target).split(".")[-1] if target is not None else ""
    v = text_of(value)
    if v.split(".")[-1] == "CERT_NONE" and tname in ("verify_mode", "cert_reqs"):
        fix = Fix(
            "Require certificates",
            (ctx.edit(value, v.rsplit("CERT_NONE", 1)[0] + "CERT_REQUIRED"),),
        )
        ctx.report(S001, node, fix=fix)
    elif tname == "check_hostname" and value.type == "false":
        ctx.report(S001, node, fix=Fix("Check host names", (ctx.edit(value, "True"),)))
