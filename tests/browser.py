"""Real headless Chromium (Debian's) driven by Playwright, and `prahari dashboard` served on 127.0.0.1."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

import pytest

from prahari.app.launch import dashboard_command

ARTIFACTS = Path(__file__).parent / "artifacts"
# Without the background-networking flags, Chromium keeps dialling Google's hosts, which this machine refuses.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_path() -> str:
    """Debian's chromium; a missing browser fails the test (it is never skipped), saying how to install it."""
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("chromium is not installed: sudo apt-get install -y chromium fonts-noto-core (make test does it as root)")
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_dashboard(base: str, process: subprocess.Popen, log_name: str = "its output") -> None:
    """Wait until Streamlit answers its health check (60 s at most)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the dashboard did not start; see {log_name}")
        time.sleep(0.25)


@contextmanager
def dashboard_server(store: str) -> Iterator[str]:
    """`prahari dashboard` on a free loopback port; yields its base URL once Streamlit answers."""
    with dashboard_process(store) as (base, _process):
        yield base


@contextmanager
def dashboard_process(store: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """The dashboard server: its base URL and its process (for the benchmarks' memory figures)."""
    port = free_port()
    command, env = dashboard_command(store, port)
    with streamlit_process(command, env, port) as served:
        yield served


@contextmanager
def streamlit_process(command: list[str], env: dict[str, str], port: int) -> Iterator[tuple[str, subprocess.Popen]]:
    """A Streamlit server started with this command, once it answers: its base URL and its process; stopped after."""
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / f"dashboard-{port}.log", "w", encoding="utf-8")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_dashboard(base, process, log.name)
        yield base, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@contextmanager
def browser_page(viewport: Optional[dict] = None, mobile: bool = False) -> Iterator:
    """A fresh headless Chromium page (downloads allowed); a phone's viewport and touch when mobile."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=viewport or {"width": 1400, "height": 1000}, accept_downloads=True,
                                          locale="en-IN", is_mobile=mobile, has_touch=mobile)
            yield context.new_page()
        finally:
            browser.close()
