"""Learn under a held key: ``↓`` pressed 6 times, faster than the pages compute.

The keys are queued all at once without waiting for each to be handled, as a held key's repeats
pile up while the app is busy (10 ms apart, the same happens most of the time). Afterwards the screen must settle on the last page: its panel computed, no work
left waiting or running, nothing computing or allocating while idle, and no error at exit.
"""

import contextlib
import dataclasses
import gc
import threading
import tracemalloc

import pytest
from textual import events
from textual.widgets import Markdown
from textual.worker import WorkerCancelled

from tests.tui.helpers import plain
from tests.tui.test_learn import EXPECTED, LearnApp, _ready
from tui_transformer.tui.learn import registry
from tui_transformer.tui.learn.context import LiveContext, Superseded
from tui_transformer.tui.learn.registry import PAGES
from tui_transformer.tui.screens.learn import LearnScreen

PRESSES = 6


def _hold_down(app) -> None:
    for _ in range(PRESSES):
        app.post_message(events.Key("down", None))


async def _idle(screen: LearnScreen, pilot) -> bool:
    """Wait for the screen's work to end; False if it is still busy after many rounds (it never settles)."""
    for _ in range(20):
        await pilot.pause()
        with contextlib.suppress(WorkerCancelled):  # a replaced request
            await screen.workers.wait_for_complete()
        await pilot.pause()
        if not screen.workers:
            return True
    return False


def _count_concurrency(monkeypatch) -> list[int]:
    """Wrap every page's live function; the returned list gets how many ran at once at each start."""
    running, seen, lock = [0], [], threading.Lock()

    def counted(live):
        def wrapper(ctx):
            with lock:
                running[0] += 1
                seen.append(running[0])
            try:
                return live(ctx)
            finally:
                with lock:
                    running[0] -= 1
        return wrapper

    monkeypatch.setattr(registry, "PAGES", tuple(dataclasses.replace(page, live=counted(page.live)) for page in PAGES))
    return seen


@pytest.mark.slow  # six pages computed on a real model, then a second of idling watched
async def test_holding_down_settles_on_the_last_page_with_no_work_left(tiny, caplog, monkeypatch):
    concurrency = _count_concurrency(monkeypatch)
    app = LearnApp()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _ready(app, pilot, tiny)
        before = screen.live_serial
        _hold_down(app)
        assert await _idle(screen, pilot), "the Learn screen kept working after the keys"
        assert screen.page_index == PRESSES
        page = PAGES[PRESSES]
        live = plain(screen.live_renderable)
        assert all(fact in live for fact in EXPECTED[page.title]), live  # not "computing …"
        assert "computing" not in plain(screen.query_one("#learn-live").content)
        assert screen.live_serial - before <= PRESSES  # at most one request per page passed over
        assert max(concurrency) == 1  # a page passed over never computes beside the next one
        prose = screen.query_one("#learn-prose", Markdown)
        assert prose.source.startswith(f"# {PRESSES + 1} ·") and len(prose.query("MarkdownH1")) == 1

        # idle now: nothing is requested, computed or allocated any more
        serial = screen.live_serial
        tracemalloc.start()
        try:
            start, _ = tracemalloc.get_traced_memory()
            await pilot.pause(1.0)
            grown = tracemalloc.get_traced_memory()[0] - start
        finally:
            tracemalloc.stop()
        assert screen.live_serial == serial
        assert grown < 1_000_000, f"{grown:,} bytes allocated in 1 s of idling"
    gc.collect()  # an unretrieved future reports itself when collected
    noise = [r.getMessage() for r in caplog.records if "never retrieved" in r.getMessage()]
    assert not noise, noise[:1]


async def test_quitting_during_a_burst_is_quiet(tiny, caplog):
    app = LearnApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await _ready(app, pilot, tiny)
        _hold_down(app)
        app.exit()  # while the pages' updates are still in flight
    gc.collect()
    noise = [r.getMessage() for r in caplog.records if "never retrieved" in r.getMessage()]
    assert not noise, noise[:1]


def test_a_superseded_request_stops_before_the_forward_pass(tiny):
    model, tokenizer = tiny
    ctx = LiveContext(model, tokenizer, "The cat sat", superseded=lambda: True)
    with pytest.raises(Superseded):
        PAGES[3].live(ctx)  # the attention page: it needs the forward pass
    assert LiveContext(model, tokenizer, "The cat sat").inspection.logits.shape[1] == 3
