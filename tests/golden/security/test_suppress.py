"""Suppressions (nosec, slm-ignore in each comment syntax) and the settings that filter findings."""

from __future__ import annotations

from slm_lsp.config import SecuritySettings
from slm_lsp.security import SecurityEngine
from slm_lsp.security.suppress import parse_line


def ids(findings) -> list[tuple[str, int]]:
    return [(f.rule_id, f.start_line) for f in findings]


def test_nosec_forms(engine: SecurityEngine) -> None:
    src = "\n".join(
        [
            "eval(a)  # nosec",
            "eval(b)  # nosec B307",
            "eval(c)  # nosec: PY-B307",
            "eval(d)  # nosec B602",
            "eval(e)  # NOSEC",
            "eval(f)  # slm-ignore: PY-B307",
            "eval(g)  # slm-ignore",
            "eval(h)  # nosec -- reviewed, test data",
            "x = '# nosec'; eval(i)",
            "eval(j)",
        ]
    )
    assert ids(engine.check(src, "a.py")) == [("PY-B307", 3), ("PY-B307", 8), ("PY-B307", 9)]


def test_next_line_and_file(engine: SecurityEngine) -> None:
    src = "# slm-ignore-next-line: PY-B307\neval(a)\neval(b)\n"
    assert ids(engine.check(src, "a.py")) == [("PY-B307", 2)]
    assert engine.check("# slm-ignore-file: PY-B307\neval(a)\neval(b)\n", "a.py") == []
    assert ids(engine.check("# slm-ignore-file: PY-B101\neval(a)\n", "a.py")) == [("PY-B307", 1)]


def test_multiline_statement(engine: SecurityEngine) -> None:
    src = "import subprocess  # nosec\nsubprocess.Popen('ls',  # nosec\n                 shell=True)\n"
    assert [r for r, _ in ids(engine.check(src, "a.py"))] == []


def test_other_comment_syntaxes(engine: SecurityEngine) -> None:
    assert engine.check("eval(x); // slm-ignore: JS-S001\n", "a.js") == []
    assert engine.check("eval(x); /* nosec */\n", "a.ts") == []
    assert ids(engine.check("eval(x); # nosec\n", "a.js")) == [
        ("JS-S001", 0)
    ]  # '#' is no comment in JS
    assert engine.check("<?php\neval($x); // nosec\neval($y); # slm-ignore\n", "a.php") == []
    assert engine.check('system("ls #{x}") # slm-ignore: RB-S001\n', "a.rb") == []
    assert engine.check("int main(){ gets(b); // slm-ignore: C-S001\n}\n", "a.c") == []
    assert engine.check('eval "$X" # nosec\n', "a.sh") == []


def test_malformed_suppressions_never_crash(engine: SecurityEngine) -> None:
    for comment in (
        "# nosec:,,,",
        "# nosec B",
        "# slm-ignore:",
        "# slm-ignore-next-line",
        "# nosec \x00\ud800",
        "# nosec" + " B1" * 5000,
        "# slm-ignore-file:::",
    ):
        findings = engine.check(f"eval(x)  {comment}\n", "a.py")
        assert isinstance(findings, list)
    assert parse_line("x  # nosec PY-B307, junk, B602", "python")[0].ids == frozenset(
        {"PY-B307", "B602"}
    )


def test_disabled_rules_by_our_id_and_bandit_id() -> None:
    src = "eval(a)\nexec(b)\nassert c\n"
    e = SecurityEngine(SecuritySettings(disabled_rules=["PY-B307", "B102"]), profile="audit")
    assert ids(e.check(src, "a.py")) == [("PY-B101", 2)]


def test_exclude_paths_and_enabled(tmp_path) -> None:
    e = SecurityEngine(SecuritySettings(exclude_paths=["vendor/", "*_test.py"]), profile="audit")
    assert e.check("eval(a)\n", "/w/vendor/x.py") == []
    assert e.check("eval(a)\n", "/w/a_test.py") == []
    assert len(e.check("eval(a)\n", "/w/app.py")) == 1
    f = tmp_path / "vendor" / "x.py"
    f.parent.mkdir()
    f.write_text("eval(a)\n")
    assert e.check_file(str(f)) == ([], "excluded")
    assert (
        SecurityEngine(SecuritySettings(enabled=False), profile="audit").check("eval(a)\n", "a.py")
        == []
    )


def test_min_confidence() -> None:
    src = "helper(cmd, shell=True)\neval(a)\n"  # B604 is low confidence, B307 high
    assert ids(
        SecurityEngine(SecuritySettings(min_confidence="high"), profile="audit").check(src, "a.py")
    ) == [("PY-B307", 1)]
    assert len(SecurityEngine(profile="audit").check(src, "a.py")) == 2
