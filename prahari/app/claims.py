"""The claim ledger: stored facts → slot claims (corroborated, single-source, disputed) and dated events.

`refresh` runs after every update (only the facts first seen in that run, merged into the running totals of
the slots and days they touch) and after reprocess (everything, from empty totals). Both give the same claims;
a run that would change stories already counted (a re-fetched article, an earlier copy of a stored story, a
wire rewrite published before its original) rebuilds everything instead. Both stores keep the same ledger rows,
totals, claims and events.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable, Optional

from index.query import Filters
from index.store import Store
from nlp.claim_values import value_key
from nlp.claims import ClaimRules, load_rules, read_fact
from nlp.crosslingual import REWRITE_WINDOW_HOURS, Signature, figure_key, story_links, wire_of
from prahari.app.claim_state import derive, merge_row
from prahari.incident import Incident
from prahari.model import Fact

WIRES = "wires"  # the state key of every wire-credited article's signature and story


def rules_for(incident: Optional[Incident]) -> ClaimRules:
    """The incident's claim rules: the default cyber set plus what its file adds under `claims:`."""
    return load_rules(getattr(incident, "claims", None))


def _utc(value: Optional[str]) -> Optional[datetime]:
    try:
        moment = datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
    if moment is None:
        return None
    return moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


UNDATED = 10 ** 12  # epoch seconds after any real date: undated reports sort last


def order_of(published: Optional[str], fact_id: str) -> str:
    """A sort key: earlier first (in UTC), undated last, ties by fact id."""
    moment = _utc(published)
    return f"{moment.isoformat() if moment else '~'} {fact_id}"


def epoch(published: Optional[str]) -> int:
    """Publication time as UTC epoch seconds (UNDATED when unknown)."""
    moment = _utc(published)
    return int(moment.timestamp()) if moment else UNDATED


# --- ledger rows -------------------------------------------------------------------------------------

def ledger_rows(facts: Iterable[Fact], rules: ClaimRules) -> tuple[list[dict], dict[str, tuple[set, set, set]]]:
    """One row per fact that fills a slot or names a day; and each article's signature (entities, figures, dates)."""
    rows: list[dict] = []
    signatures: dict[str, tuple[set, set, set]] = {}
    for fact in facts:
        entities, figures, dates = signatures.setdefault(fact.article_id, (set(), set(), set()))
        entities.update(e.id for e in fact.entities)
        figures.update(figure_key(f) for f in fact.figures)
        dates.update(d.date for d in fact.dates)
        stance, values = read_fact(fact, rules)
        if not values and not fact.dates:
            continue
        rows.append({
            "fact_id": fact.id, "article_id": fact.article_id, "url": fact.url, "source": fact.source,
            "language": fact.language, "published": fact.published, "sentence": fact.sentence,
            "stance": stance, "day": fact.dates[0].date if fact.dates else None,
            "entities": [e.id for e in fact.entities], "slots": sorted({v.slot for v in values}),
            "values": [{**v.__dict__, "key": value_key(v.__dict__)} for v in values],
            "order": order_of(fact.published, fact.id), "t": epoch(fact.published)})
    return rows, signatures


# --- stories: syndicated copies and wire rewrites count once -------------------------------------------

class Reshuffle(Exception):
    """New articles would change the story of articles already counted: rebuild everything."""


def _wire_entries(briefs: dict[str, dict], signatures: dict[str, tuple[set, set, set]]) -> list[dict]:
    out = []
    for article_id, (entities, figures, dates) in signatures.items():
        brief = briefs.get(article_id)
        wire = wire_of(brief.get("author")) if brief else None
        if wire:
            out.append({"id": article_id, "language": brief["language"], "source": brief["source"],
                        "published": brief.get("published"), "wire": wire, "entities": sorted(entities),
                        "figures": sorted(figures), "dates": sorted(dates), "story": brief.get("story_id") or article_id})
    return out


def _signature(entry: dict) -> Signature:
    return Signature(entry["id"], entry["language"], entry["source"], _utc(entry.get("published")),
                     frozenset(entry["entities"]), frozenset(entry["figures"]), frozenset(entry["dates"]), entry["wire"])


def clusters(new: list[dict], known: list[dict]) -> tuple[dict[str, str], list[dict]]:
    """article id -> the story it counts as, for wire-credited articles (the earliest linked copy's story),
    and the wire entries to keep. Raises Reshuffle when a known article's story would change."""
    window = REWRITE_WINDOW_HOURS * 3600
    new_times = [t for t in (_utc(e.get("published")) for e in new) if t]
    nearby = [e for e in known if (t := _utc(e.get("published"))) and new_times
              and min(abs((t - n).total_seconds()) for n in new_times) <= window]
    links = story_links([_signature(e) for e in nearby + new])
    entries = {e["id"]: e for e in known + new}
    new_ids = {e["id"] for e in new}
    story_of: dict[str, str] = {}
    for article_id, root in links.items():
        if root in new_ids and article_id not in new_ids:
            raise Reshuffle(f"{root} is an earlier copy of {article_id}")
        story_of[article_id] = entries[root]["cluster"] if "cluster" in entries[root] else entries[root]["story"]
    for entry in nearby:
        if story_of.get(entry["id"], entry.get("cluster", entry["story"])) != entry.get("cluster", entry["story"]):
            raise Reshuffle(f"{entry['id']} would join another story")
    for entry in new:
        entry["cluster"] = story_of.get(entry["id"], entry["story"])
    return {e["id"]: e["cluster"] for e in new}, known + new


