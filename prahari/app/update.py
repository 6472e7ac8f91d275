"""The daily update: crawl each incident into the store under a lock, then say what is new."""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta, timezone
from typing import Optional, TextIO

from index.query import Filters
from index.store import open_store
from prahari.app.output import printable
from prahari.errors import PrahariError, StoreError
from prahari.incident import Incident, default_incidents, find_incident

NEW_ARTICLES_SHOWN = 10  # new headlines printed after an update
NEW_ENTITIES_NAMED = 8


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_update(url: str, incident_refs: list[str], max_pages: int = 0,
               overrides: Optional[dict] = None, report_to: Optional[TextIO] = None) -> list[dict]:
    """Crawl each incident (default: the bundled real ones) into the store; print progress and a summary."""
    from prahari.app.lock import update_lock

    from prahari.app.claims import rules_for

    incidents = [find_incident(ref) for ref in incident_refs] if incident_refs else default_incidents()
    for incident in incidents:
        rules_for(incident)  # a bad claims: block in an incident file fails before anything is fetched
    store = open_store(url)  # fail early, with a clear message, if the store cannot be opened
    try:
        identity = store.identity()
    finally:
        store.close()
    with update_lock(identity, url):
        return [update_one(url, incident, max_pages, overrides, report_to or sys.stdout) for incident in incidents]


def update_one(url: str, incident: Incident, max_pages: int = 0, overrides: Optional[dict] = None,
               report_to: TextIO = sys.stdout) -> dict:
    """Crawl one incident; print its summary line and what is new (to report_to); return the summary."""
    from crawlers.runner import run_crawl

    run_started = _run_boundary(url)
    _say(f"update {incident.id}: crawling {len(incident.sources)} sources into {url}")
    started = time.monotonic()
    try:
        report = run_crawl(url, incident, max_pages, overrides)
    except StoreError as exc:
        raise PrahariError(f"{exc}; everything stored before is intact, rerun update to finish") from None
    crawl_ended = time.time()
    summary = {"incident": incident.id, **report.counts(), "dropped": dict(report.dropped),
               "failed": dict(report.failed), "seconds": round(time.monotonic() - started, 1)}
    for outlet, listed in sorted(report.archive_listed.items()):
        _say(f"  archive {outlet}: {listed} captures listed, {report.archive_fetched[outlet]} fetched, "
             f"{report.archive_relevant[outlet]} relevant")
    if report.archive_listed:
        summary["archive"] = {outlet: {"listed": listed, "fetched": report.archive_fetched[outlet],
                                       "relevant": report.archive_relevant[outlet]}
                              for outlet, listed in report.archive_listed.items()}
    for reason, count in sorted(report.dropped.items()):
        _say(printable(f"  dropped {count}: {reason}"))
    for reason, count in sorted(report.failed.items()):
        _say(printable(f"  failed {count}: {reason}"))
    print(f"update {incident.id}: {report.fetched} pages fetched, {report.stored} stored "
          f"({report.relevant} relevant, {report.facts} facts), {sum(report.dropped.values())} dropped, "
          f"{report.failed_pages + report.failed_listings} failed, "
          f"{report.skipped_already_stored} already stored, in {summary['seconds']}s", file=report_to, flush=True)
    try:
        summary["claims"] = refresh_claims(url, incident, run_started)
        summary.update(whats_new(url, incident.id, run_started, report_to))
    except StoreError as exc:
        raise PrahariError(f"{exc}; everything stored before is intact, rerun update to finish") from None
    if report.fetched or report.stored:
        _let_the_second_end(crawl_ended)
    return summary


def _run_boundary(url: str) -> str:
    """This run's "new since" stamp: now, or just after the newest first_seen when the clock is behind it.

    A clock stepped back (a VM resumed, NTP correcting) would otherwise list the last run's articles again.
    """
    now = datetime.now(timezone.utc).replace(microsecond=0)
    store = open_store(url)
    try:
        ahead = max((a.first_seen for a in store.iter_articles(Filters(first_seen_since=now.isoformat()))),
                    default=None)
    finally:
        store.close()
    if ahead:
        newest = datetime.fromisoformat(ahead)
        newest = newest if newest.tzinfo else newest.replace(tzinfo=timezone.utc)
        now = max(now, newest + timedelta(seconds=1))
    return now.isoformat()


def _let_the_second_end(moment: float) -> None:
    """Sleep until the wall-clock second holding `moment` is over.

    first_seen stamps have one-second resolution and the next run counts as new what was first seen at or
    after its start; a run that starts in the second our last pages were stamped would list them again.
    The update lock is held while we wait, so no later run can start inside that second.
    """
    time.sleep(max(0.0, int(moment) + 1 - time.time()))


def refresh_claims(url: str, incident: Incident, since: Optional[str]) -> dict:
    """Rebuild the claims and events the facts first seen since `since` touch (all of them when None)."""
    from prahari.app.claims import refresh, rules_for

    started = time.monotonic()
    store = open_store(url)
    try:
        built = refresh(store, incident.id, rules_for(incident), since)
    finally:
        store.close()
    scope = (f"all of them: {built['reason']}" if built.get("reason") else "all of them" if built["slots"] is None
             else f"{built['slots']} slots and {built['days']} days touched")
    _say(f"  claims {incident.id}: {built['claims']} claims and {built['events']} events rebuilt ({scope}) "
         f"in {time.monotonic() - started:.1f}s")
    return built


def whats_new(url: str, incident_id: str, since: str, report_to: TextIO = sys.stdout) -> dict:
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
    print(printable(f"new in {incident_id}: {len(articles)} articles, {facts} facts, {len(entities)} entities"
          + (f" ({names})" if entities else "")), file=report_to, flush=True)
    for article in articles[:NEW_ARTICLES_SHOWN]:
        print(printable(f"  + {(article.published or '')[:10]} {article.language} {article.source}: {article.title}"),
              file=report_to, flush=True)
    if len(articles) > NEW_ARTICLES_SHOWN:
        print(f"  … and {len(articles) - NEW_ARTICLES_SHOWN} more (prahari digest --since {since[:10]})",
              file=report_to, flush=True)
    return {"new_articles": len(articles), "new_facts": facts, "new_entities": len(entities)}
