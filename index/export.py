"""Export articles and facts as JSON Lines, JSON, CSV or XLSX (formula cells neutralised)."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import IO, Any, Iterable, Iterator, Optional

from index.store import batched

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Prefix a quote to text a spreadsheet would run as a formula (=, +, -, @)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


CELL_LIMIT = 32_767  # characters in one Excel cell
# Characters a spreadsheet cell cannot hold (openpyxl refuses them; Excel cannot open the file).
_NOT_IN_CELLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def flat_row(record: dict[str, Any], spreadsheet: bool = False) -> dict[str, Any]:
    """One row: nested lists become JSON text, every text cell is neutralised (and cleaned for XLSX)."""
    row = {}
    for key, value in record.items():
        if isinstance(value, (list, dict)):
            value = json.dumps(value, ensure_ascii=False)
        if spreadsheet and isinstance(value, str):
            value = _NOT_IN_CELLS.sub("\ufffd", value)
            if len(value) > CELL_LIMIT:  # Excel refuses longer cells (a claim's every source, as JSON)
                value = value[:CELL_LIMIT - 40] + " … (cut: export as jsonl for all of it)"
        row[key] = neutralise(value)
    return row


ENTITY_COLUMNS = {"AGENCY": "agencies", "ORG": "organisations", "PERSON": "people", "PLACE": "places"}
URL_FIELDS = ("url", "canonical_url", "first_url")
TIME_FIELDS = ("published", "fetched", "first_seen", "event_date", "date", "first_reported", "first_mention",
               "last_mention", "updated")


def spreadsheet_columns(fields: tuple[str, ...]) -> list[str]:
    """An export's columns in a spreadsheet: entities become one column per entity type."""
    columns: list[str] = []
    for name in fields:
        columns += list(ENTITY_COLUMNS.values()) if name == "entities" else [name]
    return columns


def _flat_list(name: str, items: list) -> Any:
    """A list cell as readable text: figures as they read, dates with their words; anything else as JSON."""
    from nlp.claim_values import value_text

    if name == "figures" and all(isinstance(f, dict) for f in items):
        return "; ".join(value_text("", f) for f in items)
    if name == "dates" and all(isinstance(d, dict) for d in items):
        return "; ".join(f"{d.get('date')} ({d.get('text')})" for d in items)
    if all(isinstance(item, str) for item in items):
        return "; ".join(items)
    return json.dumps(items, ensure_ascii=False)


def _entity(entity: Any) -> dict:
    """An entity as a dict with type and name (events name entities by id alone)."""
    if isinstance(entity, dict):
        return entity
    from nlp.lexicon import entity_entries

    known = next((e for e in entity_entries() if e["id"] == entity), None)
    return {"id": entity, "type": known["type"] if known else "ORG", "name": known["name"] if known else entity}


def spreadsheet_cells(record: dict[str, Any]) -> dict[str, Any]:
    """One XLSX row: entity names by type, flattened lists, times as real dates in the display zone."""
    from prahari.times import local

    row: dict[str, Any] = {}
    for name, value in record.items():
        if name == "entities" and isinstance(value, list):
            value = [_entity(e) for e in value]
            for kind, column in ENTITY_COLUMNS.items():
                row[column] = "; ".join(dict.fromkeys(e.get("name") or e.get("id") for e in value
                                                      if e.get("type") == kind)) or None
            continue
        if isinstance(value, list):
            value = _flat_list(name, value) if value else None
        elif isinstance(value, dict):
            value = json.dumps(value, ensure_ascii=False)
        elif name in TIME_FIELDS and isinstance(value, str):
            moment = local(value)
            value = moment.replace(tzinfo=None) if hasattr(moment, "tzinfo") and moment else (moment or value)
        row[name] = value
    return flat_row(row, spreadsheet=True)


