"""One crawl context per crawl process: the store opened once, shared sets and counters, the worker pool."""

from __future__ import annotations

import sys
import time
from collections import Counter
from dataclasses import dataclass, field, fields
from typing import Optional
from urllib.parse import urlsplit

from crawlers.workers import crawl_pool
from index.store import Store, open_store
from prahari.errors import StoreError
from prahari.incident import Incident


@dataclass
class CrawlReport:
    """What one crawl did, returned to the CLI as typed counts (never parsed out of strings)."""

    incident: str
    parsed: int = 0  # article pages the spiders handed to the pipelines
    fetched: int = 0  # article pages the extraction stage received
    stored: int = 0
    relevant: int = 0
    facts: int = 0
    failed_pages: int = 0
    failed_listings: int = 0
    skipped_already_stored: int = 0
    skipped_max_pages: int = 0
    skipped_outside_dates: int = 0
    listings_not_modified: int = 0
    conditional_requests: int = 0
    search_results: int = 0
    skipped_not_html: int = 0  # archive captures whose index line says they are not HTML (never fetched)
    # "<archive> <outlet>" -> captures the index listed and we kept, fetched and read, and found relevant
    archive_listed: Counter = field(default_factory=Counter)
    archive_fetched: Counter = field(default_factory=Counter)
    archive_relevant: Counter = field(default_factory=Counter)
    requests: int = 0
    dropped: Counter = field(default_factory=Counter)  # reason -> pages fetched but not stored
    failed: Counter = field(default_factory=Counter)  # reason -> pages or listings not fetched
    store_error: Optional[str] = None
    store_pipeline_ran: bool = False
    finished_cleanly: bool = True  # every spider ended with reason "finished"

    def fail(self, reason: str, listing: bool = False) -> None:
        """Count a page (or a feed, sitemap or search listing) that could not be fetched or read."""
        self.failed[reason] += 1
        if listing:
            self.failed_listings += 1
        else:
            self.failed_pages += 1

    def drop(self, reason: str) -> None:
        """Count a fetched page that was not stored, with why."""
        self.dropped[reason] += 1

    def counts(self) -> dict[str, int]:
        """Every whole-number counter by name (what `update --format json` reports)."""
        return {f.name: value for f in fields(self)
                if isinstance(value := getattr(self, f.name), int) and not isinstance(value, bool)}

    @property
    def clean(self) -> bool:
        """A complete run: nothing failed, nothing cut short, the store answered throughout."""
        return (self.finished_cleanly and not self.failed_pages and not self.failed_listings
                and not self.skipped_max_pages and not self.store_error)


def archive_outlet(archive: str, url: str) -> str:
    """The progress key of an archive capture: "<archive> <outlet host>"."""
    return f"{archive} {(urlsplit(url).hostname or '').removeprefix('www.')}"


class CrawlContext:
    """Everything the spiders, middlewares and pipelines of one crawl share; built once by crawlers.runner."""

    def __init__(self, store_url: str, incident: Incident, max_pages: int = 0, refresh: bool = False,
                 batch_size: int = 50, workers: int = 0, progress: bool = True):
        self.store_url, self.incident, self.max_pages, self.refresh = store_url, incident, max_pages, refresh
        self.batch_size, self.show_progress = batch_size, progress
        self.report = CrawlReport(incident=incident.id)
        self.pool = crawl_pool(workers)
        self.store: Optional[Store] = None
        self.known: set[str] = set()  # canonical URLs already stored: never fetched again
        self.claimed: set[str] = set()  # canonical URLs scheduled by any spider of this crawl
        self.scheduled = 0
        self.validators: dict[str, tuple] = {}  # listing URL -> (ETag, Last-Modified) from the last full run
        self.fresh_validators: dict[str, tuple] = {}  # read in full this run; saved if the run is clean
        self.archive_listed: dict[str, tuple] = {}  # archive listings read to the end (saved unless cut short)
        self.archive_keys: set[str] = set()  # pages (http/https, www. folded) an archive capture is fetched for
        self.started = time.monotonic()
        self.own_hosts = source_hosts(incident)  # may be private addresses: the incident named them itself

    def open(self) -> None:
        """Open the store and read what the crawl needs from it (raises StoreError)."""
        self.store = open_store(self.store_url)
        if not self.refresh:  # update --refresh fetches stored pages and unchanged listings again
            self.known = self.store.known_urls()
            self.validators = self.store.listing_validators()
        self.pool.start()

    def close(self) -> None:
        """Save listing validators after a clean run, stop the workers and close the store."""
        self.pool.shutdown()
        if self.store is None:
            return
        report, done = self.report, {}
        if report.clean:
            done.update(self.fresh_validators)
        # An archive listing read to the end is not listed again, even if some captures failed (they are
        # counted with their reason); a run that was stopped or cut short lists again next time.
        if report.finished_cleanly and not report.skipped_max_pages and not report.store_error:
            done.update(self.archive_listed)
        try:
            if done:
                self.store.save_listing_validators(done)
        except StoreError as exc:  # not saving validators only costs a full read of the listings next time
            self.report.store_error = self.report.store_error or str(exc)
        finally:
            self.store.close()
            self.store = None

    def progress(self) -> None:
        """One line on stderr as each batch lands."""
        if self.show_progress:
            r = self.report
            print(f"  … {r.fetched} pages fetched, {r.stored} stored ({r.relevant} relevant) in "
                  f"{time.monotonic() - self.started:.0f}s", file=sys.stderr, flush=True)


def source_hosts(incident: Incident) -> set[str]:
    """Every host an incident's sources name (listings, URL lists, search and archive endpoints)."""
    urls = []
    for source in incident.sources:
        urls += [source.url or "", *source.urls, *source.endpoints.values()]
    return {(urlsplit(url).hostname or "").lower() for url in urls if url}


def context_of(crawler) -> CrawlContext:
    """The crawl context of a running crawler (set on its spider by crawlers.runner)."""
    return crawler.spider.context


class CrawlComponent:
    """Base for our middlewares and pipelines: built from the crawler, reads the crawl context."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    @property
    def context(self) -> CrawlContext:
        return context_of(self.crawler)
