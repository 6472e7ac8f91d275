"""Downloader middlewares: skip pages already stored, send listings conditionally, retry with backoff."""

from __future__ import annotations

import asyncio
import ipaddress
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest

from crawlers.context import CrawlComponent
from nlp.dedup import canonical_url


class StoredPagesMiddleware(CrawlComponent):
    """Never refetch an article page the store already holds; stop scheduling at --max-pages.

    The known and claimed URLs live in the crawl context, shared by the spiders of one update, so a
    URL listed by both a feed and a sitemap is fetched once.
    """

    def process_request(self, request, spider=None):
        if not request.meta.get("prahari_article") or request.meta.get("prahari_seen"):
            return None
        context = self.context
        # An archive capture is fetched from the archive but stands for the page at its original URL.
        url = canonical_url(request.meta.get("prahari_original_url") or request.url)
        if url in context.known or url in context.claimed:
            context.report.skipped_already_stored += 1
            raise IgnoreRequest(f"already stored: {url}")
        if context.max_pages and context.scheduled >= context.max_pages:
            context.report.skipped_max_pages += 1
            raise IgnoreRequest("--max-pages reached")
        context.claimed.add(url)
        context.scheduled += 1
        request.meta["prahari_seen"] = True  # retries and redirects of this request pass through
        return None


class PrivateAddressMiddleware(CrawlComponent):
    """Refuse requests (redirects and discovered links included) to private, loopback and link-local addresses.

    A page that redirects to 169.254.169.254 or 10.0.0.1 must not make the crawler reach into the
    analyst's network. Hosts the incident's own sources name are allowed (the tests' loopback sites).
    """

    def process_request(self, request, spider=None):
        host = (urlsplit(request.url).hostname or "").lower()
        if host in self.context.own_hosts or not is_internal(host):
            return None
        raise IgnoreRequest(f"refused: {host} is a private, loopback or link-local address")


class ConditionalListingsMiddleware(CrawlComponent):
    """Ask for feeds and sitemaps with If-None-Match / If-Modified-Since from the last complete run.

    The crawl context saves the validators of listings read in full only when the whole run was clean
    (no failed page, no --max-pages cut), so a run that was killed or cut short reads them in full next time.
    """

    def process_request(self, request, spider=None):
        if not request.meta.get("prahari_listing"):
            return None
        context = self.context
        known = context.validators.get(request.url)
        if known:
            etag, modified = known
            if etag:
                request.headers.setdefault("If-None-Match", etag)
            if modified:
                request.headers.setdefault("If-Modified-Since", modified)
            context.report.conditional_requests += 1
        return None


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry, waiting base * 2^n seconds (capped) before each new attempt."""

    def __init__(self, settings):
        super().__init__(settings)
        self.base = settings.getfloat("PRAHARI_RETRY_BACKOFF_BASE")
        self.cap = settings.getfloat("PRAHARI_RETRY_BACKOFF_MAX")

    async def _backoff(self, result, asked: float = 0.0):
        if isinstance(result, Request):
            attempt = result.meta.get("retry_times", 1)
            await asyncio.sleep(min(self.cap, max(asked, self.base * 2 ** (attempt - 1))))
        return result

    async def process_response(self, request, response, spider=None):
        # 429 and 503 mean "slow down": wait as long as Retry-After asks (capped), then retry.
        return await self._backoff(super().process_response(request, response), retry_after(response))

    async def process_exception(self, request, exception, spider=None):
        return await self._backoff(super().process_exception(request, exception))


def retry_after(response) -> float:
    """Seconds a 429/503 answer's Retry-After header asks for (0 when absent or a date)."""
    if response.status not in (429, 503):
        return 0.0
    value = (response.headers.get(b"Retry-After") or b"").decode("latin-1").strip()
    return float(value) if value.isdigit() else 0.0


def is_internal(host: str) -> bool:
    """A host that names this machine or a private, link-local or reserved network (by address, or localhost)."""
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False  # a name: resolved by the downloader; names of internal hosts are not guessed here
    return (address.is_private or address.is_loopback or address.is_link_local or address.is_reserved
            or address.is_multicast or address.is_unspecified)
