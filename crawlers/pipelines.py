"""Item pipelines: thin callers of the page → article → stored story service (prahari.app.ingest)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional

import numpy as np
from scrapy.exceptions import DropItem
from scrapy.utils.defer import deferred_from_coro

from crawlers.context import CrawlComponent, archive_outlet
from crawlers.workers import WorkerCrashed
from prahari.app.ingest import StoryAssigner, apply_relevance, read_page
from prahari.errors import ExtractionError, StoreError
from prahari.model import Article, RawPage


BATCH_SECONDS = 2.0  # a batch waiting this long is written even if not full


@dataclass
class PageItem:
    """A fetched page moving through the pipelines, with its annotated article and near-duplicate signature."""

    page: RawPage
    article: Article
    signature: np.ndarray


class ExtractPipeline(CrawlComponent):
    """Raw page → annotated article (extraction, NLP, signature) in a worker; pages with no readable article
    are dropped with the reason."""

    async def process_item(self, item, spider=None):
        if not isinstance(item, RawPage):
            raise DropItem(f"not a page: {type(item).__name__}")
        self.context.report.fetched += 1
        try:
            article, signature = await self.context.pool.run(read_page, item)
        except (ExtractionError, WorkerCrashed) as exc:
            self.context.report.drop(str(exc))
            raise DropItem(f"{item.url}: {exc}") from None
        return PageItem(page=item, article=article, signature=signature)


class RelevancePipeline(CrawlComponent):
    """Score each article against the incident's keyword groups (irrelevant ones are kept, flagged)."""

    def process_item(self, item: PageItem, spider=None):
        apply_relevance(item.article, self.context.incident)
        return item


class StorePipeline(CrawlComponent):
    """Assign stories and write batches in one transaction each; print progress as batches land."""

    def __init__(self, crawler):
        super().__init__(crawler)
        self.batch: list[PageItem] = []
        self.batch_started = time.monotonic()
        self.assigner: Optional[StoryAssigner] = None

    def open_spider(self, spider=None):
        self.context.report.store_pipeline_ran = True
        if self.context.store is not None:
            self.assigner = StoryAssigner(self.context.store)

    def close_spider(self, spider=None):
        self._flush_or_stop()

    def process_item(self, item: PageItem, spider=None):
        if self.assigner is None or self.context.report.store_error:
            self.context.report.drop("store unavailable")
            raise DropItem("store unavailable")
        if not self.batch:
            self.batch_started = time.monotonic()
        self.batch.append(item)
        # A slow source (an archive, a throttled site) still lands its pages every few seconds, so a crash
        # or a kill loses little work.
        if len(self.batch) >= self.context.batch_size or time.monotonic() - self.batch_started > BATCH_SECONDS:
            self._flush_or_stop()
        return item

    def _flush_or_stop(self) -> None:
        """Write the batch; if the store refuses (locked, down), stop the crawl and report why."""
        batch, self.batch = self.batch, []
        if not batch or self.assigner is None:
            return
        report = self.context.report
        try:
            # Synchronous on purpose: spiders crawling side by side never interleave story assignment.
            self.assigner.save_batch([i.page for i in batch], [i.article for i in batch], [i.signature for i in batch])
        except StoreError as exc:
            report.store_error = str(exc)
            if self.crawler.engine and self.crawler.engine.running:
                deferred_from_coro(self.crawler.engine.close_spider_async(reason="store_error"))
            return
        report.stored += len(batch)
        report.relevant += sum(1 for i in batch if i.article.relevant)
        for item in batch:
            if item.page.archive and item.article.relevant:
                report.archive_relevant[archive_outlet(item.page.archive["archive"], item.page.url)] += 1
        report.facts += sum(len(i.article.facts) for i in batch)
        self.context.progress()
