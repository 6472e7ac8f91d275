"""Run a crawl in a child process (Twisted cannot restart), with settings from crawlers.settings only."""

from __future__ import annotations

import gc
import logging
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, Optional

from scrapy.settings import Settings

from crawlers.context import CrawlContext, CrawlReport
from crawlers.workers import default_workers, spawn_context, start_crawl_process, start_crawl_workers, stop_worker
from prahari.errors import PrahariError, StoreError
from prahari.incident import Incident

SPIDERS = {"feed": "crawlers.spiders.feed.FeedSpider", "sitemap": "crawlers.spiders.sitemap.SitemapSpider",
           "urls": "crawlers.spiders.urls.UrlsSpider", "search": "crawlers.spiders.search.SearchSpider",
           "archive": "crawlers.spiders.archive.ArchiveSpider"}

# A crawl allocates more than it frees for seconds at a time (a sitemap's scheduled requests, a batch of articles
# waiting for the store), so at Python's default young threshold (700) the collector ran every few pages and
# every hundredth run scanned the whole heap: 0.35 s of a 2,000-page crawl's 4 s of CPU. Few objects here are
# cyclic garbage, and at these thresholds it took 0.02 s.
CRAWL_GC_THRESHOLDS = (50_000, 20, 100)


class CrawlMisconfigured(PrahariError):
    """Pages were fetched but never reached the store: the crawl ran without our pipelines."""

    def __init__(self, message: str, report: CrawlReport):
        super().__init__(message)
        self.report = report


def crawl_settings(overrides: Optional[dict[str, Any]] = None) -> Settings:
    """Scrapy's defaults plus the crawlers.settings module, never scrapy.cfg or $SCRAPY_SETTINGS_MODULE.

    Scrapy's get_project_settings() looks for scrapy.cfg from the working directory up (and in the home
    folder and /etc): from any other folder it silently falls back to no pipelines at all.
    """
    settings = Settings()
    settings.setmodule("crawlers.settings", priority="project")
    if overrides:
        settings.setdict(overrides, priority="cmdline")
    return settings


def worker_count(settings: Settings) -> int:
    """NLP worker processes for a crawl: PRAHARI_WORKERS, or one per core beyond the crawler's when it is -1."""
    workers = settings.getint("PRAHARI_WORKERS")
    return default_workers() if workers < 0 else workers


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
        elif source.type == "archive":
            jobs.setdefault("archive", [])  # the spider reads its sources from the incident
        elif source.type == "search":
            jobs.setdefault("search", []).extend(search_urls(
                search_queries(incident, source), source.engines, source.endpoints, incident.start, incident.end))
    return [(kind, jobs[kind]) for kind in SPIDERS if kind in jobs]


def _crawl_in_child(store_url: str, incident: Incident, jobs: list[tuple[str, list[str]]], max_pages: int,
                    overrides: dict[str, Any]) -> CrawlReport:
    from scrapy.utils.misc import load_object
    from scrapy.utils.reactor import install_reactor

    settings = crawl_settings(overrides)
    install_reactor(settings["TWISTED_REACTOR"])
    from scrapy.crawler import CrawlerRunner
    from scrapy.utils.log import configure_logging
    from twisted.internet import defer, reactor

    configure_logging(settings)
    # Scrapy builds a DEBUG record for every page it fetches and every item it yields, and only its handler drops
    # them; at the logger, records below LOG_LEVEL are never built (two a page, about 2 % of the crawl's CPU).
    logging.getLogger("scrapy").setLevel(settings.get("LOG_LEVEL"))
    context = CrawlContext(store_url, incident, max_pages=max_pages, refresh=settings.getbool("PRAHARI_REFRESH"),
                           batch_size=settings.getint("PRAHARI_BATCH_SIZE"), workers=worker_count(settings),
                           progress=settings.getbool("PRAHARI_PROGRESS"))
    try:
        context.open()
    except StoreError as exc:
        context.report.store_error = str(exc)
        context.close()
        return context.report
    runner = CrawlerRunner(settings)

    @defer.inlineCallbacks
    def run_all():
        try:
            # One spider per discovery method, all at once: they share the downloader-slot politeness
            # per host, and each store batch is written synchronously, so they never interleave.
            crawlers = [runner.create_crawler(load_object(SPIDERS[kind])) for kind, _urls in jobs]
            yield defer.DeferredList([runner.crawl(crawler, context=context, start_urls=urls)
                                      for crawler, (_kind, urls) in zip(crawlers, jobs)])
            for crawler in crawlers:
                stats = crawler.stats.get_stats() or {}
                context.report.requests += stats.get("downloader/request_count", 0)
                for key, count in stats.items():  # a bug of ours in a callback or pipeline: counted, never silent
                    if key.startswith("spider_exceptions/") and isinstance(count, int):
                        context.report.fail(f"internal error ({key.split('/', 1)[1]}); rerun with -v for details")
                if stats.get("finish_reason") != "finished":
                    context.report.finished_cleanly = False
        finally:
            context.close()
            reactor.stop()

    run_all()
    settle_collector()
    reactor.run()
    return context.report


def settle_collector() -> None:
    """Keep what the crawl process has built so far (Scrapy, the spiders, the stored-URL set) out of every later
    collection, and collect young objects less often (resumed: the crawl process starts with it paused)."""
    gc.freeze()
    gc.set_threshold(*CRAWL_GC_THRESHOLDS)
    gc.enable()


def run_crawl(store_url: str, incident: Incident, max_pages: int = 0,
              overrides: Optional[dict[str, Any]] = None) -> CrawlReport:
    """Crawl every source of an incident into the store and return what happened."""
    jobs = crawl_jobs(incident)
    if not jobs:
        return CrawlReport(incident=incident.id)
    workers: list[tuple[BaseProcess, Connection]] = []
    pool: Optional[ProcessPoolExecutor] = None
    try:
        workers = start_crawl_workers(worker_count(crawl_settings(overrides)))
        pool = ProcessPoolExecutor(max_workers=1, mp_context=spawn_context(), initializer=start_crawl_process,
                                   initargs=(os.getpid(), [connection for _process, connection in workers]))
        future = pool.submit(_crawl_in_child, store_url, incident, jobs, max_pages, overrides or {})
        # The crawl process holds the workers' pipes now (submit started it): closing ours here lets a worker see
        # the crawl process end, however it ends.
        for _process, connection in workers:
            connection.close()
        report = future.result()
    except BrokenProcessPool:
        raise PrahariError("the crawl process died; rerun update to finish (stored pages are kept)") from None
    except BaseException:
        # Stopped (Ctrl-C, SIGTERM): stop the crawl now instead of waiting for it; every stored batch is
        # its own transaction.
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.kill()
        raise
    finally:
        for process, _connection in workers:
            stop_worker(process)
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    if report.store_error:
        raise StoreError(report.store_error)
    if report.parsed and not report.store_pipeline_ran:
        raise CrawlMisconfigured(f"{report.parsed} pages were fetched but the store pipeline never ran "
                                 "(check ITEM_PIPELINES in crawlers.settings); nothing was stored", report)
    return report
