"""The claim ledger's running totals, and the claims and events read off them.

Every ledger row is merged into small per-slot and per-day totals (value groups, denials, entity groups), each
keeping what a claim or event needs: the outlets behind it (one per independent story), its languages, its
first report and its fact ids. Merging is order-free, so folding in 100 new articles gives exactly what a
rebuild over every row gives, without reading the rows already merged.
"""

from __future__ import annotations

import hashlib
from typing import Iterable, Optional

from nlp.claim_values import PRECISION, compatible, value_text

def new_total() -> dict:
    """An empty total: stories (story -> [time, outlet] of its earliest report), languages, first report,
    facts (fact id -> time), sources, entities, days. Times are UTC epoch seconds (undated: last)."""
    return {"stories": {}, "languages": [], "first": None, "facts": {}, "sources": [], "entities": [],
            "days": [None, None]}


def _add(total: dict, row: dict) -> None:
    order, when = row["order"], [row["t"], row["source"]]
    story = total["stories"].get(row["cluster"])
    if story is None or when < story:
        total["stories"][row["cluster"]] = when
    for key, value in (("languages", row["language"]), ("sources", row["source"])):
        if value not in total[key]:
            total[key].append(value)
    for entity in row["entities"]:
        if entity not in total["entities"]:
            total["entities"].append(entity)
    first = [order, row["source"], row["url"], row["published"], row["article_id"], row.get("title")]
    if total["first"] is None or first < total["first"]:
        total["first"] = first
    total["facts"][row["fact_id"]] = row["t"]
    day = (row.get("published") or "")[:10] or None
    if day:
        low, high = total["days"]
        total["days"] = [min(low or day, day), max(high or day, day)]


def _absorb(into: dict, total: dict) -> None:
    """Add one total into another, in place."""
    stories = into["stories"]
    for story, when in total["stories"].items():
        mine = stories.get(story)
        if mine is None or when < mine:
            stories[story] = when
    for key in ("languages", "sources", "entities"):
        into[key] += [v for v in total[key] if v not in into[key]]
    if total["first"] is not None and (into["first"] is None or total["first"] < into["first"]):
        into["first"] = total["first"]
    into["facts"].update(total["facts"])
    days = [d for d in (into["days"] + total["days"]) if d]
    into["days"] = [min(days), max(days)] if days else [None, None]


def _combine(totals: Iterable[dict]) -> dict:
    """Several totals as one new total (a claim of several compatible values, a denial of several)."""
    out = new_total()
    for total in totals:
        _absorb(out, total)
    return out


def outlets(total: dict) -> list[str]:
    """Distinct outlets behind a total: each independent story counts once, as its earliest report's outlet."""
    return sorted({source for _when, source in total["stories"].values()})


# --- merging rows ------------------------------------------------------------------------------------

def merge_row(state: dict[str, dict], row: dict) -> None:
    """Fold one ledger row into the slot totals it fills and the day total it names."""
    for value in row["values"]:
        slot = state.setdefault(f"slot:{value['slot']}", {"groups": {}, "denials": {}})
        if row["stance"] == "denied":
            denial = slot["denials"].setdefault(value["key"], {"value": value, **new_total()})
            _add(denial, row)
        elif value["value"] is not None or value.get("low") is not None:
            group = slot["groups"].setdefault(value["key"], {"founder": value, "rank": None, "count": 0,
                                                             "exclusive": value.get("exclusive", True), **new_total()})
            rank = [PRECISION.get(value.get("qualifier"), 9), row["order"]]
            if group["rank"] is None or rank < group["rank"]:
                group["founder"], group["rank"] = value, rank
            group["count"] += 1
            _add(group, row)
    if row.get("day"):
        _merge_day(state.setdefault(f"day:{row['day']}", {"groups": [], "loose": None}), row)


