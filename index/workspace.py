"""The analysts' workspace: stars, tags and notes on articles and facts, and saved searches, kept in the store
beside (never inside) what extraction derives."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterable, Iterator, Optional

from index.store import Store

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


NOTE_FIELDS = ("kind", "id", "article_id", "starred", "tags", "note", "updated", "text", "title", "source",
               "language", "published", "url")


def note_rows(store: Store, filters=None) -> Iterator[dict[str, Any]]:
    """`export --what notes`: every starred, tagged or noted article and fact, with what it is and where it came
    from (its headline or sentence, outlet, time and link), oldest note first; within the filters when given."""
    from index.query import Filters

    filters = filters or Filters()
    docs = {kind: store.workspace(kind) for kind in ("article", "fact")}
    article_ids = sorted(set(docs["article"]) | {d.get("article_id") for d in docs["fact"].values()} - {None})
    briefs = store.article_briefs(article_ids) if article_ids else {}
    facts = {f.id: f for group in store.facts_for(sorted({d.get("article_id") for d in docs["fact"].values()}
                                                        - {None})).values() for f in group} if docs["fact"] else {}
    rows = []
    for kind, notes in docs.items():
        for key, doc in notes.items():
            article_id = key if kind == "article" else doc.get("article_id")
            brief = briefs.get(article_id)
            if brief is None or not _in_scope(brief, filters):
                continue
            fact = facts.get(key)
            rows.append({"kind": kind, "id": key, "article_id": article_id, "starred": bool(doc.get("starred")),
                         "tags": doc.get("tags") or [], "note": doc.get("note") or "", "updated": doc.get("updated"),
                         "text": fact.sentence if fact else brief["title"], "title": brief["title"],
                         "source": brief["source"], "language": brief["language"], "published": brief["published"],
                         "url": brief["url"]})
    yield from sorted(rows, key=lambda r: (r["updated"] or "", r["id"]))


def _in_scope(brief: dict, filters) -> bool:
    """Whether a noted article passes the export's language, source and date filters."""
    day = (brief.get("published") or "")[:10]
    return ((not filters.lang or brief.get("language") == filters.lang)
            and (not filters.source or brief.get("source") == filters.source)
            and (not filters.since or day >= filters.since.isoformat())
            and (not filters.until or (day and day <= filters.until.isoformat())))
