"""The language server: owns settings, the model worker, the index and the security engine, and
is what every feature module (``features/``, one per LSP method group) works on;
``features.create_server`` builds it and registers them, so that this module imports none of them.

Execution model — what runs where:

* the asyncio event loop (pygls) runs handlers; they only unpack params, take a ``Document``
  snapshot, hand work off and convert results; they never block on the model or on disk;
* one engine worker thread (``engine.worker``) owns the model: it loads it after ``initialized``
  and runs generation jobs, newest per document first; ``$/cancelRequest`` or a newer keystroke
  sets the job's cancel event, which stops it within one token;
* a small thread pool (``self.pool``) runs security checks and the cold index build, so that
  diagnostics never delay completions;
* watchdog's observer thread feeds file-system events into the index (debounced inside it).

Results cross back to the loop with ``asyncio.wrap_future``; notifications from other threads go
through ``self.notify_threadsafe``.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.uris import to_fs_path

from slm_lsp import __version__, languages
from slm_lsp.completion.document import Document, relative_path
from slm_lsp.completion.service import CompletionService
from slm_lsp.config import Settings, changed_keys, layer_settings, load_toml, on_change
from slm_lsp.engine.worker import EngineWorker
from slm_lsp.workspace.document import DocumentParser

log = logging.getLogger(__name__)


class SlmProtocol(LanguageServerProtocol):
    """pygls's protocol, except that a request whose params cannot be read still gets an answer
    (``InvalidParams``) instead of leaving the client waiting forever."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if isinstance(data, dict) and "id" in data and "method" in data:
                log.warning("invalid params for %s (id %s)", data.get("method"), data.get("id"))
                self._send_response(data["id"], error=exc.to_response_error())
            raise

    def set_writer(self, writer: Any, include_headers: bool = True) -> None:
        super().set_writer(_ClientPipe(writer), include_headers)


class _ClientPipe:
    """The transport's writer, except that a client that went away (its pipe or socket closed) is
    logged once and later messages are dropped, instead of a traceback for every message."""

    def __init__(self, writer: Any) -> None:
        self._writer = writer
        self.lost = False

    def write(self, data: bytes) -> Any:
        if self.lost:
            return None
        try:
            return self._writer.write(data)
        # ValueError: a closed file
        except (BrokenPipeError, ConnectionResetError, ValueError) as exc:
            self.lost = True
            log.warning("the client's connection is closed (%s); dropping further messages", exc)
            return None

    def close(self) -> None:
        try:
            self._writer.close()
        except (OSError, ValueError):
            pass


