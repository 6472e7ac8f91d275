"""One contract for every Store backend: SQLite and a real Elasticsearch node give the same answers."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from index.query import Filters, build_search
from index.store import CANDIDATES_PER_KEY, open_store
from nlp.normalize import search_text
from prahari.app.cli import main
from prahari.model import Article, Fact, plain
from prahari.app.sample.site import SampleSite, load_articles
from tests.conftest import write_incident
from tests.wire_story import STORY_INCIDENT, story_copy, story_signature

BACKENDS = ["sqlite", "elasticsearch"]
QUERIES = ["एनआईए", "ransom", "फिरौती", '"200 crore"', "AIIMS AND server", "hack*", "दिल्ली पुलिस",
           "CERT-In OR NIC", "AIIMS NOT ransom", '"e-hospital"', "सर्वर NOT हैक", "cryptocurrency"]


def es_node() -> str:
    """The test node: $PRAHARI_TEST_ES_URL (make test starts one). A missing node fails the test, never skips it."""
    url = os.environ.get("PRAHARI_TEST_ES_URL")
    if not url:
        pytest.fail("no Elasticsearch node: set PRAHARI_TEST_ES_URL or run `make test` (it starts one)")
    return url.rstrip("/")


def fresh_store(backend: str, tmp_path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path}/{uuid.uuid4().hex[:8]}.db"
    return f"{es_node()}/t{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def stores(site, tmp_path_factory):
    """The sample site crawled once into each backend: {backend: store URL}."""
    directory = tmp_path_factory.mktemp("contract")
    incident = write_incident(site, directory)
    out = {}
    for backend in BACKENDS:
        url = fresh_store(backend, directory)
        assert main(["update", "--incident", str(incident), "--store", url]) == 0
        out[backend] = url
    return out


def exported(url: str, *extra: str) -> list[dict]:
    """Every article record; with "--same-run-only" fields (fetch times) dropped for comparing two crawls."""
    store = open_store(url)
    try:
        records = [a.to_record() for a in store.iter_articles(Filters(include_irrelevant="--all" in extra))]
    finally:
        store.close()
    if "--timeless" in extra:
        records = [{k: v for k, v in r.items() if k not in ("fetched", "first_seen")} for r in records]
    return records


def ask(url: str, method: str, *args, **kwargs):
    """Call one Store method on a freshly opened store (iterators are read out before it closes)."""
    store = open_store(url)
    try:
        result = getattr(store, method)(*args, **kwargs)
        return list(result) if hasattr(result, "__next__") else result
    finally:
        store.close()


def test_both_backends_store_the_same_articles_stories_and_facts(stores):
    sqlite, es = (exported(stores[b], "--all", "--timeless") for b in BACKENDS)
    assert len(sqlite) == len(load_articles())
    for left, right in zip(sqlite, es):
        assert {k: v for k, v in left.items() if left[k] != right[k]} == {}, left["url"]
    assert sqlite == es  # every field, in the same order: ids, times, stories, duplicate_of, entities …
    facts = [[f.id for f in ask(stores[b], "iter_facts", Filters())] for b in BACKENDS]
    assert facts[0] == facts[1] and len(facts[0]) > 50


def test_rewriting_adds_nothing_and_keeps_first_seen(stores, site, tmp_path, capsys):
    incident = write_incident(site, tmp_path)
    before = {b: exported(stores[b], "--all") for b in BACKENDS}
    for backend in BACKENDS:
        assert main(["update", "--incident", str(incident), "--store", stores[backend], "--refresh"]) == 0
        after = exported(stores[backend], "--all")
        assert [a["id"] for a in after] == [a["id"] for a in before[backend]]
        assert [a["first_seen"] for a in after] == [a["first_seen"] for a in before[backend]]
        assert ask(stores[backend], "counts")["articles"] == len(load_articles())


@pytest.mark.parametrize("text", QUERIES)
def test_search_finds_the_same_articles(stores, text):
    found = [sorted(a.id for a in ask(stores[b], "search", build_search(text), Filters(), limit=500)) for b in BACKENDS]
    assert found[0] == found[1]
    assert found[0], f"{text!r} should match something in the sample corpus"


def test_a_search_naming_both_forms_of_a_word_asks_for_each_form_once(stores):
    from index.query import _leaves

    both, one = build_search("फिरौती OR ransom"), build_search("ransom")
    forms = [" ".join(leaf.tokens) for leaf, _negated in _leaves(both)]
    assert sorted(forms) == sorted(set(forms)) == sorted(" ".join(leaf.tokens) for leaf, _negated in _leaves(one))
    for backend in BACKENDS:
        ranked = [[a.id for a in ask(stores[backend], "search", query, Filters(), limit=500)] for query in (both, one)]
        assert ranked[0] == ranked[1] and ranked[0]


FILTERS = {
    "language": Filters(lang="hi"),
    "dates": Filters(since=date(2022, 11, 28), until=date(2022, 12, 5)),
    "entity": Filters(entity=["nia"]),
    "two entities": Filters(entity=["nia", "cert-in"]),
    "figure kind": Filters(figure_kind="money"),
    "incident": Filters(incident="aiims-2022-sample"),
    "irrelevant too": Filters(include_irrelevant=True),
    "first seen": Filters(first_seen_since="2000-01-01T00:00:00+00:00"),
}


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_each_filter_selects_the_same_articles(stores, name):
    filters = FILTERS[name]
    ids = [[a.id for a in ask(stores[b], "iter_articles", filters)] for b in BACKENDS]
    assert ids[0] == ids[1] and ids[0]
    assert ask(stores["sqlite"], "count_articles", filters) == ask(stores["elasticsearch"], "count_articles", filters)
    source = ask(stores["sqlite"], "iter_articles", filters)[0].source
    narrowed = Filters(**{**filters.__dict__, "source": source})
    assert [a.id for a in ask(stores["sqlite"], "iter_articles", narrowed)] == \
        [a.id for a in ask(stores["elasticsearch"], "iter_articles", narrowed)]


def test_facets_timeline_and_entity_views_agree(stores):
    filters = Filters()
    for method, args in (("timeline", (filters,)), ("fact_days", (filters,)),
                         ("entity_timeline", (filters, ["nia", "aiims", "delhi-police"])),
                         ("list_articles", (filters, 10, 5))):
        results = [ask(stores[b], method, *args) for b in BACKENDS]
        if method == "list_articles":
            results = [[a.id for a in r] for r in results]
        assert results[0] == results[1], method
        assert results[0]
    facets = [ask(stores[b], "facets", filters) for b in BACKENDS]
    for name in ("language", "source", "entity", "figure_kind", "incident"):
        assert facets[0][name] == facets[1][name], name
    members = [ask(stores[b], "story_members", [a["story_id"] for a in exported(stores[b])]) for b in BACKENDS]
    assert members[0] == members[1] and any(len(m) > 1 for m in members[0].values())
    firsts = [sorted((e["entity"].id, e["articles"]) for e in ask(stores[b], "entity_first_seen",
                                                                  Filters(first_seen_since=""))) for b in BACKENDS]
    assert firsts[0] == firsts[1] and len(firsts[0]) > 10


def test_reindex_both_ways_copies_everything(stores, tmp_path, capsys):
    es_copy = fresh_store("elasticsearch", tmp_path)
    sqlite_copy = fresh_store("sqlite", tmp_path)
    assert main(["reindex", "--from", stores["sqlite"], "--to", es_copy]) == 0
    assert main(["reindex", "--from", es_copy, "--to", sqlite_copy]) == 0
    original = exported(stores["sqlite"], "--all")
    assert exported(es_copy, "--all") == original and exported(sqlite_copy, "--all") == original
    pages = [sorted((p.url, p.body) for p in ask(url, "iter_pages")) for url in (stores["sqlite"], sqlite_copy)]
    assert pages[0] == pages[1] and len(pages[0]) == len(load_articles())
    # A rerun (as after an interruption) copies no page twice and duplicates nothing.
    capsys.readouterr()
    assert main(["reindex", "--from", stores["sqlite"], "--to", es_copy]) == 0
    assert "reindex: 0 of 47 pages" in capsys.readouterr().out
    assert ask(es_copy, "counts") == ask(stores["sqlite"], "counts")
    assert ask(es_copy, "claims") == ask(stores["sqlite"], "claims")  # claims and events travel as built
    assert ask(sqlite_copy, "events") == ask(stores["sqlite"], "events")


def _claims_and_events(url: str) -> tuple[list[dict], list[dict], list[dict]]:
    """Claims (build times dropped: each backend built its own), events and ledger rows, sorted."""
    claims = [{k: v for k, v in c.items() if k not in ("built_first", "disputed_since")} for c in ask(url, "claims")]
    incident = claims[0]["incident"]
    return sorted(claims, key=lambda c: c["id"]), sorted(ask(url, "events"), key=lambda e: e["id"]), \
        ask(url, "ledger", incident), {key: {k: v for k, v in doc.items() if k != "history"}  # build times
                                       for key, doc in ask(url, "state", incident).items()}


def test_both_backends_build_the_same_claims_and_events(stores):
    sqlite, es = (_claims_and_events(stores[b]) for b in BACKENDS)
    assert sqlite[0] and sqlite[1] and sqlite[2]
    for name, mine, theirs in zip(("claims", "events", "ledger", "state"), sqlite, es):
        assert mine == theirs, name
    statuses = {c["status"] for c in sqlite[0]}
    assert statuses == {"corroborated", "single-source", "disputed"}
    # Rebuilding from the stored facts (as reprocess does) gives the same claims on both.
    from prahari.app.claims import refresh
    from nlp.claims import load_rules
    for backend in BACKENDS:
        store = open_store(stores[backend])
        try:
            refresh(store, sqlite[0][0]["incident"], load_rules())
        finally:
            store.close()
    assert _claims_and_events(stores["sqlite"])[:2] == sqlite[:2] == _claims_and_events(stores["elasticsearch"])[:2]


@pytest.mark.parametrize("backend", BACKENDS)
def test_export_beyond_ten_thousand_documents(backend, tmp_path):
    url = fresh_store(backend, tmp_path)
    store = open_store(url)
    total = 10_500
    try:
        for start in range(0, total, 1500):
            batch = []
            for n in range(start, min(total, start + 1500)):
                article_id = hashlib.sha1(f"big-{n}".encode()).hexdigest()[:16]
                batch.append(Article(
                    id=article_id, url=f"https://big.example/{n}", canonical_url=f"https://big.example/{n}",
                    source="big.example", title=f"AIIMS server report {n}", language="en",
                    text=f"Report {n} on the AIIMS server attack.", published=f"2022-12-{1 + n % 28:02d}T10:00:00+05:30",
                    first_seen="2026-11-01T00:00:00+00:00", relevant=True, relevance=1.0, incident="big",
                    story_id=article_id, content_hash=article_id,
                    facts=[Fact(id=f"f{article_id}", article_id=article_id, url=f"https://big.example/{n}",
                                source="big.example", language="en", sentence=f"Report {n}.", event_date=None)]))
            store.save([], batch)
        ids = [a.id for a in store.iter_articles(Filters(incident="big"))]
        facts = sum(1 for _ in store.iter_facts(Filters(incident="big")))
    finally:
        store.close()
    assert len(ids) == len(set(ids)) == total and facts == total


@pytest.mark.parametrize("backend", BACKENDS)
def test_analysed_forms_made_for_an_older_text_are_not_indexed(backend, tmp_path):
    # The pipeline hands its analysed title and text along with the article; if the text changed after they
    # were made, the store must index the text as it is now.
    def article(n: int, title: str, text: str, made_for: str) -> Article:
        article_id = hashlib.sha1(f"forms-{n}".encode()).hexdigest()[:16]
        return Article(id=article_id, url=f"https://forms.example/{n}", canonical_url=f"https://forms.example/{n}",
                       source="forms.example", title=title, language="en", text=text, relevant=True,
                       incident="forms", story_id=article_id, content_hash=article_id,
                       search_forms=(title, made_for, search_text(title), search_text(made_for)))

    fresh = article(1, "Server report", "The ransom note reached the hospital.", "The ransom note reached the hospital.")
    stale = article(2, "Second report", "Backups restored the e-hospital data.", "A bitcoin wallet was named.")
    url = fresh_store(backend, tmp_path)
    store = open_store(url)
    try:
        store.save([], [fresh, stale])
        found = {word: [a.id for a in store.search(build_search(word), Filters(incident="forms"))]
                 for word in ("ransom", "restored", "bitcoin")}
    finally:
        store.close()
    assert found == {"ransom": [fresh.id], "restored": [stale.id], "bitcoin": []}


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_rewritten_article_is_found_by_its_new_words_only(backend, tmp_path):
    # A re-crawl or reprocess writes an article again with a new text: its old words must leave the index, and the
    # ranking and counts must be those of a store that only ever held the new text.
    def article(n: int, text: str) -> Article:
        article_id = hashlib.sha1(f"rewrite-{n}".encode()).hexdigest()[:16]
        return Article(id=article_id, url=f"https://rewrite.example/{n}", canonical_url=f"https://rewrite.example/{n}",
                       source="rewrite.example", title=f"Server report {n}", language="en", text=text, relevant=True,
                       incident="rewrite", story_id=article_id, content_hash=article_id)

    first = [article(1, "The ransom note reached the hospital."), article(2, "A ransom, a ransom, a ransom demand.")]
    final = [article(1, "Backups restored the e-hospital data."), first[1],
             article(3, "The ransom demand was restored to the record.")]
    found = {}
    for name, writes in (("rewritten", [first, final, final]), ("fresh", [final])):
        url = fresh_store(backend, tmp_path)
        store = open_store(url)
        try:
            for batch in writes:
                store.save([], batch)
            found[name] = {word: [a.id for a in store.search(build_search(word), Filters(incident="rewrite"))]
                           for word in ("ransom", "restored", "note", "hospital", "report")}
            found[name]["count"] = store.count_articles(Filters(incident="rewrite"))
        finally:
            store.close()
    assert found["rewritten"] == found["fresh"]
    assert found["fresh"]["note"] == [] and found["fresh"]["ransom"] == [final[1].id, final[2].id]


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_best_matches_come_first_wherever_the_store_keeps_them(backend, tmp_path):
    # Texts of one length where the word appears 1 to 12 times: the more often, the better the match. SQLite
    # ranks the two halves of its key range at once and merges them. Keys follow the order articles are first
    # saved, one at a time here, so 12 and 10 take keys in the first half and 11 one in the second.
    def article(times: int) -> Article:
        article_id = hashlib.sha1(f"rank-{times}".encode()).hexdigest()[:16]
        words = ["ransom"] * times + ["report"] * (12 - times)
        return Article(id=article_id, url=f"https://rank.example/{times}", canonical_url=f"https://rank.example/{times}",
                       source="rank.example", title="Hospital update", language="en", text=" ".join(words) + ".",
                       relevant=True, incident="rank", story_id=article_id, content_hash=article_id)

    articles = [article(times) for times in range(1, 13)]
    url = fresh_store(backend, tmp_path)
    store = open_store(url)
    try:
        for times in (12, 10, 1, 2, 3, 11, 4, 5, 6, 7, 8, 9):
            store.save([], [articles[times - 1]])
        if backend == "sqlite":  # the best three fall in both halves of the key range
            keys = dict(store.db.execute("SELECT id, rowid FROM article_keys"))
            middle = (max(keys.values()) + 1) // 2  # where the search splits the key range
            assert keys[articles[11].id] < middle and keys[articles[9].id] < middle <= keys[articles[10].id]
        best = {limit: [a.id for a in store.search(build_search("ransom"), Filters(incident="rank"), limit=limit)]
                for limit in (3, 12)}
        # A source filter is not kept counted: SQLite ranks within the filters rather than before them.
        within = [a.id for a in store.search(build_search("ransom"), Filters(incident="rank", source="rank.example"),
                                             limit=5)]
    finally:
        store.close()
    by_times = [a.id for a in reversed(articles)]
    assert best == {3: by_times[:3], 12: by_times} and within == by_times[:5]


@pytest.mark.parametrize("backend", BACKENDS)
def test_bulk_mode_ends_as_if_each_write_had_finished_before_the_next(backend, tmp_path):
    # Bulk mode defers what makes writes visible (Elasticsearch's refresh, SQLite's commit). A read, and a later
    # write of the same articles (their first-seen time and old facts), must still see every earlier write.
    def article(n: int, seen: str, facts: int) -> Article:
        article_id = hashlib.sha1(f"pipe-{n}".encode()).hexdigest()[:16]
        return Article(id=article_id, url=f"https://pipe.example/{n}", canonical_url=f"https://pipe.example/{n}",
                       source="pipe.example", title=f"Server report {n}", language="en", text=f"Report {n}.",
                       published="2022-12-01T10:00:00+05:30", first_seen=seen, relevant=True, incident="pipe",
                       story_id=article_id, content_hash=article_id,
                       facts=[Fact(id=f"{article_id}-{seen[:4]}-{k}", article_id=article_id, url=f"https://pipe.example/{n}",
                                   source="pipe.example", language="en", sentence=f"Fact {k} of {n}.", event_date=None)
                              for k in range(facts)])

    first, later = "2026-11-01T00:00:00+00:00", "2027-01-01T00:00:00+00:00"
    url = fresh_store(backend, tmp_path)
    store = open_store(url)
    try:
        with store.bulk():
            store.save([], [article(n, first, 2) for n in range(700)])
            read_back = store.get_article(article(0, first, 0).id)
            store.save([], [article(n, first, 2) for n in range(700, 1200)])
            store.save([], [article(n, later, 1) for n in range(700, 800)])  # again, with one new fact each
        rewritten = store.get_article(article(705, first, 0).id)
        facts_of_rewritten = store.facts_for([rewritten.id])[rewritten.id]
        counts = store.counts()
        facts = sum(1 for _ in store.iter_facts(Filters(incident="pipe")))
    finally:
        store.close()
    assert read_back is not None and read_back.title == "Server report 0"
    assert rewritten.first_seen == first and [f.id for f in facts_of_rewritten] == [f"{rewritten.id}-2027-0"]
    assert counts["articles"] == 1200 and counts["facts"] == facts == 1100 * 2 + 100


def test_elasticsearch_down_at_start_is_one_line_naming_the_url(capsys):
    es_node()
    dead = "http://127.0.0.1:9"
    for command in (["search", "AIIMS"], ["export"], ["update", "--incident", "aiims-2022-sample"]):
        assert main([*command, "--store", dead]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "127.0.0.1:9" in err and "Traceback" not in err


def test_an_index_in_the_way_gives_a_clear_message(capsys):
    node = es_node()
    prefix = f"t{uuid.uuid4().hex[:10]}"
    from elasticsearch import Elasticsearch

    client = Elasticsearch(node)
    client.indices.create(index=f"{prefix}-articles", mappings={"properties": {"title": {"type": "integer"}}})
    client.close()
    assert main(["search", "AIIMS", "--store", f"{node}/{prefix}"]) == 2
    err = capsys.readouterr().err
    assert f"{prefix}-articles" in err and "not a Prahari alias" in err and "pick another prefix" in err


def test_hostile_queries_are_safe_on_elasticsearch(stores, capsys):
    for text in ['"', "AND(", "*", "NOT", "ransom AND", "(", '{"query_string": 1}', "title_an:ransom", "\\"]:
        code = main(["search", text, "--store", stores["elasticsearch"], "--format", "json"])
        out, err = capsys.readouterr()
        assert code in (0, 2) and "Traceback" not in err
        if code == 0:
            assert isinstance(json.loads(out), list)


def test_elasticsearch_going_away_mid_update_then_rerun_completes(tmp_path, capsys):
    """Stop a node of our own halfway through an update: clear error, nothing lost, the rerun finishes."""
    es_node()  # the suite's node must exist; this test runs a second, private one it can stop
    script = Path(__file__).resolve().parent.parent / "scripts" / "elasticsearch.sh"
    env = {**os.environ, "ES_PORT": "9288"}
    node = "http://127.0.0.1:9288"
    subprocess.run([str(script), "start"], env=env, check=True, capture_output=True)
    try:
        url = f"{node}/t{uuid.uuid4().hex[:10]}"
        with SampleSite(article_delay=0.4) as site:
            incident = write_incident(site, tmp_path)
            update = subprocess.Popen([sys.executable, "-m", "prahari.app.cli", "update", "--incident", str(incident),
                                       "--store", url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            deadline = time.monotonic() + 60
            stored = 0
            while time.monotonic() < deadline and stored == 0:
                time.sleep(0.3)
                try:
                    stored = ask(url, "counts")["articles"]
                except Exception:  # noqa: BLE001 - indices may not exist yet
                    stored = 0
            subprocess.run([str(script), "stop"], env=env, check=True, capture_output=True)
            _out, err = update.communicate(timeout=180)
            assert update.returncode == 2, err
            assert node in err.strip().splitlines()[-1] and "rerun" in err.strip().splitlines()[-1]
            assert 0 < stored < len(load_articles())
            subprocess.run([str(script), "start"], env=env, check=True, capture_output=True)
            site.article_delay = 0
            assert main(["update", "--incident", str(incident), "--store", url]) == 0
        records = exported(url, "--all")
        assert sorted(r["canonical_url"].rsplit("/", 1)[1] for r in records) == sorted(a["slug"] for a in load_articles())
    finally:
        subprocess.run([str(script), "stop"], env=env, capture_output=True)


def _write_old_indices(node: str, prefix: str, schema: int) -> None:
    """Indices as an earlier Prahari wrote them: schema `schema`, searched text without the word-pair index."""
    from elasticsearch import Elasticsearch

    from index.elasticsearch import MAPPINGS, PHRASED_TEXT, TEXT

    with Elasticsearch(node) as client:
        for kind, properties in MAPPINGS.items():
            old = {name: TEXT if spec == PHRASED_TEXT else spec for name, spec in properties.items()}
            client.indices.create(index=f"{prefix}-{kind}-v{schema}", aliases={f"{prefix}-{kind}": {"is_write_index": True}},
                                  mappings={"dynamic": "strict", "_meta": {"prahari_schema": schema}, "properties": old})


def test_an_elasticsearch_store_with_a_facts_index_reads_writes_and_copies_as_a_new_one_does(stores, site, tmp_path,
                                                                                          capsys):
    # Before schema 3 each fact was a document of its own in a facts index; a store of then must still be crawled
    # into and read, and a copy of it (facts inside their articles) must hold the same facts, day counts and totals.
    node = es_node()
    old, copied = f"{node}/t{uuid.uuid4().hex[:10]}", f"{node}/t{uuid.uuid4().hex[:10]}"
    _write_old_indices(node, old.rsplit("/", 1)[1], 2)
    incident = write_incident(site, tmp_path)
    assert main(["update", "--incident", str(incident), "--store", old]) == 0
    assert main(["update", "--incident", str(incident), "--store", old, "--refresh"]) == 0  # rewrites its facts
    assert main(["reindex", "--from", old, "--to", copied]) == 0
    capsys.readouterr()

    def facts_view(url: str) -> tuple:
        store = open_store(url)
        try:
            ids = [a.id for a in store.iter_articles(Filters(include_irrelevant=True))]
            per_article = {i: [f.id for f in facts] for i, facts in store.facts_for(ids).items()}
            facts = [{k: v for k, v in plain(f).items() if k != "first_seen"}  # crawled at another time
                     for f in store.iter_facts(Filters(include_irrelevant=True))]
            return (store.inline_facts, facts, store.fact_days(Filters()), store.fact_days(Filters(lang="hi")),
                    store.counts()["facts"], per_article)
        finally:
            store.close()

    new_layout = facts_view(stores["elasticsearch"])
    assert new_layout[0] and new_layout[4] == len(new_layout[1]) > 0
    assert facts_view(old) == (False, *new_layout[1:])
    assert facts_view(copied) == new_layout


def test_an_elasticsearch_store_from_before_word_pairs_still_finds_phrases(site, tmp_path, capsys):
    node = es_node()
    old, future = f"t{uuid.uuid4().hex[:10]}", f"t{uuid.uuid4().hex[:10]}"
    _write_old_indices(node, old, 1)
    incident = write_incident(site, tmp_path)
    assert main(["update", "--incident", str(incident), "--store", f"{node}/{old}"]) == 0
    capsys.readouterr()
    assert main(["search", '"दिल्ली पुलिस"', "--store", f"{node}/{old}", "--format", "json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found and all("दिल्ली पुलिस" in (r["title"] + r["text"]) or "delhi police" in (r["title"] + r["text"]).lower()
                         for r in found)
    _write_old_indices(node, future, 99)
    assert main(["search", "AIIMS", "--store", f"{node}/{future}"]) == 2
    err = capsys.readouterr().err
    assert "schema 99" in err and "prahari reindex" in err and len(err.strip().splitlines()) == 1


def test_a_sqlite_store_answers_the_same_through_pythons_own_sqlite(crawled, tmp_path):
    """Where pysqlite3 has no wheel the store uses Python's sqlite3: the same file gives the same answers."""
    store, _ = crawled
    script = ("import sys; sys.modules['pysqlite3'] = None\n"  # as on a platform without the package
              "import index.sqlite\n"
              "from index.query import Filters, build_search\n"
              "from index.store import open_store\n"
              "store = open_store(sys.argv[1], create=False)\n"
              "print(index.sqlite.sqlite3.__name__, store.count_articles(Filters(include_irrelevant=True)))\n"
              "for text in sys.argv[2:]:\n"
              "    print(' '.join(a.id for a in store.search(build_search(text), Filters(), 20)))\n")
    queries = ["ransom", "दिल्ली पुलिस", "AIIMS NOT ransom"]
    lines = subprocess.run([sys.executable, "-c", script, store, *queries], capture_output=True, text=True,
                           check=True, cwd=tmp_path).stdout.splitlines()
    ours = open_store(store, create=False)
    try:
        assert lines[0] == f"sqlite3 {ours.count_articles(Filters(include_irrelevant=True))}"
        expected = [" ".join(a.id for a in ours.search(build_search(text), Filters(), 20)) for text in queries]
    finally:
        ours.close()
    assert all(expected) and lines[1:] == expected


