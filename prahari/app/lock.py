"""One update at a time per store: an advisory file lock that the OS frees when the holder dies."""

from __future__ import annotations

import fcntl
import hashlib
import os
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from prahari.errors import PrahariError


def lock_path(identity: str) -> Path:
    """Beside the SQLite file; for a server store, in the user's cache directory.

    Keyed on the store's identity (its real path; its cluster id and index prefix), so the same store
    reached through a symlink, or as localhost and 127.0.0.1, takes the same lock.
    """
    if identity.startswith("sqlite:") and identity != "sqlite::memory:":
        return Path(identity[len("sqlite:"):] + ".update.lock")
    digest = hashlib.sha1(identity.encode("utf-8")).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "prahari" / "locks"
    return cache / f"{digest}.lock"


@contextmanager
def update_lock(identity: str, store_url: str) -> Iterator[None]:
    """Hold the update lock of a store, or fail at once naming the run that holds it."""
    path = lock_path(identity)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+", encoding="utf-8")
    except OSError as exc:
        raise PrahariError(f"cannot create the update lock {path}: {exc.strerror}") from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise PrahariError(f"another update is already running on {store_url} ({holder}); "
                               "wait for it to finish, or run with a different --store") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, started {datetime.now(timezone.utc).isoformat(timespec='seconds')}")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)