class SlmServer(LanguageServer):
    """slm-lsp's LanguageServer; one per process."""

    def __init__(
        self, settings: Settings, base_layers: tuple[dict[str, Any], dict[str, Any]] = ({}, {})
    ) -> None:
        super().__init__(
            "slm-lsp",
            __version__,
            text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental,
            protocol_cls=SlmProtocol,
        )
        self.base_layers = base_layers
        self.settings = settings
        self.editor_layers: list[dict[str, Any]] = [
            {},
            {},
        ]  #: initializationOptions, workspace/configuration
        self.root: Path | None = None
        self.worker: EngineWorker | None = None
        self.index: Any = None  #: workspace.index.WorkspaceIndex once built
        self.retriever: Any = None  #: context.retrieve.ContextRetriever
        self.security: Any = None  #: security.engine.SecurityEngine
        self.completion = CompletionService(settings)
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="slm-bg")
        self._building: Any = None  #: the WorkspaceIndex being built, until it is ready
        self.subsystems_started = False  #: set by start_subsystems (after initialize)
        self.model_starts = 0  #: times the model worker was (re)started
        self.index_starts = 0  #: times the index was (re)started, disabled or not
        self._stopping = False
        self.loop: asyncio.AbstractEventLoop | None = None
        self.completions_enabled = True
        self.last_latency_ms: float | None = None
        self.status_text = "starting"
        self.parsed = DocumentParser()  #: syntax trees of open documents, updated incrementally
        self.progress_tokens: dict[
            str, str
        ] = {}  #: work-done progress in flight: what → token ('' while being created)
        self.progress_ended: dict[
            str, str
        ] = {}  #: progress ended before its token existed: what → final message
        self.diagnostic_tasks: dict[
            str, asyncio.Future[None]
        ] = {}  #: uri → pending debounced check
        self.findings: dict[
            str, tuple[int | None, list[Any]]
        ] = {}  #: uri → (version, security findings)
        self.security_checks: dict[str, asyncio.Future[Any]] = {}  #: uri → the check under way
        self.index_timers: dict[
            str, asyncio.TimerHandle
        ] = {}  #: uri → pending re-index of an open document

    # ------------------------------------------------------------------ settings
    def apply_settings(self) -> list[str]:
        """Recompute settings from all layers (``config.layer_settings``) and act on what changed, as
        each setting declares (``config.on_change``): load the model again, rebuild the index, or
        hand the new values to the live parts. Returns the error messages (already shown to the user)."""
        file_layer, cli_layer = self.base_layers
        editor_file: dict[str, Any] = {}
        for layer in self.editor_layers:
            cfg = (
                layer.get("configFile") or layer.get("config_file")
                if isinstance(layer, dict)
                else None
            )
            if cfg:
                try:
                    editor_file = load_toml(cfg)
                except ValueError as exc:
                    self.show_message(f"slm-lsp: {exc}", lsp.MessageType.Error)
        settings, errors = layer_settings(
            files=(file_layer, editor_file), editor=tuple(self.editor_layers), overrides=cli_layer
        )
        old = self.settings
        self.settings = settings
        needs = {on_change(key) for key in changed_keys(old, settings)}
        self.completion.settings = settings
        self.completion.cache.size = settings.completion.cache_size
        if self.security is not None:
            self.security = self._make_security()
            self.completion.security = self.security
        if self.retriever is not None:
            ring = ("ring_size", "chunk_lines")
            if any(getattr(old.context, k) != getattr(settings.context, k) for k in ring):
                self._make_retriever(self.index)  # the ring of recent chunks is sized at start
            else:
                self.retriever.settings = settings.context
        logging.getLogger("slm_lsp").setLevel(settings.log_level.upper())
        if errors:
            msg = "slm-lsp: invalid settings (defaults used instead): " + "; ".join(errors)
            log.warning(msg)
            self.show_message(msg, lsp.MessageType.Warning)
        if self.worker is not None and "reload_model" in needs:
            log.info("model settings changed: loading the model again")
            self.start_model()
        if self.subsystems_started and "restart_index" in needs:
            log.info("index settings changed: building the index again")
            self.restart_index()
        return errors

    # ------------------------------------------------------------------ model
    def start_model(self) -> None:
        """(Re)start the engine worker; the model loads on its thread."""
        from slm_lsp.engine.loader import load_engine

        if self.worker is not None:
            self.worker.shutdown(timeout=0.5)
        model_settings = self.settings.model
        self.model_starts += 1
        self.worker = EngineWorker(
            lambda: load_engine(model_settings), on_state=self._on_model_state
        )
        self.worker.start()

    def _on_model_state(self, state: str, message: str) -> None:
        """Called on the worker thread when the model starts loading, is ready, or failed."""
        self.status_text = state
        info = getattr(getattr(self.worker, "engine", None), "info", None)
        payload = {
            "state": state,
            "message": message,
            "model": Path(info.path).name if info else "",
            "family": info.family if info else "",
        }
        self.notify_threadsafe("slm/status", payload)
        if state == "failed":
            self.call_threadsafe(
                self.show_message,
                f"slm-lsp: {message}. Completions are off; diagnostics still work.",
                lsp.MessageType.Error,
            )
        elif state == "ready" and info is not None:
            self.call_threadsafe(
                self.log_message,
                f"slm-lsp: model {Path(info.path).name} ready ({info.family} template)",
                lsp.MessageType.Info,
            )
        self.call_threadsafe(_model_progress, self, state, message)

    # ------------------------------------------------------------------ subsystems
    def _make_security(self) -> Any:
        from slm_lsp.security.engine import SecurityEngine

        return SecurityEngine(self.settings.security)

    def start_subsystems(self) -> None:
        """Security engine now; the index in the background (its cache makes restarts cheap)."""
        try:
            self.security = self._make_security()
            self.completion.security = self.security
        except Exception:
            log.exception("security engine failed to start")
        self.subsystems_started = True
        self.start_index()

    def start_index(self) -> None:
        """Build the index in the background, or go without one (no root, or ``index.enabled`` off)."""
        self.index_starts += 1
        if self.root is None or not self.settings.index.enabled:
            self._make_retriever(None)
            return
        self.pool.submit(self._build_index)

    def restart_index(self) -> None:
        """Stop the index (and a build in progress) and start again with the current settings."""
        old, building = self.index, self._building
        self.index = self._building = None
        if building is not None:
            building.cancel()
        if old is not None:
            try:
                old.stop()
            except Exception:
                log.exception("stopping the index failed")
        self.start_index()

    def _make_retriever(self, index: Any) -> None:
        try:
            from slm_lsp.context.retrieve import ContextRetriever

            self.retriever = ContextRetriever(index, self.settings.context)
            self.completion.retriever = self.retriever
        except Exception:
            log.exception("context retrieval is not available")

    def _build_index(self) -> None:
        from slm_lsp.workspace.index import IndexCancelled, WorkspaceIndex

        assert self.root is not None
        try:
            index = WorkspaceIndex(self.root, self.settings.index)
            self._building = index
            if self._stopping:
                index.cancel()
            self.call_threadsafe(_index_progress, self, "begin", 0, 0)
            stats = index.load_or_build(
                lambda done, total: self.call_threadsafe(
                    _index_progress, self, "report", done, total
                )
            )
            if self._stopping:  # shut down while the build finished: start nothing
                return
            self.index = index
            self._make_retriever(index)
            for uri in list(self.workspace.text_documents):
                parsed = self.parsed.get(uri)
                if parsed is not None:
                    self._index_document(uri, parsed.text, parsed.language, parsed.tree)
            if self.settings.index.watch:
                index.start_watching()
            log.info("index ready: %s", stats)
            self.call_threadsafe(
                _index_progress,
                self,
                "end",
                getattr(stats, "files", 0),
                getattr(stats, "symbols", 0),
            )
        except IndexCancelled:
            log.info("indexing stopped (shutting down, or settings changed)")
            self.call_threadsafe(_index_progress, self, "end", 0, 0)
        except Exception as exc:
            log.exception("indexing failed")
            self._make_retriever(None)
            self.call_threadsafe(_index_progress, self, "end", 0, 0)
            self.call_threadsafe(
                self.show_message,
                f"slm-lsp: indexing the workspace failed: {exc}",
                lsp.MessageType.Warning,
            )

    def _index_document(self, uri: str, text: str, language: str | None, tree: Any = None) -> None:
        """Overlay unsaved editor contents on the index (``tree``: the document's current syntax tree)."""
        if self.index is None or not language or not uri.startswith("file:"):
            return
        try:
            self.index.update_document(Path(to_fs_path(uri) or ""), text, language, tree)
        except Exception:
            log.exception("index update of %s failed", uri)

    def schedule_index(self, uri: str) -> None:
        """Re-index an open document once edits pause (``index.watch_debounce_ms``), not on every key.

        Runs on the event loop, the thread that edits the document's syntax tree.
        """
        handle = self.index_timers.pop(uri, None)
        if handle is not None:
            handle.cancel()
        if self.index is None or self.loop is None:
            return

        def run() -> None:
            self.index_timers.pop(uri, None)
            if self.worker is not None and self.worker.serving and self.loop is not None:
                # a completion runs: the index update waits (a newer edit replaces it meanwhile)
                self.index_timers[uri] = self.loop.call_later(
                    self.settings.index.watch_debounce_ms / 1000, run
                )
                return
            parsed = self.parsed.get(uri)
            if parsed is not None:
                self._index_document(uri, parsed.text, parsed.language, parsed.tree)

        self.index_timers[uri] = self.loop.call_later(
            self.settings.index.watch_debounce_ms / 1000, run
        )

    def cancel_index(self, uri: str) -> None:
        handle = self.index_timers.pop(uri, None)
        if handle is not None:
            handle.cancel()

    # ------------------------------------------------------------------ documents
    def document_version(self, uri: str) -> int | None:
        """The version of an open document (None when it is not open); cheap, for any thread."""
        td = self.workspace.text_documents.get(uri)
        return None if td is None else td.version

    def document(self, uri: str) -> Document | None:
        """A snapshot of an open document, or None for a URI the client never opened."""
        try:
            td = self.workspace.get_text_document(uri)
        except Exception:
            return None
        if td is None or uri not in self.workspace.text_documents:
            return None
        fs_path = to_fs_path(uri) if uri.startswith("file:") else None
        spec = languages.detect(fs_path or uri, td.language_id, (td.lines[0] if td.lines else ""))
        path = relative_path(fs_path, str(self.root) if self.root else None) if fs_path else uri
        return Document(
            uri=uri,
            path=path,
            text=td.source,
            language=spec.name if spec else None,
            language_id=td.language_id or "",
            version=td.version,
        )

    def to_server_position(self, uri: str, position: lsp.Position) -> tuple[int, int] | None:
        """Client position → (line, code-point column); None when it lies outside the document."""
        td = self.workspace.get_text_document(uri)
        lines = td.lines
        if position.line < 0 or position.line > len(lines):
            return None
        if position.line == len(lines):
            return (position.line, 0) if not td.source or td.source.endswith("\n") else None
        pos = td.position_codec.position_from_client_units(lines, position)
        line_text = lines[position.line].rstrip("\r\n")
        if pos.character > len(line_text):
            return None
        return pos.line, pos.character

    def to_client_range(self, uri: str, start: tuple[int, int], end: tuple[int, int]) -> lsp.Range:
        td = self.workspace.get_text_document(uri)
        lines = list(td.lines)
        codec = td.position_codec
        return lsp.Range(
            start=codec.position_to_client_units(
                lines, lsp.Position(line=start[0], character=start[1])
            ),
            end=codec.position_to_client_units(lines, lsp.Position(line=end[0], character=end[1])),
        )

    # ------------------------------------------------------------------ messaging
    def show_message(self, message: str, kind: lsp.MessageType = lsp.MessageType.Info) -> None:
        try:
            self.window_show_message(lsp.ShowMessageParams(type=kind, message=message))
        except Exception:
            log.warning("could not show message: %s", message)

    def log_message(self, message: str, kind: lsp.MessageType = lsp.MessageType.Log) -> None:
        try:
            self.window_log_message(lsp.LogMessageParams(type=kind, message=message))
        except Exception:
            log.info("%s", message)

    def call_threadsafe(self, fn: Any, *args: Any) -> None:
        """Run ``fn(*args)`` on the event loop (from any thread)."""
        loop = self.loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(lambda: _safely(fn, *args))
        except RuntimeError:  # loop closing
            pass

    def notify_threadsafe(self, method: str, payload: Any) -> None:
        self.call_threadsafe(self.protocol.notify, method, payload)

    def shutdown(self) -> None:
        """The transport ended (``exit``, or the client's pipes closed): our threads stop too, so
        the process exits instead of lingering until an index build or a generation ends."""
        self.shutdown_subsystems()
        super().shutdown()

    def shutdown_subsystems(self) -> None:
        self._stopping = True
        if self._building is not None:
            self._building.cancel()
        if self.worker is not None:
            self.worker.shutdown(timeout=2.0)
        if self.index is not None:
            try:
                self.index.stop()
            except Exception:
                log.exception("stopping the index failed")
        self.pool.shutdown(wait=False, cancel_futures=True)