# --- refresh -----------------------------------------------------------------------------------------

def refresh(store: Store, incident_id: str, rules: ClaimRules, since: Optional[str] = None) -> dict:
    """Rebuild the ledger, claims and events of an incident: everything, or what facts first seen since touch."""
    if since is None:
        return _rebuild(store, incident_id, rules)
    rows, signatures = ledger_rows(store.iter_facts(Filters(incident=incident_id, first_seen_since=since)), rules)
    if not signatures:
        return {"claims": 0, "events": 0, "slots": 0, "days": 0, "mode": "incremental"}
    article_ids = sorted(signatures)
    briefs = store.article_briefs(article_ids)
    try:
        if store.ledger(incident_id, article_ids=article_ids):
            raise Reshuffle("articles already counted were stored again")
        _check_new_stories(store, briefs)
        touched = {WIRES} | {f"slot:{v['slot']}" for r in rows for v in r["values"]} | \
            {f"day:{r['day']}" for r in rows if r.get("day")}
        state = store.state(incident_id, sorted(touched))
        story_of, wires = clusters(_wire_entries(briefs, signatures), (state.get(WIRES) or {}).get("articles", []))
    except Reshuffle as reason:
        return {**_rebuild(store, incident_id, rules), "reason": str(reason)}
    _annotate(rows, briefs, story_of)
    for row in rows:
        merge_row(state, row)
    state[WIRES] = {"articles": wires}
    return _save(store, incident_id, rows, article_ids, state, sorted(touched))


def _check_new_stories(store: Store, briefs: dict[str, dict]) -> None:
    """A new article that became the first copy of a story already stored moves that story's older copies."""
    roots = [a for a, b in briefs.items() if (b.get("story_id") or a) == a]
    for story, members in store.story_members(roots).items():
        if any(m["id"] not in briefs for m in members):
            raise Reshuffle(f"{story} is an earlier copy of a stored story")


def _annotate(rows: list[dict], briefs: dict[str, dict], story_of: dict[str, str]) -> None:
    """Each row gets the story it counts as and its article's headline."""
    for row in rows:
        brief = briefs.get(row["article_id"]) or {}
        row["cluster"] = story_of.get(row["article_id"]) or brief.get("story_id") or row["article_id"]
        row["title"] = brief.get("title")


def _rebuild(store: Store, incident_id: str, rules: ClaimRules) -> dict:
    rows, signatures = ledger_rows(store.iter_facts(Filters(incident=incident_id)), rules)
    briefs = store.article_briefs(sorted({r["article_id"] for r in rows} | set(signatures)))
    entries = _wire_entries(briefs, signatures)
    links = story_links([_signature(e) for e in entries])
    by_id = {e["id"]: e for e in entries}
    for entry in entries:
        entry["cluster"] = by_id[links[entry["id"]]]["story"] if entry["id"] in links else entry["story"]
    _annotate(rows, briefs, {e["id"]: e["cluster"] for e in entries})
    state: dict[str, dict] = {WIRES: {"articles": entries}}
    for row in rows:
        merge_row(state, row)
    return _save(store, incident_id, rows, None, state, None)


def _save(store: Store, incident_id: str, rows: list[dict], article_ids: Optional[list[str]],
          state: dict[str, dict], touched: Optional[list[str]]) -> dict:
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    # A rebuild starts from empty totals: when each claim was first built comes from the stored claims.
    previous = {c["id"]: c for c in store.claims(incident_id)} if touched is None else {}
    claims, events = derive(incident_id, state, touched, previous, now)
    keys = state if touched is None else touched
    slots = sorted(k.split(":", 1)[1] for k in keys if k.startswith("slot:"))
    days = sorted(k.split(":", 1)[1] for k in keys if k.startswith("day:"))
    store.put_ledger(incident_id, rows, article_ids)
    store.put_state(incident_id, {k: state[k] for k in keys if k in state}, replace=touched is None)
    store.put_claims(incident_id, claims, None if touched is None else slots)
    store.put_events(incident_id, events, None if touched is None else days)
    return {"claims": len(claims), "events": len(events), "slots": None if touched is None else len(slots),
            "days": None if touched is None else len(days), "mode": "rebuild" if touched is None else "incremental"}


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
