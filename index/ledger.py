"""Reading claims and events: narrowed by the same scope as every other view, in the order analysts read them."""

from __future__ import annotations

from collections import defaultdict
from typing import Optional

from index.query import Scope
from index.store import Store

STATUS_ORDER = {"disputed": 0, "corroborated": 1, "single-source": 2}
CLAIM_FIELDS = ("id", "incident", "slot", "value", "unit", "low", "high", "text", "status", "outlets", "against",
                "languages", "first_reported", "first_source", "first_url", "conflicts_with", "facts")
EVENT_FIELDS = ("id", "incident", "date", "summary", "summary_hi", "entities", "claims", "outlets", "languages",
                "first_reported", "first_source", "first_url", "articles")


def fact_entry(row: dict, stance: Optional[str] = None) -> dict:
    """A claim's or event's source sentence, as exported: the fact, its article, outlet, language and time."""
    return {"fact_id": row["fact_id"], "article_id": row["article_id"], "url": row["url"], "source": row["source"],
            "language": row["language"], "published": row["published"], "sentence": row["sentence"],
            "stance": stance or row["stance"], "entities": row["entities"]}


def _in_scope(summary: dict, scope: Scope) -> bool:
    """True when the claim's or event's sources can fall in the scope (days, language, outlet, entities)."""
    first, last = summary.get("days") or (None, None)
    if scope.since and last and last < scope.since.isoformat():
        return False
    if scope.until and first and first > scope.until.isoformat():
        return False
    if scope.lang and scope.lang not in summary["languages"]:
        return False
    if scope.source and scope.source not in summary["sources"]:
        return False
    return set(scope.entity) <= set(summary["entities"])


def _rows(store: Store, wanted: dict[str, set[str]]) -> dict[str, dict]:
    """Ledger rows by fact id, read per incident."""
    out: dict[str, dict] = {}
    for incident, fact_ids in wanted.items():
        out.update({r["fact_id"]: r for r in store.ledger(incident, fact_ids=sorted(fact_ids))})
    return out


INTERNAL = ("for_facts", "against_facts", "scope")


def read_claims(store: Store, scope: Scope, status: Optional[str] = None, slot: Optional[str] = None,
                facts_per_side: Optional[int] = None) -> list[dict]:
    """Claims inside the scope, disputed first, then by slot and backing; each with its source sentences
    (every one, or the first facts_per_side for and against)."""
    found = [c for c in store.claims(scope.incident)
             if (status is None or c["status"] == status) and (slot is None or c["slot"] == slot)
             and _in_scope(c["scope"], scope)]
    found.sort(key=lambda c: (STATUS_ORDER[c["status"]], c["slot"], -c["outlets"], c["id"]))
    cut = (lambda ids: ids) if facts_per_side is None else (lambda ids: ids[:facts_per_side])  # noqa: E731
    wanted: dict[str, set[str]] = defaultdict(set)
    for claim in found:
        wanted[claim["incident"]].update(cut(claim["for_facts"]) + cut(claim["against_facts"]))
    rows = _rows(store, wanted)
    out = []
    for claim in found:
        facts = [fact_entry(rows[f]) for f in cut(claim["for_facts"]) if f in rows]
        facts += [fact_entry(rows[f], "denied") for f in cut(claim["against_facts"]) if f in rows]
        out.append({**{k: v for k, v in claim.items() if k not in INTERNAL}, "facts": facts,
                    "facts_for": len(claim["for_facts"]), "facts_against": len(claim["against_facts"])})
    return out


def claim_ids_by_fact(store: Store, incident: Optional[str]) -> dict[str, list[str]]:
    """fact id -> the claims it backs or opposes."""
    out: dict[str, list[str]] = defaultdict(list)
    for claim in store.claims(incident):
        for fact in claim["for_facts"] + claim["against_facts"]:
            out[fact].append(claim["id"])
    return out


def read_events(store: Store, scope: Scope, sentences: Optional[int] = None) -> list[dict]:
    """Events inside the scope, by date; each with the claims its facts back and its source sentences
    (every one, or the first `sentences`)."""
    claims_of = claim_ids_by_fact(store, scope.incident)
    found = sorted((e for e in store.events(scope.incident) if _in_scope(e["scope"], scope)),
                   key=lambda e: (e["date"], e["id"]))
    cut = (lambda ids: ids) if sentences is None else (lambda ids: ids[:sentences])  # noqa: E731
    wanted: dict[str, set[str]] = defaultdict(set)
    for event in found:
        wanted[event["incident"]].update(cut(event["facts"]))
    rows = _rows(store, wanted)
    return [{**{k: v for k, v in e.items() if k not in INTERNAL},
             "claims": sorted({c for f in e["facts"] for c in claims_of.get(f, [])}),
             "sentences": [fact_entry(rows[f]) for f in cut(e["facts"]) if f in rows]} for e in found]
