"""Item pipelines: extract, score relevance, run the NLP, and store in batches."""

from __future__ import annotations

import sys
import time

from scrapy.exceptions import DropItem
from scrapy.utils.defer import deferred_from_coro

from crawlers.items import PageItem
from index.store import open_store
from nlp.extract import ExtractionError
from prahari.incident import find_incident
from prahari.process import StoryAssigner, annotate, apply_relevance, build_article
from prahari.errors import StoreError
from prahari.model import RawPage


class ExtractPipeline:
    """Raw page → article; pages with no readable article are dropped with the reason."""

    def __init__(self, stats):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def process_item(self, item, spider=None):
        page = item.page if isinstance(item, PageItem) else item
        if not isinstance(page, RawPage):
            raise DropItem(f"not a page: {type(item).__name__}")
        self.stats.inc_value("prahari/fetched")
        try:
            article = build_article(page)
        except ExtractionError as exc:
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

    @classmethod
    def from_crawler(cls, crawler):
        return cls()

    def process_item(self, item: PageItem, spider=None):
        annotate(item.article)
        return item


class StorePipeline:
    """Assign stories and write batches in one transaction each; print progress as batches land."""

    def __init__(self, store_url: str, batch_size: int, crawler):
        self.store_url, self.batch_size, self.crawler = store_url, batch_size, crawler
        self.stats = crawler.stats
        self.batch: list[PageItem] = []
        self.store = None
        self.assigner = None
        self.started = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.get("PRAHARI_STORE"), crawler.settings.getint("PRAHARI_BATCH_SIZE"), crawler)

    def open_spider(self, spider=None):
        self.store = open_store(self.store_url)
        self.assigner = StoryAssigner(self.store)

    def close_spider(self, spider=None):
        self._flush_or_stop()
        self.store.close()

    def process_item(self, item: PageItem, spider=None):
        if self.stats.get_value("prahari/store_error"):
            raise DropItem("store unavailable")
        self.batch.append(item)
        if len(self.batch) >= self.batch_size:
            self._flush_or_stop()
        return item

    def _flush_or_stop(self) -> None:
        """Write the batch; if the store refuses (locked, down), stop the crawl and report why."""
        try:
            self.flush()
        except StoreError as exc:
            self.batch = []
            self.stats.set_value("prahari/store_error", str(exc))
            if self.crawler.engine and self.crawler.engine.running:
                deferred_from_coro(self.crawler.engine.close_spider_async(reason="store_error"))

    def flush(self) -> None:
        if not self.batch:
            return
        signatures, repoints = {}, []
        for item in self.batch:
            signature, bands, repoint = self.assigner.assign(item.article)
            signatures[item.article.id] = (signature, bands)
            if repoint:
                repoints.append(repoint)
        self.store.save([i.page for i in self.batch], [i.article for i in self.batch], signatures, repoints)
        self.assigner.flushed()
        kept = sum(1 for i in self.batch if i.article.relevant)
        self.stats.inc_value("prahari/stored", len(self.batch))
        self.stats.inc_value("prahari/relevant", kept)
        self.stats.inc_value("prahari/facts", sum(len(i.article.facts) for i in self.batch))
        self.batch = []
        elapsed = time.monotonic() - self.started
        print(f"  … {self.stats.get_value('prahari/fetched', 0)} pages fetched, "
              f"{self.stats.get_value('prahari/stored', 0)} stored "
              f"({self.stats.get_value('prahari/relevant', 0)} relevant) in {elapsed:.0f}s",
              file=sys.stderr, flush=True)
