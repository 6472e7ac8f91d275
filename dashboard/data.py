"""All dashboard data access, over the Store interface: one store per server (st.cache_resource), and
results cached per store and filters (st.cache_data)."""

from __future__ import annotations

import os
import threading
from collections import Counter
from dataclasses import replace
from datetime import date
from itertools import islice
from contextlib import contextmanager
from typing import Iterator, Optional

import streamlit as st

from dashboard.render import SOURCES_SHOWN
from dashboard.view import DayPage, filters_from_key
from index.export import export_bytes, records_for, records_for_articles
from index.export import figure_rows as export_figure_rows
from index.ledger import read_claims, read_events
from index.query import Filters, build_search
from index.query import match_words as query_words
from index.store import Store, open_store
from index.workspace import annotate as set_annotation
from index.workspace import delete_search as drop_search
from index.workspace import save_search as keep_search
from index.workspace import starred_article_ids
from prahari.app.entities import entity_summary
from prahari.config import store_url
from prahari.errors import PrahariError, QuerySyntaxError
from prahari.model import Article, Fact

TTL = 300  # seconds: an update running beside the dashboard shows up within five minutes
PAGE_SIZE = 25


def current_store_url() -> str:
    """The store the dashboard was started on ($PRAHARI_STORE, set by `prahari dashboard --store`)."""
    return store_url(os.environ.get("PRAHARI_STORE"))


@st.cache_resource(show_spinner=False)
def _shared_store(url: str) -> tuple[Store, threading.Lock]:
    """One open store per dashboard server, with a lock: sessions take turns on its connection."""
    return open_store(url, create=False), threading.Lock()


@contextmanager
def _store(url: str) -> Iterator[Store]:
    store, lock = _shared_store(url)
    with lock:
        yield store


@st.cache_data(ttl=TTL, show_spinner=False)
def check_store(url: str) -> dict[str, int]:
    """Open the store once (raises StoreError with a clear message) and count what it holds."""
    with _store(url) as store:
        return store.counts()


@st.cache_data(ttl=TTL, show_spinner=False)
def filter_options(url: str) -> dict[str, list[dict]]:
    with _store(url) as store:
        return store.filter_options()


@st.cache_data(ttl=TTL, show_spinner=False)
def facets(url: str, key: str) -> dict[str, list[dict]]:
    with _store(url) as store:
        return store.facets(filters_from_key(key))


@st.cache_data(ttl=TTL, show_spinner=False)
def day_counts(url: str, key: str) -> list[dict]:
    with _store(url) as store:
        return store.timeline(filters_from_key(key))


@st.cache_data(ttl=TTL, show_spinner=False)
def fact_days(url: str, key: str) -> list[dict]:
    with _store(url) as store:
        return store.fact_days(filters_from_key(key))


@st.cache_data(ttl=TTL, show_spinner=False)
def article_page(url: str, key: str, page: int) -> tuple[list[Article], int]:
    """One page of the filtered timeline, oldest first, and the total count."""
    filters = filters_from_key(key)
    with _store(url) as store:
        return store.list_articles(filters, PAGE_SIZE, page * PAGE_SIZE), store.count_articles(filters)


SEARCH_LIMIT = 1000  # a search shows its best 1,000 matches


@st.cache_data(ttl=TTL, show_spinner=False)
def search(url: str, key: str, text: str, limit: int = SEARCH_LIMIT) -> list[Article]:
    """Articles matching the search text (across scripts and aliases) within the filters, in time order."""
    query = build_search(text)  # raises QuerySyntaxError with a one-line message
    with _store(url) as store:
        found = store.search(query, filters_from_key(key), limit=limit)
    return sorted(found, key=lambda a: (a.published or "", a.id))


def found_day_counts(found: list[Article]) -> list[dict]:
    """Per-day, per-language counts of a search's articles (what the chart shows while searching)."""
    counted = Counter((a.filed_day(), a.language) for a in found)
    return [{"day": day, "language": lang, "count": n} for (day, lang), n in sorted(counted.items(),
                                                                                   key=lambda i: (i[0][0] or "", i[0][1]))]


@st.cache_data(ttl=TTL, show_spinner=False)
def found_fact_days(url: str, article_ids: tuple[str, ...]) -> list[dict]:
    """Facts per day they refer to, among these articles' facts."""
    with _store(url) as store:
        facts = store.facts_for(list(article_ids))
    counted = Counter(f.event_date or (f.published or "")[:10] or None for group in facts.values() for f in group)
    return [{"day": day, "count": n} for day, n in sorted(counted.items(), key=lambda i: i[0] or "")]


@st.cache_data(ttl=TTL, show_spinner=False)
def articles_on_page(url: str, key: str, page: DayPage) -> list[Article]:
    """The articles of one page of the list (its days, or its part of one big day), oldest first."""
    filters = filters_from_key(key)
    if page.first is None:  # undated articles sort after every dated one
        with _store(url) as store:
            total = store.count_articles(filters)
            return store.list_articles(filters, page.count, max(total - page.count, 0))
    filters = replace(filters, since=date.fromisoformat(page.first), until=date.fromisoformat(page.last))
    with _store(url) as store:
        return store.list_articles(filters, page.count, page.offset)


@st.cache_data(ttl=TTL, show_spinner=False)
def match_words(text: str) -> Optional[tuple]:
    """The analysed words a search looks for, to mark them in snippets (None for a query that does not parse)."""
    try:
        return query_words(build_search(text))
    except QuerySyntaxError:
        return None


