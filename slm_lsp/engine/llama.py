"""The in-process backend: a GGUF model run by llama-cpp-python, one ``Llama`` per engine.

Prompts are tokenized part by part: file text with special tokens disabled, control tokens by id,
so text in a user's file can never become a control token. Consecutive prompts that share a prefix
reuse the KV cache (llama-cpp-python evaluates only the new tokens). Generation stops on the
model's end-of-generation ids and the family's stop tokens, at ``max_tokens``, or within one token of
``cancel`` being set; prompt evaluation is interrupted through llama.cpp's abort callback. A prompt
that ends in text is token-healed (``heal``, ``engine.healing``): it stops a few tokens short and a
logits processor makes the first generated tokens spell them again.

Every prompt token evaluated is counted (``counters``): tests and ``slm.status`` check that typing
within a line evaluates only the new tokens. ``warm`` evaluates the stable part of a prompt ahead of
a request (the parts before the typed line, ``stable_tokens``), chunk by chunk, so that a real
request interrupts it within one chunk and finds that part in the KV cache.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import io
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from slm_lsp.config import ModelSettings
from slm_lsp.engine.healing import VocabPieces
from slm_lsp.generation import EngineError, Generation, GenerationParams, ModelInfo, Prompt
from slm_lsp.prompt.templates import TEMPLATE_KEY, detect_family, families, get_family

log = logging.getLogger(__name__)

#: llama.cpp is built with OpenMP, whose threads spin while they wait for each other. When another
#: process holds a core (the editor, a build), a spinning thread waits for a descheduled peer and
#: generation becomes 10-100x slower (measured here: 11.2 s vs 0.86 s for one prompt with 2 threads).
#: A passive wait policy avoids that collapse. It must be set before llama.cpp's library is loaded;
#: a value already in the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

GGUF_MAGIC = b"GGUF"
FIM_ROLES = ("pre", "suf", "mid", "pad", "rep", "sep")
#: Starting buffer size for one token's text (grown when llama.cpp says it needs more).
PIECE_BUFFER = 64
#: Bytes of working memory assumed on top of the file's size when checking that a model fits.
MEMORY_HEADROOM = 256 * 1024 * 1024

#: ggml's log levels (NONE, DEBUG, INFO, WARN, ERROR, CONT); its INFO chatter is debug detail for us.
_LEVELS = {
    0: logging.DEBUG,
    1: logging.DEBUG,
    2: logging.DEBUG,
    3: logging.WARNING,
    4: logging.ERROR,
    5: logging.DEBUG,
}


#: llama.cpp warnings that are harmless here, logged at debug: a context larger than the model was
#: trained for (prompts are fitted to the training context, ``ModelInfo.n_ctx``), and the tokenizer's
#: note on a control-looking token it retypes (Qwen2.5-Coder's files carry one; llama.cpp fixes it).
HARMLESS_WARNINGS = ("possible training context overflow", "control-looking token")


@functools.lru_cache(maxsize=1)
def _install_log_bridge(llama_cpp: Any) -> Any:
    """Route llama.cpp's C logs into Python logging (so stdout stays the protocol's).

    Installed once per process: llama.cpp keeps the pointer, so the callback must outlive every model.
    """
    llama_log = logging.getLogger("slm_lsp.llama_cpp")

    @llama_cpp.llama_log_callback
    def callback(level: int, text: bytes, _user: ctypes.c_void_p) -> None:
        msg = text.decode("utf-8", errors="replace").rstrip()
        if msg:
            lvl = _LEVELS.get(level, logging.DEBUG)
            if any(w in msg for w in HARMLESS_WARNINGS):
                lvl = logging.DEBUG
            llama_log.log(lvl, "%s", msg)

    llama_cpp.llama_log_set(callback, ctypes.c_void_p(0))
    return callback


def _available_memory() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def check_model_file(path: str | os.PathLike[str]) -> Path:
    """Check that ``path`` is a readable, complete-looking GGUF file that fits in memory; raise EngineError otherwise."""
    p = Path(path).expanduser()
    if not p.exists():
        raise EngineError(f"model file not found: {p}")
    if not p.is_file():
        raise EngineError(f"model path is not a file: {p}")
    try:
        with p.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise EngineError(f"cannot read model file {p}: {exc.strerror}") from None
    if head[:4] != GGUF_MAGIC:
        raise EngineError(f"not a GGUF model file: {p} (llama.cpp needs a .gguf file)")
    size = p.stat().st_size
    avail = _available_memory()
    if avail is not None and size + MEMORY_HEADROOM > avail:
        raise EngineError(
            f"model {p.name} needs about {size / 2**30:.1f} GiB but only {avail / 2**30:.1f} GiB of memory is free"
        )
    return p


@dataclass
class EngineCounters:
    """What the engine has evaluated since it loaded (read by tests, ``slm.status`` and the benchmarks)."""

    prompt_tokens_evaluated: int = 0  #: prompt tokens decoded for requests (KV-cache hits excluded)
    #: of those, the ones past the prompt's stable part (``stable_tokens``): what typing within a
    #: line costs (for a layout without a stable part, every token evaluated)
    line_tokens_evaluated: int = 0
    tokens_generated: int = 0
    requests: int = 0
    warm_tokens_evaluated: int = 0  #: prompt tokens decoded by background warm-ups
    warmups: int = 0
    warmups_interrupted: int = 0
    restores: int = (
        0  #: requests that found their prompt in the saved KV state (after a speculative warm-up)
    )

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


#: Tokens of the speed probe run when the model loads (prompt, generated).
SPEED_PROBE = (32, 4)
#: Weight of a new request's speed in the running estimate.
SPEED_EWMA = 0.3
#: Prompt tokens a chunk must hold (a request must generate a quarter of) to refine the estimate.
SPEED_MIN_SAMPLE = 16
#: Chunk sizes ``model.prompt_chunk = 0`` chooses from, and the time one chunk may take at most.
CHUNK_SIZES = (32, 64, 128, 256, 512)
CHUNK_SLICE_S = 1.5
#: A warm-up that would overwrite at least this many cached tokens first saves them (``_Saved``).
SAVE_MIN_TOKENS = 16


def cpu_has_amx() -> bool:
    """Whether this CPU reports Intel AMX (Linux only; False elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            return " amx_int8" in f.read(1 << 16)
    except OSError:
        return False


def avoid_amx_crash() -> None:
    """Load weights without llama.cpp's extra buffer types on CPUs with AMX.

    llama-cpp-python 0.3.36 built natively on a Sapphire Rapids-class CPU (AMX) crashes with SIGSEGV
    in ``ggml_backend_amx_mul_mat`` at the first decode of a quantized model (Q4_K_M, Q4_1: the
    Qwen and SmolLM2 files alike; f16 is unaffected). Weights kept in the plain CPU buffer
    (``use_extra_bufts = False``, llama.cpp's ``--no-extra-bufts``) decode correctly. Process-wide
    and idempotent: it changes the default model parameters that ``llama_cpp.Llama`` starts from.
    """
    if not cpu_has_amx():
        return
    import llama_cpp.llama_cpp as native

    base = native.llama_model_default_params
    if getattr(base, "_slm_lsp_no_extra_bufts", False):
        return

    def params():  # type: ignore[no-untyped-def]
        p = base()
        if hasattr(p, "use_extra_bufts"):
            p.use_extra_bufts = False
        return p

    params._slm_lsp_no_extra_bufts = True  # type: ignore[attr-defined]
    native.llama_model_default_params = params


class LlamaEngine:
    """A GGUF model loaded in this process (implements ``slm_lsp.generation.Engine``)."""

    def __init__(self, path: str | os.PathLike[str], settings: ModelSettings | None = None) -> None:
        settings = settings or ModelSettings()
        p = check_model_file(path)
        try:
            import llama_cpp
        except ImportError as exc:  # pragma: no cover - a broken install
            raise EngineError(
                f"llama-cpp-python is not installed or failed to import: {exc}"
            ) from None
        self._lib = llama_cpp
        avoid_amx_crash()
        _install_log_bridge(llama_cpp)
        threads = settings.n_threads or max(1, os.cpu_count() or 1)
        t0 = time.perf_counter()
        try:
            # verbose=True: with verbose=False llama-cpp-python redirects fds 1 and 2 while loading,
            # which would swallow LSP messages written meanwhile. Logs go through the bridge above.
            with contextlib.redirect_stderr(
                io.StringIO()
            ):  # Python-level chatter only; fds stay untouched
                self.llm = llama_cpp.Llama(
                    model_path=str(p),
                    n_ctx=settings.n_ctx,
                    n_threads=threads,
                    n_threads_batch=threads,
                    n_batch=min(settings.n_batch, settings.n_ctx),
                    n_gpu_layers=settings.n_gpu_layers,
                    verbose=True,
                )
        except (ValueError, RuntimeError, OSError) as exc:
            raise EngineError(
                f"llama.cpp could not load {p.name}: the file is truncated, corrupt or of an unsupported architecture ({exc})"
            ) from None
        self.llm.verbose = False
        self.load_seconds = time.perf_counter() - t0
        self._vocab = llama_cpp.llama_model_get_vocab(self.llm.model)
        self._special_cache: dict[str, int | None] = {}
        self.prompt_chunk = settings.prompt_chunk
        self.counters = EngineCounters()
        #: prompt and generation tokens/s (``speed``); the prompt's is learnt from every chunk,
        #: so chunk sizes follow it even when nothing asked for ``speed`` (no latency target)
        self._prompt_tps: float | None = None
        self._gen_tps: float | None = None
        #: the KV cache a speculative warm-up displaced (restored when a request wants it back)
        self._saved: tuple[list[int], Any] | None = None
        self._stable = 0  #: stable tokens of the prompt being evaluated (for the counters)
        self._vocab_pieces: VocabPieces | None = None  #: built on the first healing
        #: the running request's cancel event, read by llama.cpp between compute steps
        self._cancel: threading.Event | None = None
        self._abort = _AbortFlag(llama_cpp, self.llm.ctx)

        fim_ids = {}
        for role in FIM_ROLES:
            tid = getattr(llama_cpp, f"llama_vocab_fim_{role}")(self._vocab)
            if tid >= 0:
                fim_ids[role] = int(tid)
        meta = self.llm.metadata
        family = settings.family
        if family == "auto":
            named = meta.get(TEMPLATE_KEY, "")
            if named in families():
                family = named
            else:
                if named:
                    log.warning("%s names an unknown template %r; detecting one", p.name, named)
                family = detect_family(lambda t: self.special_id(t) is not None, fim_ids)
        self.family = get_family(family)
        #: tokens healed at the end of a prompt that ends in text (-1: as many as the family wants)
        self.heal_tokens = (
            settings.heal_tokens if settings.heal_tokens >= 0 else self.family.heal_tokens
        )
        if self.heal_tokens and self.family.ends_in_text:
            # prompts will end in text: index the vocabulary now (165 ms for 49k tokens) rather
            # than in the user's first completion
            self._vocabulary()
        bos = llama_cpp.llama_vocab_bos(self._vocab)
        #: whether this model wants a BOS token at all (SmolLM2's GGUF says no)
        self._add_bos = bool(llama_cpp.llama_vocab_get_add_bos(self._vocab))
        n_vocab = self.llm.n_vocab()
        self._eog = {i for i in fim_ids.values() if llama_cpp.llama_vocab_is_eog(self._vocab, i)}
        eos = llama_cpp.llama_vocab_eos(self._vocab)
        if eos >= 0:
            self._eog.add(int(eos))
        eot = llama_cpp.llama_vocab_eot(self._vocab)
        if eot >= 0:
            self._eog.add(int(eot))
        for tok in self.family.stop_tokens:
            tid = self.special_id(tok)
            if tid is not None:
                self._eog.add(tid)
        arch = meta.get("general.architecture", "")
        n_ctx_train = int(meta.get(f"{arch}.context_length", 0) or 0)
        self.info = ModelInfo(
            path=str(p),
            backend="llama_cpp",
            family=self.family.name,
            architecture=arch,
            name=meta.get("general.name", p.stem),
            n_ctx_train=n_ctx_train,
            # prompts are fitted to this: beyond its training context a model only produces noise
            n_ctx=min(self.llm.n_ctx(), n_ctx_train) if n_ctx_train else self.llm.n_ctx(),
            n_vocab=n_vocab,
            bos_id=int(bos) if bos >= 0 else None,
            eog_ids=tuple(sorted(self._eog)),
            fim_ids=fim_ids,
            size_bytes=p.stat().st_size,
        )

    # ------------------------------------------------------------------ tokens
    def special_id(self, text: str) -> int | None:
        """The id of the control token spelled ``text``, or None when the vocabulary has none."""
        if text not in self._special_cache:
            ids = self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)
            tid = ids[0] if len(ids) == 1 else None
            if tid is not None and not (
                self._lib.llama_vocab_is_control(self._vocab, tid)
                or self._lib.llama_vocab_is_eog(self._vocab, tid)
            ):
                # A plain word that happens to be one token (e.g. "[PREFIX]" in some vocabularies) is no control token.
                attr = (
                    self._lib.llama_vocab_get_attr(self._vocab, tid)
                    if hasattr(self._lib, "llama_vocab_get_attr")
                    else 0
                )
                if not attr & 8:  # LLAMA_TOKEN_ATTR_USER_DEFINED
                    tid = None
            self._special_cache[text] = tid
        return self._special_cache[text]

    def tokenize_text(self, text: str) -> list[int]:
        """Tokens of file text, control-token spellings kept as plain text."""
        if not text:
            return []
        return list(
            self.llm.tokenize(text.encode("utf-8", errors="replace"), add_bos=False, special=False)
        )

    def prompt_tokens(self, prompt: Prompt) -> list[int]:
        """The token ids sent to the model for ``prompt``."""
        return self._tokens(prompt)[0]

    def _tokens(self, prompt: Prompt) -> tuple[list[int], int]:
        """The prompt's ids and how many of them stay the same while the user types within the
        cursor's line (``stable_tokens``)."""
        ids: list[int] = []
        if prompt.add_bos and self._add_bos and self.info.bos_id is not None:
            ids.append(self.info.bos_id)
        stable: int | None = None
        for i, part in enumerate(prompt.parts):
            if i == prompt.stable_parts:
                stable = len(ids)
            if part.kind == "special":
                tid = self.special_id(part.text)
                if tid is None:
                    role = self.family.fim_roles.get(part.text)
                    tid = self.info.fim_ids.get(role) if role else None
                if tid is None:
                    raise EngineError(
                        f"model {Path(self.info.path).name} has no token {part.text!r} needed by the {prompt.family} template; set model.family"
                    )
                ids.append(tid)
            else:
                ids.extend(self.tokenize_text(part.text))
        if stable is None:
            if prompt.stable_parts is not None:
                stable = len(ids)  # nothing typed on the line yet
            elif self.family.ends_in_text and prompt.fim is not None:
                # all but the tokens of the cursor's line and one more (the seam may retokenize)
                line = prompt.fim.prefix[prompt.fim.prefix.rfind("\n") + 1 :]
                stable = max(0, len(ids) - len(self.tokenize_text(line)) - 1)
            else:
                stable = 0
        return ids, stable

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize_text(text))

    def piece(self, token: int) -> bytes:
        """The bytes of one token (control tokens give b'').

        Not ``Llama.detokenize``: llama-cpp-python 0.3.36 converts into a 32-byte buffer and slices
        it with llama.cpp's negative "too small" answer, so longer tokens (DeepSeek-Coder has 22,
        such as 64 spaces of indentation or a 64-dash rule) come back empty or cut.
        """
        size = PIECE_BUFFER
        while True:
            buf = ctypes.create_string_buffer(size)
            n = self._lib.llama_token_to_piece(self._vocab, token, buf, size, 0, False)
            if n >= 0:
                return buf.raw[:n]
            size = -n

    def detokenize(self, ids: list[int]) -> str:
        return b"".join(self.piece(t) for t in ids).decode("utf-8", errors="replace")

    def cached_prefix(self, ids: list[int]) -> int:
        """How many leading tokens of ``ids`` are already in the KV cache."""
        n = 0
        for a, b in zip(self.llm.input_ids[: self.llm.n_tokens], ids, strict=False):
            if a != b:
                break
            n += 1
        return n

    # ------------------------------------------------------------------ token healing
    def heal(self, prompt: Prompt, ids: list[int]) -> tuple[list[int], bytes]:
        """``ids`` backed off their last tokens when generation writes straight on from prompt text.

        A prompt that ends in text (prefix-only and suffix-first layouts) usually ends at a token
        boundary the model never saw in training: the cursor after ``self.pos `` gives a lone ``' '``
        token where training text had ``' ='``, and indentation typed ahead of the cursor gives a
        token that training text would have split before the next word. Up to ``heal_tokens`` text
        tokens are removed (never a control token, never the whole prompt); returns the shortened
        ids and the removed tokens' bytes, which the first generated tokens must spell again
        (``allowed_next``). Nothing is removed when the prompt ends in a control token.
        """
        if not (self.heal_tokens and prompt.parts and prompt.parts[-1].kind == "text"):
            return ids, b""
        keep = len(ids)
        while keep > 1 and len(ids) - keep < self.heal_tokens and self.piece(ids[keep - 1]):
            keep -= 1
        return ids[:keep], b"".join(self.piece(t) for t in ids[keep:])

    def allowed_next(self, remaining: bytes) -> Any:
        """Ids of the tokens that may come next while ``remaining`` bytes of a healed token are unspelt (``engine.healing``)."""
        return self._vocabulary().allowed(remaining)

    def _vocabulary(self) -> VocabPieces:
        if self._vocab_pieces is None:
            self._vocab_pieces = VocabPieces([self.piece(t) for t in range(self.llm.n_vocab())])
        return self._vocab_pieces

    # ------------------------------------------------------------------ generation
    def generate(
        self,
        prompt: Prompt,
        params: GenerationParams,
        cancel: threading.Event,
        on_text: Callable[[str], bool | None] | None = None,
    ) -> Generation:
        full, stable = self._tokens(prompt)
        ids, healing = self.heal(prompt, full)
        # respelling the healed text takes at most one token per byte, on top of max_tokens
        limit = self.info.n_ctx - params.max_tokens - 1 - len(healing)
        if len(ids) > limit:
            raise EngineError(
                f"prompt of {len(ids)} tokens does not fit the context of {self.info.n_ctx} (lower completion.prefix_chars or context.budget_tokens)"
            )
        gen = Generation(prompt_tokens=ids, n_prompt=len(ids))
        if not ids:  # nothing before the cursor and no BOS: nothing to go on
            return gen
        self._restore_if_better(ids)
        cached = self.cached_prefix(ids)
        gen.n_prompt_evaluated = (
            len(ids) - (cached - 1 if cached == len(ids) else cached) if cached else len(ids)
        )
        if cancel.is_set():
            gen.stop_reason = "cancelled"
            return gen
        self.llm.set_seed(params.seed)
        self.counters.requests += 1
        self._stable = stable
        t0 = time.perf_counter()
        self._watch(cancel, hard_only=True)  # newer work elsewhere need not wait for the chunk
        try:
            evaluated = self._evaluate_prompt(ids, cached, cancel)
        except RuntimeError as exc:
            if not cancel.is_set():
                raise EngineError(f"llama.cpp failed while evaluating the prompt: {exc}") from None
            evaluated = False
            self._resync_after_abort()
        finally:
            self._watch(None)
        if not evaluated:
            gen.stop_reason = "cancelled"
            gen.prompt_ms = (time.perf_counter() - t0) * 1000
            return gen
        self._watch(cancel)
        pending = b""
        t_first: float | None = None
        stop_text = tuple(s for s in prompt.stop_text if s)
        #: healed bytes the generated tokens have not spelt yet (the constraint keeps them in step)
        unspelt = healing
        respelt = 0  #: generated tokens that only respelt healed text (not counted in max_tokens)
        processors = None
        if healing:

            def constrain(_input_ids: Any, logits: Any) -> Any:
                if not unspelt:
                    return logits
                allowed = self.allowed_next(unspelt)
                kept = logits[allowed]
                logits[:] = -float("inf")
                logits[allowed] = kept
                return logits

            processors = self._lib.LogitsProcessorList([constrain])
        try:
            for tok in self.llm.generate(
                ids,
                temp=params.temperature,
                top_p=params.top_p,
                top_k=40,
                min_p=0.05,
                repeat_penalty=1.0,
                reset=True,
                logits_processor=processors,
            ):
                if t_first is None:
                    t_first = time.perf_counter()
                    self.counters.prompt_tokens_evaluated += 1  # the last prompt token
                    self.counters.line_tokens_evaluated += 1
                else:
                    self.counters.tokens_generated += 1
                if tok in self._eog:
                    gen.stop_reason = "eos"
                    break
                gen.tokens.append(int(tok))
                data = self.piece(tok)
                if unspelt:  # the healed text is the prompt's already: it is not new text
                    cut = min(len(unspelt), len(data))
                    unspelt, data = unspelt[cut:], data[cut:]
                    respelt += not data
                pending += data
                piece = _decode_complete(pending)
                if piece is not None:
                    pending = b""
                    gen.text += piece
                    if on_text is not None and piece and on_text(piece):
                        gen.stop_reason = "stop"
                        break
                if stop_text and any(s in gen.text for s in stop_text):
                    cut = min(gen.text.find(s) for s in stop_text if s in gen.text)
                    gen.text = gen.text[:cut]
                    gen.stop_reason = "stop"
                    break
                if cancel.is_set():
                    gen.stop_reason = "cancelled"
                    break
                if len(gen.tokens) - respelt >= params.max_tokens:
                    gen.stop_reason = "length"
                    break
        except RuntimeError as exc:
            if cancel.is_set():
                gen.stop_reason = "cancelled"
                self._resync_after_abort()
            else:
                raise EngineError(f"llama.cpp failed while generating: {exc}") from None
        finally:
            self._watch(None)
        t1 = time.perf_counter()
        if pending:
            gen.text += pending.decode("utf-8", errors="ignore")
        first = t_first if t_first is not None else t1
        gen.prompt_ms = (first - t0) * 1000
        gen.gen_ms = (t1 - first) * 1000
        if gen.stop_reason != "cancelled":
            self._learn_speed(gen)
        return gen

    def _evaluate_prompt(self, ids: list[int], cached: int, cancel: threading.Event) -> bool:
        """Evaluate all but the last prompt token, ``prompt_chunk`` tokens at a time; False when cancelled.

        Cancellation is checked between chunks, never inside one, so every finished chunk stays in
        the KV cache: while the user types, each request carries the evaluation on from where the
        superseded one stopped, instead of throwing a half-evaluated prompt away on every key.
        """
        return self._evaluate(ids, cached, len(ids) - 1, cancel, warm=False)

    def _evaluate(
        self, ids: list[int], cached: int, upto: int, cancel: threading.Event, warm: bool
    ) -> bool:
        """Bring the KV cache to ``ids[:upto]`` (from its ``cached`` leading tokens), chunk by chunk."""
        llm = self.llm
        start = min(cached, upto)
        if llm.n_tokens > start:
            llm.n_tokens = start  # forget what diverges (eval drops those KV cells)
        while llm.n_tokens < upto:
            if cancel.is_set():
                return False
            piece = ids[llm.n_tokens : min(llm.n_tokens + self.chunk_tokens(), upto)]
            at = llm.n_tokens
            t0 = time.perf_counter()
            llm.eval(piece)
            self._learn_prompt_speed(len(piece), time.perf_counter() - t0)
            if warm:
                self.counters.warm_tokens_evaluated += len(piece)
            else:
                self.counters.prompt_tokens_evaluated += len(piece)
                self.counters.line_tokens_evaluated += max(
                    0, at + len(piece) - max(at, self._stable)
                )
        return True

    def chunk_tokens(self) -> int:
        """Prompt tokens per chunk: ``model.prompt_chunk``, or when that is 0 the largest of
        ``CHUNK_SIZES`` that the measured speed evaluates within ``CHUNK_SLICE_S``. Small chunks
        cost throughput (Qwen2.5-Coder-0.5B on 2 cores: 140 tokens/s in chunks of 32, 204 in 128,
        218 in 512), large ones make a newer request wait longer for the chunk in flight."""
        if self.prompt_chunk > 0:
            return self.prompt_chunk
        tps = self._prompt_tps
        if tps is None:
            return CHUNK_SIZES[0]
        fits = [n for n in CHUNK_SIZES if n <= tps * CHUNK_SLICE_S]
        return fits[-1] if fits else CHUNK_SIZES[0]

    # ------------------------------------------------------------------ speed
    def speed(self) -> tuple[float, float]:
        """Prompt and generation tokens per second: probed once (``SPEED_PROBE``), then a running
        average (the machine's load changes them) of every prompt chunk evaluated — warm-ups'
        included, since with the typed line after the middle token a request evaluates only a few
        tokens — and of the generation of real requests. A probe taken while something else held
        the cores is corrected by the next warm-up."""
        if self._prompt_tps is None or self._gen_tps is None:
            ids = (self.tokenize_text("def total(values):\n    return sum(values)\n" * 8) or [0])[
                : SPEED_PROBE[0]
            ]
            llm = self.llm
            llm.n_tokens = 0  # the probe runs before any request: nothing worth keeping is cached
            t0 = time.perf_counter()
            llm.eval(ids)
            t1 = time.perf_counter()
            for _ in range(SPEED_PROBE[1]):
                llm.eval([ids[-1]])
            t2 = time.perf_counter()
            llm.n_tokens = 0
            if self._prompt_tps is None:
                self._prompt_tps = len(ids) / max(1e-6, t1 - t0)
            self._gen_tps = SPEED_PROBE[1] / max(1e-6, t2 - t1)
            log.info(
                "model speed: %.0f prompt tokens/s, %.0f generated tokens/s",
                self._prompt_tps,
                self._gen_tps,
            )
        return self._prompt_tps, self._gen_tps

    def _learn_speed(self, gen: Generation) -> None:
        """Refine the generation speed from a finished request (its prompt chunks were counted)."""
        g = self._gen_tps
        if g is not None and gen.n_generated >= SPEED_MIN_SAMPLE // 4 and gen.gen_ms > 0:
            self._gen_tps = g + SPEED_EWMA * (gen.n_generated / (gen.gen_ms / 1000) - g)

    def _learn_prompt_speed(self, tokens: int, seconds: float) -> None:
        """Refine the prompt speed from one evaluated chunk of ``tokens`` (small ones say little)."""
        if tokens < SPEED_MIN_SAMPLE or seconds <= 0:
            return
        tps, p = tokens / seconds, self._prompt_tps
        self._prompt_tps = tps if p is None else p + SPEED_EWMA * (tps - p)

    # ------------------------------------------------------------------ warming the cache
    def stable_tokens(self, prompt: Prompt) -> int:
        """How many leading prompt tokens stay the same while the user types within the cursor's line.

        Exact for layouts with ``$line_prefix`` (the parts before the typed line); for prompts that
        end in the text before the cursor, all but the tokens of the cursor's line and one more; 0
        for other layouts (the end of the prefix sits before the suffix: every key changes it).
        """
        return self._tokens(prompt)[1]

    def warm(self, prompt: Prompt, cancel: threading.Event) -> int:
        """Evaluate the stable part of ``prompt`` into the KV cache (a background warm-up); returns
        the tokens evaluated. Stops between two chunks once ``cancel`` is set; what finished stays."""
        ids, stable = self._tokens(prompt)
        upto = min(stable, len(ids) - 1)
        if upto <= 0 or len(ids) > self.info.n_ctx - 1:
            return 0
        self._restore_if_better(ids)
        cached = self.cached_prefix(ids)
        if cached >= upto:
            return 0
        if self.llm.n_tokens - cached >= SAVE_MIN_TOKENS:
            # a speculative prompt (the next line) would overwrite the current one: keep a copy
            self._save()
        self.counters.warmups += 1
        before = self.counters.warm_tokens_evaluated
        self._watch(cancel)  # a request need not even wait for the chunk to finish
        try:
            done = self._evaluate(ids, cached, upto, cancel, warm=True)
        except RuntimeError:
            done = False
            self._resync_after_abort()
        finally:
            self._watch(None)
        if not done:
            self.counters.warmups_interrupted += 1
        return self.counters.warm_tokens_evaluated - before

    # ------------------------------------------------------------------ a second KV state
    def _save(self) -> None:
        """Copy the KV cache's tokens and cells aside (one copy; a few MB for a small model)."""
        lib, ctx = self._lib, self.llm.ctx
        try:
            size = lib.llama_state_seq_get_size(ctx, 0)
            buf = (ctypes.c_uint8 * size)()
            if lib.llama_state_seq_get_data(ctx, buf, size, 0) != size:
                return
        except Exception:  # pragma: no cover - an older llama.cpp: warm-ups just overwrite
            log.debug("could not save the KV state", exc_info=True)
            return
        self._saved = (list(self.llm.input_ids[: self.llm.n_tokens]), buf)

    def _restore_if_better(self, ids: list[int]) -> None:
        """Swap the saved KV state in when it holds a longer start of ``ids`` than the cache does."""
        if self._saved is None:
            return
        saved_ids, buf = self._saved
        have = self.cached_prefix(ids)
        shared = 0
        for a, b in zip(saved_ids, ids, strict=False):
            if a != b:
                break
            shared += 1
        if shared <= have + SAVE_MIN_TOKENS // 2:
            return
        llm = self.llm
        self._saved = None
        self._save()  # the state being replaced becomes the saved one (a swap)
        llm._ctx.kv_cache_seq_rm(-1, 0, -1)
        if self._lib.llama_state_seq_set_data(llm.ctx, buf, len(buf), 0) == 0:
            llm._ctx.kv_cache_seq_rm(-1, 0, -1)
            llm.n_tokens = 0
            return
        llm.input_ids[: len(saved_ids)] = saved_ids
        llm.n_tokens = len(saved_ids)
        if hasattr(llm, "_requires_eval"):
            llm._requires_eval = True  # the logits are not those of the restored tokens
        self.counters.restores += 1

    def _watch(self, cancel: threading.Event | None, hard_only: bool = False) -> None:
        """Let llama.cpp abort a decode when ``cancel`` is set (an event with ``on_set``, such as the
        worker's) — with ``hard_only``, only when it is set ``hard`` (the newer work shares nothing
        with this prompt, so its chunk in flight is worth nothing); None: stop watching. Plain
        events are checked between chunks and tokens only."""
        self._cancel = cancel
        self._abort.clear()
        add = getattr(cancel, "on_set", None)
        if add is None or cancel is None:
            return
        trip = self._abort.raise_if(cancel)
        if hard_only:
            plain = trip

            def trip() -> None:
                if getattr(cancel, "hard", False):
                    plain()

        add(trip)
        if cancel.is_set():
            trip()

    def _resync_after_abort(self) -> None:
        """After an interrupted decode, drop KV entries beyond what the Python side knows was evaluated."""
        try:
            self.llm._ctx.kv_cache_seq_rm(-1, self.llm.n_tokens, -1)
        except Exception:  # pragma: no cover - depends on llama.cpp internals
            self.llm.reset()

    def close(self) -> None:
        llm = getattr(self, "llm", None)
        if llm is not None:
            llm.close()
            self.llm = None  # type: ignore[assignment]


