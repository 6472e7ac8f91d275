"""The claim ledger: stored facts → slot claims (corroborated, single-source, disputed) and dated events.

`refresh` runs after every update (only the facts first seen in that run, and the slots and days they touch)
and after reprocess (everything). Both stores keep the same ledger rows, claims and events.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from dataclasses import asdict
from datetime import datetime, timezone
from typing import Iterable, Optional

from index.query import Filters
from index.store import Store
from nlp.claims import ClaimRules, classify, load_rules, stance_of
from nlp.crosslingual import Signature, figure_key, story_links, wire_of
from nlp.lexicon import entity_entries
from prahari.incident import Incident
from prahari.model import Fact

STATUSES = ("corroborated", "single-source", "disputed")
EXACT_TOLERANCE = 0.005  # "1.3 TB" and "1.30 TB" are one value
ABOUT_TOLERANCE = 0.10  # "about 200 crore" covers 180–220 crore
PRECISION = {"exact": 0, "about": 1, "range": 2, "more_than": 3, "less_than": 3}


def rules_for(incident: Optional[Incident]) -> ClaimRules:
    """The incident's claim rules: the default cyber set plus what its file adds under `claims:`."""
    return load_rules(getattr(incident, "claims", None))


# --- ledger rows -------------------------------------------------------------------------------------

def ledger_rows(facts: Iterable[Fact], rules: ClaimRules) -> tuple[list[dict], list[str]]:
    """One row per fact that fills a slot or names a day; and the ids of every article seen."""
    rows: list[dict] = []
    signatures: dict[str, tuple[set, set, set]] = {}
    for fact in facts:
        entities, figures, dates = signatures.setdefault(fact.article_id, (set(), set(), set()))
        entities.update(e.id for e in fact.entities)
        figures.update(figure_key(f) for f in fact.figures)
        dates.update(d.date for d in fact.dates)
        values = classify(fact, rules)
        if not values and not fact.dates:
            continue
        rows.append({
            "fact_id": fact.id, "article_id": fact.article_id, "url": fact.url, "source": fact.source,
            "language": fact.language, "published": fact.published, "sentence": fact.sentence,
            "stance": stance_of(fact.sentence, fact.language, rules), "day": fact.dates[0].date if fact.dates else None,
            "entities": [e.id for e in fact.entities], "slots": sorted({v.slot for v in values}),
            "values": [asdict(v) for v in values]})
    for row in rows:
        entities, figures, dates = signatures[row["article_id"]]
        row["signature"] = {"entities": sorted(entities), "figures": sorted(figures), "dates": sorted(dates)}
    return rows, list(signatures)


# --- independence: syndicated and cross-lingual copies count once ------------------------------------

class Independence:
    """Which stored story (syndicated copies, wire rewrites in the other language) each article belongs to."""

    def __init__(self, rows: list[dict], briefs: dict[str, dict]):
        self.briefs = briefs
        signatures, seen = [], set()
        for row in rows:
            article_id = row["article_id"]
            brief = briefs.get(article_id)
            if article_id in seen or brief is None:
                continue
            seen.add(article_id)
            sig = row.get("signature") or {}
            published = brief.get("published")
            signatures.append(Signature(
                article_id, brief.get("language") or row["language"], brief.get("source") or row["source"],
                _time(published), frozenset(sig.get("entities") or ()), frozenset(sig.get("figures") or ()),
                frozenset(sig.get("dates") or ()), wire_of(brief.get("author"))))
        self.links = story_links(signatures)

    def story(self, article_id: str) -> str:
        """The story an article counts as: the stored story of the earliest copy it is linked to."""
        first = self.links.get(article_id, article_id)
        brief = self.briefs.get(first) or {}
        return brief.get("story_id") or first

    def outlets(self, rows: list[dict]) -> list[str]:
        """Distinct outlets behind these facts, one per independent story (its earliest report's outlet)."""
        earliest: dict[str, dict] = {}
        for row in rows:
            story = self.story(row["article_id"])
            if story not in earliest or _order(row) < _order(earliest[story]):
                earliest[story] = row
        return sorted({row["source"] for row in earliest.values()})


def _time(value: Optional[str]) -> Optional[datetime]:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def _order(row: dict) -> tuple:
    when = _time(row.get("published"))
    return (when.astimezone(timezone.utc).isoformat() if when and when.tzinfo else row.get("published") or "~",
            row["fact_id"])


# --- values ------------------------------------------------------------------------------------------

