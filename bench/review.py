"""slm-lsp review against bandit on the same tree in the same run: files/s and MB/s (``--jobs 1`` and ``2``) and agreement.

Speed comes from ``bench.review_bench.measure_review`` (the review engineer's in-process review);
bandit runs once (``bandit -r -f json -q``, ``site-packages`` excluded), timed here, and its report
feeds ``bench.yardstick.compare`` for the agreement on the checks both tools have:
findings both report (overlapping lines), only bandit, only slm-lsp.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import common

#: What ``--quick`` reviews: two small files with findings both tools know.
QUICK_FILES = {
    "app.py": "import subprocess\nimport pickle\n\n\ndef run(cmd, blob):\n    subprocess.call(cmd, shell=True)\n    return pickle.loads(blob)\n",
    "calc.py": "import hashlib\n\n\ndef calc(expr):\n    return eval(expr)\n\n\ndef digest(data):\n    return hashlib.md5(data).hexdigest()\n",
}
EXCLUDE_DIRS = ("site-packages",)


def bandit_run(root: Path) -> tuple[float, dict[str, Any]] | None:
    exe = shutil.which("bandit")
    if exe is None:
        return None
    excludes = ",".join(str(root / d) for d in EXCLUDE_DIRS)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bandit.json"
        t0 = time.perf_counter()
        subprocess.run([exe, "-r", "-f", "json", "-q", "-x", excludes, "-o", str(out), str(root)], capture_output=True, check=False)
        seconds = time.perf_counter() - t0
        data = json.loads(out.read_text(encoding="utf-8")) if out.is_file() else {}
    return seconds, data


def agreement(root: Path, report: dict[str, Any]) -> dict[str, Any]:
    from bench import yardstick

    original = yardstick.python_files
    yardstick.python_files = lambda folder: [p for p in original(folder) if not set(p.parts) & set(EXCLUDE_DIRS)]  # type: ignore[assignment]
    try:
        rep = yardstick.compare(root, bandit_report=report)
    finally:
        yardstick.python_files = original  # type: ignore[assignment]
    checks = []
    for tid, c in sorted(rep.checks.items()):
        if c.bandit_findings or c.ours:
            checks.append({"bandit": tid, "rule": c.rule_id, "both": c.recalled, "only_bandit": c.bandit_findings - c.recalled, "only_slm_lsp": c.ours - c.precise, "recall": round(c.recall, 3), "precision": round(c.precision, 3), "missed": c.missed[:5], "extra": c.extra[:5]})
    return {
        "checks_in_common": len(rep.checks),
        "both": sum(c["both"] for c in checks),
        "only_bandit": sum(c["only_bandit"] for c in checks),
        "only_slm_lsp": sum(c["only_slm_lsp"] for c in checks),
        "recall_vs_bandit": round(rep.recall, 4),
        "precision_vs_bandit": round(rep.precision, 4),
        "per_check": checks,
        "bandit_tests_without_rule": rep.unmapped_bandit_tests,
        "files_bandit_could_not_parse": len(rep.skipped_files),
    }


def run(args: Any) -> dict[str, Any]:
    from bench import review_bench

    if args.quick:
        root = Path(tempfile.mkdtemp(prefix="slm-bench-review-")).resolve()
        for fname, text in QUICK_FILES.items():
            (root / fname).write_text(text, encoding="utf-8")
    else:
        root = Path(args.root).resolve()
    runs = []
    for j in (1, 2):
        r = review_bench.measure_review(root, j)
        runs.append({**r.as_dict()})
    b = bandit_run(root)
    agree = None
    if b is not None:
        seconds, report = b
        n, size = review_bench._python_files(root)  # noqa: SLF001 - the same file count the review engineer uses
        files = len([k for k in report.get("metrics", {}) if k != "_totals"]) or n
        runs.append({"tool": "bandit", "jobs": 1, "seconds": seconds, "files": files, "megabytes": size / 1e6, "findings": len(report.get("results", [])), "files_per_s": round(files / seconds, 1), "mb_per_s": round(size / 1e6 / seconds, 2)})
        agree = agreement(root, report)
    if args.quick:
        shutil.rmtree(root, ignore_errors=True)
    bandit = next((r for r in runs if r["tool"] == "bandit"), None)
    for r in runs:
        r["seconds"] = round(r["seconds"], 3)
        r["speedup_vs_bandit"] = round(bandit["seconds"] / r["seconds"], 2) if bandit and r["seconds"] else None
    name = "review-quick" if args.quick else "review"
    result = {**common.header({"tree": str(root), "excluded": list(EXCLUDE_DIRS)}), "runs": runs, "agreement": agree, "bandit": "installed" if b else "missing: speed and agreement vs bandit skipped"}
    path = common.write_result(name, result, args.out)
    common.print_table(f"review — {root} (site-packages excluded)", ["tool", "jobs", "files", "MB", "s", "files/s", "MB/s", "findings", "× bandit"], [(r["tool"], r["jobs"], r["files"], round(r["megabytes"], 2), r["seconds"], r["files_per_s"], r["mb_per_s"], r["findings"], r["speedup_vs_bandit"]) for r in runs])
    if agree:
        common.print_table(
            f"agreement with bandit on the {agree['checks_in_common']} checks both have",
            ["check", "rule", "both", "only bandit", "only slm-lsp"],
            [(c["bandit"], c["rule"], c["both"], c["only_bandit"], c["only_slm_lsp"]) for c in agree["per_check"]] + [("all", "", agree["both"], agree["only_bandit"], agree["only_slm_lsp"])],
        )
    if not args.no_plot:
        plt = common.pyplot()
        fig, ax = plt.subplots(figsize=(5, 2.4))
        labels = [f"{r['tool']} j{r['jobs']}" for r in runs]
        ax.barh(labels, [r["mb_per_s"] for r in runs], color=["tab:blue" if r["tool"] != "bandit" else "tab:gray" for r in runs])
        ax.set_xlabel("MB/s (higher is better)")
        ax.set_title(f"review throughput: {root.name}", fontsize=9)
        common.save_plot(fig, name, args.out)
    print(f"wrote {path}")
    return result


def add_parser(sub: Any) -> None:
    p = sub.add_parser("review", help="slm-lsp review vs bandit: speed (jobs 1, 2) and agreement")
    p.add_argument("--root", default=str(common.STDLIB), help="tree to review (default: this interpreter's stdlib, site-packages excluded)")
    p.set_defaults(func=run)
