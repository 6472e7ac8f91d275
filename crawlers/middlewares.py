"""Downloader middlewares: skip pages already stored, and retry with exponential backoff."""

from __future__ import annotations

import asyncio

from scrapy import Request, signals
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest

from index.store import open_store
from prahari.errors import StoreError
from nlp.dedup import canonical_url


class StoredPagesMiddleware:
    """Never refetch an article page the store already holds; stop scheduling at --max-pages."""

    # Shared by the spiders of one update (they run side by side in one child process), so a URL
    # listed by both a feed and a sitemap is fetched once.
    scheduled = 0
    claimed: set[str] = set()

    def __init__(self, store_url: str, max_pages: int, stats, refresh: bool = False):
        self.store_url, self.max_pages, self.stats, self.refresh = store_url, max_pages, stats, refresh
        self.known: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler):
        middleware = cls(crawler.settings.get("PRAHARI_STORE"), crawler.settings.getint("PRAHARI_MAX_PAGES"),
                         crawler.stats, crawler.settings.getbool("PRAHARI_REFRESH"))
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        return middleware

    def spider_opened(self, spider):
        if self.refresh:  # update --refresh fetches stored pages again
            return
        try:
            store = open_store(self.store_url)
            try:
                self.known = store.known_urls()
            finally:
                store.close()
        except StoreError as exc:
            self.stats.set_value("prahari/store_error", str(exc))

    def process_request(self, request, spider=None):
        if not request.meta.get("prahari_article") or request.meta.get("prahari_seen"):
            return None
        url = canonical_url(request.url)
        if url in self.known or url in StoredPagesMiddleware.claimed:
            self.stats.inc_value("prahari/skipped_already_stored")
            raise IgnoreRequest(f"already stored: {url}")
        if self.max_pages and StoredPagesMiddleware.scheduled >= self.max_pages:
            self.stats.inc_value("prahari/skipped_max_pages")
            raise IgnoreRequest("--max-pages reached")
        StoredPagesMiddleware.claimed.add(url)
        StoredPagesMiddleware.scheduled += 1
        request.meta["prahari_seen"] = True  # retries and redirects of this request pass through
        return None


class ConditionalListingsMiddleware:
    """Ask for feeds and sitemaps with If-None-Match / If-Modified-Since; remember validators after a full run.

    Validators are saved only when the whole run finished cleanly (no failed page, no --max-pages cut),
    so a crawl that was killed or cut short reads its listings in full again next time.
    """

    def __init__(self, store_url: str, refresh: bool, crawler):
        self.store_url, self.refresh, self.crawler = store_url, refresh, crawler
        self.validators: dict[str, tuple] = {}

    @classmethod
    def from_crawler(cls, crawler):
        middleware = cls(crawler.settings.get("PRAHARI_STORE"), crawler.settings.getbool("PRAHARI_REFRESH"), crawler)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_opened(self, spider):
        if self.refresh:
            return
        try:
            store = open_store(self.store_url)
            try:
                self.validators = store.listing_validators()
            finally:
                store.close()
        except StoreError as exc:  # the crawl goes on unconditionally; the store pipeline reports the store
            self.crawler.stats.set_value("prahari/store_error", str(exc))

    def process_request(self, request, spider=None):
        known = self.validators.get(request.url) if request.meta.get("prahari_listing") else None
        if known:
            etag, modified = known
            if etag:
                request.headers.setdefault("If-None-Match", etag)
            if modified:
                request.headers.setdefault("If-Modified-Since", modified)
            self.crawler.stats.inc_value("prahari/conditional_requests")
        return None

    def spider_closed(self, spider, reason):
        stats = self.crawler.stats
        clean = reason == "finished" and not any(
            stats.get_value(key) for key in ("prahari/failed_pages", "prahari/failed_listings",
                                             "prahari/skipped_max_pages", "prahari/store_error"))
        fresh = getattr(spider, "fresh_validators", {})
        if clean and fresh:
            try:
                store = open_store(self.store_url)
                try:
                    store.save_listing_validators(fresh)
                finally:
                    store.close()
            except StoreError as exc:  # not saving validators only costs a full read of the feeds next time
                stats.set_value("prahari/store_error", str(exc))


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry, waiting base * 2^n seconds (capped) before each new attempt."""

    def __init__(self, settings):
        super().__init__(settings)
        self.base = settings.getfloat("PRAHARI_RETRY_BACKOFF_BASE")
        self.cap = settings.getfloat("PRAHARI_RETRY_BACKOFF_MAX")

    async def _backoff(self, result):
        if isinstance(result, Request):
            attempt = result.meta.get("retry_times", 1)
            await asyncio.sleep(min(self.cap, self.base * 2 ** (attempt - 1)))
        return result

    async def process_response(self, request, response, spider=None):
        return await self._backoff(super().process_response(request, response))

    async def process_exception(self, request, exception, spider=None):
        return await self._backoff(super().process_exception(request, exception))
