"""The crawl's worker pool starts its processes, and loads what they need, when the crawl opens, so the imports
overlap the first requests instead of holding up the first page."""

from __future__ import annotations

import asyncio
import gc
import os
import time
from pathlib import Path

from crawlers.workers import WorkerPool

MARKER_FOLDER = "PRAHARI_TEST_WARM_MARKERS"


def leave_marker() -> None:
    """A warm-up that records that it ran, one file per worker (workers inherit the environment)."""
    (Path(os.environ[MARKER_FOLDER]) / str(os.getpid())).write_text("warm", encoding="utf-8")


def test_workers_start_and_warm_up_before_any_page_is_submitted(tmp_path, monkeypatch):
    monkeypatch.setenv(MARKER_FOLDER, str(tmp_path))
    pool = WorkerPool(2, warm_up=leave_marker)
    pool.start()
    try:
        deadline = time.monotonic() + 60
        while len(list(tmp_path.iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(list(tmp_path.iterdir())) == 2, "both workers warmed up with no page submitted"
    finally:
        pool.shutdown()


def slow_warm_up() -> None:
    """A warm-up that says it started, then takes a minute (as if importing a very large model)."""
    folder = Path(os.environ[MARKER_FOLDER])
    (folder / f"started-{os.getpid()}").write_text("", encoding="utf-8")
    time.sleep(60)
    (folder / f"finished-{os.getpid()}").write_text("", encoding="utf-8")


def test_workers_that_were_never_sent_a_page_are_stopped_not_waited_for(tmp_path, monkeypatch):
    """An update that finds nothing new ends without waiting for its workers to finish loading."""
    monkeypatch.setenv(MARKER_FOLDER, str(tmp_path))
    pool = WorkerPool(1, warm_up=slow_warm_up)
    pool.start()
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob("started-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    [started] = tmp_path.glob("started-*")
    pool.shutdown()
    worker = int(started.name.split("-")[1])
    assert not Path(f"/proc/{worker}").exists(), "the warming worker was stopped and reaped"
    assert not list(tmp_path.glob("finished-*"))


def die_now() -> None:
    """A page that kills its worker (as a crash in a C extension or the OOM killer would)."""
    os._exit(3)


def refuse(reason: str) -> None:
    raise ValueError(reason)


def run_in_pool(pages) -> tuple:
    """Run the coroutine function `pages` on a one-worker pool, as the crawl's event loop would; stop the pool."""
    pool = WorkerPool(1)
    try:
        return asyncio.run(pages(pool))
    finally:
        pool.shutdown()


def test_a_worker_that_dies_fails_its_page_and_the_next_page_gets_a_new_worker():
    from crawlers.workers import WorkerCrashed

    async def crawl_three_pages(pool: WorkerPool) -> tuple:
        first = await pool.run(os.getpid)
        try:
            await pool.run(die_now)
        except WorkerCrashed as exc:
            crashed = str(exc)
        else:
            crashed = None
        return first, crashed, await pool.run(os.getpid)

    first, crashed, after = run_in_pool(crawl_three_pages)
    assert crashed == "worker process died"
    assert first != after != os.getpid(), "a new worker process took the next page"


def test_a_page_that_fails_in_a_worker_raises_its_own_error_and_the_worker_carries_on():
    async def two_pages(pool: WorkerPool) -> tuple:
        try:
            await pool.run(refuse, "no article on this page")
        except ValueError as exc:
            failed = str(exc)
        return failed, await pool.run(os.getpid), await pool.run(os.getpid)

    failed, first, second = run_in_pool(two_pages)
    assert failed == "no article on this page"
    assert first == second != os.getpid()


def test_pages_and_answers_larger_than_the_pipe_cross_whole():
    """A large page is written in parts as the worker reads it, and a large answer is read back in parts."""
    async def large(pool: WorkerPool) -> list:
        return await asyncio.gather(pool.run(len, b"x" * 5_000_000), pool.run(bytes, 3_000_000),
                                    pool.run(len, "प" * 1_000_000))

    sent, answer, text = run_in_pool(large)
    assert (sent, len(answer), set(answer), text) == (5_000_000, 3_000_000, {0}, 1_000_000)


def note_the_collector() -> None:
    """A warm-up that records whether Python's cyclic collector was running through it."""
    (Path(os.environ[MARKER_FOLDER]) / "during-warm-up").write_text(str(gc.isenabled()), encoding="utf-8")


def collector_state() -> tuple[bool, int]:
    return gc.isenabled(), gc.get_freeze_count()


def test_a_worker_warms_up_with_the_collector_paused_then_collects_again_leaving_its_imports_out(tmp_path, monkeypatch):
    monkeypatch.setenv(MARKER_FOLDER, str(tmp_path))

    async def one_page(pool: WorkerPool) -> tuple[bool, int]:
        return await pool.run(collector_state)

    pool = WorkerPool(1, warm_up=note_the_collector)
    try:
        enabled, frozen = asyncio.run(one_page(pool))
    finally:
        pool.shutdown()
    assert (tmp_path / "during-warm-up").read_text(encoding="utf-8") == "False"
    assert enabled, "the collector runs again once the worker takes pages"
    assert frozen > 0, "what the warm-up loaded is kept out of later collections"
