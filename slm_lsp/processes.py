"""Worker processes for parallel parsing (index, review): which start method is safe in this process."""

from __future__ import annotations

import multiprocessing
import threading
from multiprocessing.context import BaseContext

PRELOAD = ["slm_lsp.workspace.parse", "slm_lsp.security.engine"]
"""Modules a fork server imports once, so that the workers it forks start with grammars and rules loaded."""


def worker_context() -> BaseContext:
    """``fork`` while this process has a single thread, else ``forkserver`` (``spawn`` off Linux).

    Fork is the fastest start (the children inherit loaded grammars) but forking a threaded
    process — the language server has pygls's reader threads, the model worker, llama.cpp's
    threads and the file watcher — can leave a child blocked for ever on a lock that another
    thread held at the moment of the fork. A fork server is started from a clean process instead.
    """
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        return ctx
    return multiprocessing.get_context("spawn")
