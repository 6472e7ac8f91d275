"""Shared fixtures: the sample site on loopback, incident files pointing at it, and a crawled store."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from prahari.app.cli import main
from prahari.app.sample.site import SampleSite


@pytest.fixture
def main_module_restored():
    """Put pytest's own __main__ back after the test (every AppTest fixture asks for this). Streamlit's AppTest runs
    the dashboard as __main__ and leaves it there, and a crawl that a later test spawns would run the dashboard
    script again in its child process."""
    main_module = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main_module


@pytest.fixture(scope="session")
def site():
    """The bundled sample site on random loopback ports."""
    with SampleSite() as running:
        yield running


def write_incident(site: SampleSite, directory: Path, incident_id: str = "aiims-2022-sample") -> Path:
    path = directory / f"{incident_id}.yaml"
    path.write_text(site.incident_yaml(incident_id), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def crawled(site, tmp_path_factory):
    """One full update of the sample site: (store URL, incident path, exported records by slug)."""
    directory = tmp_path_factory.mktemp("crawled")
    incident = write_incident(site, directory)
    store = f"sqlite:///{directory}/prahari.db"
    assert main(["update", "--incident", str(incident), "--store", store]) == 0
    return store, incident


def export_records(store: str, capsys, *extra: str) -> list[dict]:
    """Run `prahari export` as jsonl and parse its output."""
    capsys.readouterr()
    assert main(["export", "--what", "articles", "--format", "jsonl", "--store", store, *extra]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]


def wait_until_stored(db_path: Path, seconds: float = 90) -> int:
    """Poll a SQLite store until it holds an article (a crawl to kill is underway); return the count."""
    from index.sqlite import sqlite3  # the store's own SQLite: two libraries in one process miss each other's locks
    import time

    deadline, stored = time.monotonic() + seconds, 0
    while time.monotonic() < deadline and stored == 0:
        time.sleep(0.2)
        if db_path.exists():
            try:
                stored = sqlite3.connect(db_path).execute("SELECT COUNT(*) FROM articles").fetchone()[0]
            except sqlite3.Error:
                stored = 0
    return stored


def marked_processes(mark: str) -> list[int]:
    """Processes whose environment carries the mark (a command started with it, its crawl child, its workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if mark.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def kill_update_midway(incident: Path, store_path: Path) -> int:
    """Start `prahari update` in its own session, SIGKILL the whole group once it stored something; the count."""
    import os
    import signal
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "prahari.app.cli", "update", "--incident", str(incident),
                             "--store", f"sqlite:///{store_path}"], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stored = wait_until_stored(store_path)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return stored
