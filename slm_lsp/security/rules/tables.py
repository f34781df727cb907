"""Simple checks from a data table (``tables.toml``): calls and nodes matched by name and text, and
hard-coded credentials, for the languages and CWE classes the hand-written modules do not cover.

Node types of calls and assignments come from the language's data-flow table
(``security/taint/<language>.toml``), so a row needs no query of its own.
"""

from __future__ import annotations

import re
from pathlib import Path

import tomllib

from slm_lsp.security import taint
from slm_lsp.security.core import Captures, FileContext, Pattern, RuleSet, text_of
from slm_lsp.security.model import Rule

TABLE = Path(__file__).with_name("tables.toml")
#: Credential-like names (a narrower set than ``SECRET_NAME_RE``: no session ids, uuids or salts).
CREDENTIAL_RE = re.compile(
    r"(?i)(passw(or)?d|passwd|pwd|secret|api_?key|access_?key|private_?key|auth_?token|token)"
)
#: Names that mention a secret but hold metadata about it.
NOT_CREDENTIAL_RE = re.compile(
    r"(?i)(type|kind|name|field|label|prompt|url|uri|endpoint|path|file|len|length|size|count|pattern|"
    r"regex|hint|help|message|msg|error|header|param|format|mode|policy|placeholder|expir|ttl|min|max|"
    r"column|prefix|suffix|env|var|key_id|keyid)$"
)
STRING_TYPES = (
    "string",
    "string_literal",
    "interpreted_string_literal",
    "raw_string_literal",
    "encapsed_string",
    "verbatim_string_literal",
)
PLACEHOLDER = re.compile(
    r"(?i)^(|x+|\*+|changeme|change_me|todo|fixme|example|dummy|none|null|test|\$\{.*\}|%s|<.*>|\{.*\})$"
)
PREFIX = {
    "go": "GO",
    "java": "JAVA",
    "c": "C",
    "c_sharp": "CS",
    "ruby": "RB",
    "php": "PHP",
    "rust": "RS",
}
DIALECTS = {"c": ("c", "cpp")}


def _load() -> dict:
    with open(TABLE, "rb") as fh:
        return tomllib.load(fh)


def _call_pattern(
    lang: str, rows: list[tuple[str, re.Pattern[str], re.Pattern[str] | None]]
) -> Pattern | None:
    t = taint.table(lang)
    if t is None or not t.calls:
        return None

    def handler(ctx: FileContext, caps: Captures) -> None:
        node = caps["call"][0]
        name = taint.call_name(t, node)
        for rid, call_rx, text_rx in rows:
            if call_rx.fullmatch(name) and (text_rx is None or text_rx.search(text_of(node))):
                ctx.report(rid, node)

    types = " ".join(f"({ty})" for ty in t.calls)
    return Pattern(f"[{types}] @call", handler)


def _node_pattern(types: list[str], rid: str, text_rx: re.Pattern[str]) -> Pattern:
    def handler(ctx: FileContext, caps: Captures) -> None:
        node = caps["n"][0]
        if text_rx.search(text_of(node)):
            par = node.parent
            if par is not None and par.type == node.type:
                return  # the outermost node reports
            ctx.report(rid, node)

    return Pattern("[" + " ".join(f"({ty})" for ty in types) + "] @n", handler)


def _secret_pattern(lang: str, rid: str) -> Pattern | None:
    t = taint.table(lang)
    if t is None or not t.assigns:
        return None

    def handler(ctx: FileContext, caps: Captures) -> None:
        node = caps["a"][0]
        spec = t.assigns[node.type]
        if spec.get("augmented"):
            return
        left = node.child_by_field_name(spec["left"])
        if spec.get("right") == "@last":
            named = [c for c in node.named_children if c.type != "comment"]
            right = named[-1] if len(named) > 1 else None
        else:
            right = node.child_by_field_name(spec.get("right", "right"))
        if right is not None and right.type == "expression_list" and right.named_child_count == 1:
            right = right.named_children[0]  # Go: ``password := "..."``
        if left is None or right is None or right.type not in STRING_TYPES:
            return
        if any(
            c.type in ("variable_name", "interpolation", "escape_sequence")
            for c in right.named_children
        ):
            return
        name = re.split(r"[.\->\[:$]+", text_of(left).strip("$*& "))[-1] or text_of(left)
        if not CREDENTIAL_RE.search(name) or NOT_CREDENTIAL_RE.search(name):
            return
        value = text_of(right).strip("\"'`@$")
        if len(value) < 4 or PLACEHOLDER.match(value) or " " in value.strip():
            return
        ctx.report(rid, right)

    types = " ".join(f"({ty})" for ty in t.assigns)
    return Pattern(f"[{types}] @a", handler)


def _rulesets() -> list[RuleSet]:
    doc = _load()
    by_lang: dict[str, RuleSet] = {}
    calls: dict[str, list] = {}

    def rs(lang: str) -> RuleSet:
        if lang not in by_lang:
            by_lang[lang] = RuleSet(DIALECTS.get(lang, (lang,)), [], [])
        return by_lang[lang]

    for row in doc.get("rule", ()):
        lang = row["language"]
        rule = Rule(
            row["id"],
            row["title"],
            int(row["cwe"]),
            row["severity"],
            row["confidence"],
            row["message"],
            row["help"],
            row["good"],
            row["bad"],
            DIALECTS.get(lang, (lang,)),
        )
        rs(lang).rules.append(rule)
        text_rx = re.compile(row["text"]) if "text" in row else None
        if "call" in row:
            calls.setdefault(lang, []).append((row["id"], re.compile(row["call"]), text_rx))
        elif "node" in row and text_rx is not None:
            rs(lang).patterns.append(_node_pattern(list(row["node"]), row["id"], text_rx))
    for lang, rows in calls.items():
        pat = _call_pattern(lang, rows)
        if pat is not None:
            rs(lang).patterns.append(pat)
    for sec in doc.get("secret", ()):
        for lang in sec["languages"]:
            rid = f"{PREFIX[lang]}-S{int(sec['cwe'])}"
            pat = _secret_pattern(lang, rid)
            if pat is None:
                continue
            rs(lang).rules.append(
                Rule(
                    rid,
                    sec["title"],
                    int(sec["cwe"]),
                    sec["severity"],
                    sec["confidence"],
                    sec["message"],
                    sec["help"],
                    'api_key = os.Getenv("API_KEY")',
                    'api_key = "sk_live_51H8..."',
                    DIALECTS.get(lang, (lang,)),
                )
            )
            rs(lang).patterns.append(pat)
    return list(by_lang.values())


RULESETS = _rulesets()
