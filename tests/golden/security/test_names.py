"""Names resolved per scope and in order for JavaScript/TypeScript and Go (``security/names.py``)."""

from __future__ import annotations

import time

import pytest
import tree_sitter

from slm_lsp import languages as langs
from slm_lsp.security import names
from slm_lsp.security.core import FileContext


def _resolve_all(language: str, src: str) -> list[tuple[int, str, tuple[str, str | None]]]:
    """(line, callee text, resolution) for every call in ``src``."""
    data = src.encode()
    tree = tree_sitter.Parser(langs.ts_language(language)).parse(data)
    ctx = FileContext(src, data, tree, language, "x", time.monotonic() + 10)
    q = tree_sitter.Query(langs.ts_language(language), "(call_expression function: (_) @f)")
    found = tree_sitter.QueryCursor(q).captures(tree.root_node)["f"]
    return sorted(
        (n.start_point[0], n.text.decode(), names.resolve(ctx, n))
        for n in found
        if n.text.decode() != "require"
    )


JS = """\
const cp = require('child_process');
import { exec as run } from 'node:child_process';
cp.exec(a);
run(a);
function f(cp) { cp.exec(a); }
function g() { const run = make(); run(a); }
exec(a);
function exec() {}
other.exec(a);
"""


@pytest.mark.parametrize("language", ["javascript", "typescript", "tsx"])
def test_js_aliases_scopes_and_hoisting(language: str) -> None:
    got = {(line, text): res for line, text, res in _resolve_all(language, JS)}
    assert got[(2, "cp.exec")] == ("import", "child_process.exec")
    assert got[(3, "run")] == ("import", "child_process.exec")
    assert got[(4, "cp.exec")] == ("shadow", None)  # the parameter hides the module
    assert got[(5, "run")] == ("shadow", None)  # a re-binding in the function, before the use
    assert got[(6, "exec")] == ("local", None)  # hoisted function declaration of this file
    assert got[(8, "other.exec")] == ("unknown", None)


def test_rebinding_order_in_one_scope() -> None:
    src = "let x = make();\nx(1);\nconst y = require('child_process');\ny.exec(a);\n"
    got = {text: res for _, text, res in _resolve_all("javascript", src)}
    assert got["x"] == ("local", None)
    assert got["y.exec"] == ("import", "child_process.exec")


def test_go_import_alias_and_parameter() -> None:
    src = (
        'package main\n\nimport (\n\tosexec "os/exec"\n\t"fmt"\n)\n\n'
        'func a() { osexec.Command("x"); fmt.Println(1) }\n'
        'func b(exec runner) { exec.Command("x") }\n'
    )
    got = {text: res for _, text, res in _resolve_all("go", src)}
    assert got["osexec.Command"] == ("import", "exec.Command")
    assert got["fmt.Println"] == ("import", "fmt.Println")
    assert got["exec.Command"] == ("shadow", None)


def test_every_table_compiles() -> None:
    for language in names.languages():
        assert names._lang(language) is not None


def test_rust_use_alias_list_and_local_struct() -> None:
    src = (
        "use std::process::Command as Cmd;\nuse std::fs::{read, write as put};\n"
        'fn a() { Cmd::new("x"); read("p"); put("p", b""); }\n'
        "struct Command;\nfn b() { Command::new(); }\n"
    )
    got = {text: res for _, text, res in _resolve_all("rust", src)}
    assert got["Cmd::new"] == ("import", "std::process::Command.new")
    assert got["read"] == ("import", "std::fs.read")
    assert got["put"] == ("import", "std::fs.write")
    assert got["Command::new"] == ("local", None)


def test_java_declared_types_resolve_through_imports() -> None:
    src = (
        "import java.sql.Statement;\nimport java.util.*;\n"
        "class A { void m(Statement p) { Statement st = c.make(); st.run(); p.run(); } }\n"
        "class B { static class Statement {} void m() { Statement st = null; st.run(); } }\n"
    )
    data = src.encode()
    tree = tree_sitter.Parser(langs.ts_language("java")).parse(data)
    ctx = FileContext(src, data, tree, "java", "x", time.monotonic() + 10)
    q = tree_sitter.Query(langs.ts_language("java"), "(method_invocation object: (identifier) @o)")
    got = [
        (n.start_point[0], names.resolve_type(ctx, n))
        for n in tree_sitter.QueryCursor(q).captures(tree.root_node)["o"]
        if n.text != b"c"
    ]
    assert sorted(got) == [
        (2, ("import", "java.sql.Statement")),
        (2, ("import", "java.sql.Statement")),
        (3, ("local", None)),
    ]
