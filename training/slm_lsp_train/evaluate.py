"""Measures infilling quality of any GGUF model through llama-cpp-python: held-out single-line, multi-line and random-span tasks, exact match and edit similarity, FIM or prefix-only prompting, and CPU speed.

Reusable: `make_tasks(texts)` builds tasks from any source texts, `evaluate_model(path, tasks)` returns
metrics. `python -m slm_lsp_train.evaluate --model A.gguf --model B.gguf` prints a markdown table.
"""

from __future__ import annotations

import argparse
import random
import sysconfig
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from slm_lsp_train.corpus import CorpusConfig, filter_reason, in_eval_split

PREFIX_CHARS = 1500
"""Characters of the file before the hole given to the model."""
SUFFIX_CHARS = 600
"""Characters after the hole given to FIM models."""
MAX_NEW_TOKENS = {"single_line": 48, "multi_line": 128, "random_span": 96, "line_tail": 48}
"""Generation limit per task kind."""
KINDS = ("single_line", "multi_line", "random_span", "line_tail")
"""Task kinds, in the order they are made."""
TASKS_PER_KIND = 60
"""Default number of tasks of each kind."""
MIN_LINE_CHARS = 8
"""A single-line target has at least this many non-blank characters."""
EXCLUDED_STDLIB = (
    "site-packages",
    "dist-packages",
    "distutils",
    "lib2to3",
    "idlelib",
    "turtledemo",
)
"""Standard-library folders not used for tasks (copies of distutils live in setuptools; the rest is not library code)."""
N_CTX = 2048
"""Context size the models are loaded with."""
HEAL_WHITESPACE = True
"""Drop the spaces and tabs that end the prefix (after its last newline) from the prompt and let the model write them: a byte-level BPE model has almost never seen indentation end a prompt, since its tokenizer glues the last space to the next word. The same spaces are then taken off the start of the answer, if it begins with them."""


@dataclass(frozen=True)
class Task:
    """One hole to fill: the model sees prefix (and suffix) and should write middle."""

    kind: str
    prefix: str
    middle: str
    suffix: str
    source: str = ""


@dataclass
class KindMetrics:
    n: int = 0
    exact: float = 0.0
    edit_sim: float = 0.0


@dataclass
class Metrics:
    """Scores of one model in one prompting mode."""

    model: str
    mode: str
    by_kind: dict[str, KindMetrics] = field(default_factory=dict)
    overall: KindMetrics = field(default_factory=KindMetrics)
    seconds: float = 0.0
    generated_tokens: int = 0
    prompt_tokens: int = 0
    examples: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ----------------------------------------------------------------------------- tasks


def heldout_stdlib_texts(cfg: CorpusConfig | None = None) -> list[tuple[str, str]]:
    """(key, text) of this Python's standard-library files in the held-out split (never trained on)."""
    cfg = cfg or CorpusConfig()
    root = Path(sysconfig.get_paths()["stdlib"])
    out: list[tuple[str, str]] = []
    for p in sorted(root.rglob("*.py")):
        key = p.relative_to(root).as_posix()
        if key.split("/", 1)[0] in EXCLUDED_STDLIB or "__pycache__" in key:
            continue
        if not in_eval_split(key, cfg):
            continue
        reason, text = filter_reason(p.name, p.read_bytes(), cfg)
        if reason is None:
            out.append((key, text))
    return out


def _window(text: str, start: int, end: int) -> tuple[str, str]:
    return text[max(0, start - PREFIX_CHARS) : start], text[end : end + SUFFIX_CHARS]


def make_tasks(
    texts: Sequence[tuple[str, str]], per_kind: int = TASKS_PER_KIND, seed: int = 0
) -> list[Task]:
    """Single-line, multi-line (2–5 lines), random-span and line-tail holes cut from (name, text) pairs.

    A line-tail hole is the rest of a line after a cursor stopped inside its code, as while typing.
    Kinds are made in this order from one seeded generator, so adding a kind at the end leaves the
    earlier kinds' tasks as they were.
    """
    rng = random.Random(seed)
    tasks: list[Task] = []
    pool = [t for t in texts if t[1].count("\n") >= 10]
    if not pool:
        return tasks
    for kind in KINDS:
        made, tries = 0, 0
        while made < per_kind and tries < per_kind * 50:
            tries += 1
            name, text = rng.choice(pool)
            lines = text.split("\n")
            starts = [0]
            for line in lines[:-1]:
                starts.append(starts[-1] + len(line) + 1)
            if kind == "random_span":
                length = rng.randint(10, 200)
                a = rng.randint(0, max(0, len(text) - length))
                b = a + length
            elif kind == "line_tail":
                i = rng.randrange(0, len(lines))
                code = lines[i].strip()
                if len(code) < MIN_LINE_CHARS:
                    continue
                indent = len(lines[i]) - len(lines[i].lstrip())
                a = starts[i] + indent + rng.randint(1, len(code) - 2)
                b = starts[i] + len(lines[i].rstrip())
            else:
                n = 1 if kind == "single_line" else rng.randint(2, 5)
                i = rng.randrange(0, max(1, len(lines) - n))
                block = lines[i : i + n]
                if len(block[0].strip()) < MIN_LINE_CHARS or any(not ln.strip() for ln in block):
                    continue
                indent = len(block[0]) - len(block[0].lstrip())
                a = starts[i] + indent
                b = starts[i + n - 1] + len(lines[i + n - 1])
            middle = text[a:b]
            if not middle.strip():
                continue
            prefix, suffix = _window(text, a, b)
            tasks.append(Task(kind, prefix, middle, suffix, name))
            made += 1
    return tasks


