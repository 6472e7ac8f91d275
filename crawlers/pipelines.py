"""Item pipelines: extract, score relevance, run the NLP, and store in batches."""

from __future__ import annotations

import sys
import time
from collections import Counter

from scrapy.exceptions import DropItem
from scrapy.utils.defer import deferred_from_coro

from crawlers.items import PageItem
from crawlers.workers import POOL, WorkerCrashed
from index.store import open_store
from nlp.extract import ExtractionError
from prahari.incident import find_incident
from prahari.process import StoryAssigner, annotate, apply_relevance, build_article
from prahari.errors import StoreError
from prahari.model import RawPage


# Progress over every spider of this crawl process (spiders run side by side, each with its own stats).
PROGRESS: Counter = Counter()
PROGRESS_STARTED = [time.monotonic()]


class ExtractPipeline:
    """Raw page → article; pages with no readable article are dropped with the reason."""

    def __init__(self, stats):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    async def process_item(self, item, spider=None):
        page = item.page if isinstance(item, PageItem) else item
        if not isinstance(page, RawPage):
            raise DropItem(f"not a page: {type(item).__name__}")
        self.stats.inc_value("prahari/fetched")
        PROGRESS["prahari/fetched"] += 1
        try:
            article = await POOL.run(build_article, page)
        except (ExtractionError, WorkerCrashed) as exc:
            self.stats.inc_value(f"prahari/dropped/{exc}")
            raise DropItem(f"{page.url}: {exc}") from None
        return PageItem(page=page, article=article)


class RelevancePipeline:
    """Score each article against the incident's keyword groups (irrelevant ones are kept, flagged)."""

    def __init__(self, incident_ref):
        self.incident = find_incident(incident_ref) if incident_ref else None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.get("PRAHARI_INCIDENT"))

    def process_item(self, item: PageItem, spider=None):
        apply_relevance(item.article, self.incident)
        return item


class NlpPipeline:
    """Entities, figures, dates and facts for every article."""

    def __init__(self, stats):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    async def process_item(self, item: PageItem, spider=None):
        try:
            item.article = await POOL.run(annotate, item.article)
        except WorkerCrashed as exc:
            self.stats.inc_value(f"prahari/dropped/{exc}")
            raise DropItem(f"{item.page.url}: {exc}") from None
        return item


class StorePipeline:
    """Assign stories and write batches in one transaction each; print progress as batches land."""

    def __init__(self, store_url: str, batch_size: int, crawler):
        self.store_url, self.batch_size, self.crawler = store_url, batch_size, crawler
        self.stats = crawler.stats
        self.batch: list[PageItem] = []
        self.assigner = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.get("PRAHARI_STORE"), crawler.settings.getint("PRAHARI_BATCH_SIZE"), crawler)

    def open_spider(self, spider=None):
        try:
            self.assigner = StoryAssigner(open_store(self.store_url))
        except StoreError as exc:  # a store that is down: every item is dropped, and update reports why
            self.stats.set_value("prahari/store_error", str(exc))

    def close_spider(self, spider=None):
        if self.assigner is not None:
            self._flush_or_stop()
            self.assigner.store.close()

    def process_item(self, item: PageItem, spider=None):
        if self.assigner is None or self.stats.get_value("prahari/store_error"):
            raise DropItem("store unavailable")
        self.batch.append(item)
        if len(self.batch) >= self.batch_size:
            self._flush_or_stop()
        return item

    def _flush_or_stop(self) -> None:
        """Write the batch; if the store refuses (locked, down), stop the crawl and report why."""
        batch, self.batch = self.batch, []
        if not batch:
            return
        try:
            # Synchronous on purpose: spiders crawling side by side never interleave story assignment.
            self.assigner.save_batch([i.page for i in batch], [i.article for i in batch])
        except StoreError as exc:
            self.stats.set_value("prahari/store_error", str(exc))
            if self.crawler.engine and self.crawler.engine.running:
                deferred_from_coro(self.crawler.engine.close_spider_async(reason="store_error"))
            return
        counts = {"prahari/stored": len(batch),
                  "prahari/relevant": sum(1 for i in batch if i.article.relevant),
                  "prahari/facts": sum(len(i.article.facts) for i in batch)}
        for key, value in counts.items():
            self.stats.inc_value(key, value)
            PROGRESS[key] += value
        elapsed = time.monotonic() - PROGRESS_STARTED[0]
        print(f"  … {PROGRESS['prahari/fetched']} pages fetched, {PROGRESS['prahari/stored']} stored "
              f"({PROGRESS['prahari/relevant']} relevant) in {elapsed:.0f}s", file=sys.stderr, flush=True)
