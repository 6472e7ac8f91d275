"""Export articles and facts as JSON Lines, JSON, CSV or XLSX (formula cells neutralised)."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import IO, Any, Iterable, Iterator

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Prefix a quote to text a spreadsheet would run as a formula (=, +, -, @)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


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
        row[key] = neutralise(value)
    return row


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
        from openpyxl import Workbook
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("export")
        sheet.append(list(fields))
        for record in records:
            row = flat_row(record, spreadsheet=True)
            sheet.append([row.get(name) for name in fields])
            count += 1
        workbook.save(out)
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


def records_for(store, what: str, filters) -> tuple[Iterator[dict[str, Any]], tuple[str, ...]]:
    """The records and columns of `export --what WHAT` for these filters (the CLI and the dashboard share it)."""
    from prahari.model import FACT_EXPORT_FIELDS, Article, fact_to_record

    if what == "facts":
        return (fact_to_record(f) for f in store.iter_facts(filters)), FACT_EXPORT_FIELDS
    return (a.to_record() for a in store.iter_articles(filters)), Article.EXPORT_FIELDS