def _safely(fn: Any, *args: Any) -> None:
    try:
        fn(*args)
    except Exception:
        log.exception("callback %s failed", getattr(fn, "__name__", fn))


# ---------------------------------------------------------------------- work-done progress
# ``$/progress`` for model loading and indexing, called on the event loop with the server.


def _client_has_progress(ls: Any) -> bool:
    caps = ls.client_capabilities
    return bool(caps.window and caps.window.work_done_progress)


def _progress_begin(ls: Any, key: str, title: str, message: str = "") -> None:
    """Create a progress token with the client, then begin; reports before that are dropped."""
    if not _client_has_progress(ls) or key in ls.progress_tokens:
        return
    token = f"slm-{key}-{uuid.uuid4().hex[:8]}"
    ls.progress_tokens[key] = ""  # pending until the client accepted the token

    async def go() -> None:
        try:
            await ls.work_done_progress.create_async(token)
            ls.work_done_progress.begin(
                token, lsp.WorkDoneProgressBegin(title=title, message=message, cancellable=False)
            )
        except Exception as exc:
            log.debug("progress not shown: %s", exc)
            ls.progress_tokens.pop(key, None)
            return
        if ls.progress_tokens.get(key) is None:  # ended while the token was being created
            ls.work_done_progress.end(
                token, lsp.WorkDoneProgressEnd(message=ls.progress_ended.pop(key, ""))
            )
        else:
            ls.progress_tokens[key] = token

    asyncio.ensure_future(go())