def _merge_day(day: dict, row: dict) -> None:
    """Rows of a day that share an entity form one group; rows naming none are kept apart (loose)."""
    if not row["entities"]:
        if day["loose"] is None:
            day["loose"] = _event_total()
        _add_event(day["loose"], row)
        return
    touching = [g for g in day["groups"] if not g["counts"].keys().isdisjoint(row["entities"])]
    if touching:
        base = max(touching, key=lambda g: len(g["facts"]))  # the others join it, in place
        for group in touching:
            if group is not base:
                day["groups"].remove(group)
                _combine_event(base, group)
    else:
        base = _event_total()
        day["groups"].append(base)
    _add_event(base, row)


def _event_total() -> dict:
    return {**new_total(), "counts": {}, "articles": {}, "heads": {}, "min_fact": None}


def _add_event(total: dict, row: dict) -> None:
    _add(total, row)
    for entity in row["entities"]:
        total["counts"][entity] = total["counts"].get(entity, 0) + 1
    seen = total["articles"].get(row["article_id"])
    if seen is None or row["t"] < seen:
        total["articles"][row["article_id"]] = row["t"]
    # The headline: the first report in each language published on or after the day it names.
    head = [(row.get("published") or "")[:10] < row["day"], row.get("published") or "~", row.get("title")]
    mine = total["heads"].get(row["language"])
    if row.get("title") and (mine is None or head < mine):
        total["heads"][row["language"]] = head
    if total["min_fact"] is None or row["fact_id"] < total["min_fact"]:
        total["min_fact"] = row["fact_id"]


def _combine_event(into: dict, other: dict) -> None:
    """Add one event total into another, in place."""
    _absorb(into, other)
    for entity, count in other["counts"].items():
        into["counts"][entity] = into["counts"].get(entity, 0) + count
    for article, when in other["articles"].items():
        if article not in into["articles"] or when < into["articles"][article]:
            into["articles"][article] = when
    for language, head in other["heads"].items():
        if language not in into["heads"] or head < into["heads"][language]:
            into["heads"][language] = head
    facts = [f for f in (into["min_fact"], other["min_fact"]) if f]
    into["min_fact"] = min(facts) if facts else None


# --- reading claims and events off the totals --------------------------------------------------------

def claim_id(incident: str, slot: str, key: str) -> str:
    """Stable id: the same slot and founding value give the same claim id on every rebuild."""
    return hashlib.sha1(f"{incident}|{slot}|{key}".encode("utf-8")).hexdigest()[:16]


def _by_order(times: dict[str, int]) -> list[str]:
    """Ids by time, ties by id (two sorts in C: by id, then stably by time)."""
    return sorted(sorted(times), key=times.__getitem__)


def _scope(*totals: dict) -> dict:
    """What the scope filters look at: languages, sources, entities and the days of the reports."""
    days = [d for t in totals for d in t["days"] if d]
    return {key: sorted({v for t in totals for v in t[key]}) for key in ("languages", "sources", "entities")} | \
        {"days": [min(days), max(days)] if days else [None, None]}


