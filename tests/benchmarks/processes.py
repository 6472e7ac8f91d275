"""Memory and CPU of a process tree, sampled from /proc while a benchmark runs."""

from __future__ import annotations

import os
import resource
import threading
from pathlib import Path

PAGE = resource.getpagesize()
TICKS = os.sysconf("SC_CLK_TCK")


def snapshot() -> dict[int, tuple[int, int, float]]:
    """Every process: pid -> (parent pid, resident bytes, CPU seconds so far)."""
    out = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            out[int(entry.name)] = (int(stat[1]), int(stat[21]) * PAGE, (int(stat[11]) + int(stat[12])) / TICKS)
    return out


def machine_cpu_seconds() -> tuple[float, float]:
    """CPU seconds all cores of the machine have spent busy since it started, and those the hypervisor took
    (steal: time this virtual machine was ready to run and was not)."""
    with open("/proc/stat", encoding="ascii") as stat:
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in stat.readline().split()[1:9])
    return (user + nice + system + irq + softirq) / TICKS, steal / TICKS


def family(processes: dict[int, tuple[int, int, float]], root: int) -> set[int]:
    """A process and all its descendants."""
    members, frontier = set(), {root}
    while frontier:
        members |= frontier
        frontier = {pid for pid, (parent, _rss, _cpu) in processes.items() if parent in frontier} - members
    return members


def process_name(pid: int) -> str:
    """The name ps shows for a process (a crawl names its own: crawlers.workers.CRAWL_NAME, WORKER_NAME)."""
    try:
        return (Path("/proc") / str(pid) / "comm").read_text().strip()
    except OSError:
        return ""


class ProcessTree:
    """Peak summed RSS of a process tree (with or without its root), and the CPU seconds each of its processes
    used, as last seen, by process name."""

    def __init__(self, root: int, include_root: bool = True, every: float = 0.2):
        self.root, self.include_root, self.every = root, include_root, every
        self.peak_mb, self.cpu, self.name = 0.0, {}, {}
        self.done = threading.Event()

    def __enter__(self):
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self) -> None:
        while not self.done.wait(self.every):
            processes = snapshot()
            members = family(processes, self.root) - (set() if self.include_root else {self.root})
            self.peak_mb = max(self.peak_mb, sum(processes[p][1] for p in members if p in processes) / 2**20)
            for pid in members & processes.keys():
                self.name[pid] = process_name(pid) or self.name.get(pid, "")  # a crawl names its processes as they start
                self.cpu[pid] = processes[pid][2]

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()

    def cpu_seconds(self, name: str) -> float:
        """CPU seconds of the processes of the tree named `name`."""
        return sum(cpu for pid, cpu in self.cpu.items() if self.name.get(pid) == name)
