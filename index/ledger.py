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


def _in_scope(facts: list[dict], scope: Scope) -> bool:
    """True when one of the facts is inside the scope (published in range, language, source, entities)."""
    for fact in facts:
        day = (fact.get("published") or "")[:10]
        if scope.since and day and day < scope.since.isoformat():
            continue
        if scope.until and day and day > scope.until.isoformat():
            continue
        if scope.lang and fact["language"] != scope.lang:
            continue
        if scope.source and fact["source"] != scope.source:
            continue
        if scope.entity and not set(scope.entity) <= set(fact.get("entities") or ()):
            continue
        return True
    return False


def read_claims(store: Store, scope: Scope, status: Optional[str] = None, slot: Optional[str] = None) -> list[dict]:
    """Claims with at least one fact inside the scope: disputed first, then by slot and backing."""
    found = [c for c in store.claims(scope.incident)
             if (status is None or c["status"] == status) and (slot is None or c["slot"] == slot)
             and _in_scope(c["facts"], scope)]
    return sorted(found, key=lambda c: (STATUS_ORDER[c["status"]], c["slot"], -c["outlets"], c["id"]))


def claim_ids_by_fact(store: Store, incident: Optional[str]) -> dict[str, list[str]]:
    """fact id -> the claims it backs or opposes."""
    out: dict[str, list[str]] = defaultdict(list)
    for claim in store.claims(incident):
        for fact in claim["facts"]:
            out[fact["fact_id"]].append(claim["id"])
    return out


def read_events(store: Store, scope: Scope) -> list[dict]:
    """Events with at least one fact inside the scope, by date; each with the claims its facts back."""
    claims_of = claim_ids_by_fact(store, scope.incident)
    out = []
    for event in store.events(scope.incident):
        if _in_scope(event.get("sentences") or [], scope):
            out.append({**event, "claims": sorted({c for f in event.get("facts") or [] for c in claims_of.get(f, [])})})
    return sorted(out, key=lambda e: (e["date"], e["id"]))
