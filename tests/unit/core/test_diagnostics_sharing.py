"""Pull diagnostics after a burst: requests for one document share the security check under way
(the feature layer over a stand-in server and security engine; the checks themselves are tested
with real rules elsewhere)."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

from slm_lsp.completion.document import Document
from slm_lsp.config import Settings
from slm_lsp.features.diagnostics import findings_for

URI = "file:///w/a.py"


class SlowSecurity:
    def __init__(self) -> None:
        self.texts: list[str] = []
        self.lock = threading.Lock()

    def check(self, text: str, path: str, language: str | None) -> list:
        with self.lock:
            self.texts.append(text)
        time.sleep(0.1)
        return []


def test_pulls_for_one_document_share_the_check_under_way() -> None:
    security = SlowSecurity()
    state = {"doc": Document(URI, "a.py", "x = 1\n", "python", "python", version=1)}
    ls = SimpleNamespace(
        document=lambda uri: state["doc"],
        findings={},
        security_checks={},
        pool=ThreadPoolExecutor(2),
        security=security,
        settings=Settings.from_layers({})[0],
        worker=None,
    )

    async def scenario() -> None:
        first = await asyncio.gather(*(findings_for(ls, URI) for _ in range(10)))  # type: ignore[arg-type]
        assert first == [[]] * 10
        assert security.texts == ["x = 1\n"]  # one check for ten pulls
        # an edit while pulls wait: the stale check is shared, then exactly one more runs
        pending = [asyncio.ensure_future(findings_for(ls, URI)) for _ in range(5)]  # type: ignore[arg-type]
        await asyncio.sleep(0)
        state["doc"] = Document(URI, "a.py", "x = 2\n", "python", "python", version=2)
        pending += [asyncio.ensure_future(findings_for(ls, URI)) for _ in range(5)]  # type: ignore[arg-type]
        await asyncio.gather(*pending)
        assert ls.findings[URI][0] == 2
        assert security.texts[1:] in (["x = 2\n"], ["x = 1\n", "x = 2\n"])

    asyncio.run(scenario())
    ls.pool.shutdown()


def test_a_finished_check_left_in_the_table_does_not_hold_a_pull() -> None:
    """A pull that finds the check it would share already finished (its starter not yet resumed)
    starts its own instead of waiting on it forever (an earlier version spun the event loop)."""
    security = SlowSecurity()
    doc = Document(URI, "a.py", "x = 1\n", "python", "python", version=3)
    ls = SimpleNamespace(
        document=lambda uri: doc,
        findings={URI: (2, [])},  # an older version's findings
        security_checks={},
        pool=ThreadPoolExecutor(1),
        security=security,
        settings=Settings.from_layers({})[0],
        worker=None,
    )
    answers: list[object] = []

    async def scenario() -> None:
        done = asyncio.ensure_future(asyncio.sleep(0))
        await done
        ls.security_checks[URI] = done  # finished, still in the table
        answers.append(await findings_for(ls, URI))  # type: ignore[arg-type]

    # in a thread of its own: a pull that spins never yields, and must fail this test, not hang it
    runner = threading.Thread(target=asyncio.run, args=(scenario(),), daemon=True)
    runner.start()
    runner.join(10)
    assert answers == [[]] and security.texts == ["x = 1\n"]
    assert ls.findings[URI][0] == 3
    ls.pool.shutdown()
