"""An external yardstick: our Python rules against bandit on the same folder, line by line.

``compare(folder)`` runs ``bandit -r FOLDER -f json`` and our engine over the folder's ``.py`` files,
maps bandit test ids to our rules (``Rule.bandit``), and counts, per bandit test id that we implement:

* a bandit finding is *recalled* when one of our findings of the mapped rule in the same file has a
  line range that overlaps bandit's ``line_range``;
* one of our findings is *precise* when it overlaps some bandit finding of that test in the same file
  (our findings are first de-duplicated per (file, rule, start line)).

Files bandit could not parse are left out of both sides. ``speed(folder)`` times both tools over
the folder in one process each.

Run it: ``python -m bench.yardstick FOLDER [--json] [--speed]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from slm_lsp.config import SecuritySettings
from slm_lsp.security.engine import SecurityEngine


@dataclass
class CheckScore:
    """Counts for one bandit test id."""

    test_id: str
    rule_id: str
    bandit_findings: int = 0
    recalled: int = 0
    ours: int = 0
    precise: int = 0
    missed: list[str] = field(default_factory=list)  #: "file:line" bandit found and we did not
    extra: list[str] = field(default_factory=list)  #: "file:line" we found and bandit did not

    @property
    def recall(self) -> float:
        return self.recalled / self.bandit_findings if self.bandit_findings else 1.0

    @property
    def precision(self) -> float:
        return self.precise / self.ours if self.ours else 1.0


@dataclass
class Report:
    """The comparison over a folder."""

    folder: str
    checks: dict[str, CheckScore]
    skipped_files: list[str]
    unmapped_bandit_tests: dict[str, int]  #: bandit test ids we have no rule for → count

    @property
    def recall(self) -> float:
        b = sum(c.bandit_findings for c in self.checks.values())
        return sum(c.recalled for c in self.checks.values()) / b if b else 1.0

    @property
    def precision(self) -> float:
        o = sum(c.ours for c in self.checks.values())
        return sum(c.precise for c in self.checks.values()) / o if o else 1.0

    def to_dict(self) -> dict:
        return {
            "folder": self.folder,
            "recall": round(self.recall, 4),
            "precision": round(self.precision, 4),
            "checks": {
                k: {**asdict(v), "recall": round(v.recall, 4), "precision": round(v.precision, 4)}
                for k, v in sorted(self.checks.items())
            },
            "skipped_files": self.skipped_files,
            "unmapped_bandit_tests": self.unmapped_bandit_tests,
        }


def run_bandit(folder: str | os.PathLike[str]) -> dict:
    """bandit's JSON report for the folder (all tests, no config file)."""
    proc = subprocess.run(
        [sys.executable, "-m", "bandit", "-r", str(folder), "-f", "json", "-q"],
        capture_output=True,
        text=True,
        check=False,
    )
    return json.loads(proc.stdout or "{}")


def python_files(folder: str | os.PathLike[str]) -> list[Path]:
    return sorted(p for p in Path(folder).rglob("*.py") if p.is_file())


def compare(
    folder: str | os.PathLike[str],
    engine: SecurityEngine | None = None,
    bandit_report: dict | None = None,
) -> Report:
    """Score our engine against bandit on ``folder``."""
    engine = engine or SecurityEngine(
        SecuritySettings(max_file_bytes=50_000_000, time_budget_ms=60_000),
        profile="audit",  # bandit parity is what the audit profile reports
    )
    report = bandit_report if bandit_report is not None else run_bandit(folder)
    by_bandit = {r.bandit: r.id for r in engine.rules() if r.bandit}
    skipped = sorted({os.path.normpath(e["filename"]) for e in report.get("errors", [])})
    bandit_hits: dict[tuple[str, str], list[tuple[int, int, int]]] = defaultdict(list)
    unmapped: dict[str, int] = defaultdict(int)
    for r in report.get("results", []):
        tid = r["test_id"]
        path = os.path.normpath(r["filename"])
        if tid not in by_bandit:
            unmapped[tid] += 1
            continue
        lr = r.get("line_range") or [r["line_number"]]
        bandit_hits[(path, tid)].append(
            (r["line_number"], min(lr + [r["line_number"]]), max(lr + [r["line_number"]]))
        )
    ours: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    rule_to_bandit = {v: k for k, v in by_bandit.items()}
    for p in python_files(folder):
        path = os.path.normpath(str(p))
        if path in skipped:
            continue
        findings, _ = engine.check_file(str(p))
        seen = set()
        for f in findings:
            tid = rule_to_bandit.get(f.rule_id)
            if tid is None or (tid, f.start_line) in seen:
                continue
            seen.add((tid, f.start_line))
            ours[(path, tid)].append((f.start_line + 1, f.end_line + 1))
    checks = {tid: CheckScore(tid, rid) for tid, rid in by_bandit.items()}
    for (path, tid), hits in bandit_hits.items():
        c = checks[tid]
        mine = ours.get((path, tid), [])
        for line, lo, hi in hits:
            c.bandit_findings += 1
            if any(s <= hi and lo <= e for s, e in mine):
                c.recalled += 1
            else:
                c.missed.append(f"{path}:{line}")
    for (path, tid), mine in ours.items():
        c = checks[tid]
        hits = bandit_hits.get((path, tid), [])
        for s, e in mine:
            c.ours += 1
            if any(s <= hi and lo <= e for _, lo, hi in hits):
                c.precise += 1
            else:
                c.extra.append(f"{path}:{s}")
    return Report(str(folder), checks, skipped, dict(unmapped))


def speed(folder: str | os.PathLike[str]) -> dict[str, float]:
    """Seconds for bandit and for our engine over the folder's Python files, one process each."""
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "bandit", "-r", str(folder), "-f", "json", "-q", "-o", os.devnull],
        capture_output=True,
        check=False,
    )
    bandit_s = time.perf_counter() - t0
    engine = SecurityEngine(
        SecuritySettings(max_file_bytes=50_000_000, time_budget_ms=60_000), profile="audit"
    )
    t0 = time.perf_counter()
    n = 0
    for p in python_files(folder):
        findings, _ = engine.check_file(str(p))
        n += len(findings)
    ours_s = time.perf_counter() - t0
    return {
        "bandit_s": round(bandit_s, 2),
        "ours_s": round(ours_s, 2),
        "ratio": round(bandit_s / ours_s, 2) if ours_s else 0.0,
        "our_findings": n,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m slm_lsp.security.yardstick", description=__doc__.split("\n")[0]
    )
    ap.add_argument("folder")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--speed", action="store_true", help="also time both tools over the folder")
    args = ap.parse_args(argv)
    rep = compare(args.folder)
    out = rep.to_dict()
    if args.speed:
        out["speed"] = speed(args.folder)
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print(f"recall {rep.recall:.3f}  precision {rep.precision:.3f}")
    for tid, c in sorted(rep.checks.items()):
        if c.bandit_findings or c.ours:
            print(
                f"  {tid} {c.rule_id:9} bandit={c.bandit_findings:3} recalled={c.recalled:3} ours={c.ours:3} precise={c.precise:3}  R={c.recall:.2f} P={c.precision:.2f}"
            )
            for m in c.missed[:5]:
                print(f"      missed {m}")
            for m in c.extra[:5]:
                print(f"      extra  {m}")
    if rep.unmapped_bandit_tests:
        print("bandit tests without a rule:", rep.unmapped_bandit_tests)
    if args.speed:
        print("speed:", out["speed"])
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
