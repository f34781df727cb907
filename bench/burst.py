"""After a burst of edits and requests, how long the next inline completion takes, against the same
request on a quiet server (issue 16: "whatever a newer request or edit made stale is dropped, not
worked off").

Two servers over stdio (``python -m slm_lsp serve``), the same workspace of real stdlib files:

1. *quiet*: open the files, wait until the model is loaded and the workspace indexed, let the
   warm-ups settle, then make one edit in the first file (a new statement started in a function
   body far from the top) and ask for an Automatic inline completion there: time to answer.
2. *burst*: open the same files, then ``--edits`` random one-character incremental edits (inserts
   and deletes at random places of all files, ``--gap-ms`` apart); after every third edit an
   Automatic ``inlineCompletion`` at the edit, and in turn ``documentSymbol``, ``codeAction`` and a
   diagnostic pull every tenth; a third of all requests is cancelled (``$/cancelRequest``) at the next
   edit. Right after the last edit, the first file is set back to the quiet run's text (one
   incremental change over the whole document) and the same inline completion is asked: time to
   answer. The server's resident memory is read before and after.

Both final requests see the same document text and position, so ``burst ÷ quiet`` is what the
burst left behind. Counts are bounded; loopback stdio only.
"""

from __future__ import annotations

import asyncio
import logging
import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import common
from bench.latency import _get
from bench.typing import _candidates

#: Real files opened in the editor (stdlib, relative to its folder); the first one is asked in.
FILES = ("json/decoder.py", "textwrap.py", "shlex.py", "fnmatch.py", "glob.py")
#: Characters the burst inserts.
ALPHABET = "abcdefghijklmnopqrstuvwxyz_ ().,:=0123456789\n"
#: Budgets of the runs (the latency bench's default shape).
SETTINGS: dict[str, Any] = {
    "completion.prefix_chars": 1500,
    "completion.suffix_chars": 400,
    "context.budget_tokens": 128,
    "completion.max_tokens": 24,
    "model.n_ctx": 2048,
}
#: Seconds the quiet server gets after opening the files (index, warm-ups, diagnostics).
SETTLE_S = 8.0
#: The longest wait for the final answer.
FINAL_TIMEOUT_S = 600.0


