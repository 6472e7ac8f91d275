"""Run crawls in a child process, so update can run many times from one process (Twisted cannot restart)."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Optional

from prahari.errors import PrahariError
from prahari.incident import Incident

SPIDERS = {"feed": "crawlers.spiders.feed.FeedSpider", "sitemap": "crawlers.spiders.sitemap.SitemapSpider",
           "urls": "crawlers.spiders.urls.UrlsSpider", "search": "crawlers.spiders.search.SearchSpider"}


def crawl_jobs(incident: Incident) -> list[tuple[str, list[str]]]:
    """(spider, start URLs) per discovery method used by the incident, in a fixed order."""
    from crawlers.spiders.search import search_urls
    from prahari.incident import search_queries

    jobs: dict[str, list[str]] = {}
    for source in incident.sources:
        if source.type in ("feed", "sitemap"):
            jobs.setdefault(source.type, []).append(source.url)
        elif source.type == "urls":
            jobs.setdefault("urls", []).extend(source.urls)
        elif source.type == "search":
            jobs.setdefault("search", []).extend(search_urls(
                search_queries(incident, source), source.engines, source.endpoints, incident.start, incident.end))
    return [(kind, jobs[kind]) for kind in SPIDERS if kind in jobs]


def _crawl_in_child(store_url: str, incident_path: str, incident_id: str, jobs: list[tuple[str, list[str]]],
                    max_pages: int, overrides: dict[str, Any], window: tuple[Optional[str], Optional[str]] = (None, None)
                    ) -> dict[str, Any]:
    from scrapy.utils.misc import load_object
    from scrapy.utils.project import get_project_settings
    from scrapy.utils.reactor import install_reactor

    install_reactor(get_project_settings()["TWISTED_REACTOR"])
    from scrapy.crawler import CrawlerRunner
    from scrapy.utils.log import configure_logging
    from twisted.internet import defer, reactor

    settings = get_project_settings()
    settings.setdict({"PRAHARI_STORE": store_url, "PRAHARI_INCIDENT": incident_path,
                      "PRAHARI_MAX_PAGES": max_pages, **overrides}, priority="cmdline")
    configure_logging(settings)
    from crawlers.workers import POOL, default_workers

    POOL.workers = settings.getint("PRAHARI_WORKERS", -1)
    POOL.workers = default_workers() if POOL.workers < 0 else POOL.workers
    POOL.start()
    runner = CrawlerRunner(settings)
    totals: dict[str, Any] = {}

    @defer.inlineCallbacks
    def run_all():
        try:
            # One spider per discovery method, all at once: they share the downloader-slot politeness
            # per host, and each store batch is written synchronously, so they never interleave.
            crawlers = [runner.create_crawler(load_object(SPIDERS[kind])) for kind, _urls in jobs]
            yield defer.DeferredList([runner.crawl(crawler, incident=incident_id, start_urls=urls,
                                                   since=window[0], until=window[1])
                                      for crawler, (_kind, urls) in zip(crawlers, jobs)])
            for crawler in crawlers:
                for key, value in (crawler.stats.get_stats() or {}).items():
                    if isinstance(value, int) and not isinstance(value, bool):
                        totals[key] = totals.get(key, 0) + value
                if crawler.stats.get_value("prahari/store_error"):
                    totals["prahari/store_error"] = crawler.stats.get_value("prahari/store_error")
        finally:
            POOL.shutdown()
            reactor.stop()

    run_all()
    reactor.run()
    return totals


def run_crawl(store_url: str, incident: Incident, max_pages: int = 0,
              overrides: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    """Crawl every source of an incident into the store; return Scrapy's and our counters."""
    jobs = crawl_jobs(incident)
    if not jobs:
        return {}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        window = (incident.start.isoformat(), incident.end.isoformat() if incident.end else None)
        future = pool.submit(_crawl_in_child, store_url, str(incident.path), incident.id, jobs, max_pages,
                             overrides or {}, window)
        try:
            totals = future.result()
        except BrokenProcessPool:
            raise PrahariError("the crawl process died; rerun update to finish (stored pages are kept)") from None
    if totals.get("prahari/store_error"):
        raise PrahariError(f"{totals['prahari/store_error']}; everything stored before is intact, rerun update "
                           "to finish")
    return totals