def _write_xlsx(records: Iterable[dict[str, Any]], out: IO, fields: tuple[str, ...]) -> int:
    """A spreadsheet an analyst can use as it is: bold frozen header, autofilter, widths, dates, live links."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    from prahari.times import zone_label

    columns = spreadsheet_columns(fields)
    moment_format = f'yyyy-mm-dd hh:mm "{zone_label()}"'
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("export")
    sheet.freeze_panes = "A2"
    for index, name in enumerate(columns, 1):
        wide = 60 if name in ("text", "sentence", "title", "summary", "summary_hi", "facts") else 14 if name in (
            "kind", "unit", "language", "qualifier", "stance", "status", "value", "low", "high", "of") else 24
        sheet.column_dimensions[get_column_letter(index)].width = wide
    header = []
    for name in columns:
        cell = WriteOnlyCell(sheet, name)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    count = 0
    for record in records:
        row = spreadsheet_cells(record)
        cells = []
        for name in columns:
            value = row.get(name)
            cell = WriteOnlyCell(sheet, value)
            if name in URL_FIELDS and isinstance(value, str) and value.startswith(("http://", "https://")):
                cell.hyperlink = value
                cell.style = "Hyperlink"
            elif hasattr(value, "hour"):
                cell.number_format = moment_format
            elif hasattr(value, "year"):
                cell.number_format = "yyyy-mm-dd"
            cells.append(cell)
        sheet.append(cells)
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{count + 1}"
    workbook.save(out)
    return count


def write_records(records: Iterable[dict[str, Any]], fmt: str, out: IO, fields: tuple[str, ...]) -> int:
    """Write records to a text stream (jsonl, json, csv) or a binary stream (xlsx); return how many."""
    count = 0
    if fmt == "jsonl":
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    elif fmt == "json":
        out.write("[")
        for record in records:
            out.write((",\n" if count else "\n") + json.dumps(record, ensure_ascii=False))
            count += 1
        out.write("\n]\n")
    elif fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=list(fields), extrasaction="ignore")
        writer.writeheader()
        for record in records:
            writer.writerow(flat_row(record))
            count += 1
    elif fmt == "xlsx":
        count = _write_xlsx(records, out, fields)
    else:
        raise ValueError(f"unknown export format {fmt!r}")
    return count


def export_bytes(records: Iterable[dict[str, Any]], fmt: str, fields: tuple[str, ...]) -> bytes:
    """The whole export in memory (for downloads)."""
    if fmt == "xlsx":
        buffer = io.BytesIO()
        write_records(records, fmt, buffer, fields)
        return buffer.getvalue()
    text = io.StringIO()
    write_records(records, fmt, text, fields)
    return text.getvalue().encode("utf-8")


FIGURE_FIELDS = ("fact_id", "article_id", "figure", "kind", "value", "low", "high", "of", "unit", "qualifier", "text",
                 "sentence", "event_date", "published", "title", "language", "source", "url", "stance")


def _stance(fact) -> str:
    """asserted, attributed or denied, read when exported (the crawl's NLP workers need not spend time on it)."""
    from nlp.claims import load_rules, stance_of

    return stance_of(fact.sentence, fact.language, load_rules())


def figure_rows(store, filters=None, facts: Optional[Iterable] = None) -> Iterator[dict[str, Any]]:
    """One row per figure: how it reads ("20 of 50 servers"), its raw value, sentence, headline, source and link
    (of the facts in the filters, or of the facts given)."""
    from nlp.claim_values import figure_text

    for facts in batched(store.iter_facts(filters) if facts is None else facts, 500):
        titles = store.article_briefs(sorted({f.article_id for f in facts if f.figures}))
        for fact in facts:
            for figure in fact.figures:
                yield {"fact_id": fact.id, "article_id": fact.article_id, "figure": figure_text(figure),
                       "kind": figure.kind, "value": figure.value, "low": figure.low, "high": figure.high,
                       "of": figure.of, "unit": figure.unit, "qualifier": figure.qualifier, "text": figure.text,
                       "sentence": fact.sentence, "event_date": fact.event_date, "published": fact.published,
                       "title": (titles.get(fact.article_id) or {}).get("title"), "language": fact.language,
                       "source": fact.source, "url": fact.url, "stance": _stance(fact)}


def fact_records(store, facts: Iterable, incident: Optional[str]) -> Iterator[dict[str, Any]]:
    """Exported facts: each with its stance and the claims it backs or opposes (of one incident, or all)."""
    from index.ledger import claim_ids_by_fact
    from prahari.model import fact_to_record

    claims_of = claim_ids_by_fact(store, incident)
    return ({**fact_to_record(f), "stance": _stance(f), "claim_ids": claims_of.get(f.id, [])} for f in facts)


def records_for_articles(store, what: str, article_ids: list[str]) -> tuple[Iterator[dict[str, Any]], tuple[str, ...]]:
    """The records of `export --what articles|facts|figures` for these articles (what a search found)."""
    from prahari.model import FACT_EXPORT_FIELDS, Article

    def facts():
        for batch in batched(article_ids, 500):
            for group in store.facts_for(batch).values():
                yield from group

    if what == "facts":
        return fact_records(store, facts(), None), FACT_EXPORT_FIELDS
    if what == "figures":
        return figure_rows(store, facts=facts()), FIGURE_FIELDS
    if what != "articles":
        raise ValueError(f"a search exports articles, facts or figures, not {what}")

    def articles():
        for article_id in article_ids:  # a search's articles: at most a thousand
            article = store.get_article(article_id)
            if article is not None:
                yield article.to_record()

    return articles(), Article.EXPORT_FIELDS


def records_for(store, what: str, filters) -> tuple[Iterator[dict[str, Any]], tuple[str, ...]]:
    """The records and columns of `export --what WHAT` for these filters (the CLI and the dashboard share it)."""
    from index.ledger import CLAIM_FIELDS, EVENT_FIELDS, read_claims, read_events
    from index.workspace import NOTE_FIELDS, note_rows
    from prahari.model import FACT_EXPORT_FIELDS, Article

    if what == "facts":
        return fact_records(store, store.iter_facts(filters), filters.incident), FACT_EXPORT_FIELDS
    if what == "figures":
        return figure_rows(store, filters), FIGURE_FIELDS
    if what == "claims":
        return (c for c in read_claims(store, filters)), CLAIM_FIELDS
    if what == "events":
        return (e for e in read_events(store, filters)), EVENT_FIELDS
    if what == "notes":
        return note_rows(store, filters), NOTE_FIELDS
    return (a.to_record() for a in store.iter_articles(filters)), Article.EXPORT_FIELDS