# ----------------------------------------------------------------------------- scoring


def levenshtein(a: str, b: str) -> int:
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def edit_similarity(pred: str, target: str) -> float:
    """1 − Levenshtein distance / longer length (1.0 for identical strings)."""
    if not pred and not target:
        return 1.0
    return 1.0 - levenshtein(pred, target) / max(len(pred), len(target))


def trim(pred: str, task: Task) -> str:
    """The same post-processing for every model: a single line stops at the newline; longer holes keep as many lines as the target has."""
    keep = task.middle.count("\n") + 1
    return "\n".join(pred.split("\n")[:keep])


# ----------------------------------------------------------------------------- running


class Runner:
    """One loaded GGUF model (the product's ``LlamaEngine``) that fills holes greedily."""

    def __init__(self, model_path: Path | str, n_threads: int | None = None) -> None:
        from slm_lsp.config import ModelSettings
        from slm_lsp.engine.llama import LlamaEngine

        self.path = Path(model_path)
        self.engine = LlamaEngine(model_path, ModelSettings(n_ctx=N_CTX, n_threads=n_threads or 0))
        fim = self.engine.info.fim_ids
        self.fim_ids: tuple[int, int, int] | None = (
            (fim["pre"], fim["suf"], fim["mid"]) if {"pre", "suf", "mid"} <= set(fim) else None
        )
        self.n_ctx_train = self.engine.info.n_ctx

    def tokenize(self, text: str) -> list[int]:
        return self.engine.tokenize_text(text)

    def piece(self, token: int) -> bytes:
        return self.engine.piece(token)

    def build(
        self, task: Task, mode: str, prefix: str | None = None, suffix: str | None = None
    ) -> Any:
        """The prompt, laid out by the product's template: the model's FIM family, or prefix only."""
        from slm_lsp.prompt.templates import build_prompt, get_family

        prefix = task.prefix if prefix is None else prefix
        suffix = task.suffix if suffix is None else suffix
        if mode == "fim":
            if self.fim_ids is None:
                raise ValueError(f"{self.path.name} has no FIM tokens")
            return build_prompt(self.engine.family, prefix=prefix, suffix=suffix)
        return build_prompt(get_family("prefix"), prefix=prefix, suffix="")

    def prompt(self, task: Task, mode: str, prefix: str | None = None) -> list[int]:
        """Prompt tokens: FIM (prefix-suffix-middle) or the prefix alone; `prefix` overrides the task's."""
        return self.engine.prompt_tokens(self.build(task, mode, prefix))

    def fill(self, task: Task, mode: str, heal: bool = HEAL_WHITESPACE) -> tuple[str, int, int]:
        """The model's middle (trimmed), prompt tokens and generated tokens."""
        import threading

        from slm_lsp.generation import GenerationParams

        prefix = task.prefix
        tail = ""
        if heal:
            line_start = prefix.rfind("\n") + 1
            stripped = prefix[line_start:].lstrip(" \t")
            if not stripped:  # the prefix ends in indentation only
                tail = prefix[line_start:]
                prefix = prefix[:line_start]
        limit = MAX_NEW_TOKENS.get(task.kind, 96)
        suffix = task.suffix
        prompt = self.build(task, mode, prefix, suffix)
        room = self.engine.info.n_ctx - limit - 1
        while len(self.engine.prompt_tokens(prompt)) > room:  # keep the text nearest the hole
            if len(prefix) > 64:
                prefix = prefix[len(prefix) // 4 :]
            elif len(suffix) > 64:
                suffix = suffix[: len(suffix) * 3 // 4]
            else:
                break
            prompt = self.build(task, mode, prefix, suffix)
        lines_wanted = task.middle.count("\n") + 1
        seen = ""

        def enough(piece: str) -> bool:
            nonlocal seen
            seen += piece
            return seen.count("\n") >= lines_wanted

        gen = self.engine.generate(
            prompt, GenerationParams(max_tokens=limit, temperature=0.0), threading.Event(), enough
        )
        text = gen.text
        if tail:
            text = text[len(tail) :] if text.startswith(tail) else text.lstrip(" \t")
        return trim(text, task), gen.n_prompt, gen.n_generated


def evaluate_model(
    model_path: Path | str,
    tasks: Sequence[Task],
    mode: str = "auto",
    n_threads: int | None = None,
    keep_examples: int = 3,
    heal: bool = HEAL_WHITESPACE,
) -> Metrics:
    """Fills every task with one model; mode 'fim', 'prefix' or 'auto' (FIM when the model has FIM tokens)."""
    runner = Runner(model_path, n_threads=n_threads)
    if mode == "auto":
        mode = "fim" if runner.fim_ids else "prefix"
    m = Metrics(model=Path(model_path).name, mode=mode + ("+heal" if heal else ""))
    t0 = time.perf_counter()
    for task in tasks:
        pred, n_prompt, n_gen = runner.fill(task, mode, heal=heal)
        m.prompt_tokens += n_prompt
        m.generated_tokens += n_gen
        # Compared without surrounding whitespace: where a byte-level BPE model puts the space
        # between indentation and code is a tokenization artifact the product's post-processing owns.
        exact = float(pred.strip() == task.middle.strip())
        sim = edit_similarity(pred.strip(), task.middle.strip())
        for km in (m.by_kind.setdefault(task.kind, KindMetrics()), m.overall):
            km.n += 1
            km.exact += exact
            km.edit_sim += sim
        if len(m.examples) < keep_examples and task.kind == "single_line":
            m.examples.append({"target": task.middle, "prediction": pred})
    m.seconds = time.perf_counter() - t0
    for km in (*m.by_kind.values(), m.overall):
        if km.n:
            km.exact /= km.n
            km.edit_sim /= km.n
    return m


def measure_speed(
    model_path: Path | str,
    prompt_tokens: int = 512,
    gen_tokens: int = 64,
    n_threads: int | None = None,
) -> dict[str, float]:
    """Prompt and generation tokens per second on this machine (greedy, cold cache)."""
    import threading

    from slm_lsp.generation import GenerationParams
    from slm_lsp.prompt.templates import build_prompt, get_family

    runner = Runner(model_path, n_threads=n_threads)
    words = " ".join(f"value_{i} = compute({i})" for i in range(prompt_tokens))
    ids = runner.tokenize(words)[:prompt_tokens]
    text = runner.engine.detokenize(ids)
    gen = runner.engine.generate(
        build_prompt(get_family("prefix"), prefix=text, suffix=""),
        GenerationParams(max_tokens=gen_tokens, temperature=0.0),
        threading.Event(),
    )
    runner.engine.close()
    return {
        "prompt_tok_s": gen.n_prompt / max(1e-9, gen.prompt_ms / 1000),
        "gen_tok_s": gen.n_generated / max(1e-9, gen.gen_ms / 1000),
    }


def markdown_table(results: Sequence[Metrics]) -> str:
    kinds = list(KINDS)
    head = (
        "| model | prompt | "
        + " | ".join(f"{k} EM / ES" for k in kinds)
        + " | overall EM / ES | s/task |"
    )
    rows = [head, "|" + " --- |" * (len(kinds) + 4)]
    for r in results:
        cells = []
        for k in [*kinds, "overall"]:
            km = r.overall if k == "overall" else r.by_kind.get(k, KindMetrics())
            cells.append(f"{km.exact:.3f} / {km.edit_sim:.3f}")
        per = r.seconds / max(1, r.overall.n)
        rows.append(f"| {r.model} | {r.mode} | " + " | ".join(cells) + f" | {per:.2f} |")
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--model",
        action="append",
        required=True,
        help="GGUF path, optionally PATH:mode (fim|prefix|auto)",
    )
    ap.add_argument("--per-kind", type=int, default=TASKS_PER_KIND)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--speed", action="store_true", help="also measure tokens/s")
    ap.add_argument("--json", type=Path, default=None, help="write all metrics here")
    args = ap.parse_args(argv)
    texts = heldout_stdlib_texts()
    tasks = make_tasks(texts, args.per_kind, args.seed)
    print(f"{len(tasks)} tasks from {len(texts)} held-out standard-library files")
    results = []
    speeds = {}
    for spec in args.model:
        path, _, rest = spec.partition(":")
        mode, _, heal = rest.partition(":")
        results.append(
            evaluate_model(path, tasks, mode or "auto", n_threads=args.threads, heal=heal != "raw")
        )
        print(markdown_table(results[-1:]).split("\n")[-1], flush=True)
        if args.speed and Path(path).name not in speeds:
            speeds[Path(path).name] = measure_speed(path, n_threads=args.threads)
    print(markdown_table(results))
    for name, s in speeds.items():
        print(
            f"{name}: prompt {s['prompt_tok_s']:.0f} tok/s, generation {s['gen_tok_s']:.0f} tok/s"
        )
    if args.json:
        import json

        args.json.write_text(
            json.dumps(
                {"results": [r.to_dict() for r in results], "speed": speeds, "n_tasks": len(tasks)},
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
