"""What every benchmark shares: the machine and versions record, model hashes, percentiles, JSON results, tables and plots."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

#: Where results (JSON, PNG) are written unless ``--out`` says otherwise.
RESULTS_DIR = Path(__file__).resolve().parent / "results"
#: Standard-library folder of the running interpreter (the default tree for index / review / quality).
STDLIB = Path(os.path.dirname(os.__file__))
#: The whole interpreter folder (``--tree`` for the larger index run).
INTERPRETER_ROOT = STDLIB.parent.parent


def cache_dir() -> Path:
    """The benchmark's own cache folder (built models, model hashes)."""
    from slm_lsp.config import user_cache_dir

    p = user_cache_dir() / "bench"
    p.mkdir(parents=True, exist_ok=True)
    return p


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The file's sha256, cached by (absolute path, size, mtime) in the bench cache folder."""
    p = Path(path).resolve()
    st = p.stat()
    key = f"{p}|{st.st_size}|{st.st_mtime_ns}"
    store = cache_dir() / "sha256.json"
    try:
        known = json.loads(store.read_text())
    except (OSError, ValueError):
        known = {}
    if key in known:
        return str(known[key])
    h = hashlib.sha256()
    with p.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    known[key] = h.hexdigest()
    tmp = store.with_suffix(".tmp")
    tmp.write_text(json.dumps(known, indent=0))
    os.replace(tmp, store)
    return str(known[key])


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    """Cores, CPU model, memory, OS and load at the start of the run."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    mem = 0
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "cores": cores,
        "cpu": cpu_model(),
        "memory_gib": round(mem / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "load_avg_1_5_15": [round(x, 2) for x in load],
    }


def versions() -> dict[str, str]:
    """slm-lsp, llama-cpp-python (and its llama.cpp build), tree-sitter, pygls, bandit."""
    from importlib import metadata

    out: dict[str, str] = {}
    for dist in ("slm-lsp", "llama-cpp-python", "tree-sitter", "pygls", "bandit", "pytest-lsp"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    try:
        import llama_cpp

        info = llama_cpp.llama_print_system_info()
        out["llama.cpp system"] = info.decode() if isinstance(info, bytes) else str(info)
    except Exception:  # pragma: no cover - optional detail
        pass
    try:
        import subprocess

        rev = subprocess.run(
            [
                "git",
                "-C",
                str(Path(__file__).resolve().parent.parent),
                "rev-parse",
                "--short",
                "HEAD",
            ],
            capture_output=True,
            text=True,
            timeout=5,
        )
        if rev.returncode == 0:
            out["slm-lsp commit"] = rev.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return out


def model_record(path: str | os.PathLike[str]) -> dict[str, Any]:
    p = Path(path)
    return {"path": str(p), "name": p.name, "bytes": p.stat().st_size, "sha256": sha256_file(p)}


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0–100), linear interpolation; None for no values."""
    if not values:
        return None
    xs = sorted(values)
    if len(xs) == 1:
        return float(xs[0])
    k = (len(xs) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return float(xs[lo] + (xs[hi] - xs[lo]) * (k - lo))


def summary(values: Sequence[float]) -> dict[str, float | int | None]:
    """n, mean, p50, p95, p99, max of a sample (milliseconds or whatever was given)."""
    return {
        "n": len(values),
        "mean": round(statistics.fmean(values), 3) if values else None,
        "p50": _r(percentile(values, 50)),
        "p95": _r(percentile(values, 95)),
        "p99": _r(percentile(values, 99)),
        "max": _r(max(values) if values else None),
    }


def _r(x: float | None, nd: int = 3) -> float | None:
    return None if x is None else round(x, nd)


def verdict(value: float | None, target: float, better: str = "lower") -> str:
    """``met`` / ``MISSED`` / ``n/a`` for a figure against its target."""
    if value is None:
        return "n/a"
    ok = value <= target if better == "lower" else value >= target
    return "met" if ok else "MISSED"


def write_result(name: str, data: dict[str, Any], out_dir: Path | None = None) -> Path:
    """Write ``bench/results/<name>.json`` (with the run's machine and versions) and return its path."""
    out_dir = out_dir or RESULTS_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.json"
    data = {"benchmark": name, "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **data}
    path.write_text(json.dumps(data, indent=2, default=_json_default) + "\n", encoding="utf-8")
    return path


def _json_default(obj: Any) -> Any:
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    if hasattr(obj, "__dataclass_fields__"):
        import dataclasses

        return dataclasses.asdict(obj)
    return str(obj)


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A rich table on stdout."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for c in columns:
        table.add_column(str(c))
    for row in rows:
        table.add_row(
            *("—" if v is None else (f"{v:.3g}" if isinstance(v, float) else str(v)) for v in row)
        )
    Console(width=160).print(table)


def pyplot():  # type: ignore[no-untyped-def]
    """matplotlib's pyplot with the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_plot(fig: Any, name: str, out_dir: Path | None = None) -> Path:
    """Save a small PNG (``bench/results/<name>.png``) and close the figure."""
    out_dir = out_dir or RESULTS_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.png"
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    pyplot().close(fig)
    return path


def serve_command(
    model: Path, work: Path, settings: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """The settings of a bench's server over ``work`` (the model, an index cache inside ``work``, no
    file watching, then ``settings``) and the ``python -m slm_lsp serve`` command line that sets them."""
    all_settings = {
        "model.path": str(model),
        "index.cache_dir": str(work / ".index-cache"),
        "index.watch": False,
        **settings,
    }
    cmd = [sys.executable, "-m", "slm_lsp", "serve"]
    for k, v in all_settings.items():
        cmd += ["--set", f"{k}={v}"]
    return all_settings, cmd


def timed_generate(llm: Any, ids: list[int], n_gen: int, **sampling: Any) -> float:
    """Milliseconds for ``Llama.generate`` to evaluate ``ids`` (from what its KV cache shares with
    them) and yield ``n_gen`` tokens (at least one): the raw llama-cpp-python side of a bench."""
    t = time.perf_counter()
    n = 0
    for _tok in llm.generate(ids, repeat_penalty=1.0, reset=True, top_k=40, min_p=0.05, **sampling):
        n += 1
        if n >= max(1, n_gen):
            break
    return (time.perf_counter() - t) * 1000


def header(settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """The record every run starts with."""
    return {
        "machine": machine(),
        "versions": versions(),
        "settings": settings or {},
        "argv": sys.argv[1:],
    }