def _interval(value: dict) -> Optional[tuple[float, float]]:
    if isinstance(value["value"], str):
        return None
    low, high, number = value.get("low"), value.get("high"), value.get("value")
    if low is not None and high is not None:
        return low, high
    if number is None:
        return None
    qualifier = value.get("qualifier")
    if qualifier == "more_than":
        return number, math.inf
    if qualifier == "less_than":
        return 0.0, number
    spread = ABOUT_TOLERANCE if qualifier == "about" else EXACT_TOLERANCE
    return number * (1 - spread), number * (1 + spread)


def compatible(a: dict, b: dict) -> bool:
    """Two values that can both be true: equal names, or overlapping numbers (a range holding a value)."""
    if isinstance(a["value"], str) or isinstance(b["value"], str):
        return str(a["value"]).casefold() == str(b["value"]).casefold()
    one, two = _interval(a), _interval(b)
    if one is None or two is None:
        return True  # a denial without a figure denies every value
    return one[0] <= two[1] and two[0] <= one[1]


def _value_key(value: dict) -> str:
    if isinstance(value["value"], str):
        return value["value"].casefold()
    parts = (value.get("unit"), value.get("value"), value.get("low"), value.get("high"), value.get("of"),
             value.get("qualifier") if value.get("qualifier") in ("more_than", "less_than") else None)
    return "|".join("" if p is None else f"{p:g}" if isinstance(p, float) else str(p) for p in parts)


def _indian(amount: float) -> str:
    for size, word in ((1e7, "crore"), (1e5, "lakh")):
        if amount >= size:
            return f"{amount / size:,.2f}".rstrip("0").rstrip(".") + f" {word}"
    return f"{amount:,.0f}"


def _amount(number: float, unit: Optional[str]) -> str:
    if unit == "INR":
        return "₹" + _indian(number)
    return _indian(number) if number >= 1e5 else f"{number:g}"


def _plural(unit: Optional[str], number: Optional[float]) -> str:
    if not unit or unit in ("INR", "TB"):
        return f" {unit}" if unit == "TB" else ""
    if unit == "person":
        return " person" if number == 1 else " people"
    return f" {unit}" + ("" if number == 1 else "s")


def value_text(slot: str, value: dict) -> str:
    """The value in words: "₹200 crore", "20 of 50 servers", "more than 400 computers", "1–2 TB"."""
    if slot.startswith("action:"):
        return f"{entity_name(slot.split(':', 1)[1])}: {value['value']}"
    if isinstance(value["value"], str):
        return value["value"]
    unit, number = value.get("unit"), value.get("value")
    if number is None and value.get("low") is not None:
        low, high = value["low"], value["high"]
        span = f"{_amount(low, None)}–{_amount(high, None)}"
        for size, word in ((1e7, "crore"), (1e5, "lakh")):
            if low >= size and high >= size:  # "3–4 crore", not "3 crore–4 crore"
                span = f"{low / size:g}–{high / size:g} {word}"
                break
        return ("₹" + span) if unit == "INR" else f"{span}{_plural(unit, high)}"
    if number is None:
        return "(no figure)"
    words = {"about": "about ", "more_than": "more than ", "less_than": "less than "}.get(value.get("qualifier"), "")
    of = f" of {_amount(value['of'], unit)}" if value.get("of") else ""
    return f"{words}{_amount(number, unit)}{of}{_plural(unit, number)}"


def entity_name(entity_id: str) -> str:
    """An entity's English name from the alias data (its id when unknown)."""
    return next((e["name"] for e in entity_entries() if e["id"] == entity_id), entity_id)


# --- claims ------------------------------------------------------------------------------------------

def _fact_entry(row: dict, stance: str) -> dict:
    return {"fact_id": row["fact_id"], "article_id": row["article_id"], "url": row["url"], "source": row["source"],
            "language": row["language"], "published": row["published"], "sentence": row["sentence"],
            "stance": stance, "entities": row["entities"]}


def claim_id(incident: str, slot: str, key: str) -> str:
    """Stable id: the same slot and founding value give the same claim id on every rebuild."""
    return hashlib.sha1(f"{incident}|{slot}|{key}".encode("utf-8")).hexdigest()[:16]


