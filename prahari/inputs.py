"""Reading files a user names: regular files only, and never more than a limit (no FIFO, no /dev/zero)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional
from urllib.parse import SplitResult, urlsplit

from prahari.errors import PrahariError


def read_regular_file(path: Path, limit: int, error: type[PrahariError] = PrahariError) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; anything else is an `error` with one line."""
    try:
        if not path.exists():
            raise error(f"{path}: file not found")
        if not path.is_file():
            raise error(f"{path}: not a regular file")
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc.strerror}") from None
    if len(data) > limit:
        raise error(f"{path}: larger than {limit // 1024} KB")
    return data


def split_url(url: str) -> Optional[SplitResult]:
    """The parts of a URL, or None when it is malformed (a broken IPv6 host, a port out of range)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return None
    return parts
