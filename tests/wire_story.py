"""Copies of one wire story, for story-assignment tests and benchmarks."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import numpy as np

from prahari.model import Article

STORY_INCIDENT = "copies"  # the incident every copy is filed under


def story_copy(n: int) -> Article:
    """Copy n of a story, published n hours after 2022-11-20 00:00 IST, with nothing but its id to tell it from the
    others."""
    article_id = hashlib.sha1(f"copy-{n}".encode()).hexdigest()[:16]
    return Article(id=article_id, url=f"https://copy{n}.example/story", source=f"copy{n}.example",
                   canonical_url=f"https://copy{n}.example/story", title=f"Server story, copy {n}", language="en",
                   text=f"Copy {n} of the server story.",
                   published=(datetime(2022, 11, 20, tzinfo=timezone(timedelta(hours=5, minutes=30)))
                              + timedelta(hours=n)).isoformat(),
                   relevant=True, incident=STORY_INCIDENT, content_hash=article_id)


def story_signature() -> np.ndarray:
    """The story's MinHash signature (64 values), a fresh array each call: callers edit copies of it."""
    return np.arange(1000, 1064, dtype=np.uint64)
