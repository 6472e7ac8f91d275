"""Story assignment as a wire story grows: the cost of one more copy of a story carried 50 times, and 5,000 times."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Optional

import numpy as np

from index.query import Filters
from index.store import CANDIDATES_PER_KEY, open_store
from prahari.app.ingest import StoryAssigner
from tests.benchmarks.scale import drop_store
from tests.wire_story import STORY_INCIDENT, story_copy, story_signature

SMALL, LARGE = 50, 5000  # copies of the story already stored
BATCH = 50  # copies a crawl stores at once (PRAHARI_BATCH_SIZE)
TIMED = 7  # batches timed at each size: the median, since a write now and then also checkpoints the log


def edited(n: int, rng: np.random.Generator) -> np.ndarray:
    """The story's MinHash signature with 6 of its 64 values changed, as an outlet's light edit changes it."""
    signature = story_signature()
    signature[rng.choice(len(signature), 6, replace=False)] += np.uint64(10_000 + n)
    return signature


def ms_per_copy(url: str) -> tuple[float, float, int]:
    """Milliseconds a copy to assign and store a batch of copies (the median of TIMED batches) once SMALL, then
    LARGE, copies are stored; and how many stories the copies ended in."""
    rng, store = np.random.default_rng(7), open_store(url)
    try:
        assigner, stored, timed = StoryAssigner(store), 0, []
        for size in (SMALL, LARGE):
            while stored < size:
                count = min(BATCH, size - stored)
                assigner.save_batch([], [story_copy(stored + k) for k in range(count)],
                                    [edited(stored + k, rng) for k in range(count)])
                stored += count
            batches = []
            for _ in range(TIMED):
                started = time.perf_counter()
                assigner.save_batch([], [story_copy(stored + k) for k in range(BATCH)],
                                    [edited(stored + k, rng) for k in range(BATCH)])
                batches.append((time.perf_counter() - started) * 1000 / BATCH)
                stored += BATCH
            timed.append(statistics.median(batches))
        stories = {article.story_id for article in store.iter_articles(Filters(incident=STORY_INCIDENT))}
        return timed[0], timed[1], len(stories)
    finally:
        store.close()


def bench_story_growth(scratch: Path, es_url: Optional[str]) -> None:
    """One line per backend: a new copy of a story carried LARGE times, beside one carried SMALL times."""
    backends = [("sqlite", f"sqlite:///{scratch}/stories.db")] + ([("elasticsearch", f"{es_url}/benchstories")]
                                                                  if es_url else [])
    for name, url in backends:
        drop_store(url)
        try:
            small, large, stories = ms_per_copy(url)
        finally:
            drop_store(url)
        print(f"bench story-growth {name}: one more copy of a wire story carried {LARGE:,} times {large:.2f} ms a copy"
              f"; baseline: carried {SMALL} times {small:.2f} ms a copy = "
              f"{large / small:.1f}x; {stories} story for {SMALL + LARGE + 2 * TIMED * BATCH:,} copies (each compared with at "
              f"most {CANDIDATES_PER_KEY} stored copies per band)", flush=True)
