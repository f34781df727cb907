"""The on-disk index cache: one msgpack file per workspace, versioned, written atomically.

Location: ``<IndexSettings.cache_dir or user_cache_dir()/index>/<hash of the root>.msgpack``.
The header names the format version, the root and a digest of the query files; a cache from
another version, another root or other queries, or one that cannot be decoded (truncated,
corrupt) is ignored with a log line and the index is rebuilt — never a crash.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import msgpack

from slm_lsp import languages
from slm_lsp.config import IndexSettings, user_cache_dir
from slm_lsp.workspace.parse import FileRecord

log = logging.getLogger(__name__)

#: Bump when the record layout or the extraction rules change: older caches are then rebuilt.
FORMAT_VERSION = 1
_MAGIC = "slm-lsp-index"


def cache_path(root: Path, settings: IndexSettings) -> Path:
    """Where the cache of the workspace at ``root`` lives."""
    base = (
        Path(settings.cache_dir).expanduser() if settings.cache_dir else user_cache_dir() / "index"
    )
    key = hashlib.sha256(os.path.abspath(root).encode("utf-8", "surrogateescape")).hexdigest()[:20]
    return base / f"{key}.msgpack"


@lru_cache(maxsize=1)
def queries_digest() -> str:
    """A digest of every language's extraction queries: editing a query invalidates caches."""
    h = hashlib.blake2b(digest_size=8)
    for spec in languages.LANGUAGES:
        for q in ("symbols", "imports"):
            p = languages.query_path(spec.name, q)
            h.update(f"{spec.name}/{q}:".encode())
            if p.is_file():
                h.update(p.read_bytes())
    return h.hexdigest()


def _header(root: Path, max_depth: int) -> dict[str, Any]:
    return {
        "format": _MAGIC,
        "version": FORMAT_VERSION,
        "root": os.path.abspath(root),
        "queries": queries_digest(),
        "max_depth": max_depth,
    }


def save(path: Path, root: Path, records: list[FileRecord], max_depth: int) -> None:
    """Write the cache atomically (a temporary file renamed over the old one); log and go on on failure."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
        try:
            # streamed record by record (the same bytes as packing one map, without a second copy in memory)
            packer = msgpack.Packer(use_bin_type=True)
            with os.fdopen(fd, "wb", buffering=1 << 20) as fh:
                fh.write(packer.pack_map_header(2))
                fh.write(packer.pack("header"))
                fh.write(packer.pack(_header(root, max_depth)))
                fh.write(packer.pack("files"))
                fh.write(packer.pack_array_header(len(records)))
                for r in records:
                    fh.write(packer.pack(list(r)))
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    except OSError as exc:
        log.warning("index: cannot write cache %s: %s", path, exc.strerror or exc)


def load(path: Path, root: Path, max_depth: int) -> list[FileRecord] | None:
    """The records of a valid cache, or None (missing, unreadable, truncated, other version) with a log line."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("index: cannot read cache %s (%s); rebuilding", path, exc.strerror or exc)
        return None
    try:
        obj = msgpack.unpackb(data, raw=False, use_list=False, strict_map_key=True)
        header = obj["header"]
        files = obj["files"]
    except Exception as exc:  # truncated or corrupt: any decoding error means "rebuild"
        log.warning("index: cache %s is unreadable (%s); rebuilding", path, type(exc).__name__)
        return None
    want = _header(root, max_depth)
    if (
        not isinstance(header, dict)
        or header.get("format") != _MAGIC
        or header.get("version") != FORMAT_VERSION
    ):
        log.info(
            "index: cache %s has format version %r, expected %d; rebuilding",
            path,
            header.get("version") if isinstance(header, dict) else None,
            FORMAT_VERSION,
        )
        return None
    if header != want:
        log.info("index: cache %s was built for other settings or queries; rebuilding", path)
        return None
    intern = sys.intern
    out: list[FileRecord] = []
    try:
        for f in files:
            rel, language, size, mtime_ns, dig, names, blob, imports = f
            out.append(
                FileRecord(
                    rel,
                    intern(language),
                    size,
                    mtime_ns,
                    dig,
                    tuple(intern(n) for n in names),
                    blob,
                    imports,
                )
            )
    except Exception as exc:
        log.warning(
            "index: cache %s has malformed entries (%s); rebuilding", path, type(exc).__name__
        )
        return None
    return out
