"""Throughput of ``slm-lsp review`` against bandit on the same tree, in the same run.

``measure()`` reviews a folder (by default this interpreter's standard library without
``site-packages``) with ``--jobs 1`` and ``--jobs 2`` in-process, then runs
``bandit -r -f json -q`` on the same folder, and reports files/s and MB/s for each. Both tools
see the same files: bandit gets ``site-packages`` (and anything else outside our file list)
excluded, and our figures count the Python files we checked.

    python -m bench.review_bench [FOLDER] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

#: Folders left out of the default tree (third-party code, not the standard library).
EXCLUDE_DIRS = ("site-packages",)


@dataclass
class Run:
    tool: str
    jobs: int
    seconds: float
    files: int
    megabytes: float
    findings: int

    @property
    def files_per_s(self) -> float:
        return self.files / self.seconds if self.seconds else 0.0

    @property
    def mb_per_s(self) -> float:
        return self.megabytes / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, float | int | str]:
        return {
            **asdict(self),
            "files_per_s": round(self.files_per_s, 1),
            "mb_per_s": round(self.mb_per_s, 2),
        }


def default_tree() -> Path:
    """This interpreter's standard library folder."""
    return Path(sysconfig.get_paths()["stdlib"])


def _python_files(root: Path) -> tuple[int, int]:
    n = size = 0
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in EXCLUDE_DIRS]
        for f in files:
            if f.endswith(".py"):
                n += 1
                size += os.path.getsize(os.path.join(folder, f))
    return n, size


def measure_review(root: Path, jobs: int) -> Run:
    """One in-process review of ``root`` (only Python files, site-packages excluded)."""
    from slm_lsp.config import Settings
    from slm_lsp.review import review

    settings, errors = Settings.from_layers(
        {"review": {"exclude": [f"{d}/" for d in EXCLUDE_DIRS]}}
    )
    assert not errors
    t0 = time.perf_counter()
    report = review([root], settings, root=root, jobs=jobs, fail_on="never")
    seconds = time.perf_counter() - t0
    return Run(
        "slm-lsp",
        jobs,
        seconds,
        report.files_scanned,
        report.bytes_scanned / 1e6,
        len(report.items),
    )


def measure_bandit(root: Path) -> Run | None:
    """``bandit -r -f json -q`` over ``root`` with site-packages excluded; None when bandit is missing."""
    exe = shutil.which("bandit")
    if exe is None:
        return None
    excludes = ",".join(str(root / d) for d in EXCLUDE_DIRS)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bandit.json"
        t0 = time.perf_counter()
        subprocess.run(
            [exe, "-r", "-f", "json", "-q", "-x", excludes, "-o", str(out), str(root)],
            capture_output=True,
        )
        seconds = time.perf_counter() - t0
        data = json.loads(out.read_text(encoding="utf-8")) if out.is_file() else {}
    metrics = data.get("metrics", {})
    files = len([k for k in metrics if k != "_totals"])
    n, size = _python_files(root)
    return Run("bandit", 1, seconds, files or n, size / 1e6, len(data.get("results", [])))


def measure(
    root: Path | None = None, jobs: tuple[int, ...] = (1, 2), repeat: int = 1
) -> dict[str, object]:
    """Review ``root`` with each ``jobs`` value (best of ``repeat``) and bandit once; figures as a dict."""
    root = (root or default_tree()).resolve()
    runs: list[Run] = []
    for j in jobs:
        runs.append(
            min((measure_review(root, j) for _ in range(max(1, repeat))), key=lambda r: r.seconds)
        )
    b = measure_bandit(root)
    if b is not None:
        runs.append(b)
    out: dict[str, object] = {
        "tree": str(root),
        "cpus": os.cpu_count(),
        "runs": [r.as_dict() for r in runs],
    }
    if b is not None:
        out["speedup_vs_bandit"] = {
            f"jobs={r.jobs}": round(b.seconds / r.seconds, 2) for r in runs if r.tool == "slm-lsp"
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("tree", nargs="?", help="folder to review (default: the standard library)")
    parser.add_argument(
        "--repeat", type=int, default=1, help="review runs per --jobs value; the fastest counts"
    )
    args = parser.parse_args(argv)
    result = measure(Path(args.tree) if args.tree else None, repeat=args.repeat)
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
