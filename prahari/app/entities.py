"""Entities for analysts: resolve what they type (an id, a name or an alias in either script) to ids, and
list each entity with its first and last mention, how many articles name it and the role the text gives it."""

from __future__ import annotations

import difflib
import json
from collections import defaultdict
from typing import Optional

from index.query import Filters
from index.store import Store
from nlp.lexicon import entity_entries
from nlp.roles import main_role, role_in
from prahari.errors import PrahariError


def _folded(text: str) -> str:
    return " ".join(str(text).casefold().split())


def entity_catalogue(store: Store) -> dict[str, dict]:
    """Every entity id the data file or the store knows: {id: {type, name, name_hi, names}}."""
    catalogue: dict[str, dict] = {}
    for entry in entity_entries():
        names = [entry["id"], entry["name"], entry.get("name_hi") or "", *(entry.get("aliases") or [])]
        catalogue[entry["id"]] = {"type": entry["type"], "name": entry["name"], "name_hi": entry.get("name_hi"),
                                  "names": [n for n in names if n]}
    for option in store.filter_options()["entity"]:
        known = catalogue.setdefault(option["value"], {"type": option.get("type"), "name": option.get("name"),
                                                       "name_hi": option.get("name_hi"), "names": []})
        known["names"] += [n for n in (option["value"], option.get("name"), option.get("name_hi")) if n]
    return catalogue


def resolve_entity(text: str, catalogue: dict[str, dict]) -> str:
    """The id for an id, name or alias in either script (any case); an unknown one is an error naming the closest."""
    wanted = _folded(text)
    for entity_id, known in catalogue.items():
        if any(_folded(name) == wanted for name in known["names"]):
            return entity_id
    by_name = {_folded(name): entity_id for entity_id, known in catalogue.items() for name in known["names"]}
    close = list(dict.fromkeys(by_name[n] for n in difflib.get_close_matches(wanted, list(by_name), n=6, cutoff=0.6)))
    hint = f"; closest: {', '.join(close[:3])}" if close else ""
    raise PrahariError(f"unknown entity {text!r}{hint} (prahari entities lists every id)")


def resolve_entities(texts: list[str], store: Store) -> list[str]:
    """Ids for every --entity value (the catalogue is read only when there is something to resolve)."""
    if not texts:
        return []
    catalogue = entity_catalogue(store)
    return list(dict.fromkeys(resolve_entity(text, catalogue) for text in texts))


def entity_summary(store: Store, filters: Filters, entity_type: Optional[str] = None) -> list[dict]:
    """Each entity in the view: id, type, names, articles, first and last mention day, role (most articles first)."""
    catalogue = entity_catalogue(store)
    ids = [i for i, known in catalogue.items() if not entity_type or (known["type"] or "").upper() == entity_type.upper()]
    days: dict[str, list[str]] = defaultdict(list)
    articles: dict[str, int] = defaultdict(int)
    for row in store.entity_timeline(filters, ids):
        if row["day"]:
            days[row["entity"]].append(row["day"])
        articles[row["entity"]] += row["count"]
    roles: dict[str, list[Optional[str]]] = defaultdict(list)
    wanted = set(articles)
    for fact in store.iter_facts(filters):
        for entity in fact.entities:
            if entity.id in wanted:
                roles[entity.id] += [role_in(fact.sentence, fact.language, m.text) for m in entity.mentions[:1]]
    rows = []
    for entity_id in articles:
        known = catalogue[entity_id]
        rows.append({"id": entity_id, "type": known["type"], "name": known["name"], "name_hi": known["name_hi"],
                     "articles": articles[entity_id], "first_mention": min(days[entity_id], default=None),
                     "last_mention": max(days[entity_id], default=None), "role": main_role(roles[entity_id])})
    return sorted(rows, key=lambda r: (-r["articles"], r["first_mention"] or "", r["id"]))


def entities_table(rows: list[dict]) -> str:
    """A plain-text table: id, type, articles, first and last mention, role, names."""
    lines = [f"{'id':22} {'type':7} {'articles':>8}  {'first':10}  {'last':10}  {'role':13} name"]
    for r in rows:
        names = " / ".join(dict.fromkeys(n for n in (r["name"], r["name_hi"]) if n))
        lines.append(f"{r['id']:22.22} {r['type'] or '':7.7} {r['articles']:>8}  {r['first_mention'] or '':10}  "
                     f"{r['last_mention'] or '':10}  {r['role'] or '':13} {names}")
    return "\n".join(lines)


def entities_json(rows: list[dict]) -> str:
    return json.dumps(rows, ensure_ascii=False, indent=2)
