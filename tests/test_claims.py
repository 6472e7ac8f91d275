"""The claim ledger on the sample corpus: exact claims, statuses, outlets and conflicts; exports; incremental
rebuilds; incident-file slots; cross-lingual linking quality; the claims command from another folder."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
import stix2
from openpyxl import load_workbook

from index.store import open_store
from nlp.claims import SlotValue, load_rules, stance_of
from index.ledger import read_claims
from index.query import Scope
from nlp.claim_values import compatible, value_text
from prahari.app.cli import main
from prahari.app.claims import refresh
from tests.benchmarks.claims import incremental
from tests.benchmarks.crosslingual import measure
from tests.conftest import write_incident
from tests.test_runs_anywhere import run_prahari


def cli_json(capsys, *args: str):
    capsys.readouterr()
    assert main(list(args)) == 0
    return json.loads(capsys.readouterr().out)


def by_slot(claims: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for claim in claims:
        out.setdefault(claim["slot"], []).append(claim)
    return out


@pytest.fixture(scope="module")
def claims(crawled):
    store, _incident = crawled
    db = open_store(store)
    try:
        return by_slot(read_claims(db, Scope()))
    finally:
        db.close()


def test_the_ransom_claim_is_asserted_and_denied_in_both_languages(claims):
    [ransom] = claims["ransom_demand"]
    assert (ransom["value"], ransom["unit"], ransom["text"]) == (2_000_000_000, "INR", "₹200 crore")
    assert ransom["status"] == "disputed"
    assert (ransom["outlets"], ransom["against"], ransom["languages"]) == (2, 2, ["en", "hi"])
    stances = {(f["language"], f["stance"]) for f in ransom["facts"]}
    assert {("en", "attributed"), ("hi", "attributed"), ("en", "denied"), ("hi", "denied")} <= stances
    assert not any(f["stance"] == "asserted" for f in ransom["facts"])  # every report of it cites sources
    assert ransom["first_url"].endswith("/news/hackers-demand-200-crore-crypto")
    assert ransom["first_reported"] == "2022-11-28T13:15:00+05:30"


def test_the_server_counts_conflict_across_outlets(claims):
    servers = {c["text"]: c for c in claims["servers_affected"]}
    assert set(servers) == {"5 servers", "20 of 50 servers", "25 of 50 servers"}
    for text, claim in servers.items():
        assert claim["status"] == "disputed"
        others = {c["id"] for t, c in servers.items() if t != text}
        assert set(claim["conflicts_with"]) == others
    assert servers["5 servers"]["outlets"] == 2 and servers["5 servers"]["languages"] == ["en", "hi"]
    assert servers["25 of 50 servers"]["facts"][0]["stance"] == "attributed"  # "according to sources"


def test_a_syndicated_copy_and_a_hindi_wire_rewrite_do_not_inflate_corroboration(claims):
    [joined] = [c for c in claims["action:nia"] if c["value"] == "joined the probe"]
    assert len({f["source"] for f in joined["facts"]}) == 3  # chronicle, its metro copy, the Hindi rewrite
    assert joined["languages"] == ["en", "hi"]
    assert (joined["outlets"], joined["status"]) == (1, "single-source")
    [seven] = [c for c in claims["downtime"] if c["value"] == 7]
    assert (seven["outlets"], seven["status"], seven["languages"]) == (1, "single-source", ["en", "hi"])


def test_corroborated_claims_and_a_range_that_holds_the_value(claims):
    [encrypted] = claims["data_encrypted"]
    assert (encrypted["text"], encrypted["status"], encrypted["outlets"]) == ("about 1.3 TB", "corroborated", 2)
    assert any("1-2" in f["sentence"] for f in encrypted["facts"])  # police's earlier 1-2 TB fits 1.3 TB
    [china] = claims["attribution"]
    assert (china["value"], china["status"], china["languages"]) == ("China", "corroborated", ["en", "hi"])
    [case] = [c for c in claims["action:ifso"] if c["value"] == "registered a case"]
    assert (case["status"], case["outlets"], case["languages"]) == ("corroborated", 2, ["en", "hi"])
    [suspended] = claims["suspended"]
    assert (suspended["text"], suspended["status"]) == ("2 people", "corroborated")
    statuses = {c["status"] for group in claims.values() for c in group}
    assert statuses == {"corroborated", "single-source", "disputed"}


def test_claims_command_filters_and_table(crawled, capsys):
    store, _incident = crawled
    disputed = cli_json(capsys, "claims", "--status", "disputed", "--format", "json", "--store", store)
    assert disputed and {c["status"] for c in disputed} == {"disputed"}
    assert disputed[0]["slot"] == "ransom_demand"  # disputed first, then by slot
    nia = cli_json(capsys, "claims", "--slot", "action:nia", "--format", "json", "--store", store)
    assert [c["text"] for c in nia] == ["National Investigation Agency: joined the probe"]
    hindi = cli_json(capsys, "claims", "--lang", "hi", "--format", "json", "--store", store)
    assert hindi and all(any(f["language"] == "hi" for f in c["facts"]) for c in hindi)
    assert main(["claims", "--status", "disputed", "--store", store]) == 0
    table = capsys.readouterr().out
    assert "ransom_demand" in table and "conflicts with: " in table and "2 for, 2 against" in table


def test_exports_of_claims_events_facts_and_figures(crawled, capsys, tmp_path):
    store, _incident = crawled
    capsys.readouterr()
    assert main(["export", "--what", "claims", "--format", "jsonl", "--store", store]) == 0
    claims = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    contract = {"id", "incident", "slot", "value", "unit", "low", "high", "text", "status", "outlets", "against",
                "languages", "first_reported", "first_source", "first_url", "conflicts_with", "facts"}
    assert claims and all(contract <= set(c) for c in claims)
    assert all({"fact_id", "article_id", "url", "source", "language", "published", "sentence", "stance"} <= set(f)
               for c in claims for f in c["facts"])

    events = cli_json(capsys, "export", "--what", "events", "--format", "json", "--store", store)
    by_day = {e["date"]: e for e in events}
    assert {"id", "incident", "date", "summary", "summary_hi", "entities", "claims", "outlets", "languages",
            "first_reported", "articles"} <= set(events[0])
    case = by_day["2022-11-25"]
    assert {"ifso", "delhi-police"} <= set(case["entities"]) and case["languages"] == ["en", "hi"]
    registered = next(c["id"] for c in claims if c["slot"] == "action:ifso" and c["value"] == "registered a case")
    assert registered in case["claims"]
    assert by_day["2022-11-28"]["summary"] and by_day["2022-11-28"]["summary_hi"]

    facts = [json.loads(line) for line in _export(capsys, store, "facts", "jsonl").splitlines()]
    assert {"stance", "claim_ids"} <= set(facts[0])
    assert any(f["stance"] == "denied" and f["claim_ids"] for f in facts)
    figures = list(csv.DictReader(io.StringIO(_export(capsys, store, "figures", "csv"))))
    assert any(r["text"].startswith("20 of the 50") and r["of"] == "50.0" and r["url"] for r in figures)

    rows = list(csv.DictReader(io.StringIO(_export(capsys, store, "claims", "csv"))))
    assert len(rows) == len(claims) and json.loads(rows[0]["facts"])
    assert main(["export", "--what", "events", "--format", "xlsx", "--out", str(tmp_path / "e.xlsx"),
                 "--store", store]) == 0
    sheet = load_workbook(tmp_path / "e.xlsx").active
    assert [c.value for c in sheet[1]][:3] == ["id", "incident", "date"] and sheet.max_row == len(events) + 1

    bundle = stix2.parse(_export(capsys, store, "claims", "stix"), allow_custom=True)
    notes = [o for o in bundle.objects if o.type == "note"]
    reports = [o for o in bundle.objects if o.type == "report"]
    assert len(notes) == len(claims) and len(reports) == 1 and set(reports[0].object_refs) == {n.id for n in notes}
    ransom = next(n for n in notes if n.x_prahari_claim["slot"] == "ransom_demand")
    assert ransom.x_prahari_claim["status"] == "disputed"
    assert {r.url for r in ransom.external_references} == {f["url"] for c in claims if c["slot"] == "ransom_demand"
                                                           for f in c["facts"]}
    lines = [json.loads(line) for line in _export(capsys, store, "events", "timesketch").splitlines()]
    assert len(lines) == len(events)
    first = lines[0]
    assert {"message", "datetime", "timestamp", "timestamp_desc"} <= set(first)
    assert first["datetime"].startswith(events[0]["date"]) and first["prahari_id"] == events[0]["id"]
    assert main(["export", "--what", "articles", "--format", "stix", "--store", store]) == 2
    assert "for --what claims or --what events" in capsys.readouterr().err


def _export(capsys, store: str, what: str, fmt: str) -> str:
    capsys.readouterr()
    assert main(["export", "--what", what, "--format", fmt, "--store", store]) == 0
    return capsys.readouterr().out


def _snapshot(store: str) -> list[tuple]:
    db = open_store(store)
    try:
        claims = [(c["id"], c["status"], c["outlets"], c["against"], tuple(c["languages"]),
                   tuple(c["for_facts"]), tuple(c["against_facts"])) for c in db.claims()]
        events = [(e["id"], e["date"], e["outlets"], tuple(e["articles"]), tuple(e["facts"])) for e in db.events()]
    finally:
        db.close()
    return sorted(claims) + sorted(events)


def test_incremental_updates_give_what_a_full_rebuild_gives(site, tmp_path):
    incident = write_incident(site, tmp_path)
    store = f"sqlite:///{tmp_path}/inc.db"
    assert main(["update", "--incident", str(incident), "--store", store, "--max-pages", "20"]) == 0
    partial = _snapshot(store)
    assert main(["update", "--incident", str(incident), "--store", store]) == 0  # the rest, incrementally
    incremental = _snapshot(store)
    assert incremental != partial
    assert main(["update", "--incident", str(incident), "--store", store]) == 0  # nothing new: nothing moves
    assert _snapshot(store) == incremental
    assert main(["reprocess", "--incident", str(incident), "--store", store]) == 0  # everything rebuilt
    assert _snapshot(store) == incremental


def test_merging_new_articles_into_the_totals_gives_a_full_rebuilds_claims(crawled, tmp_path):
    store = f"sqlite:///{tmp_path}/merge.db"
    shutil.copy(Path(crawled[0][len("sqlite:///"):]), tmp_path / "merge.db")
    seconds, built = incremental(store)  # 100 new articles, merged into the stored totals
    assert built["mode"] == "incremental" and not built.get("reason") and built["slots"] > 5
    merged = _snapshot(store)
    db = open_store(store)
    try:
        rebuilt = refresh(db, "aiims-2022-sample", load_rules())
    finally:
        db.close()
    assert rebuilt["mode"] == "rebuild"
    assert _snapshot(store) == merged


def test_an_incident_file_adds_its_own_slot_and_a_bad_pattern_is_one_line(site, tmp_path, capsys):
    incident = write_incident(site, tmp_path)
    text = incident.read_text(encoding="utf-8")
    incident.write_text(text + "claims:\n  slots:\n    patients_exposed:\n      figure: {kind: count, unit: patient}\n"
                        "      cues: {en: ['\\bdata of'], hi: ['डेटा']}\n", encoding="utf-8")
    store = f"sqlite:///{tmp_path}/own.db"
    assert main(["update", "--incident", str(incident), "--store", store]) == 0
    exposed = cli_json(capsys, "claims", "--slot", "patients_exposed", "--format", "json", "--store", store)
    assert [c["text"] for c in exposed] == ["3–4 crore patients"]
    assert exposed[0]["status"] == "corroborated" and exposed[0]["languages"] == ["en", "hi"]

    incident.write_text(text + "claims:\n  slots:\n    broken:\n      figure: {kind: count}\n"
                        "      cues: {en: ['(unclosed']}\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["update", "--incident", str(incident), "--store", f"sqlite:///{tmp_path}/bad.db"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("prahari: error: claims: slots.broken.cues: bad pattern") and "\n" not in error
    assert not (tmp_path / "bad.db").exists()  # refused before anything was fetched or created


def test_stance_and_value_rules_in_both_languages():
    rules = load_rules()
    assert stance_of("Delhi Police denied reports of a ransom demand.", "en", rules) == "denied"
    assert stance_of("पुलिस ने फिरौती मांगे जाने की खबरों का खंडन किया।", "hi", rules) == "denied"
    assert stance_of("The hackers reportedly want Rs 200 crore.", "en", rules) == "attributed"
    assert stance_of("सूत्रों के मुताबिक हैकर्स ने फिरौती मांगी।", "hi", rules) == "attributed"
    assert stance_of("Investigators are trying to trace the source of the attack.", "en", rules) == "asserted"
    assert stance_of("सीबीआई से जानकारी मांगी गई है।", "hi", rules) == "asserted"  # जानकारी is not नकार

    def value(number, qualifier="exact", **extra) -> dict:
        return {**SlotValue("x", number, "computer", qualifier=qualifier).__dict__, **extra}

    assert compatible(value(400, "more_than"), value(400, "more_than"))  # "more than 400" and "400+"
    assert compatible(value(None, low=1, high=2), value(1.3, "about"))  # a range holds the value
    assert not compatible(value(20, of=50), value(25, of=50))
    assert value_text("ransom_demand", {"value": 250_000, "unit": "INR"}) == "₹2.5 lakh"
    assert value_text("x", value(400, "more_than")) == "more than 400 computers"
    assert value_text("x", {"value": 20, "of": 50, "unit": "server"}) == "20 of 50 servers"
    assert value_text("x", {"value": None, "low": 3e7, "high": 4e7, "unit": "patient"}) == "3–4 crore patients"


def test_cross_lingual_links_on_labelled_pairs():
    scores = measure()
    assert scores["pairs"] > 500
    assert scores["event_precision"] >= 0.85 and scores["event_recall"] >= 0.8
    assert scores["story_precision"] == 1.0 and scores["story_recall"] == 1.0


def test_claims_and_digest_from_another_folder(crawled, tmp_path):
    store, _incident = crawled
    elsewhere = tmp_path / "analyst"
    elsewhere.mkdir()
    copy = elsewhere / "copy.db"
    shutil.copy(Path(store[len("sqlite:///"):]), copy)
    done = run_prahari("claims", "--status", "disputed", "--store", "sqlite:///copy.db", cwd=elsewhere)
    assert done.returncode == 0 and "ransom_demand" in done.stdout, done.stderr
    done = run_prahari("export", "--what", "claims", "--format", "stix", "--out", "claims.json",
                       "--store", "sqlite:///copy.db", cwd=elsewhere)
    assert done.returncode == 0 and (elsewhere / "claims.json").exists(), done.stderr
    done = run_prahari("digest", "--days", "3650", "--store", "sqlite:///copy.db", cwd=elsewhere)
    assert done.returncode == 0 and "## New claims" in done.stdout and "ransom_demand = ₹200 crore" in done.stdout


def test_a_claim_with_more_sources_than_a_spreadsheet_cell_holds_is_cut_with_a_note():
    from index.export import CELL_LIMIT, flat_row

    row = flat_row({"facts": [{"sentence": "x" * 100}] * 500}, spreadsheet=True)
    assert len(row["facts"]) <= CELL_LIMIT and row["facts"].endswith("export as jsonl for all of it)")
    assert len(flat_row({"facts": [{"sentence": "x" * 100}] * 500})["facts"]) > CELL_LIMIT  # CSV keeps it all