def _progress_report(ls: Any, key: str, message: str, percentage: int | None = None) -> None:
    token = ls.progress_tokens.get(key)
    if not token:
        return
    try:
        ls.work_done_progress.report(
            token, lsp.WorkDoneProgressReport(message=message, percentage=percentage)
        )
    except Exception as exc:
        log.debug("progress report failed: %s", exc)


def _progress_end(ls: Any, key: str, message: str) -> None:
    if key not in ls.progress_tokens:
        return
    token = ls.progress_tokens.pop(key)
    if not token:
        ls.progress_ended[key] = message  # go() ends it once the token exists
        return
    try:
        ls.work_done_progress.end(token, lsp.WorkDoneProgressEnd(message=message))
    except Exception as exc:
        log.debug("progress end failed: %s", exc)


def _model_progress(ls: Any, state: str, message: str) -> None:
    """Work-done progress for model loading (called on the loop)."""
    if state == "loading":
        _progress_begin(ls, "model", "slm-lsp: loading model", "")
    elif state in ("ready", "failed"):
        _progress_end(ls, "model", "ready" if state == "ready" else f"failed: {message}")


def _index_progress(ls: Any, phase: str, done: int, total: int) -> None:
    """Work-done progress for indexing (called on the loop)."""
    if phase == "begin":
        _progress_begin(ls, "index", "slm-lsp: indexing workspace")
    elif phase == "report":
        _progress_report(
            ls, "index", f"{done}/{total} files", int(100 * done / total) if total else None
        )
    else:
        _progress_end(ls, "index", f"{done} files, {total} symbols")