class _AbortFlag:
    """llama.cpp's abort callback without Python in the loop.

    ggml asks the callback between compute steps, hundreds of times per decode. A Python callback
    takes the GIL each time: in the server, where the event loop and other threads hold it, every
    decode then waits on them (requests through the server ran far slower than the same ids in a
    bare process). Here the callback is libc's ``strlen`` on a two-byte buffer: it answers 0 (go
    on) until ``raise_`` writes a non-zero first byte, then 1 (abort); no GIL is taken.
    """

    def __init__(self, llama_cpp: Any, ctx: Any) -> None:
        self._buf = ctypes.create_string_buffer(2)
        libc = ctypes.CDLL(None)
        address = ctypes.cast(libc.strlen, ctypes.c_void_p).value
        self._cb = llama_cpp.ggml_abort_callback(address)
        llama_cpp.llama_set_abort_callback(ctx, self._cb, ctypes.cast(self._buf, ctypes.c_void_p))
        self._token = 0  #: which watch is current: an old event set late must not abort a new one

    def clear(self) -> None:
        self._token += 1
        self._buf[0] = b"\x00"

    def raise_if(self, cancel: threading.Event | None) -> Callable[[], None]:
        token = self._token

        def raise_() -> None:
            if token == self._token:
                self._buf[0] = b"\x01"

        return raise_


def _decode_complete(data: bytes) -> str | None:
    """Decode ``data`` unless it ends inside a multi-byte UTF-8 sequence (then wait for more bytes)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
            return None
        return data.decode("utf-8", errors="replace")


def logits_for(
    path: str | os.PathLike[str], ids: list[int], text: str = "", n_threads: int = 1
) -> tuple[list[int], Any]:
    """llama.cpp's logits for every position of ``ids`` (a numpy array, one row per token) and its
    tokens of ``text``: how an exported model is checked against the framework that trained it."""
    import llama_cpp
    import numpy as np

    _install_log_bridge(llama_cpp)
    llm = llama_cpp.Llama(
        model_path=str(path),
        n_ctx=max(64, len(ids) + 8),
        logits_all=True,
        verbose=True,
        n_threads=n_threads,
    )
    try:
        tokens = (
            list(llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)) if text else []
        )
        llm.eval(ids)
        return tokens, np.asarray(llm.scores[: len(ids)], dtype=np.float64)
    finally:
        llm.close()
