"""Remote vs in-process latency: ``bench.remote_bench.run_bench`` (llama-cpp-python's server on 127.0.0.1, same model, same threads)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from bench import common


def run(args: Any) -> dict[str, Any]:
    name = "remote-quick" if args.quick else "remote"
    if importlib.util.find_spec("llama_cpp.server") is None or importlib.util.find_spec("uvicorn") is None:
        result = {**common.header(), "skipped": "llama_cpp.server is not installed (pip install 'llama-cpp-python[server]')"}
        common.write_result(name, result, args.out)
        print(result["skipped"])
        return result
    from bench import remote_bench

    if args.model:
        model = Path(args.model)
    else:
        from slm_lsp.engine.loader import find_smollm2

        found = find_smollm2()
        if found is None:
            raise SystemExit("no model: pass --model or run `python -m slm_lsp model fetch`")
        model = found
    family = args.family
    if family == "auto":
        from slm_lsp.config import ModelSettings
        from slm_lsp.engine.llama import LlamaEngine

        eng = LlamaEngine(model, ModelSettings(path=str(model), n_ctx=512))
        family = eng.family.name
        eng.close()
    kw = {"n_prompts": 2, "repeats": 1, "max_tokens": 8} if args.quick else {"n_prompts": args.prompts, "repeats": args.repeats, "max_tokens": args.max_tokens}
    out = remote_bench.run_bench(model, family=family, n_ctx=2048, n_threads=args.threads, **kw)
    result = {**common.header({"family": family, **kw, "n_ctx": 2048, "n_threads": args.threads or "all cores"}), "model": common.model_record(model), "result": out}
    path = common.write_result(name, result, args.out)
    common.print_table(
        f"remote (llama_cpp.server, 127.0.0.1) vs in-process — {model.name}",
        ["figure", "in-process", "remote", "remote / in-process"],
        [
            ("time to first text, median (ms)", out["local_first_ms"], out["remote_first_ms"], out["first_ratio"]),
            ("whole completion, median (ms)", out["local_total_ms"], out["remote_total_ms"], out["total_ratio"]),
            ("same text (share)", "", "", out["same_text"]),
        ],
    )
    print(f"wrote {path}")
    return result


def add_parser(sub: Any) -> None:
    p = sub.add_parser("remote", help="remote (llama_cpp.server) vs in-process latency ratio")
    p.add_argument("--model", help="GGUF file (default: the embedded default model)")
    p.add_argument("--family", default="auto", help="prompt family (default: detected from the model)")
    p.add_argument("--prompts", type=int, default=6)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--max-tokens", type=int, default=32)
    p.add_argument("--threads", type=int, default=0, help="threads for both backends (0: all cores)")
    p.set_defaults(func=run)