def slot_claims(incident: str, slot: str, totals: dict, previous: dict[str, dict], now: str) -> list[dict]:
    """The claims of one slot: the best-backed value founds a claim, compatible values join it."""
    ranked = sorted(totals["groups"].items(), key=lambda kv: (-len(outlets(kv[1])), -kv[1]["count"], kv[0]))
    founded: list[tuple[str, dict, list[dict]]] = []
    for key, group in ranked:
        home = next((f for f in founded if compatible(f[1]["founder"], group["founder"])), None)
        if home is None:
            founded.append((key, group, [group]))
        else:
            home[2].append(group)
    exclusive = any(g["exclusive"] for g in totals["groups"].values())
    ids = [claim_id(incident, slot, key) for key, _group, _members in founded]
    claims = []
    for (key, lead, members), this_id in zip(founded, ids):
        founder = min((g for g in members), key=lambda g: g["rank"])["founder"]
        backing = members[0] if len(members) == 1 else _combine(members)
        denials = [d for d in totals["denials"].values() if compatible(d["value"], lead["founder"])]
        against = denials[0] if len(denials) == 1 else _combine(denials)
        for_outlets, against_outlets = outlets(backing), outlets(against)
        conflicts = [other for other in ids if other != this_id] if exclusive else []
        if against_outlets or conflicts:
            status = "disputed"
        elif len(for_outlets) >= 2:
            status = "corroborated"
        else:
            status = "single-source"
        old = totals.get("history", {}).get(this_id) or previous.get(this_id, {})
        disputed_since = old.get("disputed_since") if old.get("status") == "disputed" else None
        _order, source, url, published, _article, _title = backing["first"]
        claims.append({
            "id": this_id, "incident": incident, "slot": slot, "value": founder["value"], "unit": founder.get("unit"),
            "low": founder.get("low"), "high": founder.get("high"), "of": founder.get("of"),
            "qualifier": founder.get("qualifier"), "text": value_text(slot, founder), "status": status,
            "outlets": len(for_outlets), "against": len(against_outlets), "languages": sorted(backing["languages"]),
            "first_reported": published, "first_source": source, "first_url": url, "conflicts_with": conflicts,
            "sources_for": for_outlets, "sources_against": against_outlets,
            "for_facts": _by_order(backing["facts"]), "against_facts": _by_order(against["facts"]),
            "scope": _scope(backing, against), "built_first": old.get("built_first") or now,
            "disputed_since": (disputed_since or now) if status == "disputed" else None,
        })
    # When each claim was first built and since when it is disputed (for the digest) live in the totals too,
    # so merging new rows never has to read the claims back.
    totals["history"] = {c["id"]: {k: c[k] for k in ("built_first", "disputed_since", "status")} for c in claims}
    return claims


def _with_loose(group: dict, loose: dict) -> dict:
    """The largest group of a day with the rows that name no entity, leaving the stored totals as they are."""
    out = {**group, **{k: dict(group[k]) for k in ("stories", "facts", "counts", "articles", "heads")},
           **{k: list(group[k]) for k in ("languages", "sources", "entities", "days")}}
    _combine_event(out, loose)
    return out


def day_events(incident: str, date: str, totals: dict) -> list[dict]:
    """The events of one day: its entity groups, the largest also holding the rows that name no entity."""
    groups = sorted(totals["groups"], key=lambda g: (-len(g["facts"]), g["min_fact"] or ""))
    if totals.get("loose"):
        groups = [_with_loose(groups[0], totals["loose"]), *groups[1:]] if groups else [totals["loose"]]
    events = []
    for group in groups:
        entities = sorted(group["counts"], key=lambda e: (-group["counts"][e], e))
        key = ",".join(sorted(group["counts"])) or "-"
        _order, source, url, published, _article, _title = group["first"]
        heads = group["heads"]
        events.append({
            "id": hashlib.sha1(f"{incident}|{date}|{group['min_fact']}|{key}".encode("utf-8")).hexdigest()[:16],
            "incident": incident, "date": date, "summary": heads["en"][2] if "en" in heads else None,
            "summary_hi": heads["hi"][2] if "hi" in heads else None, "entities": entities,
            "outlets": len(outlets(group)), "sources": outlets(group), "languages": sorted(group["languages"]),
            "first_reported": published, "first_source": source, "first_url": url,
            "articles": _by_order(group["articles"]), "facts": _by_order(group["facts"]), "scope": _scope(group),
        })
    return events


def derive(incident: str, state: dict[str, dict], keys: Optional[Iterable[str]], previous: dict[str, dict],
           now: str) -> tuple[list[dict], list[dict]]:
    """Claims of the slot totals and events of the day totals named in keys (all of them when None)."""
    claims, events = [], []
    for key in sorted(state if keys is None else keys):
        totals = state.get(key)
        if totals is None:
            continue
        kind, _colon, name = key.partition(":")
        if kind == "slot":
            claims.extend(slot_claims(incident, name, totals, previous, now))
        elif kind == "day":
            events.extend(day_events(incident, name, totals))
    return claims, events
