"""Writing the user's output files safely."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

from prahari.errors import PrahariError


@contextmanager
def atomic_output(path: Path, binary: bool = False) -> Iterator[IO]:
    """A file written beside the target, then renamed: a crash never leaves half a file under the real name."""
    partial = path.with_name(path.name + ".partial")
    try:
        with open(partial, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8", "newline": ""})) as out:
            yield out
        partial.replace(path)
    except OSError as exc:
        raise PrahariError(f"{path}: cannot write: {exc.strerror}") from None
