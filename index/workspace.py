"""The analysts' workspace: stars, tags and notes on articles and facts, and saved searches, kept in the store
beside (never inside) what extraction derives."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterable, Iterator, Optional

from index.store import Store

WORKSPACE_FIELDS = ("starred", "tags", "note")  # added to exported articles and facts


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def clean_tags(tags: Iterable[str]) -> list[str]:
    """Tags as typed, trimmed, without repeats or empties, in the order given."""
    return list(dict.fromkeys(t.strip() for t in tags if t and t.strip()))[:50]


def annotate(store: Store, kind: str, key: str, starred: bool, tags: Iterable[str], note: str,
             article_id: Optional[str] = None) -> Optional[dict]:
    """Set the star, tags and note of an article or fact (all empty: the annotation is removed); the doc or None."""
    tags, note = clean_tags(tags), (note or "").strip()[:20_000]
    doc = None
    if starred or tags or note:
        doc = {"starred": bool(starred), "tags": tags, "note": note, "updated": _now()}
        if article_id:
            doc["article_id"] = article_id  # a fact's article, so "starred" can show the report it came from
    store.put_workspace(kind, {key: doc})
    return doc


def save_search(store: Store, name: str, query: str) -> None:
    """Keep a view (its URL query) under a name; the same name again replaces it."""
    store.put_workspace("search", {name.strip()[:200]: {"name": name.strip()[:200], "query": query, "saved": _now()}})


def delete_search(store: Store, name: str) -> None:
    store.put_workspace("search", {name: None})


def starred_article_ids(store: Store) -> set[str]:
    """Articles an analyst starred, or whose facts they starred."""
    ids = {key for key, doc in store.workspace("article").items() if doc.get("starred")}
    return ids | {doc["article_id"] for doc in store.workspace("fact").values()
                  if doc.get("starred") and doc.get("article_id")}


def with_workspace(store: Store, kind: str, records: Iterable[dict[str, Any]], key: str = "id",
                   batch: int = 500) -> Iterator[dict[str, Any]]:
    """Records with the analyst's star, tags (joined by "; " nowhere: a list) and note added."""
    chunk: list[dict[str, Any]] = []

    def flush() -> Iterator[dict[str, Any]]:
        notes = store.workspace(kind, [r[key] for r in chunk])
        for record in chunk:
            doc = notes.get(record[key]) or {}
            yield {**record, "starred": bool(doc.get("starred")), "tags": doc.get("tags") or [],
                   "note": doc.get("note") or ""}

    for record in records:
        chunk.append(record)
        if len(chunk) >= batch:
            yield from flush()
            chunk = []
    if chunk:
        yield from flush()
