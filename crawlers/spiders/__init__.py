"""One spider per discovery method: feed, sitemap, urls, search. Spiders fetch and parse, nothing else."""

from __future__ import annotations

import zlib
from datetime import date, datetime, timedelta, timezone
from typing import Iterable, Optional

import scrapy
from scrapy.exceptions import IgnoreRequest

from crawlers.context import CrawlContext
from prahari.inputs import split_url
from prahari.model import RawPage


SKIPPED_ON_PURPOSE = ("already stored", "--max-pages")  # IgnoreRequest reasons that are not failures
MAX_INFLATED_BYTES = 50 * 1024 * 1024  # a gzip sitemap or WARC record never inflates beyond this


def is_http(url: str) -> bool:
    """Only well-formed http(s) links are ever followed."""
    parts = split_url(url)
    return parts is not None and parts.scheme in ("http", "https") and bool(parts.hostname)


def inflate(data: bytes, limit: int = MAX_INFLATED_BYTES) -> bytes:
    """Gunzip one member, at most `limit` bytes (raises ValueError with the reason: too large, damaged)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit)
    except zlib.error as exc:
        raise ValueError(f"damaged gzip data ({exc})") from None
    if inflater.unconsumed_tail:
        raise ValueError(f"inflates to more than {limit // 1024 // 1024} MB")
    if not inflater.eof:
        raise ValueError("truncated gzip data")
    return out


class ArticleSpider(scrapy.Spider):
    """Shared parts: build article requests with hints, turn responses into raw pages."""

    def __init__(self, context: CrawlContext, start_urls: Iterable[str] = (), **kwargs):
        super().__init__(**kwargs)
        self.context = context  # shared with the middlewares and pipelines of this crawl
        self.start_urls = [u for u in start_urls if is_http(u)]
        # The incident's start and end bound discovery: listed items dated outside are not fetched.
        self.since: Optional[date] = context.incident.start
        self.until: Optional[date] = context.incident.end

    async def start(self):
        """Every start URL is a listing (feed, sitemap, search results), read by the subclass's parse_listing."""
        for url in self.start_urls:
            yield self.listing_request(url, self.parse_listing)

    def link(self, response, href: Optional[str]) -> Optional[str]:
        """An http(s) link of a listing made absolute; a malformed one is counted as failed and skipped."""
        if not href:
            return None
        try:
            url = response.urljoin(href.strip())
        except ValueError:
            url = None
        if url is None or split_url(url) is None:
            self.context.report.fail("malformed link in a listing")
            self.logger.warning("%s: malformed link %r", response.url, href[:200])
            return None
        return url if is_http(url) else None

    def listing_request(self, url: str, callback):
        """A request for a feed, sitemap or search-result listing (sent conditionally when known)."""
        return scrapy.Request(url, callback=callback, errback=self.listing_failed,
                              meta={"prahari_listing": True, "handle_httpstatus_list": [304]})

    def not_modified(self, response) -> bool:
        """True (and counted) when a listing answered 304: nothing new there since the last update."""
        if response.status != 304:
            return False
        self.context.report.listings_not_modified += 1
        return True

    def bad_listing(self, response, problem: str) -> None:
        """Count a listing that could not be read (not a feed, not a sitemap, …); the crawl goes on."""
        self.context.report.fail(problem, listing=True)
        self.logger.warning("%s: %s", response.url, problem)

    def remember_validators(self, response) -> None:
        """Keep the listing's validators, for a conditional request next time."""
        etag, modified = response.headers.get(b"ETag"), response.headers.get(b"Last-Modified")
        if etag or modified:
            self.context.fresh_validators[response.url] = (etag.decode("latin-1") if etag else None,
                                                   modified.decode("latin-1") if modified else None)

    def in_window(self, published: Optional[str]) -> bool:
        """Whether a listed item's date falls inside the incident's bounds (undated items always do)."""
        day = day_of(published)
        grace = timedelta(days=1)  # listings give UTC or local times; a day either side covers the offset
        inside = day is None or ((not self.since or day >= self.since - grace)
                                 and (not self.until or day <= self.until + grace))
        if not inside:
            self.context.report.skipped_outside_dates += 1
        return inside

    def article_request(self, url: str, published: Optional[str] = None, title: Optional[str] = None):
        """A request for an article page, carrying the date and title its listing gave."""
        # dont_filter: the crawl context already fetches each page once (StoredPagesMiddleware); Scrapy's own
        # duplicate filter would silently drop a redirect back to the same URL instead of counting the loop.
        return scrapy.Request(url, callback=self.parse_article, errback=self.article_failed, dont_filter=True,
                              meta={"prahari_article": True, "hint_published": published, "hint_title": title})

    def parse_article(self, response):
        """Hand the page over untouched; extraction happens in the pipelines."""
        headers = {k.decode("latin-1"): response.headers.get(k).decode("latin-1", "replace")
                   for k in response.headers.keys() if k.lower() in (b"content-type", b"etag", b"last-modified")}
        self.context.report.parsed += 1
        yield RawPage(url=response.url, body=response.body, status=response.status, headers=headers,
                      fetched_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                      hint_published=response.meta.get("hint_published"),
                      hint_title=response.meta.get("hint_title"), incident=self.context.incident.id)

    def article_failed(self, failure, listing: bool = False):
        """Count a page that could not be fetched, once, with its reason; the crawl goes on."""
        response = getattr(failure.value, "response", None)
        if failure.check(IgnoreRequest) and response is None:
            reason = str(failure.value) or "refused"
            if reason.startswith(SKIPPED_ON_PURPOSE):
                return  # already stored, or --max-pages: counted by the middleware that skipped it
        elif response is not None:
            reason = f"HTTP {response.status}"
        else:
            reason = type(failure.value).__name__
        self.context.report.fail(reason, listing=listing)
        self.logger.warning("failed %s: %s", failure.request.url, reason)

    def listing_failed(self, failure):
        """A feed or sitemap that could not be fetched: count and go on."""
        self.article_failed(failure, listing=True)


def day_of(stamp: Optional[str]) -> Optional[date]:
    """The calendar date of an ISO-8601 or compact (20221124T053000Z) timestamp, or None."""
    if not stamp:
        return None
    text = stamp.strip()
    try:
        if len(text) >= 8 and text[:8].isdigit():
            return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        return None
