"""The CLI contract: --help everywhere, exit codes, search, timeline and every export format."""

from __future__ import annotations

import csv
import io
import json
import re

import openpyxl
import pytest

from index.export import spreadsheet_columns
from prahari.app.cli import build_parser, main
from prahari.model import FACT_EXPORT_FIELDS, Article
from tests.conftest import export_records

COMMANDS = ["update", "reprocess", "extract", "search", "timeline", "export", "demo"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: prahari " + command in capsys.readouterr().out


def test_bad_arguments_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["search", "ransom", "--since", "last-week"])
    assert exit_info.value.code == 2
    assert "not a YYYY-MM-DD date" in capsys.readouterr().err


def test_search_finds_both_languages_with_boolean_query(crawled, capsys):
    store, _ = crawled
    capsys.readouterr()
    assert main(["search", "फिरौती OR ransom", "--store", store, "--format", "json", "--limit", "50"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert {r["language"] for r in results} == {"hi", "en"}
    assert all("फिरौती" in r["title"] + r["text"] or "ransom" in (r["title"] + r["text"]).lower() for r in results)
    assert set(results[0]) == set(Article.EXPORT_FIELDS)


@pytest.mark.parametrize("query, expect_any, languages", [
    ('"200 crore"', ("200 crore", "200 करोड़", "२०० करोड़"), {"hi", "en"}),  # crore = करोड़; digits folded
    ("दिल्ली", ("दिल्ली",), {"hi"}),
    ("hack*", ("hack",), {"en"}),  # a prefix search is not widened
    ("करोड़", ("करोड़", "crore"), {"hi", "en"}),
])
def test_search_phrase_prefix_and_devanagari_words(crawled, capsys, query, expect_any, languages):
    store, _ = crawled
    capsys.readouterr()
    assert main(["search", query, "--store", store, "--format", "json", "--limit", "100"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert {r["language"] for r in results} == languages
    assert all(any(e.lower() in (r["title"] + " " + r["text"]).lower() for e in expect_any) for r in results)


def test_search_not_and_filters(crawled, capsys):
    store, _ = crawled
    capsys.readouterr()
    assert main(["search", "AIIMS NOT ransom", "--lang", "en", "--since", "2022-12-01", "--store", store,
                 "--format", "json", "--limit", "100"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert results
    for r in results:
        assert r["language"] == "en" and r["published"][:10] >= "2022-12-01"
        assert not re.search(r"\bransom\b", (r["title"] + r["text"]).lower())


def test_devanagari_word_does_not_match_its_fragments(crawled, capsys):
    """With the default tokenizer दिल्ली splits into द, ल, ल and 'सर' would match everything."""
    store, _ = crawled
    capsys.readouterr()
    main(["search", "सर", "--store", store, "--format", "json"])
    assert json.loads(capsys.readouterr().out) == []


def test_timeline_table_and_json(crawled, capsys):
    store, _ = crawled
    capsys.readouterr()
    assert main(["timeline", "--store", store]) == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0].startswith("2022-11-23")
    assert main(["timeline", "--store", store, "--format", "json"]) == 0
    buckets = json.loads(capsys.readouterr().out)["buckets"]
    assert sum(b["count"] for b in buckets) == len(export_records(store, capsys))


def test_csv_and_xlsx_exports_neutralise_formulas(crawled, tmp_path, capsys):
    store, _ = crawled
    path = store[len("sqlite:///"):]
    from index.sqlite import sqlite3  # the store's own SQLite: two libraries in one process miss each other's locks
    db = sqlite3.connect(path)
    original = db.execute("SELECT id, title FROM articles WHERE relevant=1 LIMIT 1").fetchone()
    db.execute("UPDATE articles SET title='=HYPERLINK(\"http://evil\")' WHERE id=?", (original[0],))
    db.commit()
    try:
        capsys.readouterr()
        assert main(["export", "--format", "csv", "--store", store]) == 0
        rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
        xlsx = tmp_path / "a.xlsx"
        assert main(["export", "--format", "xlsx", "--out", str(xlsx), "--store", store]) == 0
    finally:
        db.execute("UPDATE articles SET title=? WHERE id=?", (original[1], original[0]))
        db.commit()
        db.close()
    evil = next(r for r in rows if r["id"] == original[0])
    assert evil["title"].startswith("'=")
    sheet = openpyxl.load_workbook(xlsx).active
    header = [c.value for c in sheet[1]]
    assert header == spreadsheet_columns(Article.EXPORT_FIELDS)  # entities: one column per type
    titles = [row[header.index("title")] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert "'=HYPERLINK(\"http://evil\")" in titles and len(titles) == len(rows)
    assert not any(isinstance(t, str) and t.startswith("=") for t in titles)


def test_json_export_and_facts_export(crawled, capsys):
    store, _ = crawled
    capsys.readouterr()
    assert main(["export", "--format", "json", "--store", store]) == 0
    records = json.loads(capsys.readouterr().out)
    assert len(records) == len(export_records(store, capsys))
    assert main(["export", "--what", "facts", "--format", "jsonl", "--store", store]) == 0
    facts = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert all(set(f) == set(FACT_EXPORT_FIELDS) for f in facts)


def test_extract_one_file(tmp_path, capsys):
    page = tmp_path / "page.html"
    page.write_text("<html><head><script type='application/ld+json'>{\"@type\": \"NewsArticle\", \"headline\": "
                    "\"एम्स सर्वर हैक\", \"datePublished\": \"2022-11-30T14:37:00+05:30\", \"author\": {\"name\": "
                    "\"राहुल शर्मा\"}}</script></head><body><article><p>एम्स का सर्वर आठ दिन से ठप है और जांच "
                    "जारी है। दिल्ली पुलिस मामले की जांच कर रही है।</p></article></body></html>", encoding="utf-8")
    assert main(["extract", str(page), "--format", "json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["title"] == "एम्स सर्वर हैक" and record["author"] == "राहुल शर्मा"
    assert record["published"] == "2022-11-30T14:37:00+05:30" and record["language"] == "hi"
    assert main(["extract", str(tmp_path / "missing.html")]) == 2


def test_reprocess_rebuilds_from_raw_pages(crawled, capsys):
    store, _ = crawled
    before = export_records(store, capsys, "--include-irrelevant")
    assert main(["reprocess", "--store", store]) == 0
    after = export_records(store, capsys, "--include-irrelevant")
    strip = lambda rs: sorted((r["id"], r["title"], r["story_id"], r["relevant"], r["published"]) for r in rs)  # noqa: E731
    assert strip(before) == strip(after)


def test_demo_runs_headless(tmp_path, capsys):
    assert main(["demo", "--no-dashboard", "--site-port", "18631", "--store", f"sqlite:///{tmp_path}/demo.db"]) == 0
    assert "47 stored" in capsys.readouterr().out
