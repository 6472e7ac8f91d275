"""The daily update: crawl each incident into the store under a lock, then say what is new."""

from __future__ import annotations

import sys
import time
from datetime import datetime, timezone
from typing import Optional

from index.query import Filters
from index.store import open_store
from prahari.errors import PrahariError, StoreError
from prahari.incident import Incident, default_incidents, find_incident

NEW_ARTICLES_SHOWN = 10  # new headlines printed after an update
NEW_ENTITIES_NAMED = 8


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_update(url: str, incident_refs: list[str], max_pages: int = 0,
               overrides: Optional[dict] = None) -> list[dict]:
    """Crawl each incident (default: the bundled real ones) into the store; print progress and a summary."""
    from prahari.app.lock import update_lock

    incidents = [find_incident(ref) for ref in incident_refs] if incident_refs else default_incidents()
    open_store(url).close()  # fail early, with a clear message, if the store cannot be opened
    with update_lock(url):
        return [update_one(url, incident, max_pages, overrides) for incident in incidents]


def update_one(url: str, incident: Incident, max_pages: int = 0, overrides: Optional[dict] = None) -> dict:
    """Crawl one incident; print its summary line and what is new; return the summary."""
    from crawlers.runner import run_crawl

    run_started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    _say(f"update {incident.id}: crawling {len(incident.sources)} sources into {url}")
    started = time.monotonic()
    try:
        report = run_crawl(url, incident, max_pages, overrides)
    except StoreError as exc:
        raise PrahariError(f"{exc}; everything stored before is intact, rerun update to finish") from None
    summary = {"incident": incident.id, "fetched": report.fetched, "stored": report.stored,
               "relevant": report.relevant, "facts": report.facts, "dropped": dict(report.dropped),
               "failed": dict(report.failed), "skipped_already_stored": report.skipped_already_stored,
               "listings_not_modified": report.listings_not_modified, "requests": report.requests,
               "seconds": round(time.monotonic() - started, 1)}
    for outlet, listed in sorted(report.archive_listed.items()):
        _say(f"  archive {outlet}: {listed} captures listed, {report.archive_fetched[outlet]} fetched, "
             f"{report.archive_relevant[outlet]} relevant")
    if report.archive_listed:
        summary["archive"] = {outlet: {"listed": listed, "fetched": report.archive_fetched[outlet],
                                       "relevant": report.archive_relevant[outlet]}
                              for outlet, listed in report.archive_listed.items()}
    for reason, count in sorted(report.dropped.items()):
        _say(f"  dropped {count}: {reason}")
    for reason, count in sorted(report.failed.items()):
        _say(f"  failed {count}: {reason}")
    print(f"update {incident.id}: {report.fetched} pages fetched, {report.stored} stored "
          f"({report.relevant} relevant, {report.facts} facts), {sum(report.dropped.values())} dropped, "
          f"{report.failed_pages + report.failed_listings} failed, "
          f"{report.skipped_already_stored} already stored, in {summary['seconds']}s", flush=True)
    try:
        summary.update(whats_new(url, incident.id, run_started))
    except StoreError as exc:
        raise PrahariError(f"{exc}; everything stored before is intact, rerun update to finish") from None
    return summary


def whats_new(url: str, incident_id: str, since: str) -> dict:
    """Print and return the relevant articles, facts and entities this run saw for the first time."""
    store = open_store(url)
    try:
        scope = Filters(incident=incident_id, first_seen_since=since)
        articles = list(store.iter_articles(scope))
        facts = sum(1 for _ in store.iter_facts(scope))
        entities = store.entity_first_seen(scope)
    finally:
        store.close()
    names = (", ".join(e["entity"].name for e in entities[:NEW_ENTITIES_NAMED])
             + (" …" if len(entities) > NEW_ENTITIES_NAMED else ""))
    print(f"new in {incident_id}: {len(articles)} articles, {facts} facts, {len(entities)} entities"
          + (f" ({names})" if entities else ""), flush=True)
    for article in articles[:NEW_ARTICLES_SHOWN]:
        print(f"  + {(article.published or '')[:10]} {article.language} {article.source}: {article.title}", flush=True)
    if len(articles) > NEW_ARTICLES_SHOWN:
        print(f"  … and {len(articles) - NEW_ARTICLES_SHOWN} more (prahari digest --since {since[:10]})", flush=True)
    return {"new_articles": len(articles), "new_facts": facts, "new_entities": len(entities)}
