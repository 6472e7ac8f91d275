"""The analyst's everyday questions from the command line, run as the installed command from another folder:
entities with dates and roles, --entity in any script, clear empty results, a closed pipe, sorted search."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.test_runs_anywhere import PRAHARI, run_prahari
from tests.test_store_contract import BACKENDS


def test_entities_list_first_and_last_mention_and_role(crawled, tmp_path):
    store, _ = crawled
    done = run_prahari("entities", "--type", "agency", "--format", "json", "--store", store, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = {r["id"]: r for r in json.loads(done.stdout)}
    assert {r["type"] for r in rows.values()} == {"AGENCY"}
    nia = rows["nia"]
    assert nia["name_hi"] == "राष्ट्रीय जांच एजेंसी" and nia["articles"] >= 2
    assert "2022-11-28" <= nia["first_mention"] <= nia["last_mention"]
    assert nia["role"] == "investigating"
    table = run_prahari("entities", "--store", store, cwd=tmp_path)
    assert table.returncode == 0 and table.stdout.splitlines()[0].split()[:4] == ["id", "type", "articles", "first"]
    assert any(line.startswith("aiims ") and "affected" in line for line in table.stdout.splitlines())


def test_entity_filter_takes_names_and_aliases_in_either_script(crawled, tmp_path):
    store, _ = crawled

    def ids(entity: str) -> list[str]:
        done = run_prahari("search", "ransom OR फिरौती", "--entity", entity, "--format", "json", "--limit", "50",
                           "--store", store, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        return sorted(a["id"] for a in json.loads(done.stdout))

    by_id = ids("nia")
    assert by_id, "the sample reports a ransom next to the NIA"
    for spelling in ("NIA", "एनआईए", "national investigation agency", "राष्ट्रीय जांच एजेंसी"):
        assert ids(spelling) == by_id, spelling


def test_unknown_entity_is_an_error_with_the_closest_ids(crawled, tmp_path):
    store, _ = crawled
    done = run_prahari("timeline", "--entity", "nai", "--store", store, cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip() == ("prahari: error: unknown entity 'nai'; closest: nic, nia "
                                   "(prahari entities lists every id)")


def test_empty_results_say_so(crawled, tmp_path):
    store, _ = crawled
    late = run_prahari("timeline", "--since", "2030-01-01", "--store", store, cwd=tmp_path)
    assert late.returncode == 0 and late.stdout == ""
    assert "no reports match these filters" in late.stderr
    nothing = run_prahari("search", "restored", "--lang", "hi", "--store", store, cwd=tmp_path)
    assert nothing.returncode == 0 and "no articles match" in nothing.stderr and "glossary" in nothing.stderr


def test_search_says_its_order_and_sorts_by_time(crawled, tmp_path):
    store, _ = crawled
    best = run_prahari("search", "ransom OR फिरौती", "--format", "json", "--store", store, cwd=tmp_path)
    by_time = run_prahari("search", "ransom OR फिरौती", "--sort", "time", "--format", "json", "--store", store,
                          cwd=tmp_path)
    assert "best match first" in best.stderr and "oldest first" in by_time.stderr
    found, ordered = json.loads(best.stdout), json.loads(by_time.stdout)
    assert sorted(a["id"] for a in found) == sorted(a["id"] for a in ordered)
    assert [a["published"] for a in ordered] == sorted(a["published"] for a in ordered)
    assert [a["id"] for a in found] != [a["id"] for a in ordered], "relevance is not time order on this sample"


def test_a_closed_pipe_ends_quietly(crawled, tmp_path):
    store, _ = crawled
    process = subprocess.Popen([PRAHARI, "export", "--what", "facts", "--store", store], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    process.stdout.close()  # `| head -0`: the reader is gone before the first line
    stderr = process.communicate(timeout=120)[1]
    assert process.returncode == 0
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr


def test_spreadsheets_open_ready_to_use(crawled, tmp_path):
    import datetime

    from openpyxl import load_workbook

    store, _ = crawled
    for what in ("articles", "facts", "figures"):
        done = run_prahari("export", "--what", what, "--format", "xlsx", "--out", f"{what}.xlsx", "--store", store,
                           cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    facts_csv = run_prahari("export", "--what", "facts", "--format", "csv", "--store", store, cwd=tmp_path).stdout
    assert facts_csv.splitlines()[0].split(",")[9] == "entities", "CSV stays the plain schema"

    figures = load_workbook(tmp_path / "figures.xlsx").active
    header = [c.value for c in figures[1]]
    assert figures.freeze_panes == "A2" and all(c.font.b for c in figures[1])
    assert figures.auto_filter.ref == f"A1:{figures.cell(1, len(header)).column_letter}{figures.max_row}"
    assert figures.column_dimensions["L"].width == 60  # the sentence
    rows = [dict(zip(header, cells)) for cells in figures.iter_rows(min_row=2)]
    facts_json = run_prahari("export", "--what", "facts", "--store", store, cwd=tmp_path).stdout.splitlines()
    assert len(rows) == sum(len(json.loads(line)["figures"]) for line in facts_json), "one row per figure"
    servers = next(r for r in rows if r["figure"].value == "20 of 50 servers")
    assert servers["value"].value == 20 and servers["of"].value == 50 and servers["title"].value
    assert isinstance(servers["published"].value, datetime.datetime) and servers["published"].is_date
    assert servers["published"].number_format.endswith('"IST"')
    assert servers["url"].hyperlink.target == servers["url"].value.strip("'")

    facts = load_workbook(tmp_path / "facts.xlsx").active
    header = [c.value for c in facts[1]]
    assert {"agencies", "organisations", "people", "places"} <= set(header) and "entities" not in header
    rows = [dict(zip(header, cells)) for cells in facts.iter_rows(min_row=2, values_only=True)]
    assert any("National Investigation Agency" in (r["agencies"] or "") for r in rows)
    assert any("₹200 crore" in (r["figures"] or "") for r in rows)
    assert not any(str(r["figures"] or "").startswith("[") for r in rows), "figures read as text, not JSON"


@pytest.mark.parametrize("backend", BACKENDS)
def test_workspace_survives_reprocess_and_reindex_and_shows_in_exports_and_digest(backend, site, tmp_path, capsys):
    from index.query import Filters
    from index.store import open_store
    from index.workspace import annotate, save_search, starred_article_ids
    from prahari.app.entities import entity_summary
    from prahari.app.cli import main
    from tests.conftest import write_incident
    from tests.test_store_contract import fresh_store

    incident = write_incident(site, tmp_path)
    url = fresh_store(backend, tmp_path)
    assert main(["update", "--incident", str(incident), "--store", url]) == 0
    store = open_store(url)
    article = next(a for a in store.iter_articles(Filters(entity=["nia"])))
    fact = store.facts_for([article.id])[article.id][0]
    other = next(a for a in store.iter_articles(Filters()) if a.id != article.id)
    annotate(store, "article", article.id, True, ["key report", " ransom ", "ransom"], "NIA joins the probe")
    annotate(store, "fact", fact.id, True, [], "the first NIA mention", article_id=article.id)
    annotate(store, "article", other.id, False, ["noise"], "")
    annotate(store, "article", other.id, False, [], "")  # everything cleared: the note goes
    save_search(store, "ransom both", "q=ransom+OR+%E0%A4%AB%E0%A4%BF%E0%A4%B0%E0%A5%8C%E0%A4%A4%E0%A5%80")
    page = store.get_page(article.canonical_url)
    entities = {r["id"]: r for r in entity_summary(store, Filters())}  # the same on both backends
    store.close()
    assert entities["nia"]["role"] == "investigating" and entities["nia"]["first_mention"] == "2022-11-28"
    assert entities["aiims"]["articles"] == max(r["articles"] for r in entities.values())
    assert page is not None and article.title.split()[0].encode() in page.body, "the evidence behind the report"

    assert main(["reprocess", "--incident", str(incident), "--store", url]) == 0
    copy = fresh_store(backend, tmp_path)
    assert main(["reindex", "--from", url, "--to", copy]) == 0
    for where in (url, copy):
        store = open_store(where, create=False)
        notes = store.workspace("article")
        assert notes[article.id]["tags"] == ["key report", "ransom"] and other.id not in notes
        assert store.workspace("fact", [fact.id])[fact.id]["note"] == "the first NIA mention"
        assert list(store.workspace("search")) == ["ransom both"]
        assert starred_article_ids(store) == {article.id}
        store.close()

    capsys.readouterr()
    assert main(["export", "--what", "notes", "--store", copy]) == 0
    rows = {r["id"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert set(rows) == {article.id, fact.id}
    assert rows[article.id] | {"updated": None} == {
        "kind": "article", "id": article.id, "article_id": article.id, "starred": True,
        "tags": ["key report", "ransom"], "note": "NIA joins the probe", "updated": None, "text": article.title,
        "title": article.title, "source": article.source, "language": article.language,
        "published": article.published, "url": article.url}
    assert rows[fact.id]["text"] == fact.sentence and rows[fact.id]["article_id"] == article.id
    assert main(["export", "--what", "notes", "--lang", "en" if article.language == "hi" else "hi",
                 "--store", copy]) == 0
    assert capsys.readouterr().out == "", "notes follow the filters"
    assert main(["digest", "--since", "2000-01-01", "--store", copy]) == 0
    digest = capsys.readouterr().out
    notes = digest.split("## Analyst notes", 1)[1]
    assert "★ article \\[key report, ransom\\]: NIA joins the probe" in notes and "★ fact: the first NIA mention" in notes