@st.cache_data(ttl=TTL, show_spinner=False)
def facts_for(url: str, article_ids: tuple[str, ...]) -> dict[str, list[Fact]]:
    with _store(url) as store:
        return store.facts_for(list(article_ids))


@st.cache_data(ttl=TTL, show_spinner=False)
def story_members(url: str, story_ids: tuple[str, ...]) -> dict[str, list[dict]]:
    with _store(url) as store:
        return store.story_members(list(story_ids))


@st.cache_data(ttl=TTL, show_spinner=False)
def article(url: str, article_id: str) -> Optional[Article]:
    with _store(url) as store:
        return store.get_article(article_id)


@st.cache_data(ttl=TTL, show_spinner=False)
def entity_timeline(url: str, key: str, entity_ids: tuple[str, ...]) -> list[dict]:
    with _store(url) as store:
        return store.entity_timeline(filters_from_key(key), list(entity_ids))


@st.cache_data(ttl=TTL, show_spinner=False)
def new_entities(url: str, key: str) -> list[dict]:
    with _store(url) as store:
        return [{"id": e["entity"].id, "type": e["entity"].type, "name": e["entity"].name,
                 "name_hi": e["entity"].name_hi, "first_seen": e["first_seen"], "articles": e["articles"]}
                for e in store.entity_first_seen(filters_from_key(key))]


@st.cache_data(ttl=TTL, show_spinner=False)
def count_articles(url: str, key: str) -> int:
    with _store(url) as store:
        return store.count_articles(filters_from_key(key))


@st.cache_data(ttl=TTL, show_spinner=False)
def figure_rows(url: str, key: str, limit: int = 5000) -> list[dict]:
    """The rows of `export --what figures` for the view (the first `limit`): each figure as it reads, its raw
    value, sentence, headline, outlet, dates and link."""
    with _store(url) as store:
        return list(islice(export_figure_rows(store, filters_from_key(key)), limit))


@st.cache_data(ttl=TTL, show_spinner=False)
def claims(url: str, key: str, status: Optional[str]) -> list[dict]:
    """Claims inside the view (disputed first), each with every source for and against."""
    with _store(url) as store:
        return read_claims(store, filters_from_key(key), status, facts_per_side=SOURCES_SHOWN)


@st.cache_data(ttl=TTL, show_spinner=False)
def events(url: str, key: str) -> list[dict]:
    """Events inside the view, by the day they happened."""
    with _store(url) as store:
        return read_events(store, filters_from_key(key), sentences=SOURCES_SHOWN)


def export_view(url: str, key: str, what: str, fmt: str, found_ids: Optional[tuple[str, ...]] = None) -> bytes:
    """The same bytes `prahari export --what WHAT --format FMT` writes for these filters, or for the articles a
    search found (their records, facts or figures), built on click."""
    with _store(url) as store:
        if found_ids is None:
            records, fields = records_for(store, what, filters_from_key(key))
        else:
            records, fields = records_for_articles(store, what, list(found_ids))
        return export_bytes(records, fmt, fields)


# --- The analysts' workspace: read fresh on every run (it changes by hand), written through the store.

def workspace(url: str, kind: str, keys: Optional[tuple[str, ...]] = None) -> dict[str, dict]:
    with _store(url) as store:
        return store.workspace(kind, list(keys) if keys is not None else None)


def annotate(url: str, kind: str, key: str, starred: bool, tags: list[str], note: str,
             article_id: Optional[str] = None) -> Optional[str]:
    """Save a star, tags and note; None, or the one-line reason it could not be saved."""
    try:
        with _store(url) as store:
            set_annotation(store, kind, key, starred, tags, note, article_id)
    except PrahariError as exc:
        return str(exc)
    return None


def save_search(url: str, name: str, query: str) -> Optional[str]:
    """Keep a view under a name; None, or the one-line reason it could not be saved."""
    try:
        with _store(url) as store:
            keep_search(store, name, query)
    except PrahariError as exc:
        return str(exc)
    return None


def delete_search(url: str, name: str) -> None:
    with _store(url) as store:
        drop_search(store, name)


def starred_articles(url: str, key: str) -> list[Article]:
    """Starred articles (and the reports of starred facts) inside the view, oldest first."""
    filters = filters_from_key(key)
    with _store(url) as store:
        ids = sorted(starred_article_ids(store))
        found = [a for a in (store.get_article(i) for i in ids) if a is not None and in_view(a, filters)]
    return sorted(found, key=lambda a: (a.published or "", a.id))


def in_view(article: Article, filters: Filters) -> bool:
    """Whether an article passes the view's filters (for lists built from ids, like the starred one)."""
    day = article.filed_day()
    return ((filters.include_irrelevant or article.relevant)
            and (not filters.incident or article.incident == filters.incident)
            and (not filters.lang or article.language == filters.lang)
            and (not filters.source or article.source == filters.source)
            and (not filters.since or (day is not None and day >= filters.since.isoformat()))
            and (not filters.until or (day is not None and day <= filters.until.isoformat()))
            and set(filters.entity) <= {e.id for e in article.entities}
            and (not filters.figure_kind or any(f.kind == filters.figure_kind for f in article.figures)))


def raw_page(url: str, canonical_url: str):
    """The stored raw page behind an article (the evidence), or None."""
    with _store(url) as store:
        return store.get_page(canonical_url)


@st.cache_data(ttl=TTL, show_spinner=False)
def entity_rows(url: str, key: str) -> list[dict]:
    """Each entity in the view: articles, first and last mention, role (what `prahari entities` lists)."""
    with _store(url) as store:
        return entity_summary(store, filters_from_key(key))
