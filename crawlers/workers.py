"""A process pool for the CPU-heavy stages, so extraction and NLP run beside Scrapy's downloader.

Each worker has a pipe that the event loop itself reads and writes: no helper threads in the crawler, whose
hand-offs cost more CPU per page than the messages (concurrent.futures' pool: about 0.3 ms a page).
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import multiprocessing
import os
import pickle
import signal
import sys
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

# The console script children start through (see spawn_context); pyproject.toml installs it beside python.
SPAWN_LAUNCHER = "prahari-spawn"


def _prctl(option: int, value: Any) -> bool:
    """Linux's prctl(2) for this process; False where there is none."""
    try:
        import ctypes

        return ctypes.CDLL("libc.so.6", use_errno=True).prctl(option, value) == 0
    except (OSError, AttributeError):
        return False


def die_with_parent(parent: Optional[int] = None) -> None:
    """Have the kernel stop this process when its parent dies (Linux), so a killed update leaves no orphan."""
    if not _prctl(1, signal.SIGKILL):  # PR_SET_PDEATHSIG
        return  # not Linux: the parent's own cleanup is all there is
    if parent is not None and os.getppid() != parent:
        os._exit(1)  # the parent died before the line above took effect


def name_process(name: str) -> None:
    """Show this process as `name` (15 characters at most) in ps and top, instead of a third python."""
    _prctl(15, name.encode()[:15])  # PR_SET_NAME


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


class WorkerCrashed(Exception):
    """A worker process died while it held a page (the next page starts a new one)."""


HEADER = 8  # bytes of the length before each message on a worker's pipe
CRAWL_NAME, WORKER_NAME = "prahari-crawl", "prahari-nlp"  # the processes of a crawl, as ps and top show them


def _frame(payload: bytes) -> bytes:
    return len(payload).to_bytes(HEADER, "big") + payload


def _read_exactly(fd: int, size: int) -> Optional[bytes]:
    """`size` bytes from a blocking descriptor, or None when it closes first."""
    chunks = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _serve(connection: Any, parent: int, warm_up: Optional[Callable[[], None]]) -> None:
    """A worker's life: warm up, then answer (task id, function, args) messages until the pipe closes."""
    # Ctrl-C reaches the whole process group: the crawl decides what stops, and this loop ends when its pipe closes.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(parent)
    name_process(WORKER_NAME)
    if warm_up is not None:
        warm_up_quickly(warm_up)
    fd = connection.fileno()
    while (header := _read_exactly(fd, HEADER)) is not None:
        message = _read_exactly(fd, int.from_bytes(header, "big"))
        if message is None:
            return
        task, function, args = pickle.loads(message)
        try:
            reply = (task, True, function(*args))
        except Exception as exc:  # the page's own failure (no article, bad HTML) goes back to the caller
            reply = (task, False, exc)
        try:
            data = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
            if not reply[1]:
                pickle.loads(data)  # an exception that pickles but cannot be rebuilt would stall its caller
        except Exception as exc:
            data = pickle.dumps((task, False, WorkerCrashed(f"the worker's answer could not be sent: {exc}")))
        try:
            _write_all(fd, _frame(data))
        except OSError:
            return  # the crawl is gone


def warm_up_quickly(warm_up: Callable[[], None]) -> None:
    """Run a start-up full of imports with the cyclic collector paused, then keep what it loaded out of later
    collections."""
    # Imports allocate much and free little: the collector ran over the growing heap again and again, 0.1 s of a
    # worker's 0.75 s of start-up CPU, and found almost nothing to free.
    gc.disable()
    try:
        warm_up()
    finally:
        gc.enable()
        gc.freeze()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def spawn_worker(warm_up: Optional[Callable[[], None]]) -> tuple[multiprocessing.Process, Connection]:
    """Start one worker process; return it and this end of its pipe."""
    context = spawn_context()
    ours, theirs = context.Pipe()
    process = context.Process(target=_serve, args=(theirs, os.getpid(), warm_up), daemon=True)
    process.start()
    theirs.close()  # only the worker holds its end: its death reads as the end of the pipe here
    return process, ours


