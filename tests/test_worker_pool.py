"""The crawl's worker pool starts its processes, and loads what they need, when the crawl opens, so the imports
overlap the first requests instead of holding up the first page."""

from __future__ import annotations

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
