"""Security figures: recall/precision per language on our fixture corpus, and the ``security`` profile
on real code (findings per 1,000 lines and a seeded random sample to judge by hand).

* ``corpus``: every file under ``tests/golden/security/fixtures`` marks what must be reported on each line
  (``expect: ID``); recall and precision of exact (rule, line) pairs per language, for all rules
  (``audit``) and for the data-flow rules alone. The corpus is ours, so these figures guard against
  regressions; they do not measure how the rules generalise.
* ``real``: ``slm-lsp review`` with the ``security`` profile over the standard library (site-packages
  excluded) and installed third-party packages; findings per 1,000 lines, per rule, and a sample of
  ``--sample`` findings (seed ``--seed``) with their code, written to
  ``results/security-sample.txt`` for a person to class as true, false or noise.

Run it: ``python -m bench security [--part corpus|real|all] [--packages requests jinja2 ...]``.
"""

from __future__ import annotations

import importlib.util
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench import common

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "golden" / "security" / "fixtures"
DEFAULT_PACKAGES = ("requests", "jinja2", "httpx", "urllib3", "starlette")


def corpus() -> dict[str, Any]:
    """Recall and precision of exact (rule, line) pairs per language over the fixture corpus."""
    from slm_lsp.security import SecurityEngine
    from tests.golden.security.conftest import expected_pairs, fixture_files

    engine = SecurityEngine(profile="audit")
    per: dict[str, Counter[str]] = {}
    for path in fixture_files():
        text = path.read_text(encoding="utf-8")
        findings = engine.check(text, str(path))
        lang = findings[0].language if findings else path.parent.name
        lang = {"typescript": "javascript", "tsx": "javascript", "cpp": "c"}.get(lang, lang)
        got = {(f.rule_id, f.start_line) for f in findings}
        want = expected_pairs(text)
        for scope, keep in (("all", lambda r: True), ("flow", lambda r: "-T" in r)):
            g = {p for p in got if keep(p[0])}
            w = {p for p in want if keep(p[0])}
            c = per.setdefault(f"{lang}/{scope}", Counter())
            c["tp"] += len(g & w)
            c["fp"] += len(g - w)
            c["fn"] += len(w - g)
    rows = []
    for key, c in sorted(per.items()):
        lang, scope = key.split("/")
        recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else None
        precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else None
        rows.append(
            {
                "language": lang,
                "rules": scope,
                "expected": c["tp"] + c["fn"],
                "reported": c["tp"] + c["fp"],
                "recall": round(recall, 3) if recall is not None else None,
                "precision": round(precision, 3) if precision is not None else None,
            }
        )
    return {"rows": rows}


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent


def real(packages: tuple[str, ...], sample: int, seed: int, out: Path | None) -> dict[str, Any]:
    """The ``security`` profile over the stdlib and ``packages``: findings per 1,000 lines and a sample."""
    from slm_lsp.config import Settings
    from slm_lsp.review import review

    settings, _errors = Settings.from_layers({"review": {"exclude": ["site-packages/"]}})
    trees = [("stdlib", common.STDLIB)] + [
        (p, d) for p in packages if (d := _package_dir(p)) is not None
    ]
    rows = []
    pool = []
    for name, root in trees:
        t0 = time.perf_counter()
        rep = review([root], settings, root=root, jobs=2, fail_on="never", profile="security")
        lines = 0
        for f in root.rglob("*.py"):
            if "site-packages" in f.relative_to(root).parts:
                continue
            try:
                lines += f.read_bytes().count(b"\n")
            except OSError:
                pass
        by_rule = Counter(i.finding.rule_id for i in rep.items)
        rows.append(
            {
                "tree": name,
                "files": rep.files_scanned,
                "lines": lines,
                "findings": len(rep.items),
                "data_flow": sum(1 for i in rep.items if i.finding.flow),
                "per_1000_lines": round(1000 * len(rep.items) / lines, 3) if lines else None,
                "by_rule": dict(by_rule.most_common()),
                "seconds": round(time.perf_counter() - t0, 2),
            }
        )
        pool.extend((name, root, i) for i in rep.items)
    rng = random.Random(seed)
    picked = rng.sample(pool, min(sample, len(pool)))
    lines_out = []
    for n, (name, root, item) in enumerate(picked, 1):
        f = item.finding
        src = (root / f.path).read_text(encoding="utf-8", errors="replace").split("\n")
        lo, hi = max(0, f.start_line - 4), min(len(src), f.end_line + 3)
        lines_out.append(
            f"#{n} {name}/{f.path}:{f.start_line + 1} {f.rule_id} ({f.severity}) {f.message}"
        )
        for step in f.flow:
            lines_out.append(f"    {step.kind:>6} line {step.line + 1}: {step.note}")
        for k in range(lo, hi):
            lines_out.append(f"  {'>' if k == f.start_line else ' '}{k + 1:5} | {src[k]}")
        lines_out.append("")
    sample_path = (out or common.RESULTS_DIR) / "security-sample.txt"
    sample_path.parent.mkdir(parents=True, exist_ok=True)
    sample_path.write_text("\n".join(lines_out), encoding="utf-8")
    total_lines = sum(r["lines"] for r in rows)
    total = sum(r["findings"] for r in rows)
    return {
        "trees": rows,
        "total_lines": total_lines,
        "total_findings": total,
        "per_1000_lines": round(1000 * total / total_lines, 3) if total_lines else None,
        "sample": {"size": len(picked), "seed": seed, "file": str(sample_path)},
    }


def run(args: Any) -> dict[str, Any]:
    result: dict[str, Any] = common.header(
        {"part": args.part, "packages": list(args.packages), "seed": args.seed}
    )
    if args.part in ("corpus", "all"):
        result["corpus"] = corpus()
        common.print_table(
            "fixture corpus: exact (rule, line) pairs",
            ["language", "rules", "expected", "reported", "recall", "precision"],
            [tuple(r.values()) for r in result["corpus"]["rows"]],
        )
    if args.part in ("real", "all"):
        result["real"] = real(tuple(args.packages), args.sample, args.seed, args.out)
        common.print_table(
            "security profile on real code",
            ["tree", "files", "lines", "findings", "data flow", "per 1,000 lines", "s"],
            [
                (
                    r["tree"],
                    r["files"],
                    r["lines"],
                    r["findings"],
                    r["data_flow"],
                    r["per_1000_lines"],
                    r["seconds"],
                )
                for r in result["real"]["trees"]
            ],
        )
    path = common.write_result("security", result, args.out)
    print(f"results: {path}")
    return result


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "security", help="security figures: fixture corpus recall/precision, real-code findings"
    )
    p.add_argument("--part", choices=("corpus", "real", "all"), default="all")
    p.add_argument("--packages", nargs="*", default=list(DEFAULT_PACKAGES))
    p.add_argument("--sample", type=int, default=30)
    p.add_argument("--seed", type=int, default=18)
    p.set_defaults(func=run)
