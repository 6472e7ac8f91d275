"""A process pool for the CPU-heavy stages, so extraction and NLP run beside Scrapy's downloader."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import pickle
import signal
import sys
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, Callable, Optional

# The console script children start through (see spawn_context); pyproject.toml installs it beside python.
SPAWN_LAUNCHER = "prahari-spawn"


def die_with_parent(parent: Optional[int] = None) -> None:
    """Have the kernel stop this process when its parent dies (Linux), so a killed update leaves no orphan."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return  # not Linux: the parent's own cleanup is all there is
    if parent is not None and os.getppid() != parent:
        os._exit(1)  # the parent died before the line above took effect


def spawn_context() -> multiprocessing.context.SpawnContext:
    """The spawn context, with children started through prahari-spawn when it is installed."""
    context = multiprocessing.get_context("spawn")
    launcher = Path(sys.executable).with_name(SPAWN_LAUNCHER)
    if launcher.exists():
        context.set_executable(str(launcher))
    return context


def spawn_child() -> int:
    """Entry point of prahari-spawn: run multiprocessing's bootstrap, quietly giving up if the parent is gone.

    A parent stopped (Ctrl-C, SIGTERM, SIGKILL) while it starts a child closes the pipe before the child has
    read its start-up data; python's own bootstrap then prints an EOFError traceback on the user's terminal.
    Interpreter flags before -c are not carried over; nothing of ours sets any.
    """
    args = sys.argv[1:]
    start = args.index("-c")
    sys.argv = ["-c", *args[start + 2:]]
    try:
        exec(args[start + 1], {"__name__": "__main__"})
    except (EOFError, pickle.UnpicklingError):  # the pipe closed early or mid-way
        return 1
    return 0


def _start_worker(parent: int, warm_up: Optional[Callable[[], None]]) -> None:
    die_with_parent(parent)
    if warm_up is not None:
        warm_up()


class WorkerCrashed(Exception):
    """A worker process died on one page (the pool is rebuilt for the next)."""


class WorkerPool:
    """Run picklable functions in worker processes; with 0 workers, run them inline."""

    def __init__(self, workers: int, warm_up: Optional[Callable[[], None]] = None):
        self.workers, self.warm_up = workers, warm_up
        self._pool: Optional[ProcessPoolExecutor] = None
        self._used = False  # a page was sent to the workers (not only their warm-up)

    def start(self) -> None:
        """Start the worker processes now, so their imports overlap the crawl's first requests."""
        if self.workers and self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers, mp_context=spawn_context(),
                                             initializer=_start_worker, initargs=(os.getpid(), self.warm_up))
            # A spawn pool starts a process per task submitted, not when it is made: one empty task per worker
            # starts them all now, not when the first page arrives.
            for _ in range(self.workers):
                self._pool.submit(os.getpid)

    async def run(self, function: Callable[..., Any], *args: Any) -> Any:
        """Call function(*args) in a worker and wait for it without blocking the reactor."""
        if not self.workers:
            return function(*args)
        self.start()
        self._used = True
        try:
            return await asyncio.wrap_future(self._pool.submit(function, *args))
        except BrokenProcessPool:
            self.shutdown()
            raise WorkerCrashed("worker process died") from None

    def shutdown(self) -> None:
        if self._pool is not None:
            if not self._used:
                # Workers that only warmed up (an update that found nothing new) are stopped, not waited for
                # while they finish importing spaCy. The executor has no public call for this before 3.14.
                for process in list(getattr(self._pool, "_processes", {}).values()):
                    process.terminate()
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def default_workers() -> int:
    """One worker per core beyond the one the crawler uses."""
    return max(1, (os.cpu_count() or 1) - 1)


def load_nlp() -> None:
    """Load spaCy, the alias data and dateparser's languages before the first page arrives."""
    from nlp.dates import load_date_data
    from nlp.pipeline import pipeline

    pipeline("hi"), pipeline("en")
    load_date_data()