class _Worker:
    """One worker process, and this end of its pipe, read and written by the event loop without blocking it.

    A worker the command started (see start_crawl_workers) comes as its pipe alone: closing the pipe
    ends it, and its parent collects it.
    """

    def __init__(self, warm_up: Optional[Callable[[], None]], adopted: Optional[Connection] = None):
        self.process: Optional[multiprocessing.Process] = None
        if adopted is None:
            self.process, adopted = spawn_worker(warm_up)
        self.connection, self.fd = adopted, adopted.fileno()
        os.set_blocking(self.fd, False)
        self.waiting: dict[int, asyncio.Future] = {}
        self.incoming, self.outgoing = bytearray(), bytearray()
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self.alive = True

    def send(self, task: int, message: bytes, future: asyncio.Future) -> None:
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
            self.loop.add_reader(self.fd, self._read)
        self.waiting[task] = future
        self.outgoing += _frame(message)
        self._write()

    def _write(self) -> None:
        try:
            while self.outgoing:
                del self.outgoing[:os.write(self.fd, self.outgoing)]
        except BlockingIOError:  # the pipe is full: the rest goes when the worker has read some
            pass
        except OSError:
            self._died()
            return
        if self.outgoing:  # called again when the worker has read some
            self.loop.add_writer(self.fd, self._write)
        else:
            self.loop.remove_writer(self.fd)  # nothing when none was set

    def _read(self) -> None:
        try:
            chunk = os.read(self.fd, 1 << 20)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            self._died()
            return
        self.incoming += chunk
        while len(self.incoming) >= HEADER:
            end = HEADER + int.from_bytes(self.incoming[:HEADER], "big")
            if len(self.incoming) < end:
                break
            try:
                task, ok, value = pickle.loads(bytes(self.incoming[HEADER:end]))
            except Exception:  # an answer this process cannot rebuild: its page is lost like a crash's
                self._died()
                return
            del self.incoming[:end]
            future = self.waiting.pop(task, None)
            if future is None or future.done():  # its caller stopped waiting (the crawl is closing)
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    def _died(self) -> None:
        orphaned, self.waiting = self.waiting, {}
        self.stop()
        for future in orphaned.values():
            if not future.done():
                future.set_exception(WorkerCrashed("worker process died"))

    def stop(self) -> None:
        """Close the pipe and end the worker at once: it holds nothing the crawl still needs (its answers came
        back or were given up), and a Python with spaCy loaded takes 0.15 s to exit on its own."""
        if not self.alive:
            return
        self.alive = False
        if self.loop is not None and not self.loop.is_closed():
            self.loop.remove_reader(self.fd)
            self.loop.remove_writer(self.fd)
        for future in self.waiting.values():
            future.cancel()
        self.waiting.clear()
        self.connection.close()
        if self.process is not None:
            stop_worker(self.process)


def stop_worker(process: multiprocessing.Process) -> None:
    """End a worker process at once and collect it."""
    process.terminate()
    process.join(30)
    if process.is_alive():
        process.kill()
        process.join()


class WorkerPool:
    """Run picklable functions in worker processes; with 0 workers, run them inline."""

    def __init__(self, workers: int, warm_up: Optional[Callable[[], None]] = None, adopted: Iterable[Connection] = ()):
        self.workers, self.warm_up = workers, warm_up
        self._running: list[_Worker] = [_Worker(warm_up, connection) for connection in adopted]
        self._tasks = itertools.count()

    def start(self) -> None:
        """Start the worker processes now, so their imports overlap the crawl's first requests."""
        self._running = [worker for worker in self._running if worker.alive]
        while len(self._running) < self.workers:
            self._running.append(_Worker(self.warm_up))

    async def run(self, function: Callable[..., Any], *args: Any) -> Any:
        """Call function(*args) in the least busy worker and wait for it without blocking the event loop."""
        if not self.workers:
            return function(*args)
        self.start()
        task = next(self._tasks)
        message = pickle.dumps((task, function, args), protocol=pickle.HIGHEST_PROTOCOL)
        future = asyncio.get_running_loop().create_future()
        min(self._running, key=lambda worker: len(worker.waiting)).send(task, message, future)
        return await future

    def shutdown(self) -> None:
        """Stop every worker now, whether it is still warming up (an update that found nothing new) or done."""
        for worker in self._running:
            worker.stop()
        self._running = []


_early: Optional[WorkerPool] = None  # the crawl process's pool, adopted by its initializer


def start_crawl_workers(workers: int) -> list[tuple[multiprocessing.Process, Connection]]:
    """Start a crawl's NLP workers from the process that then starts the crawl process, before that one: their own
    start-up (spaCy, dateparser: about 0.7 s of CPU) then overlaps the crawl process's, which starts them no
    longer. The crawl process talks to them over the pipes it is given; this process stops them afterwards."""
    return [spawn_worker(load_nlp) for _ in range(workers)]


def start_crawl_process(parent: int, pipes: list[Connection]) -> None:
    """Initializer of the crawl process: die with the parent, name the process, and adopt the workers' pipes."""
    global _early
    die_with_parent(parent)
    name_process(CRAWL_NAME)
    gc.disable()  # through Scrapy's imports, as in a worker's warm-up; crawlers.runner.settle_collector resumes it
    if pipes:
        _early = WorkerPool(len(pipes), warm_up=load_nlp, adopted=pipes)


def crawl_pool(workers: int) -> WorkerPool:
    """The pool this crawl process was handed on its way up, or a new one."""
    global _early
    pool, _early = _early, None
    if pool is not None and pool.workers == workers:
        return pool
    if pool is not None:
        pool.shutdown()
    return WorkerPool(workers, warm_up=load_nlp)


def default_workers() -> int:
    """One worker per core beyond the one the crawler uses."""
    return max(1, (os.cpu_count() or 1) - 1)


def load_nlp() -> None:
    """Load spaCy, the alias data, dateparser's languages and trafilatura before the first page arrives."""
    import nlp.extract  # noqa: F401 (the crawl process never imports it: see prahari.app.ingest.build_article)
    from nlp.dates import load_date_data
    from nlp.pipeline import pipeline

    pipeline("hi"), pipeline("en")
    load_date_data()