def probe(text: str) -> tuple[str, int, int]:
    """``text`` with a new statement started in the body of a function in its second half: the
    text, and the cursor (line, column) at the end of what is typed."""
    cands = _candidates(text)
    lines = text.split("\n")
    later = [c for c in cands if c[1] > len(lines) // 2] or cands
    _name, first, _last = later[0]
    body = lines[first]
    indent = body[: len(body) - len(body.lstrip(" "))]
    typed = indent + "result = "
    lines.insert(first, typed)
    return "\n".join(lines), first, len(typed)


def end_of(text: str) -> tuple[int, int]:
    lines = text.split("\n")
    return len(lines) - 1, len(lines[-1])


def rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


class Editor:
    """A pygls client driving one server: open documents, edits, requests, timings."""

    def __init__(self, server_cmd: list[str], root: Path) -> None:
        from pygls.lsp.client import LanguageClient

        self.cmd, self.root = server_cmd, root
        self.client = LanguageClient("slm-lsp-bench-burst", "1")
        self.statuses: list[tuple[float, Any]] = []
        self.texts: dict[str, str] = {}
        self.versions: dict[str, int] = {}
        self.stderr_tail: list[bytes] = []

    async def start(self) -> float:
        from lsprotocol import types as lsp

        logging.getLogger("pygls").setLevel(logging.CRITICAL)
        c = self.client

        @c.feature("slm/status")
        def _on_status(params: Any) -> None:
            self.statuses.append((time.perf_counter(), params))

        quiet = (
            lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS,
            lsp.WINDOW_LOG_MESSAGE,
            lsp.WINDOW_SHOW_MESSAGE,
        )
        for method in (*quiet, "$/progress", "slm/partialCompletion"):
            c.feature(method)(lambda *_a: None)
        await c.start_io(*self.cmd)
        self.drainer = asyncio.create_task(self._drain())
        caps = lsp.ClientCapabilities(
            text_document=lsp.TextDocumentClientCapabilities(
                inline_completion=lsp.InlineCompletionClientCapabilities(),
                diagnostic=lsp.DiagnosticClientCapabilities(),
            )
        )
        folder = lsp.WorkspaceFolder(uri=self.root.as_uri(), name=self.root.name)
        await c.initialize_async(
            lsp.InitializeParams(
                capabilities=caps, root_uri=self.root.as_uri(), workspace_folders=[folder]
            )
        )
        c.initialized(lsp.InitializedParams())
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < 300:
            st = await self.status()
            if _get(st, "model_state") == "failed":
                break
            if _get(st, "model_state") == "ready" and (
                _get(st, "indexed") or time.perf_counter() - t0 > 60
            ):
                return time.perf_counter() - t0
            await asyncio.sleep(0.05)
        tail = b"".join(self.stderr_tail).decode(errors="replace")[-2000:]
        raise RuntimeError(f"model did not load: {st}; server stderr: {tail}")

    async def _drain(self) -> None:  # the server logs to stderr; an unread pipe would block it
        proc = self.client._server  # noqa: SLF001 - pygls keeps the process here
        assert proc is not None and proc.stderr is not None
        while line := await proc.stderr.readline():
            self.stderr_tail.append(line)
            del self.stderr_tail[:-50]

    @property
    def pid(self) -> int:
        return int(self.client._server.pid)  # noqa: SLF001

    async def status(self) -> Any:
        from lsprotocol import types as lsp

        cmd = lsp.ExecuteCommandParams(command="slm.status")
        return await self.client.workspace_execute_command_async(cmd)

    def open(self, path: Path) -> str:
        from lsprotocol import types as lsp

        uri = path.as_uri()
        text = path.read_text(encoding="utf-8")
        self.texts[uri], self.versions[uri] = text, 1
        item = lsp.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
        self.client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=item))
        return uri

    def change(self, uri: str, start: tuple[int, int], end: tuple[int, int], new: str) -> None:
        """Replace ``start``–``end`` (line, column; ASCII text) with ``new``, here and in the server."""
        from lsprotocol import types as lsp

        lines = self.texts[uri].split("\n")
        head = "\n".join(lines[: start[0]] + [lines[start[0]][: start[1]]])
        tail = "\n".join([lines[end[0]][end[1] :]] + lines[end[0] + 1 :])
        self.texts[uri] = head + new + tail
        self.versions[uri] += 1
        rng = lsp.Range(start=lsp.Position(*start), end=lsp.Position(*end))
        self.client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                text_document=lsp.VersionedTextDocumentIdentifier(
                    uri=uri, version=self.versions[uri]
                ),
                content_changes=[lsp.TextDocumentContentChangePartial(range=rng, text=new)],
            )
        )

    def request(self, method: str, params: Any, msg_id: str) -> asyncio.Future[Any]:
        return asyncio.wrap_future(self.client.protocol.send_request(method, params, msg_id=msg_id))

    def cancel(self, msg_id: str) -> None:
        from lsprotocol import types as lsp

        self.client.protocol.notify("$/cancelRequest", lsp.CancelParams(id=msg_id))

    async def inline(self, uri: str, line: int, col: int, msg_id: str) -> dict[str, Any]:
        """Ask for an Automatic inline completion and wait for it: time to answer and the server's timings."""
        from lsprotocol import types as lsp

        params = lsp.InlineCompletionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            position=lsp.Position(line=line, character=col),
            context=lsp.InlineCompletionContext(
                trigger_kind=lsp.InlineCompletionTriggerKind.Automatic
            ),
        )
        sent = time.perf_counter()
        res = await asyncio.wait_for(
            self.request(lsp.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id), FINAL_TIMEOUT_S
        )
        done = time.perf_counter()
        items = list(_get(res, "items", []) or []) if res is not None else []
        timings: dict[str, Any] = {}
        for t, st in reversed(self.statuses):
            if t < sent:
                break
            if _get(st, "latency_ms") is not None and _get(st, "prompt_tokens") is not None:
                keys = (
                    "latency_ms",
                    "prompt_tokens",
                    "prompt_tokens_evaluated",
                    "prompt_ms",
                    "generated_tokens",
                    "generation_ms",
                )
                timings = {k: _get(st, k) for k in keys}
                if (
                    _get(st, "budgets") is not None
                ):  # lowered by a latency target: what was planned with
                    b = _get(st, "budgets")
                    names = ("prefix_chars", "suffix_chars", "context_tokens", "max_tokens")
                    timings["budgets"] = {k: int(_get(b, k)) for k in names}
                break
        text = str(_get(items[0], "insert_text", "")) if items else ""
        return {"ms": round((done - sent) * 1000, 1), "items": len(items), "text": text, **timings}

    async def stop(self) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        try:
            await asyncio.wait_for(self.client.stop(), timeout=10)
        except Exception:  # noqa: BLE001 - the server is going anyway
            pass
        self.drainer.cancel()


