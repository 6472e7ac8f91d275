"""Start the dashboard: the prahari process becomes the Streamlit server (no orphan can hold the port)."""

from __future__ import annotations

import os
import socket
import sys

from index.store import open_store
from prahari.errors import PrahariError


def streamlit_options(port: int, verbose: bool = False) -> list[str]:
    """The `streamlit run` options the dashboard is served with: 127.0.0.1:port, headless, nothing sent out."""
    return ["--server.address", "127.0.0.1", "--server.port", str(port), "--server.headless", "true",
            "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none", "--runner.magicEnabled", "false",
            "--global.developmentMode", "false", "--client.toolbarMode", "viewer",
            "--logger.level", "info" if verbose else "error"]


def dashboard_command(url: str, port: int, verbose: bool = False) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that serve the dashboard on 127.0.0.1:port over a store."""
    return [sys.executable, "-m", "dashboard.serve", *streamlit_options(port, verbose)], {**os.environ, "PRAHARI_STORE": url}


def port_in_use(port: int) -> bool:
    """Whether something already listens on 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def run_dashboard(url: str, port: int, verbose: bool = False) -> int:
    """Serve the dashboard until stopped: this process is replaced by Streamlit, so signals reach it directly."""
    if not 0 < port < 65536:
        raise PrahariError(f"--port {port}: not a TCP port (1-65535)")
    open_store(url, create=False).close()  # a store that cannot be opened is reported here, in one line
    if port_in_use(port):
        raise PrahariError(f"port {port} on 127.0.0.1 is already in use; pick another with --port")
    command, env = dashboard_command(url, port, verbose)
    print(f"dashboard: http://127.0.0.1:{port}/  (Ctrl-C to stop)", flush=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(command[0], command, env)
    return 0  # not reached: execve replaces this process
