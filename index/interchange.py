"""Claims and events in other tools' formats: a STIX 2.1 bundle (OpenCTI, MISP) and Timesketch JSONL."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import IO, Any, Iterable

IST_OFFSET = "+05:30"  # an event day is an Indian calendar day
NAMESPACE = uuid.UUID("6f1f5c52-3c0e-4b8e-9a61-9d4bd0c2a7a1")  # Prahari's: same claim, same STIX id
IDENTITY_NAME = "Prahari"


def _stix_id(kind: str, key: str) -> str:
    return f"{kind}--{uuid.uuid5(NAMESPACE, key)}"


def _references(facts: list[dict]) -> list[dict]:
    """One external reference per source article (STIX keeps every link back to the evidence)."""
    seen, out = set(), []
    for fact in facts:
        if fact["url"] in seen:
            continue
        seen.add(fact["url"])
        out.append({"source_name": fact["source"], "url": fact["url"],
                    "description": f"{fact.get('stance', 'asserted')} ({fact['language']}): {fact['sentence'][:200]}"})
    return out


def _stix_time(value: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return datetime.now(timezone.utc)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def stix_bundle(what: str, records: Iterable[dict]) -> str:
    """A STIX 2.1 bundle: one report per incident, one note per claim or event (custom x_prahari_* fields)."""
    import stix2

    identity = stix2.Identity(id=_stix_id("identity", IDENTITY_NAME), name=IDENTITY_NAME, identity_class="system",
                              description="Prahari: bilingual incident news aggregator")
    notes_by_incident: dict[str, list] = {}
    for record in records:
        incident = record.get("incident") or "unknown"
        report_id = _stix_id("report", f"{what}:{incident}")
        if what == "claims":
            abstract = f"{record['slot']} = {record['text']} ({record['status']})"
            content = (f"{record['outlets']} independent outlet(s) for, {record['against']} against; languages "
                       f"{', '.join(record['languages'])}; first reported {record['first_reported']} by "
                       f"{record['first_source']}")
            custom = {"x_prahari_claim": {k: record.get(k) for k in (
                "id", "slot", "value", "unit", "low", "high", "status", "outlets", "against", "languages",
                "first_reported", "conflicts_with")}}
            facts = record["facts"]
        else:
            abstract = f"{record['date']}: {record.get('summary') or record.get('summary_hi') or ''}"
            content = (f"{record['outlets']} outlet(s), languages {', '.join(record['languages'])}; entities "
                       f"{', '.join(record['entities'])}; claims {', '.join(record['claims']) or 'none'}")
            custom = {"x_prahari_event": {k: record.get(k) for k in (
                "id", "date", "summary", "summary_hi", "entities", "claims", "outlets", "languages", "first_reported")}}
            facts = record.get("sentences") or []
        note = stix2.Note(id=_stix_id("note", f"{what}:{record['id']}"), abstract=abstract[:1000], content=content,
                          object_refs=[report_id], created_by_ref=identity.id,
                          external_references=_references(facts) or None, allow_custom=True, **custom)
        notes_by_incident.setdefault(incident, []).append(note)
    objects: list = [identity]
    for incident, notes in notes_by_incident.items():
        objects.append(stix2.Report(id=_stix_id("report", f"{what}:{incident}"), name=f"{incident}: {what}",
                                    published=datetime.now(timezone.utc), report_types=["threat-report"],
                                    object_refs=[n.id for n in notes], created_by_ref=identity.id))
        objects.extend(notes)
    return stix2.Bundle(objects=objects, allow_custom=True).serialize(pretty=True)


def timesketch_lines(what: str, records: Iterable[dict]) -> Iterable[dict]:
    """Timesketch JSONL rows: message, datetime, timestamp (µs), timestamp_desc, plus our own fields."""
    for record in records:
        if what == "events":
            when = datetime.fromisoformat(f"{record['date']}T00:00:00{IST_OFFSET}")
            message = record.get("summary") or record.get("summary_hi") or record["date"]
            desc = "Event date (named in the reports)"
        else:
            when = _stix_time(record["first_reported"])
            message = f"{record['slot']} = {record['text']} ({record['status']})"
            desc = "First reported"
        extra = {k: v for k, v in record.items() if k not in ("facts", "sentences")}
        yield {"message": message, "datetime": when.isoformat(), "timestamp": int(when.timestamp() * 1_000_000),
               "timestamp_desc": desc, **{f"prahari_{k}": v for k, v in extra.items()},
               "url": record.get("first_url")}


def write_interchange(what: str, fmt: str, records: Iterable[dict], out: IO) -> int:
    """Write claims or events as stix or timesketch to a text stream; return how many."""
    records = list(records)
    if fmt == "stix":
        out.write(stix_bundle(what, records) + "\n")
    else:
        for line in timesketch_lines(what, records):
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
    return len(records)
