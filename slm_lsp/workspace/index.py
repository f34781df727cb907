"""The workspace index: every definition in the workspace, built in parallel, cached on disk, kept fresh.

Life cycle: ``load_or_build`` loads the msgpack cache (``cache``) and re-parses only files whose
size or mtime changed, or crawls and parses everything in worker processes on a cold start;
``start_watching`` then follows file-system events (``watch``) and ``update_document`` follows
unsaved editor contents (an overlay over the file on disk until ``close_document``).

Memory: one ``FileRecord`` per file, whose symbols stay msgpack-packed until asked for (a small
LRU keeps recently unpacked files), plus a name → files map with interned strings.
Thread safety: one lock guards the maps; queries copy what they need under it.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import logging
import os
import re
import sys
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from slm_lsp import languages
from slm_lsp.config import IndexSettings
from slm_lsp.processes import worker_context
from slm_lsp.workspace import cache as cache_mod
from slm_lsp.workspace.crawl import Crawler, FileInfo
from slm_lsp.workspace.parse import (
    FileRecord,
    index_chunk,
    index_file,
    record_from_source,
    sniff,
    unpack_symbols,
)
from slm_lsp.workspace.secrets import is_secret_path
from slm_lsp.workspace.symbols import Symbol, SymbolRecord

log = logging.getLogger(__name__)

#: Below this many files to parse, a cold index runs in this process (starting workers costs more).
MIN_FILES_FOR_WORKERS = 48
#: Work is cut into about this many chunks per worker (balances big and small files).
CHUNKS_PER_WORKER = 24
#: Unpacked per-file symbol lists kept for quick repeated lookups.
SYMBOL_LRU_FILES = 256
#: Most name matches looked at by one ``search`` pass.
SEARCH_SCAN_CAP = 20_000


class IndexCancelled(Exception):
    """A build stopped by ``WorkspaceIndex.cancel`` (the server is shutting down)."""


@dataclass
class IndexStats:
    """What ``load_or_build`` did."""

    files: int = 0
    symbols: int = 0
    languages: dict[str, int] = field(default_factory=dict)  #: files per language
    seconds: float = 0.0
    cache_path: str = ""
    from_cache: bool = False
    parsed: int = 0  #: files parsed in this run (all of them on a cold start)
    skipped: int = 0  #: files rejected when read (binary, generated, unreadable, ...)

    def to_dict(self) -> dict[str, object]:
        return {
            "files": self.files,
            "symbols": self.symbols,
            "languages": dict(sorted(self.languages.items())),
            "seconds": round(self.seconds, 3),
            "cache_path": self.cache_path,
            "from_cache": self.from_cache,
            "parsed": self.parsed,
            "skipped": self.skipped,
        }


def _jobs(settings: IndexSettings) -> int:
    if settings.jobs:
        return settings.jobs
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class WorkspaceIndex:
    """Definitions of one workspace root. See the module docstring for the life cycle."""

    def __init__(self, root: Path, settings: IndexSettings) -> None:
        self.root = Path(os.path.abspath(root))
        self.settings = settings
        self.max_depth = settings.symbol_depth
        self.crawler = Crawler(self.root, settings)
        self.cache_path = cache_mod.cache_path(self.root, settings)
        self._lock = threading.RLock()
        self._files: dict[str, FileRecord] = {}  # key → record of the file on disk
        self._overlays: dict[str, FileRecord] = {}  # key → record of unsaved editor contents
        self._overlay_text: dict[str, str] = {}
        self._names: dict[str, str | list[str]] = {}  # symbol name → key(s) of files defining it
        self._unpacked: OrderedDict[str, tuple[bytes, list[SymbolRecord]]] = OrderedDict()
        self._names_blob: str | None = None  # "\n"-joined sorted names, for search
        self._dirty = False
        self._watcher = None  # type: ignore[var-annotated]
        self._cancelled = threading.Event()  # set by cancel(): a build in progress gives up
        self.generation = 0  #: bumped on every change (lets callers cache derived data)

    # ------------------------------------------------------------------------------------ keys
    def key(self, path: str | os.PathLike[str]) -> str:
        """The index key of a path: relative to the root with ``/``, or the absolute path outside it."""
        rel = self.crawler.rel(path)
        return rel if rel else os.path.abspath(os.fspath(path))

    def abspath(self, key: str) -> str:
        return key if os.path.isabs(key) else f"{self.root}{os.sep}{key}"

    # ------------------------------------------------------------------------ name-map plumbing
    def _add_names(self, key: str, names: Iterable[str]) -> None:
        m = self._names
        for name in set(names):
            cur = m.get(name)
            if cur is None:
                m[name] = key
            elif isinstance(cur, str):
                if cur != key:
                    m[name] = [cur, key]
            elif key not in cur:
                cur.append(key)

    def _remove_names(self, key: str, names: Iterable[str]) -> None:
        m = self._names
        for name in set(names):
            cur = m.get(name)
            if cur is None:
                continue
            if isinstance(cur, str):
                if cur == key:
                    del m[name]
            else:
                try:
                    cur.remove(key)
                except ValueError:
                    continue
                if len(cur) == 1:
                    m[name] = cur[0]

    def _effective(self, key: str) -> FileRecord | None:
        return self._overlays.get(key) or self._files.get(key)

    def _set(self, key: str, record: FileRecord | None, overlay: bool = False) -> None:
        """Replace the disk (or overlay) record of ``key``; keep the name map in step with what is effective."""
        with self._lock:
            before = self._effective(key)
            table = self._overlays if overlay else self._files
            if record is None:
                table.pop(key, None)
            else:
                table[key] = record
            after = self._effective(key)
            if before is after:
                return
            if before is not None:
                self._remove_names(key, before.names)
            if after is not None:
                self._add_names(key, after.names)
            self._unpacked.pop(key, None)
            self._names_blob = None
            self._dirty = self._dirty or not overlay
            self.generation += 1

    # ------------------------------------------------------------------------------ building
    def load_or_build(self, progress: Callable[[int, int], None] | None = None) -> IndexStats:
        """Load the cache and refresh what changed, or build from scratch; save the cache when anything changed."""
        t0 = time.perf_counter()
        cached = cache_mod.load(self.cache_path, self.root, self.max_depth)
        old = {r.rel: r for r in cached} if cached is not None else {}
        keep: list[FileRecord] = []
        todo: list[FileInfo] = []
        for n, info in enumerate(self.crawler.walk()):
            if n % 256 == 0:
                self._check_cancelled()
            rec = old.get(info.rel)
            if (
                rec is not None
                and rec.size == info.size
                and rec.mtime_ns == info.mtime_ns
                and rec.language == info.language
            ):
                keep.append(rec)
            else:
                todo.append(info)
        stats = IndexStats(cache_path=str(self.cache_path), from_cache=cached is not None)
        total = len(keep) + len(todo)
        if progress:
            progress(len(keep), total)
        fresh, skipped = self._parse_many(
            todo, lambda n: progress(len(keep) + n, total) if progress else None
        )
        stats.parsed, stats.skipped = len(todo), skipped
        with self._lock:
            self._files = {}
            self._names = {}
            for rec in itertools.chain(keep, fresh):
                self._files[rec.rel] = rec
                self._add_names(rec.rel, rec.names)
            for key, rec in self._overlays.items():
                disk = self._files.get(key)
                if disk is not None:
                    self._remove_names(key, disk.names)
                self._add_names(key, rec.names)
            self._unpacked.clear()
            self._names_blob = None
            self.generation += 1
            changed = cached is None or bool(todo) or len(keep) != len(old)
            if changed:
                cache_mod.save(
                    self.cache_path, self.root, list(self._files.values()), self.max_depth
                )
            self._dirty = False
            stats.files = len(self._files)
            stats.symbols = sum(len(r.names) for r in self._files.values())
            stats.languages = dict(Counter(r.language for r in self._files.values()))
        stats.seconds = time.perf_counter() - t0
        log.info(
            "index: %d files, %d symbols in %.2fs (%s, %d parsed, %d skipped)",
            stats.files,
            stats.symbols,
            stats.seconds,
            "from cache" if stats.from_cache else "cold",
            stats.parsed,
            stats.skipped,
        )
        return stats

    def _parse_many(
        self, todo: list[FileInfo], progress: Callable[[int], None]
    ) -> tuple[list[FileRecord], int]:
        jobs = [(i.rel, i.path, i.language, i.size, i.mtime_ns, self.max_depth) for i in todo]
        workers = min(_jobs(self.settings), max(1, len(jobs)))
        results: list[FileRecord | tuple[str, str]] = []
        if workers > 1 and len(jobs) >= MIN_FILES_FOR_WORKERS:
            try:
                results = self._parse_in_workers(jobs, workers, progress)
            except IndexCancelled:
                raise
            except Exception as exc:  # a broken pool: finish in this process
                log.warning("index: worker processes failed (%r); parsing in-process", exc)
                results = []
        if not results and jobs:
            for n, job in enumerate(jobs, 1):
                self._check_cancelled()
                results.append(index_file(job))
                if n % 64 == 0 or n == len(jobs):
                    progress(n)
        fresh: list[FileRecord] = []
        skipped = 0
        for res in results:
            if isinstance(res, FileRecord):
                fresh.append(res)
            else:
                skipped += 1
                log.debug("index: skipped %s: %s", res[0], res[1])
        return fresh, skipped

    def _parse_in_workers(
        self,
        jobs: list[tuple[str, str, str, int, int, int]],
        workers: int,
        progress: Callable[[int], None],
    ) -> list[FileRecord | tuple[str, str]]:
        # biggest files first, dealt round-robin into chunks of similar weight
        jobs = sorted(jobs, key=lambda j: -j[3])
        n_chunks = min(len(jobs), workers * CHUNKS_PER_WORKER)
        chunks: list[list[tuple[str, str, str, int, int, int]]] = [[] for _ in range(n_chunks)]
        for i, job in enumerate(jobs):
            r, c = divmod(i, n_chunks)
            chunks[c if r % 2 == 0 else n_chunks - 1 - c].append(job)
        out: list[FileRecord | tuple[str, str]] = []
        pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=workers, mp_context=worker_context()
        )
        try:
            futures = [pool.submit(index_chunk, chunk) for chunk in chunks if chunk]
            pending = set(futures)
            while pending:
                self._check_cancelled()
                done, pending = concurrent.futures.wait(
                    pending, timeout=0.25, return_when=concurrent.futures.FIRST_COMPLETED
                )
                for fut in done:
                    for res in fut.result():
                        if (
                            isinstance(res, tuple)
                            and not isinstance(res, FileRecord)
                            and len(res) == 8
                        ):
                            res = FileRecord(*res)
                        out.append(res)
                    progress(len(out))
        finally:  # on cancel, chunks not started are dropped and nobody waits for the running ones
            pool.shutdown(wait=not self._cancelled.is_set(), cancel_futures=True)
        intern = sys.intern
        return [
            FileRecord(
                r.rel,
                intern(r.language),
                r.size,
                r.mtime_ns,
                r.digest,
                tuple(intern(n) for n in r.names),
                r.blob,
                r.imports,
            )
            if isinstance(r, FileRecord)
            else r
            for r in out
        ]

    def save(self) -> None:
        """Write the cache now (the watcher calls this after batches of changes)."""
        with self._lock:
            records = list(self._files.values())
            self._dirty = False
        cache_mod.save(self.cache_path, self.root, records, self.max_depth)

    # ---------------------------------------------------------------------------- freshness
    def update_file(self, path: Path) -> None:
        """Re-index one file from disk (created or modified); a file that is no longer indexable is removed."""
        info = self.crawler.accept(path)
        if info is None:
            self.remove_file(path)
            return
        with self._lock:
            cur = self._files.get(info.rel)
        if cur is not None and cur.size == info.size and cur.mtime_ns == info.mtime_ns:
            return
        res = index_file(
            (info.rel, info.path, info.language, info.size, info.mtime_ns, self.max_depth)
        )
        if not isinstance(res, FileRecord):
            log.debug("index: skipped %s: %s", res[0], res[1])
            self._set(info.rel, None)
            return
        if cur is not None and cur.digest == res.digest:
            res = cur._replace(mtime_ns=res.mtime_ns, size=res.size)  # touched, not changed
        self._set(info.rel, res)

    def remove_file(self, path: Path) -> None:
        """Forget a deleted file, or every file under a deleted folder."""
        key = self.key(path)
        with self._lock:
            if key in self._files:
                self._set(key, None)
                return
            prefix = key.rstrip("/") + "/"
            for k in [k for k in self._files if k.startswith(prefix)]:
                self._set(k, None)

    def refresh_path(self, path: str | os.PathLike[str]) -> None:
        """Bring the index in line with whatever is at ``path`` now (a file, a folder, or nothing)."""
        p = os.fspath(path)
        if os.path.basename(p) == ".gitignore":
            rel = self.crawler.rel(os.path.dirname(p))
            if rel is not None:
                self.crawler.forget_gitignore(rel)
                self.reconcile(rel)
            return
        if os.path.isdir(p):
            rel = self.crawler.rel(p)
            if rel is None:
                return
            for info in self.crawler.walk(rel):
                self.update_file(Path(info.path))
            return
        if os.path.exists(p):
            self.update_file(Path(p))
        else:
            self.remove_file(Path(p))

    def reconcile(self, rel_dir: str = "") -> None:
        """Re-apply the crawl rules under one folder (``''``: the root) after they changed: files now
        excluded leave the index, files now included join it, unchanged files are not re-read."""
        keep: set[str] = set()
        for info in self.crawler.walk(rel_dir):
            keep.add(info.rel)
            self.update_file(Path(info.path))
        under = rel_dir + "/" if rel_dir else ""
        with self._lock:
            gone = [
                k
                for k in self._files
                if k.startswith(under) and not os.path.isabs(k) and k not in keep
            ]
        for key in gone:
            self._set(key, None)

    def update_document(
        self, path: Path, text: str, language: str, tree: object | None = None
    ) -> None:
        """Index unsaved editor contents of ``path`` (an overlay over the file on disk).

        ``language`` is our language name or an LSP ``languageId``; ``tree`` may be a tree-sitter
        tree of exactly ``text`` (from ``DocumentParser``) to skip parsing.
        """
        spec = languages.get(language) or languages.detect(path, language)
        if spec is None or is_secret_path(path):
            return
        key = self.key(path)
        data = text.encode("utf-8", "surrogatepass")
        if len(data) > self.settings.max_file_bytes or sniff(data) in ("binary", "minified"):
            return
        rec = record_from_source(key, spec.name, len(data), 0, data, self.max_depth, tree)
        with self._lock:
            cur = self._overlays.get(key)
            if cur is not None and cur.digest == rec.digest:
                return
            self._overlay_text[key] = text
            self._set(key, rec, overlay=True)

    def close_document(self, path: Path) -> None:
        """Drop the overlay of a closed document (the file on disk counts again)."""
        key = self.key(path)
        with self._lock:
            self._overlay_text.pop(key, None)
            if key in self._overlays:
                self._set(key, None, overlay=True)

    def start_watching(self) -> None:
        """Follow file-system events on a background thread (no-op when ``IndexSettings.watch`` is off)."""
        if not self.settings.watch or self._watcher is not None:
            return
        from slm_lsp.workspace.watch import IndexWatcher

        self._watcher = IndexWatcher(self, self.settings.watch_debounce_ms / 1000.0)
        self._watcher.start()

    def cancel(self) -> None:
        """Make a build in progress (on another thread) give up soon with ``IndexCancelled``."""
        self._cancelled.set()

    def _check_cancelled(self) -> None:
        if self._cancelled.is_set():
            raise IndexCancelled(str(self.root))

    def stop(self) -> None:
        """Stop watching and save the cache when it changed."""
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop()
        if self._dirty:
            self.save()

    # -------------------------------------------------------------------------------- queries
    def _symbols_of(self, key: str) -> list[SymbolRecord]:
        rec = self._effective(key)
        if rec is None:
            return []
        hit = self._unpacked.get(key)
        if hit is not None and hit[0] is rec.blob:
            self._unpacked.move_to_end(key)
            return hit[1]
        syms = unpack_symbols(rec.blob)
        self._unpacked[key] = (rec.blob, syms)
        if len(self._unpacked) > SYMBOL_LRU_FILES:
            self._unpacked.popitem(last=False)
        return syms

    def _to_symbols(self, key: str, records: Iterable[SymbolRecord]) -> list[Symbol]:
        rec = self._effective(key)
        lang = rec.language if rec else ""
        path = self.abspath(key)
        return [Symbol.from_record(r, path, lang) for r in records]

    def file_symbols(self, path: Path) -> list[Symbol]:
        """The definitions of one file in source order (``container`` gives the hierarchy)."""
        key = self.key(path)
        with self._lock:
            return self._to_symbols(key, self._symbols_of(key))

    def members(
        self, path: str | os.PathLike[str], container: str, first: int, last: int
    ) -> list[Symbol]:
        """Definitions whose container is ``container`` and that start after line ``first`` up to ``last`` (a class's members)."""
        key = self.key(path)
        with self._lock:
            records = [
                r for r in self._symbols_of(key) if r[6] == container and first < r[2] <= last
            ]
            return self._to_symbols(key, records)

    def definition_files(self, name: str) -> list[str]:
        """Keys of the files that define ``name`` (cheap: no symbols are unpacked)."""
        with self._lock:
            cur = self._names.get(name)
        if cur is None:
            return []
        return [cur] if isinstance(cur, str) else list(cur)

    def definitions_in(self, name: str, keys: Iterable[str]) -> list[Symbol]:
        """Definitions of ``name`` in the given files only."""
        out: list[Symbol] = []
        with self._lock:
            for key in keys:
                out.extend(
                    self._to_symbols(key, [r for r in self._symbols_of(key) if r[0] == name])
                )
        return out

    def definitions(self, name: str) -> list[Symbol]:
        """Every definition of ``name`` (a bare name, or ``Container.name``), ordered by path and line."""
        container = ""
        if name not in self._names and "." in name:
            container, _, name = name.rpartition(".")
            container = container.rpartition(".")[2]
        syms = self.definitions_in(name, sorted(self.definition_files(name)))
        if container:
            syms = [s for s in syms if s.container == container]
        return syms

    def file_text(self, key_or_path: str) -> str | None:
        """The unsaved text of an open document, or None (read the file)."""
        with self._lock:
            return self._overlay_text.get(
                self.key(key_or_path) if os.path.isabs(key_or_path) else key_or_path
            )

    def record(self, path: str | os.PathLike[str]) -> FileRecord | None:
        """The indexed record of a file (unsaved contents win over the disk), or None."""
        with self._lock:
            return self._effective(self.key(path))

    def imports_of(self, path: str | os.PathLike[str]) -> tuple[str, ...]:
        with self._lock:
            rec = self._effective(self.key(path))
        return rec.imports if rec else ()

    def keys(self) -> list[str]:
        with self._lock:
            return sorted(set(self._files) | set(self._overlays))

    def __len__(self) -> int:
        return len(self._files)

    def _blob(self) -> str:
        with self._lock:
            if self._names_blob is None:
                self._names_blob = "\n".join(sorted(self._names)) + "\n"
            return self._names_blob

    def search(self, query: str, limit: int = 100) -> list[Symbol]:
        """Fuzzy symbol search (``workspace/symbol``): exact, then prefix, substring and subsequence matches (case-insensitive)."""
        q = query.strip()
        if not q or limit <= 0:
            return []
        blob = self._blob()
        ranked: dict[str, int] = {}

        def scan(pattern: str, rank: int) -> None:
            found = [
                m.group(0)
                for m in itertools.islice(
                    re.finditer(pattern, blob, re.IGNORECASE | re.MULTILINE), SEARCH_SCAN_CAP
                )
            ]
            found.sort(key=lambda n: (len(n), n))
            for n in found:
                ranked.setdefault(n, rank)

        esc = re.escape(q)
        if q in self._names:
            ranked[q] = 0
        scan(rf"^{esc}[^\n]*", 1)
        if len(ranked) < limit and len(q) >= 2:
            scan(rf"^[^\n]+{esc}[^\n]*", 2)
        if len(ranked) < limit and len(q) >= 2:
            parts = []
            for ch in q:
                e = re.escape(ch)
                parts.append(f"[^\\n{e}]*+{e}")
            scan("^" + "".join(parts) + r"[^\n]*", 3)
        out: list[Symbol] = []
        for name in sorted(ranked, key=lambda n: (ranked[n], n.lower() != q.lower(), len(n), n)):
            out.extend(self.definitions(name))
            if len(out) >= limit:
                break
        return out[:limit]
