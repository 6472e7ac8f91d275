"""Runtime configuration: which store, from --store, $PRAHARI_STORE, or the per-user default."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import platformdirs

SQLITE_PREFIX = "sqlite:///"


def default_store() -> str:
    """One SQLite file in the user's data folder: the same store from every working directory."""
    folder = Path(platformdirs.user_data_dir("prahari", appauthor=False))
    return f"{SQLITE_PREFIX}{folder / 'prahari.db'}"


def absolute_store(url: str) -> str:
    """Resolve a relative SQLite path against the current directory, once, where the user typed it.

    sqlite:///relative.db is relative to the working directory, sqlite:////absolute.db is absolute (the
    SQLAlchemy convention); child processes get the absolute form, so their directory never matters.
    """
    if url.startswith(SQLITE_PREFIX) and url != f"{SQLITE_PREFIX}:memory:":
        return SQLITE_PREFIX + os.path.abspath(url[len(SQLITE_PREFIX):])
    return url


def store_url(cli_value: Optional[str]) -> str:
    """The store URL: --store, then $PRAHARI_STORE, then the per-user default."""
    return absolute_store(cli_value or os.environ.get("PRAHARI_STORE") or default_store())
