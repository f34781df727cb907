"""Cross-file context for one completion request: which snippets go into the prompt, within a token budget.

Pipeline for ``ContextRetriever.retrieve`` (each step cheap; the whole is meant to take a few ms):

1. parse the current text, incrementally from the previous request's tree for the same path;
2. collect the names used around the cursor (``references.scm`` on the lines near it and on the
   header of each enclosing definition) and the file's imports (``imports.scm``);
3. resolve the names through the index to definitions in other files — preferring files the
   current file imports, skipping ambiguous names that no import explains — and render each as its
   body when small, else its signature and doc (a class also lists its members);
4. add recently edited/viewed chunks (``ring.ChunkRing``) and chunks of recently viewed files most
   similar to the code around the cursor;
5. drop secrets (``secrets``), duplicates and anything inside the current window, rank (names used
   nearer the cursor, calls and types first, imported files first, last request's picks kept while
   still relevant), pack greedily within the token budget, and return the pick ordered by path and
   line — not by score — so that consecutive keystrokes give the same context block and the
   model's KV cache is reused.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from slm_lsp import languages
from slm_lsp.config import ContextSettings
from slm_lsp.context.ring import ChunkRing, jaccard, token_set
from slm_lsp.generation import Snippet
from slm_lsp.workspace.document import ParsedDocument
from slm_lsp.workspace.secrets import is_secret_path, redact
from slm_lsp.workspace.symbols import CLASS_LIKE, Symbol, extract, extract_imports

if TYPE_CHECKING:  # pragma: no cover
    from slm_lsp.workspace.index import WorkspaceIndex

#: Lines above / below the cursor whose names are resolved.
NAMES_ABOVE = 40
NAMES_BELOW = 8
#: Most distinct names resolved per request (nearest to the cursor first).
MAX_NAMES = 48
#: A name defined in more files than this is skipped unless an import points at one of them.
MAX_AMBIGUOUS = 3
#: A definition this many lines long or shorter is quoted whole; longer ones as signature + doc.
MAX_BODY_LINES = 15
#: Members listed under a large class.
MAX_CLASS_MEMBERS = 12
#: Least similarity (Jaccard of identifier sets) for a chunk to count as similar code.
MIN_SIMILARITY = 0.15
#: Recently viewed files kept for similar-code search, and parsed documents kept for reparsing.
RECENT_FILES = 8
PARSED_DOCUMENTS = 4
#: Extra score for a snippet chosen by the previous request for the same file (keeps the block stable).
STICKY_BONUS = 0.6
#: Names never looked up (too common to mean anything).
STOP_NAMES = frozenset(
    {
        "self",
        "cls",
        "this",
        "super",
        "None",
        "True",
        "False",
        "null",
        "true",
        "false",
        "nil",
        "undefined",
        "new",
        "return",
        "len",
        "str",
        "int",
        "print",
        "range",
        "dict",
        "list",
        "set",
        "tuple",
        "object",
        "string",
        "var",
        "let",
        "const",
        "i",
        "j",
        "k",
        "x",
        "y",
        "n",
        "e",
        "err",
        "ok",
    }
)

_RANK = {"call": 1.0, "type": 0.9, "name": 0.6}


def estimate_tokens(text: str) -> int:
    """The default token estimate: about 3.5 characters per token."""
    return int(len(text) / 3.5) + 1


@dataclass
class _Candidate:
    key: str
    path: str
    start: int
    end: int
    reason: str
    score: float
    render: Callable[[], str | None]


class ContextRetriever:
    """Chooses the cross-file snippets for completion prompts; owned by the server, one per workspace."""

    def __init__(self, index: WorkspaceIndex | None, settings: ContextSettings) -> None:
        self.index = index
        self.settings = settings
        self.ring = ChunkRing(settings.ring_size, settings.chunk_lines)
        self._lock = threading.RLock()
        self._docs: OrderedDict[str, ParsedDocument] = OrderedDict()
        self._recent: OrderedDict[str, tuple[str, list[tuple[int, str, frozenset[str]]] | None]] = (
            OrderedDict()
        )
        self._sticky: dict[str, set[str]] = {}
        self._lines: OrderedDict[tuple[str, int, int], list[str]] = OrderedDict()
        self._redacted: OrderedDict[str, str] = OrderedDict()

    # ------------------------------------------------------------------------------ feeding
    def note_edit(self, path: str, text: str, line: int) -> None:
        """The user edited ``path`` at ``line``: remember the chunk around it."""
        if not is_secret_path(path):
            self.ring.add(path, text, line, "recently edited")

    def note_view(self, path: str, text: str, line: int) -> None:
        """The user looked at ``path`` around ``line`` (opened, scrolled, switched to it)."""
        if is_secret_path(path):
            return
        self.ring.add(path, text, line, "recently viewed")
        with self._lock:
            self._recent[path] = (text, None)
            self._recent.move_to_end(path)
            while len(self._recent) > RECENT_FILES:
                self._recent.popitem(last=False)

    # ----------------------------------------------------------------------------- helpers
    def _document(self, path: str, text: str, language: str) -> ParsedDocument:
        """The parsed document for ``text``, reparsed incrementally from the last one for ``path``."""
        with self._lock:
            doc = self._docs.get(path)
            if doc is None or doc.language != language:
                doc = ParsedDocument(text, language)
            elif doc.text != text:
                old = doc.text
                p = _common_prefix(old, text)
                s = _common_suffix(old, text, p)
                idx = doc.index
                sl, sc = idx.position(p)
                el, ec = idx.position(len(old) - s)
                doc.apply_changes([(sl, sc, el, ec, text[p : len(text) - s])])
            self._docs[path] = doc
            self._docs.move_to_end(path)
            while len(self._docs) > PARSED_DOCUMENTS:
                self._docs.popitem(last=False)
            return doc

    def _file_lines(self, path: str) -> list[str] | None:
        if self.index is not None:
            text = self.index.file_text(path)
            if text is not None:
                return text.split("\n")
        try:
            st = os.stat(path)
        except OSError:
            return None
        key = (path, st.st_mtime_ns, st.st_size)
        with self._lock:
            hit = self._lines.get(key)
            if hit is not None:
                self._lines.move_to_end(key)
                return hit
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                lines = fh.read().split("\n")
        except OSError:
            return None
        with self._lock:
            self._lines[key] = lines
            while len(self._lines) > 64:
                self._lines.popitem(last=False)
        return lines

    def _redact(self, text: str) -> str:
        hit = self._redacted.get(text)
        if hit is None:
            hit = redact(text)
            self._redacted[text] = hit
            while len(self._redacted) > 512:
                self._redacted.popitem(last=False)
        return hit

    def _render_symbol(self, sym: Symbol) -> str | None:
        lines = self._file_lines(sym.path)
        if lines is None:
            return None
        if sym.end_line - sym.start_line + 1 <= MAX_BODY_LINES:
            return "\n".join(lines[sym.start_line : sym.end_line + 1])
        spec = languages.get(sym.language)
        first = lines[sym.start_line] if sym.start_line < len(lines) else ""
        indent = first[: len(first) - len(first.lstrip())]
        python = sym.language == "python"
        out: list[str] = []
        if sym.doc and not python:
            out += [
                f"{indent}{spec.line_comment if spec else '//'} {d}".rstrip()
                for d in sym.doc.split("\n")
            ]
        out.append(indent + sym.signature)
        inner = indent + "    "
        if sym.doc and python:
            out.append(f'{inner}"""{sym.doc}"""')
        if sym.kind in CLASS_LIKE and self.index is not None:
            members = self.index.members(sym.path, sym.name, sym.start_line, sym.end_line)
            for m in members[:MAX_CLASS_MEMBERS]:
                out.append(
                    inner + m.signature + (" ..." if python and m.signature.endswith(":") else "")
                )
            if len(members) > MAX_CLASS_MEMBERS:
                out.append(inner + "...")
        elif python:
            out.append(inner + "...")
        else:
            out.append(indent + "    ...")
        return "\n".join(out)

    # ---------------------------------------------------------------------------- retrieval
    def retrieve(
        self,
        path: str,
        text: str,
        line: int,
        col: int,
        language: str | None,
        window: tuple[int, int],
        count_tokens: Callable[[str], int] | None = None,
    ) -> list[Snippet]:
        """The snippets for a prompt completing ``path`` at (``line``, ``col``), in a stable order.

        ``window`` is the (first, last) line of the current file already in the prompt; nothing
        from inside it is returned. ``count_tokens`` measures snippet cost (default: ``estimate_tokens``).
        """
        st = self.settings
        if not st.enabled or st.budget_tokens <= 0 or st.max_snippets <= 0:
            return []
        count = count_tokens or estimate_tokens
        path = (
            os.path.abspath(path) if path and not path.startswith(("untitled:", "file:")) else path
        )
        spec = (languages.get(language) if language else None) or languages.detect(path, language)
        cands: dict[str, _Candidate] = {}
        lines = text.split("\n")
        ctx_lines = lines[max(0, line - 20) : line + 5]
        ctx_tokens = token_set("\n".join(ctx_lines))
        if (
            spec is not None
            and self.index is not None
            and languages.load_query(spec.name, "references") is not None
        ):
            self._definitions(path, text, line, col, spec.name, cands)
        self._chunks(path, line, window, ctx_tokens, cands)
        self._similar(path, ctx_tokens, cands)
        sticky = self._sticky.get(path, set())
        for c in cands.values():
            if c.key in sticky:
                c.score += STICKY_BONUS
        ranked = sorted(cands.values(), key=lambda c: (-c.score, c.path, c.start))
        picked: list[tuple[_Candidate, str]] = []
        budget = st.budget_tokens
        ranges: dict[str, list[tuple[int, int]]] = {}
        seen_text: set[str] = set()
        for c in ranked:
            if len(picked) >= st.max_snippets:
                break
            if c.path == path and c.start <= window[1] and c.end >= window[0]:
                continue
            if is_secret_path(c.path):
                continue
            if any(
                s <= c.start and c.end <= e or c.start <= s and e <= c.end
                for s, e in ranges.get(c.path, ())
            ):
                continue  # overlaps a snippet already picked (a method inside its class, two chunks)
            body = c.render()
            if not body or not body.strip() or body in seen_text:
                continue
            body = self._redact(body)
            cost = count(body) + count(c.path) + 4
            if cost > budget:
                continue
            budget -= cost
            picked.append((c, body))
            seen_text.add(body)
            ranges.setdefault(c.path, []).append((c.start, c.end))
        self._sticky[path] = {c.key for c, _ in picked}
        picked.sort(key=lambda p: (p[0].path, p[0].start, p[0].key))
        return [Snippet(c.path, body, c.reason, round(c.score, 3)) for c, body in picked]

    def _definitions(
        self, path: str, text: str, line: int, col: int, language: str, cands: dict[str, _Candidate]
    ) -> None:
        import tree_sitter

        assert self.index is not None
        doc = self._document(path, text, language)
        tree, source = doc.tree, doc.source
        cursor_byte = doc.byte_offset(line, col)
        # enclosing definitions (their headers name parameter types and base classes)
        rows = [(max(0, line - NAMES_ABOVE), line + NAMES_BELOW + 1)]
        for rec in extract(
            tree, source, language, 0, byte_range=(max(0, cursor_byte - 1), cursor_byte + 1)
        ):
            if rec[2] <= line <= rec[3]:
                rows.append((rec[2], rec[2] + 3))
        query = languages.load_query(language, "references")
        assert query is not None
        names: dict[str, tuple[str, int]] = {}  # name → (kind, row of the use nearest the cursor)
        for r0, r1 in rows:
            qc = tree_sitter.QueryCursor(query)
            qc.set_point_range((r0, 0), (r1, 0))
            for cap, nodes in qc.captures(tree.root_node).items():
                kind = cap.rpartition(".")[2]
                for node in nodes:
                    if node.start_byte <= cursor_byte <= node.end_byte:
                        continue  # the word being typed
                    name = source[node.start_byte : node.end_byte].decode("utf-8", "replace")
                    if len(name) < 2 or name in STOP_NAMES:
                        continue
                    row = node.start_point[0]
                    prev = names.get(name)
                    if (
                        prev is None
                        or _RANK[kind] > _RANK[prev[0]]
                        or (_RANK[kind] == _RANK[prev[0]] and abs(row - line) < abs(prev[1] - line))
                    ):
                        names[name] = (kind, row)
        if not names:
            return
        here = self.index.key(path)
        rec = self.index.record(path)
        if (
            rec is not None
        ):  # the index has this file (from disk, or unsaved contents): reuse its work
            local: set[str] | frozenset[str] = frozenset(rec.names)
            raw_imports = list(rec.imports)
        else:
            local = {r[0] for r in extract(tree, source, language, 8)}
            raw_imports = extract_imports(tree, source, language)
        imports = _targets_of(tuple(raw_imports), here)
        nearest = sorted(
            names.items(), key=lambda kv: (abs(kv[1][1] - line), -_RANK[kv[1][0]], kv[0])
        )[:MAX_NAMES]
        for rank_i, (name, (kind, row)) in enumerate(nearest):
            if name in local:
                continue
            files = [f for f in self.index.definition_files(name) if f != here]
            if not files:
                continue
            matched = [f for f in files if _imported(f, imports)] if imports else []
            if len(files) > MAX_AMBIGUOUS and not matched:
                continue
            chosen = matched[:2] or sorted(files, key=lambda f: (_distance(f, here), f))[:2]
            use = {"call": "called", "type": "type used", "name": "used"}[kind]
            for fkey in chosen:
                bonus = 0.5 if matched else 0.0
                for sym in self.index.definitions_in(name, [fkey])[:1]:
                    key = f"{sym.path}:{sym.start_line}"
                    score = _RANK[kind] + bonus + 0.3 * (1.0 - rank_i / MAX_NAMES)
                    if key in cands:
                        cands[key].score = max(cands[key].score, score)
                        continue
                    cands[key] = _Candidate(
                        key,
                        sym.path,
                        sym.start_line,
                        sym.end_line,
                        f"definition of {sym.kind} {sym.qualified_name} ({use} at line {row + 1})",
                        score,
                        lambda s=sym: self._render_symbol(s),
                    )

    def _chunks(
        self,
        path: str,
        line: int,
        window: tuple[int, int],
        ctx_tokens: frozenset[str],
        cands: dict[str, _Candidate],
    ) -> None:
        chunks = self.ring.chunks()
        n = len(chunks)
        for i, ch in enumerate(chunks):
            if ch.path == path and ch.start_line <= window[1] and ch.end_line >= window[0]:
                continue
            sim = jaccard(ch.tokens, ctx_tokens)
            score = 0.25 + 0.25 * (i + 1) / n + sim
            key = f"chunk:{ch.path}:{ch.start_line}"
            cands[key] = _Candidate(
                key,
                ch.path,
                ch.start_line,
                ch.end_line,
                f"{ch.reason} (lines {ch.start_line + 1}-{ch.end_line + 1})",
                score,
                lambda ch=ch: ch.text,
            )

    def _similar(self, path: str, ctx_tokens: frozenset[str], cands: dict[str, _Candidate]) -> None:
        if not ctx_tokens:
            return
        step = max(4, self.settings.chunk_lines // 2)
        with self._lock:
            items = list(self._recent.items())
        for rpath, (text, chunks) in items:
            if rpath == path:
                continue
            if chunks is None:
                lines = text.split("\n")
                chunks = []
                for start in range(0, max(1, len(lines) - step), step):
                    body = "\n".join(lines[start : start + self.settings.chunk_lines])
                    chunks.append((start, body, token_set(body)))
                with self._lock:
                    if rpath in self._recent:
                        self._recent[rpath] = (text, chunks)
            best = max(chunks, key=lambda c: jaccard(c[2], ctx_tokens), default=None)
            if best is None:
                continue
            sim = jaccard(best[2], ctx_tokens)
            if sim < MIN_SIMILARITY:
                continue
            start, body, _ = best
            end = start + body.count("\n")
            key = f"chunk:{rpath}:{start}"
            if key not in cands:
                cands[key] = _Candidate(
                    key,
                    rpath,
                    start,
                    end,
                    f"similar to the code at the cursor (lines {start + 1}-{end + 1})",
                    0.2 + sim,
                    lambda b=body: b,
                )


# ---------------------------------------------------------------------------------- helpers
def _common_prefix(a: str, b: str) -> int:
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_suffix(a: str, b: str, prefix: int) -> int:
    lo, hi = 0, min(len(a), len(b)) - prefix
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[len(a) - mid :] == b[len(b) - mid :]:
            lo = mid
        else:
            hi = mid - 1
    return lo


_SEP = re.compile(r"::|[./\\]")


def _import_paths(imports: list[str], here: str) -> list[str]:
    """Import strings → ``/``-separated path fragments to match index keys against."""
    out = []
    base = here.rsplit("/", 1)[0] if "/" in here else ""
    for imp in imports:
        imp = imp.strip().strip("\"'<>").replace("\\\\", "\\")
        imp = re.sub(r"\{.*\}$", "", imp).rstrip(":")  # Rust ``a::b::{c, d}`` → ``a::b``
        if imp.startswith("."):  # relative: Python dots or ./ ../
            if imp.startswith("./") or imp.startswith("../"):
                parts = base.split("/") if base else []
                for seg in imp.split("/"):
                    if seg == "..":
                        parts = parts[:-1]
                    elif seg not in (".", ""):
                        parts.append(seg)
                out.append("/".join(parts))
                continue
            dots = len(imp) - len(imp.lstrip("."))
            parts = base.split("/") if base else []
            parts = parts[: len(parts) - (dots - 1)] if dots > 1 else parts
            rest = imp[dots:]
            out.append("/".join([*parts, *(_SEP.split(rest) if rest else [])]))
            continue
        for prefix in ("crate::", "super::", "self::", "@/", "~/"):
            if imp.startswith(prefix):
                imp = imp[len(prefix) :]
        frag = "/".join(p for p in _SEP.split(imp) if p)
        if frag:
            out.append(frag)
    return out


@dataclass(frozen=True)
class ImportTargets:
    """Path stems that a file's imports may name, and their last path components (a quick first test)."""

    stems: frozenset[str]
    tails: frozenset[str]

    def __bool__(self) -> bool:
        return bool(self.stems)


