"""One spider per discovery method: feed, sitemap, urls."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable, Optional
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import IgnoreRequest

from prahari.model import RawPage


def is_http(url: str) -> bool:
    """Only http(s) links are ever followed."""
    return urlsplit(url).scheme in ("http", "https")


class ArticleSpider(scrapy.Spider):
    """Shared parts: build article requests with hints, turn responses into raw pages."""

    def __init__(self, incident: Optional[str] = None, start_urls: Iterable[str] = (), **kwargs):
        super().__init__(**kwargs)
        self.incident = incident
        self.start_urls = [u for u in start_urls if is_http(u)]

    def article_request(self, url: str, published: Optional[str] = None, title: Optional[str] = None):
        """A request for an article page, carrying the date and title its listing gave."""
        return scrapy.Request(url, callback=self.parse_article, errback=self.article_failed,
                              meta={"prahari_article": True, "hint_published": published, "hint_title": title})

    def parse_article(self, response):
        """Hand the page over untouched; extraction happens in the pipelines."""
        headers = {k.decode("latin-1"): response.headers.get(k).decode("latin-1", "replace")
                   for k in response.headers.keys() if k.lower() in (b"content-type", b"etag", b"last-modified")}
        yield RawPage(url=response.url, body=response.body, status=response.status, headers=headers,
                      fetched_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                      hint_published=response.meta.get("hint_published"),
                      hint_title=response.meta.get("hint_title"), incident=self.incident)

    def article_failed(self, failure):
        """Count a page that could not be fetched; the crawl goes on."""
        if failure.check(IgnoreRequest) and not getattr(failure.value, "response", None):
            return  # skipped on purpose (already stored, robots.txt, --max-pages): counted elsewhere
        self.crawler.stats.inc_value("prahari/failed_pages")
        reason = type(failure.value).__name__
        response = getattr(failure.value, "response", None)
        if response is not None:
            reason = f"HTTP {response.status}"
        self.crawler.stats.inc_value(f"prahari/failed/{reason}")
        self.logger.warning("failed %s: %s", failure.request.url, reason)

    def listing_failed(self, failure):
        """A feed or sitemap that could not be fetched: count and go on."""
        self.crawler.stats.inc_value("prahari/failed_listings")
        self.article_failed(failure)