def build_claims(incident: str, rows: list[dict], independence: Independence, slots: Optional[set[str]] = None,
                 previous: Optional[dict[str, dict]] = None, now: Optional[str] = None) -> list[dict]:
    """Consolidate ledger rows into claims, slot by slot (only the given slots when named)."""
    now = now or datetime.now(timezone.utc).isoformat(timespec="seconds")
    previous = previous or {}
    by_slot: dict[str, list[tuple[dict, dict]]] = defaultdict(list)
    for row in rows:
        for value in row["values"]:
            if slots is None or value["slot"] in slots:
                by_slot[value["slot"]].append((row, value))
    claims: list[dict] = []
    for slot in sorted(by_slot):
        claims.extend(_slot_claims(incident, slot, by_slot[slot], independence, previous, now))
    return claims


def _slot_claims(incident: str, slot: str, evidence: list[tuple[dict, dict]], independence: Independence,
                 previous: dict[str, dict], now: str) -> list[dict]:
    backing = [(r, v) for r, v in evidence if r["stance"] != "denied" and
               (v["value"] is not None or v.get("low") is not None)]
    denials = [(r, v) for r, v in evidence if r["stance"] == "denied"]
    groups: dict[str, list[tuple[dict, dict]]] = defaultdict(list)
    for row, value in backing:
        groups[_value_key(value)].append((row, value))
    # The best-backed value founds a claim; other values join the first claim they are compatible with.
    ranked = sorted(groups.items(), key=lambda kv: (-len(independence.outlets([r for r, _v in kv[1]])),
                                                    -len(kv[1]), kv[0]))
    founded: list[tuple[str, dict, list[tuple[dict, dict]]]] = []
    for key, members in ranked:
        # The most precise wording stands for the value: "₹200 crore" before "about ₹200 crore".
        founder = min(members, key=lambda m: (PRECISION.get(m[1].get("qualifier"), 9), _order(m[0])))[1]
        home = next((f for f in founded if compatible(f[1], founder)), None)
        if home is None:
            founded.append((key, founder, list(members)))
        else:
            home[2].extend(members)
    exclusive = any(v.get("exclusive", True) for _r, v in evidence)
    ids = [claim_id(incident, slot, key) for key, _founder, _members in founded]
    claims = []
    for (key, founder, members), this_id in zip(founded, ids):
        against = [(r, v) for r, v in denials if compatible(v, founder)]
        supporting = sorted({r["fact_id"]: r for r, _v in members}.values(), key=_order)
        opposing = sorted({r["fact_id"]: r for r, _v in against}.values(), key=_order)
        outlets = independence.outlets(supporting)
        against_outlets = independence.outlets(opposing)
        conflicts = [other for other in ids if other != this_id] if exclusive else []
        if against_outlets or conflicts:
            status = "disputed"
        elif len(outlets) >= 2:
            status = "corroborated"
        else:
            status = "single-source"
        first = supporting[0]
        old = previous.get(this_id, {})
        disputed_since = old.get("disputed_since") if old.get("status") == "disputed" else None
        claims.append({
            "id": this_id, "incident": incident, "slot": slot,
            "value": founder["value"], "unit": founder.get("unit"), "low": founder.get("low"),
            "high": founder.get("high"), "of": founder.get("of"), "qualifier": founder.get("qualifier"),
            "text": value_text(slot, founder), "status": status, "outlets": len(outlets),
            "against": len(against_outlets), "languages": sorted({r["language"] for r in supporting}),
            "first_reported": first["published"], "first_source": first["source"], "first_url": first["url"],
            "conflicts_with": conflicts, "sources_for": outlets, "sources_against": against_outlets,
            "facts": [_fact_entry(r, r["stance"]) for r in supporting] + [_fact_entry(r, "denied") for r in opposing],
            "built_first": old.get("built_first") or now,
            "disputed_since": (disputed_since or now) if status == "disputed" else None,
        })
    return claims


# --- events ------------------------------------------------------------------------------------------

def build_events(incident: str, rows: list[dict], independence: Independence,
                 days: Optional[set[str]] = None) -> list[dict]:
    """What happened on each day the facts name: facts of a day that share entities form one event."""
    by_day: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        if row.get("day") and (days is None or row["day"] in days):
            by_day[row["day"]].append(row)
    events = []
    for day in sorted(by_day):
        for members in _entity_groups(by_day[day]):
            events.append(_event(incident, day, members, independence))
    return events