def stories_of(backend: str, tmp_path, crawls: list[dict[int, np.ndarray]]) -> dict[int, tuple]:
    """Copies stored by crawls in turn (each crawl one batch: copy number -> MinHash signature); for each copy, the
    numbers of the copies its story_id and duplicate_of name, as stored."""
    from prahari.app.ingest import StoryAssigner

    number = {story_copy(n).id: n for crawl in crawls for n in crawl}
    store = open_store(fresh_store(backend, tmp_path))
    try:
        assigner = StoryAssigner(store)
        for crawl in crawls:
            assigner.save_batch([], [story_copy(n) for n in crawl], list(crawl.values()))
        return {number[a.id]: (number[a.story_id], number.get(a.duplicate_of))
                for a in store.iter_articles(Filters(incident=STORY_INCIDENT))}
    finally:
        store.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_copy_of_a_story_carried_past_the_candidate_limit_is_compared_with_a_bounded_few_and_joins_it(backend,
                                                                                                        tmp_path):
    # Seventy verbatim copies of a wire story: all of them hold every band. A new copy is compared with the fifty
    # lowest ids holding each of its bands and with the story's first copy, on either backend, and joins the story.
    from nlp.dedup import band_keys
    from prahari.app.ingest import StoryAssigner

    signature = story_signature()
    first_copy = story_copy(0).id
    # Copies numbered so that more than the limit have lower ids than the first: it comes in as the story's first
    # copy, not as a holder of a band.
    lower = [n for n in range(1, 1000) if story_copy(n).id < first_copy][:CANDIDATES_PER_KEY + 5]
    higher = [n for n in range(1, 1000) if story_copy(n).id > first_copy][:14]
    carried = [0, *sorted(lower + higher)]
    store = open_store(fresh_store(backend, tmp_path))
    try:
        assigner = StoryAssigner(store)
        for start in range(0, len(carried), 25):  # one crawl an evening
            crawl = carried[start:start + 25]
            assigner.save_batch([], [story_copy(n) for n in crawl], [signature] * len(crawl))
        lowest = sorted(story_copy(n).id for n in carried)[:CANDIDATES_PER_KEY]
        newcomer = story_copy(1000)
        [candidates] = store.story_candidates([(newcomer.content_hash, band_keys(signature), newcomer.id)])
        assert [c["id"] for c in candidates] == sorted({*lowest, first_copy}) and first_copy not in lowest
        assert {c["story_id"] for c in candidates} == {first_copy}
        assigner.save_batch([], [newcomer], [signature])
        stored = store.get_article(newcomer.id)
        assert (stored.story_id, stored.duplicate_of) == (first_copy, first_copy)
        assert store.count_articles(Filters(incident=STORY_INCIDENT)) == len(carried) + 1
    finally:
        store.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_copy_alike_only_to_a_later_copy_joins_the_story_under_its_earliest_copys_name(backend, tmp_path):
    # A chain of rewrites: the second copy is alike to the first, the third to the second only. The story keeps the
    # first copy's name, and every later copy names the first as the one it duplicates.
    first = story_signature()
    second = first.copy()
    second[:20] += 5000  # its first five bands differ: 44 of 64 values as the first's
    third = second.copy()
    third[20:40] += 9000  # five more differ: 44 of 64 as the second's, 24 of 64 as the first's
    stored = stories_of(backend, tmp_path, [{1: first}, {2: second}, {3: third}])  # one crawl a day
    assert stored == {1: (1, None), 2: (1, 1), 3: (1, 1)}


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_copy_alike_to_two_stories_makes_them_one_named_after_the_earliest_copy(backend, tmp_path):
    first = story_signature()
    second = first.copy()
    second[:32] += 5000  # 32 of 64 values as the first's: a story of its own
    third = first.copy()
    third[:12] = second[:12]  # 52 of 64 as the first's, 44 of 64 as the second's
    stored = stories_of(backend, tmp_path, [{1: first}, {2: second}, {3: third}])
    assert stored == {1: (1, None), 2: (1, 1), 3: (1, 1)}


@pytest.mark.parametrize("backend", BACKENDS)
def test_copies_in_one_batch_see_the_story_renamed_by_an_earlier_copy_of_that_batch(backend, tmp_path):
    # Copy 3 is stored first. Then one batch (a backfill of older copies, say) brings copies 1 and 2, each alike to
    # copy 3 but not to each other: copy 1 renames the story after itself, and copy 2 must join it under that name.
    third = story_signature()
    first, second = third.copy(), third.copy()
    first[:16] += 5000  # 48 of 64 values as the third's
    second[48:] += 9000  # 48 of 64 as the third's, 32 of 64 as the first's
    stored = stories_of(backend, tmp_path, [{3: third}, {1: first, 2: second}])
    assert stored == {1: (1, None), 2: (1, 1), 3: (1, 1)}
