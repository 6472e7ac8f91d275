"""Counts answered ahead of time (SQLite keeps facet, day and fact-day counts on every write) must equal counts
computed from scratch from the articles themselves, after every kind of write, on both backends."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import date

import pytest

from index.query import Filters
from index.store import FACET_SIZE, open_store
from prahari.app.cli import main
from tests.conftest import write_incident
from tests.test_store_contract import BACKENDS, fresh_store

INCIDENT = "aiims-2022-sample"


def _top(counter: Counter) -> list[tuple]:
    return sorted(((value, n) for value, n in counter.items() if n), key=lambda p: (-p[1], p[0] or ""))[:FACET_SIZE]


def from_scratch(url: str, filters: Filters) -> dict:
    """Facets, per-day buckets, fact days and the count, counted in Python from every selected article."""
    store = open_store(url, create=False)
    try:
        articles = list(store.iter_articles(filters))
        facts = store.facts_for([a.id for a in articles])
    finally:
        store.close()
    facets = {name: Counter() for name in ("incident", "language", "source", "entity", "figure_kind")}
    days, fact_days = Counter(), Counter()
    for article in articles:
        day = (article.published or article.first_seen or "")[:10] or None
        facets["incident"][article.incident] += 1
        facets["language"][article.language] += 1
        facets["source"][article.source] += 1
        facets["entity"].update({e.id for e in article.entities})
        facets["figure_kind"].update({f.kind for f in article.figures})
        days[(day, article.language)] += 1
        fact_days.update(f.event_date or day for f in facts[article.id])
    return {"facets": {name: _top(counter) for name, counter in facets.items()},
            "timeline": sorted((d, lang, n) for (d, lang), n in days.items()),
            "fact_days": sorted(fact_days.items(), key=lambda p: p[0] or ""), "count": len(articles)}


def answered(url: str, filters: Filters) -> dict:
    """The same figures as the store answers them."""
    store = open_store(url, create=False)
    try:
        facets = store.facets(filters)
        return {"facets": {name: [(f["value"], f["count"]) for f in rows] for name, rows in facets.items()},
                "timeline": [(r["day"], r["language"], r["count"]) for r in store.timeline(filters)],
                "fact_days": [(r["day"], r["count"]) for r in store.fact_days(filters)],
                "count": store.count_articles(filters)}
    finally:
        store.close()


def assert_counts_exact(url: str, step: str) -> None:
    store = open_store(url, create=False)
    source = store.filter_options()["source"][0]["value"]
    seen = sorted(a.first_seen for a in store.iter_articles(Filters(include_irrelevant=True)) if a.first_seen)
    store.close()
    # "New since": an exact first-seen time, the start of its hour, a time before everything (the kept hourly
    # counts answer the hours after the one named; that hour is scanned) and a time after everything.
    exact, hour, after, before = (seen[len(seen) // 2], seen[0][:13] + ":00:00+00:00", "9999-01-01T00:00:00+00:00",
                                  "2000-01-01T00:00:00+00:00")
    for filters in (Filters(first_seen_since=exact), Filters(incident=INCIDENT, lang="hi", first_seen_since=hour),
                    Filters(first_seen_since=after, include_irrelevant=True),
                    Filters(source=source, first_seen_since=hour), Filters(lang="en", first_seen_since=before),
                    Filters(), Filters(include_irrelevant=True), Filters(incident=INCIDENT), Filters(lang="hi"),
                    Filters(incident=INCIDENT, lang="en", since=date(2022, 11, 25), until=date(2022, 12, 2)),
                    Filters(source=source, include_irrelevant=True),
                    Filters(entity=["nia"], since=date(2022, 11, 28))):
        assert answered(url, filters) == from_scratch(url, filters), f"after {step}, {filters}"


@pytest.mark.parametrize("backend", BACKENDS)
def test_kept_counts_stay_exact_through_update_rewrite_repoint_reprocess_and_reindex(backend, site, tmp_path):
    incident = write_incident(site, tmp_path)
    url = fresh_store(backend, tmp_path)
    assert main(["update", "--incident", str(incident), "--store", url]) == 0
    assert_counts_exact(url, "update")

    # An article written again with another language, relevance, source, entities and figures (as a changed
    # extraction would): its old share of every count must go, its new share come in.
    store = open_store(url)
    original = next(a for a in store.iter_articles(Filters()) if a.entities and a.figures)
    original.facts = store.facts_for([original.id])[original.id]
    changed = dataclasses.replace(original, language="en" if original.language == "hi" else "hi", relevant=False,
                                  source="elsewhere.example.in", entities=original.entities[1:], figures=[],
                                  published="2022-12-31T09:00:00+05:30")
    store.save([], [changed])
    store.close()
    assert_counts_exact(url, "rewriting one article")

    store = open_store(url)
    members = store.story_members([changed.story_id])[changed.story_id]
    other = next(a for a in store.iter_articles(Filters()) if a.story_id != changed.story_id)
    store.save([], [], repoints=[(members[0]["story_id"], other.id)])
    store.close()
    assert_counts_exact(url, "story re-pointing")

    assert main(["reprocess", "--incident", str(incident), "--store", url]) == 0
    assert_counts_exact(url, "reprocess")

    copy = fresh_store(backend, tmp_path)
    assert main(["reindex", "--from", url, "--to", copy]) == 0
    assert_counts_exact(copy, "reindex")
    assert answered(copy, Filters(include_irrelevant=True)) == answered(url, Filters(include_irrelevant=True))
    if backend == "elasticsearch":  # reindex wrote in bulk mode: refreshes and translog syncs are back on
        target = open_store(copy)
        settings = target.es.indices.get_settings(index=target.alias("articles"))
        target.close()
        index = next(iter(settings.values()))["settings"]["index"]
        assert index.get("refresh_interval") in (None, "1s") and index.get("translog", {}).get("durability") != "async"