def _entity_groups(rows: list[dict]) -> list[list[dict]]:
    """Rows joined when they share an entity; rows naming none join the largest group."""
    parent: dict[str, str] = {}

    def root(node: str) -> str:
        while parent.setdefault(node, node) != node:
            node = parent[node]
        return node

    for row in rows:
        for entity in row["entities"][1:]:
            parent[root(entity)] = root(row["entities"][0])
    groups: dict[str, list[dict]] = defaultdict(list)
    loose = []
    for row in rows:
        (groups[root(row["entities"][0])] if row["entities"] else loose).append(row)
    ordered = sorted(groups.values(), key=lambda g: (-len(g), min(r["fact_id"] for r in g)))
    if not ordered:
        return [loose]
    ordered[0].extend(loose)
    return ordered


def _event(incident: str, day: str, rows: list[dict], independence: Independence) -> dict:
    rows = sorted(rows, key=_order)
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        for entity in row["entities"]:
            counts[entity] += 1
    entities = sorted(counts, key=lambda e: (-counts[e], e))
    articles = list(dict.fromkeys(r["article_id"] for r in rows))
    key = ",".join(sorted(counts)) or "-"
    return {
        "id": hashlib.sha1(f"{incident}|{day}|{min(r['fact_id'] for r in rows)}|{key}".encode("utf-8")).hexdigest()[:16],
        "incident": incident, "date": day, "summary": _headline(day, articles, independence, "en"),
        "summary_hi": _headline(day, articles, independence, "hi"), "entities": entities,
        "outlets": len(independence.outlets(rows)), "sources": independence.outlets(rows),
        "languages": sorted({r["language"] for r in rows}), "first_reported": rows[0]["published"],
        "first_source": rows[0]["source"], "first_url": rows[0]["url"], "articles": articles,
        "facts": [r["fact_id"] for r in rows], "sentences": [_fact_entry(r, r["stance"]) for r in rows],
    }


def _headline(day: str, article_ids: list[str], independence: Independence, language: str) -> Optional[str]:
    """The headline of the first report in this language published on or after the day."""
    briefs = [independence.briefs[a] for a in article_ids if a in independence.briefs
              and independence.briefs[a].get("language") == language]
    if not briefs:
        return None
    briefs.sort(key=lambda b: ((b.get("published") or "")[:10] < day, b.get("published") or "~"))
    return briefs[0].get("title")


# --- refresh -----------------------------------------------------------------------------------------

def refresh(store: Store, incident_id: str, rules: ClaimRules, since: Optional[str] = None) -> dict:
    """Rebuild the ledger, claims and events of an incident: everything, or what facts first seen since touch."""
    facts = store.iter_facts(Filters(incident=incident_id, first_seen_since=since))
    rows, article_ids = ledger_rows(facts, rules)
    if since is None:
        store.put_ledger(incident_id, rows)
        slots = days = None
    else:
        if not article_ids:
            return {"claims": 0, "events": 0, "slots": 0, "days": 0}
        store.put_ledger(incident_id, rows, article_ids)
        slots = sorted({s for r in rows for s in r["slots"]})
        days = sorted({r["day"] for r in rows if r.get("day")})
    ledger = store.ledger(incident_id, slots, days)
    independence = Independence(ledger, store.article_briefs(sorted({r["article_id"] for r in ledger})))
    previous = {c["id"]: c for c in store.claims(incident_id)}
    claims = build_claims(incident_id, ledger, independence, set(slots) if slots is not None else None, previous)
    events = build_events(incident_id, ledger, independence, set(days) if days is not None else None)
    store.put_claims(incident_id, claims, slots)
    store.put_events(incident_id, events, days)
    return {"claims": len(claims), "events": len(events), "slots": len(slots) if slots is not None else None,
            "days": len(days) if days is not None else None}


# --- the claims table --------------------------------------------------------------------------------

def claims_table(claims: list[dict]) -> str:
    """Claims for the terminal: status, slot, value, outlets for/against, languages, first report, conflicts."""
    texts = {c["id"]: c["text"] for c in claims}
    lines = []
    for claim in claims:
        first = (claim.get("first_reported") or "")[:10]
        lines.append(f"{claim['status']:13}  {claim['slot']:20.20}  {claim['text']}")
        lines.append(f"{'':15}{claim['outlets']} for, {claim['against']} against · {'+'.join(claim['languages'])} · "
                     f"first {first} {claim['first_source']}  {claim['first_url']}")
        others = [texts.get(c, c) for c in claim["conflicts_with"]]
        if others:
            lines.append(f"{'':15}conflicts with: {'; '.join(others)}")
    return "\n".join(lines)