async def quiet_run(cmd: list[str], root: Path, paths: list[Path]) -> dict[str, Any]:
    ed = Editor(cmd, root)
    load_s = await ed.start()
    uris = [ed.open(p) for p in paths]
    await asyncio.sleep(SETTLE_S)
    text, line, col = probe(ed.texts[uris[0]])
    ed.change(uris[0], (0, 0), end_of(ed.texts[uris[0]]), text)
    out = await ed.inline(uris[0], line, col, "quiet-final")
    out["load_s"] = round(load_s, 2)
    out["rss_mb"] = rss_mb(ed.pid)
    await ed.stop()
    return out


async def burst_run(
    cmd: list[str], root: Path, paths: list[Path], edits: int, gap_ms: float, seed: int
) -> dict[str, Any]:
    from lsprotocol import types as lsp

    rng = random.Random(seed)
    ed = Editor(cmd, root)
    load_s = await ed.start()
    uris = [ed.open(p) for p in paths]
    target, line, col = probe(ed.texts[uris[0]])
    await asyncio.sleep(SETTLE_S)
    rss_before = rss_mb(ed.pid)
    sent: dict[str, int] = {"inline": 0, "symbols": 0, "code_action": 0, "diagnostic": 0}
    futures: list[asyncio.Future[Any]] = []
    to_cancel: list[str] = []
    cancelled = 0
    t0 = time.perf_counter()
    for i in range(edits):
        await asyncio.sleep(gap_ms / 1000)
        for mid in to_cancel:
            ed.cancel(mid)
        cancelled += len(to_cancel)
        to_cancel = []
        uri = rng.choice(uris)
        lines = ed.texts[uri].split("\n")
        ln = rng.randrange(len(lines))
        c = rng.randint(0, len(lines[ln]))
        if c < len(lines[ln]) and rng.random() < 0.4:
            ed.change(uri, (ln, c), (ln, c + 1), "")
            after = (ln, c)
        else:
            ch = rng.choice(ALPHABET)
            ed.change(uri, (ln, c), (ln, c), ch)
            after = (ln + 1, 0) if ch == "\n" else (ln, c + 1)
        doc = lsp.TextDocumentIdentifier(uri=uri)
        pos = lsp.Position(*after)
        reqs: list[tuple[str, str, Any]] = []
        if i % 3 == 2:
            ctx = lsp.InlineCompletionContext(
                trigger_kind=lsp.InlineCompletionTriggerKind.Automatic
            )
            params = lsp.InlineCompletionParams(text_document=doc, position=pos, context=ctx)
            reqs.append(("inline", lsp.TEXT_DOCUMENT_INLINE_COMPLETION, params))
        if i % 10 == 0:
            params = lsp.DocumentSymbolParams(text_document=doc)
            reqs.append(("symbols", lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL, params))
        if i % 10 == 3:
            ca = lsp.CodeActionContext(diagnostics=[])
            params = lsp.CodeActionParams(
                text_document=doc, range=lsp.Range(start=pos, end=pos), context=ca
            )
            reqs.append(("code_action", lsp.TEXT_DOCUMENT_CODE_ACTION, params))
        if i % 10 == 6:
            params = lsp.DocumentDiagnosticParams(text_document=doc)
            reqs.append(("diagnostic", lsp.TEXT_DOCUMENT_DIAGNOSTIC, params))
        for kind, method, params in reqs:
            mid = f"burst-{i}-{kind}"
            futures.append(ed.request(method, params, mid))
            sent[kind] += 1
            if rng.random() < 1 / 3:
                to_cancel.append(mid)
    burst_s = time.perf_counter() - t0
    for mid in to_cancel:
        ed.cancel(mid)
    cancelled += len(to_cancel)
    answered_during = sum(f.done() for f in futures)
    ed.change(uris[0], (0, 0), end_of(ed.texts[uris[0]]), target)
    out = await ed.inline(uris[0], line, col, "burst-final")
    answered_before_final = sum(f.done() for f in futures)
    out.update(
        {
            "load_s": round(load_s, 2),
            "edits": edits,
            "burst_s": round(burst_s, 1),
            "requests_sent": sent,
            "requests_cancelled": cancelled,
            "requests_answered_during_burst": answered_during,
            "requests_answered_before_final_answer": answered_before_final,
            "rss_mb_before": rss_before,
            "rss_mb_after": rss_mb(ed.pid),
        }
    )
    st = await ed.status()
    out["engine_counters"] = _get(st, "engine_counters")
    for f in futures:
        f.cancel()
    await ed.stop()
    return out