def _import_targets(imports: list[str]) -> ImportTargets:
    """Path stems (no extension) that an import fragment may name: the module, its package
    ``__init__``/``index``/``mod`` file, and its parent (``from pkg.mod import name``,
    ``use a::b::Name``, a C header ``util.h`` naming ``util.c``)."""
    out: set[str] = set()
    for frag in imports:
        if not frag:
            continue
        out.update((frag, frag + "/__init__", frag + "/index", frag + "/mod"))
        if "/" in frag:
            out.add(frag.rsplit("/", 1)[0])
    return ImportTargets(frozenset(out), frozenset(t.rsplit("/", 1)[-1] for t in out))


@functools.lru_cache(maxsize=256)
def _targets_of(raw_imports: tuple[str, ...], here: str) -> ImportTargets:
    """The import targets of a file's imports (the same for every keystroke in that file)."""
    return _import_targets(_import_paths(list(raw_imports), here))


def _imported(key: str, targets: ImportTargets) -> bool:
    """Whether an index key is (ends with) one of the import targets."""
    name = key.rsplit("/", 1)[-1]
    stem_name = name.rsplit(".", 1)[0] if "." in name else name
    if stem_name not in targets.tails:
        return False  # any target the key ends with ends with the key's own file name
    stems = targets.stems
    stem = key.rsplit(".", 1)[0] if "." in name else key
    if stem in stems:
        return True
    i = stem.find("/")
    while i >= 0:
        if stem[i + 1 :] in stems:
            return True
        i = stem.find("/", i + 1)
    return False


def _distance(a: str, b: str) -> int:
    """Folder distance between two keys (files in the same folder are 0 apart)."""
    pa, pb = a.split("/")[:-1], b.split("/")[:-1]
    common = 0
    for x, y in zip(pa, pb, strict=False):
        if x != y:
            break
        common += 1
    return len(pa) + len(pb) - 2 * common
