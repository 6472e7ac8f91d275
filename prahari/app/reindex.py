"""Copy everything, raw pages included, from one store to another (resumable: ids are stable)."""

from __future__ import annotations

from typing import Callable

from index.query import Filters
from index.store import WORKSPACE_KINDS, Store, batched
from nlp.dedup import band_keys, canonical_url, minhash_signature

PAGE_BATCH = 200  # raw pages per write while copying
ARTICLE_BATCH = 500  # articles (with their facts) per write while copying


def reindex(source: Store, target: Store, say: Callable[[str], None]) -> tuple[int, int, int]:
    """Copy pages, articles with facts and signatures, and listing validators; return (copied, pages, articles)."""
    with target.bulk():  # nothing reads the target while it fills: it may defer refreshes and use more cores
        copied = _copy(source, target, say)
    say("  … making the copy searchable")  # here, with progress shown, rather than in the first search
    target.ready_for_search()
    return copied


def _copy(source: Store, target: Store, say: Callable[[str], None]) -> tuple[int, int, int]:
    done_urls = target.known_urls()
    pages = copied = 0

    def missing_pages():
        nonlocal pages
        for page in source.iter_pages():
            pages += 1
            if canonical_url(page.url) not in done_urls:  # else copied by an earlier, interrupted run
                yield page

    for batch in batched(missing_pages(), PAGE_BATCH):
        target.save(batch, [])
        copied += len(batch)
        say(f"  … {copied} pages copied")
    articles = 0
    incidents = [row["value"] for row in source.filter_options().get("incident", [])]
    for chunk in batched(source.iter_articles(Filters(include_irrelevant=True)), ARTICLE_BATCH):
        ids = [a.id for a in chunk]
        facts = source.facts_for(ids)
        signatures = source.signatures(ids)  # copied as stored; computed only where a store kept none
        for article in chunk:
            article.facts = facts.get(article.id, [])
            if article.id not in signatures:
                signature = minhash_signature(article.text)
                signatures[article.id] = (signature.tobytes(), band_keys(signature))
        target.save([], chunk, signatures)  # same ids: a rerun overwrites, never duplicates
        for incident in incidents:  # ledger rows travel with their articles, so memory stays flat
            target.put_ledger(incident, source.ledger(incident, article_ids=ids), article_ids=ids)
        articles += len(chunk)
        say(f"  … {articles} articles copied")
    target.save_listing_validators(source.listing_validators())
    for incident in incidents:  # claims and events as built (their history kept)
        target.put_state(incident, source.state(incident), replace=True)  # the next update merges into these
        target.put_claims(incident, source.claims(incident))
        target.put_events(incident, source.events(incident))
    for kind in WORKSPACE_KINDS:  # the analysts' stars, tags, notes and saved searches
        target.put_workspace(kind, source.workspace(kind))
    return copied, pages, articles