def run(args: Any) -> dict[str, Any]:
    if args.model:
        model = Path(args.model)
    else:
        from slm_lsp.engine.loader import find_smollm2

        found = find_smollm2()
        if found is None:
            raise SystemExit(
                "SmolLM2 is not installed: `python -m slm_lsp model fetch`, or --model"
            )
        model = found
    edits = args.edits or (60 if args.quick else 3000)
    n_files = 2 if args.quick else len(FILES)
    work = Path(tempfile.mkdtemp(prefix="slm-bench-burst-"))
    settings = dict(SETTINGS)
    for item in args.set or []:
        k, _, v = item.partition("=")
        settings[k] = v
    try:
        paths = []
        for rel in FILES[:n_files]:
            dst = work / rel.replace("/", "_")
            shutil.copy2(common.STDLIB / rel, dst)
            paths.append(dst)
        all_settings, cmd = common.serve_command(model, work, settings)
        load = common.machine().get("load_avg_1_5_15")
        quiet = asyncio.run(quiet_run(cmd, work, paths))
        load_burst = common.machine().get("load_avg_1_5_15")
        burst = asyncio.run(burst_run(cmd, work, paths, edits, args.gap_ms, args.seed))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ratio = round(burst["ms"] / quiet["ms"], 2) if quiet["ms"] else None
    result = {
        **common.header({**all_settings, "edits": edits, "gap_ms": args.gap_ms, "seed": args.seed}),
        "model": common.model_record(model),
        "files": list(FILES[:n_files]),
        "load_avg_at_quiet_start": load,
        "load_avg_at_burst_start": load_burst,
        "quiet": quiet,
        "burst": burst,
        "summary": {"quiet_ms": quiet["ms"], "after_burst_ms": burst["ms"], "ratio": ratio},
    }
    name = args.name or ("burst-quick" if args.quick else "burst")
    path = common.write_result(name, result, args.out)
    common.print_table(
        f"burst — {model.name}, {edits} edits over {burst['burst_s']} s",
        ["figure", "value"],
        [
            ("cold request, quiet server (ms)", quiet["ms"]),
            ("the same request right after the burst (ms)", burst["ms"]),
            ("after burst ÷ quiet", ratio),
            (
                "prompt tokens / evaluated: quiet; after burst",
                f"{quiet.get('prompt_tokens')} / {quiet.get('prompt_tokens_evaluated')}; "
                f"{burst.get('prompt_tokens')} / {burst.get('prompt_tokens_evaluated')}",
            ),
            (
                "requests sent (cancelled)",
                f"{burst['requests_sent']} ({burst['requests_cancelled']})",
            ),
            (
                "answered during the burst / before the final answer",
                f"{burst['requests_answered_during_burst']} / "
                f"{burst['requests_answered_before_final_answer']}",
            ),
            (
                "server memory before / after (MB)",
                f"{burst['rss_mb_before']} / {burst['rss_mb_after']}",
            ),
        ],
    )
    print(f"wrote {path}")
    return result


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "burst",
        help="the next inline completion after a burst of edits and requests vs on a quiet server",
    )
    p.add_argument("--model", help="GGUF file (default: SmolLM2, as in the issue's figure)")
    p.add_argument(
        "--edits", type=int, default=0, help="edits in the burst (default 3000; --quick 60)"
    )
    p.add_argument("--gap-ms", type=float, default=20.0, help="time between edits (default 20)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--set", action="append", metavar="KEY=VALUE", help="extra server setting (repeatable)"
    )
    p.add_argument("--name", default="", help="result file name (default: burst[-quick])")
    p.set_defaults(func=run)
