"""The coverage matrix: CWE classes × the nine languages, each cell the rules that cover it or a
written reason why the class does not apply to the language (``slm-lsp rules --matrix``)."""

from __future__ import annotations

from dataclasses import dataclass

from slm_lsp.security.model import Rule

#: Matrix columns: our language names (dialects are covered by their base language's rules).
COLUMNS: tuple[tuple[str, str], ...] = (
    ("python", "Python"),
    ("javascript", "JS/TS"),
    ("go", "Go"),
    ("java", "Java"),
    ("c", "C/C++"),
    ("c_sharp", "C#"),
    ("ruby", "Ruby"),
    ("php", "PHP"),
    ("rust", "Rust"),
)

#: Matrix rows: a label and the CWE numbers that count for it (a class and its close children).
ROWS: tuple[tuple[str, frozenset[int]], ...] = (
    ("78 OS command injection", frozenset({78, 77})),
    ("89 SQL injection", frozenset({89})),
    ("94/95 code injection", frozenset({94, 95, 1336})),
    ("79 cross-site scripting", frozenset({79, 80})),
    ("22 path traversal", frozenset({22, 23, 73, 98})),
    ("502 deserialisation", frozenset({502})),
    ("611 XML external entities", frozenset({611, 776})),
    ("295 certificate validation", frozenset({295, 297})),
    ("327/328 weak crypto / hash", frozenset({327, 328, 326, 916})),
    ("338 weak random", frozenset({338, 330})),
    ("798 hard-coded credentials", frozenset({798, 259, 321})),
    ("601 open redirect", frozenset({601})),
    ("1321 prototype pollution", frozenset({1321})),
    ("120 buffer overflow", frozenset({120, 121, 122, 787})),
    ("134 format string", frozenset({134})),
    ("242 inherently dangerous function", frozenset({242})),
    ("676 dangerous function", frozenset({676})),
)

#: Why a class does not apply to a language (row label prefix, language) → reason.
NOT_APPLICABLE: dict[tuple[str, str], str] = {
    **{
        (row, lang): "memory-safe language: no unchecked buffers"
        for row in ("120", "242", "676")
        for lang in ("python", "javascript", "go", "java", "c_sharp", "ruby", "php")
    },
    ("120", "rust"): "safe Rust checks bounds; `unsafe` blocks are reported by RS-S001",
    ("242", "rust"): "the standard library has no inherently dangerous functions outside `unsafe`",
    (
        "676",
        "rust",
    ): "covered by RS-S001 (unsafe transmute); other `unsafe` APIs need review, not a rule",
    **{
        (
            "134",
            lang,
        ): "format functions take the data as arguments; a format string cannot write memory"
        for lang in ("python", "javascript", "go", "java", "c_sharp", "ruby", "php", "rust")
    },
    **{
        (
            "1321",
            lang,
        ): "objects have no shared, writable prototype reachable through a property name"
        for lang in ("python", "go", "java", "c", "c_sharp", "ruby", "php", "rust")
    },
    ("502", "go"): "encoding/gob, json and xml decode into declared types only: no gadget chains",
    ("502", "rust"): "serde decodes into declared types only: no gadget chains",
    ("502", "c"): "no language-level object deserialisation",
    ("611", "go"): "encoding/xml does not resolve external entities or expand entity definitions",
    ("611", "rust"): "quick-xml and roxmltree do not resolve external entities",
    ("611", "c"): "libxml2 expands entities only when asked (XML_PARSE_NOENT): not modelled",
    ("94/95", "c"): "no eval; loading code (dlopen) from input is CWE-114, not covered",
    ("94/95", "rust"): "no eval in the language; embedded interpreters are rare",
    ("79", "c"): "C programs rarely write HTML; CGI output is not modelled",
    ("601", "c"): "no web framework to model",
}


@dataclass(frozen=True)
class Cell:
    rules: tuple[str, ...]
    reason: str | None

    @property
    def status(self) -> str:
        return "rule" if self.rules else ("n/a" if self.reason else "missing")


def build(rules: list[Rule]) -> dict[tuple[str, str], Cell]:
    """(row label, language) → the cell."""
    out: dict[tuple[str, str], Cell] = {}
    for label, cwes in ROWS:
        key = label.split(" ", 1)[0]
        for lang, _ in COLUMNS:
            ids = tuple(sorted(r.id for r in rules if r.cwe in cwes and lang in r.languages))
            reason = None if ids else NOT_APPLICABLE.get((key, lang))
            out[(label, lang)] = Cell(ids, reason)
    return out


def render(rules: list[Rule], width: int = 14) -> str:
    """The matrix as text: rule ids per cell, ``n/a`` (reasons listed below) or ``MISSING``."""
    cells = build(rules)
    head = f"{'CWE class':34}" + "".join(f"{title:>{width}}" for _, title in COLUMNS)
    lines = [head, "-" * len(head)]
    notes: list[str] = []
    counts = {"rule": 0, "n/a": 0, "missing": 0}
    for label, _ in ROWS:
        row = f"{label:34}"
        for lang, title in COLUMNS:
            c = cells[(label, lang)]
            counts[c.status] += 1
            if c.rules:
                txt = c.rules[0] if len(c.rules) == 1 else f"{c.rules[0]}+{len(c.rules) - 1}"
            elif c.reason:
                txt = "n/a"
                notes.append(f"  {label} / {title}: {c.reason}")
            else:
                txt = "MISSING"
            row += f"{txt:>{width}}"
        lines.append(row)
    lines.append("")
    lines.append(
        f"{counts['rule']} cells with rules, {counts['n/a']} not applicable, {counts['missing']} missing"
    )
    if notes:
        lines.append("Not applicable:")
        lines.extend(notes)
    return "\n".join(lines)


def to_json(rules: list[Rule]) -> list[dict[str, object]]:
    return [
        {
            "cwe_class": label,
            "language": lang,
            "rules": list(c.rules),
            "reason": c.reason,
            "status": c.status,
        }
        for (label, lang), c in build(rules).items()
    ]
