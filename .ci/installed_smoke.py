"""CI check of the installed package: run from a folder outside the checkout with the venv's Python.

It plants a small project in the current folder and runs the installed ``slm-lsp``: ``index``
(symbols found, so the tree-sitter queries shipped in the wheel), ``review`` (the planted finding,
exit status 1), ``complete`` (with the model CI fetched) and ``serve`` (``initialize`` and a
``documentSymbol`` over stdio). ``SMOKE_MODEL=PATH`` completes with that model instead. Any miss is one line on stderr and exit status 1.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path.cwd()
BIN = Path(sys.executable).parent / "slm-lsp"

WORDS = '''def count_words(text):
    """Return the number of words in text."""
    return len(text.split())


class Counter:
    def add(self, word):
        return word
'''
# A request parameter reaching a shell: the data flow (PY-T078, security profile, the default) and
# the pattern rule (PY-B602, audit profile) both name line 8.
DANGER = """import subprocess

from flask import request


def run():
    cmd = request.args.get("cmd")
    return subprocess.call(cmd, shell=True)
"""


def fail(msg: str) -> None:
    print(f"installed-package check failed: {msg}", file=sys.stderr)
    raise SystemExit(1)


def cli(*args: str, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=600, cwd=HERE)
    if proc.returncode not in ok:
        fail(f"slm-lsp {' '.join(args)} exited {proc.returncode}: {proc.stderr.strip()[-500:]}")
    return proc


def frame(msg: dict) -> bytes:
    body = json.dumps(msg).encode()
    return f"Content-Length: {len(body)}\r\n\r\n".encode() + body


def read_message(stream) -> dict:  # type: ignore[no-untyped-def]
    length = 0
    while True:
        line = stream.readline()
        if not line:
            fail("the server closed stdout")
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
    return json.loads(stream.read(length))


def request(proc: subprocess.Popen, rid: int, method: str, params: dict) -> dict:  # type: ignore[type-arg]
    assert proc.stdin and proc.stdout
    proc.stdin.write(frame({"jsonrpc": "2.0", "id": rid, "method": method, "params": params}))
    proc.stdin.flush()
    while True:
        msg = read_message(proc.stdout)
        if msg.get("id") == rid and "method" not in msg:
            if "error" in msg:
                fail(f"{method} answered an error: {msg['error']}")
            return msg["result"]


def notify(proc: subprocess.Popen, method: str, params: dict) -> None:  # type: ignore[type-arg]
    assert proc.stdin
    proc.stdin.write(frame({"jsonrpc": "2.0", "method": method, "params": params}))
    proc.stdin.flush()


def main() -> int:
    import slm_lsp

    if Path(slm_lsp.__file__).resolve().is_relative_to(Path(__file__).resolve().parents[1]):
        fail(f"slm_lsp was imported from the checkout ({slm_lsp.__file__}), not the install")
    for name in ("tests", "bench", "slm_lsp_train"):
        if importlib.util.find_spec(name) is not None:
            fail(f"{name} is importable from the installed package")
    (HERE / "words.py").write_text(WORDS)
    (HERE / "danger.py").write_text(DANGER)

    data = json.loads(cli("index", ".", "--json").stdout)
    if data.get("symbols", 0) <= 0:
        fail(f"index found no symbols: {data}")
    print(f"index: {data['files']} files, {data['symbols']} symbols")

    report = json.loads(cli("review", ".", "--format", "json", ok=(1,)).stdout)
    rules = {(f["rule_id"], Path(f["path"]).name, f["start_line"]) for f in report["findings"]}
    if ("PY-T078", "danger.py", 8) not in rules:
        fail(f"review missed PY-T078 at danger.py:8: {sorted(rules)}")
    print(f"review: {len(rules)} findings, PY-T078 at danger.py:8 among them")

    model = ["--model", os.environ["SMOKE_MODEL"]] if os.environ.get("SMOKE_MODEL") else []
    comp = json.loads(cli("complete", "words.py:3:16", "--json", "--no-context", *model).stdout)
    print(f"complete: {comp['model']['path']} → {comp['completion'][:40]!r}")

    proc = subprocess.Popen(
        [str(BIN), "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=HERE
    )
    try:
        init = request(
            proc, 1, "initialize", {"processId": None, "rootUri": HERE.as_uri(), "capabilities": {}}
        )
        caps = init["capabilities"]
        for cap in ("inlineCompletionProvider", "documentSymbolProvider", "codeActionProvider"):
            if caps.get(cap) in (None, False):
                fail(f"initialize does not advertise {cap}")
        notify(proc, "initialized", {})
        uri = (HERE / "words.py").as_uri()
        notify(
            proc,
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": WORDS}},
        )
        symbols = request(proc, 2, "textDocument/documentSymbol", {"textDocument": {"uri": uri}})
        if not symbols:
            fail("documentSymbol answered nothing")
        print(f"serve: initialize ok, {len(symbols)} document symbols")
        request(proc, 3, "shutdown", {})
        notify(proc, "exit", {})
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
