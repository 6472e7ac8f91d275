"""What the CLI writes: files written safely, and text made safe for a terminal."""

from __future__ import annotations

import os
import re
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

from prahari.errors import PrahariError

# C0 and C1 control characters except tab and newline: an ESC in a page title must never reach the terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: object) -> str:
    """Text with control characters replaced by U+FFFD, safe to print to a terminal."""
    return _CONTROL.sub("\ufffd", str(text if text is not None else ""))


def _special(path: Path) -> bool:
    """A symlink, FIFO, device or socket: written through in place, never renamed over."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return False
    return not stat.S_ISREG(mode)


@contextmanager
def atomic_output(path: Path, binary: bool = False) -> Iterator[IO]:
    """A file written beside the target, then renamed: a crash never leaves half a file under the real name.

    A target that is not a regular file (a FIFO, /dev/stdout, a symlink) is written through instead:
    renaming over it would replace the device or the link with a plain file.
    """
    options = {} if binary else {"encoding": "utf-8", "newline": ""}
    if _special(path):
        try:
            with open(path, "wb" if binary else "w", **options) as out:
                yield out
        except OSError as exc:
            raise PrahariError(f"{path}: cannot write: {exc.strerror}") from None
        return
    partial = path.with_name(path.name + ".partial")
    try:
        with open(partial, "wb" if binary else "w", **options) as out:
            yield out
        partial.replace(path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise PrahariError(f"{path}: cannot write: {exc.strerror}") from None
    except BaseException:
        partial.unlink(missing_ok=True)  # nothing half-written is left behind, whatever went wrong
        raise
