"""Bad input gets a clear message and loses nothing: broken pages, charsets, huge pages, bad feeds, dead hosts."""

from __future__ import annotations

from index.sqlite import sqlite3  # the store's own SQLite: two libraries in one process miss each other's locks

import pytest
import yaml

from prahari.app.cli import main
from prahari.app.sample.site import SampleSite, load_articles
from tests.conftest import export_records, kill_update_midway, write_incident

GOOD = "<html><head><title>{t}</title></head><body><article><h1>{t}</h1><p>{p}</p></article></body></html>"
CP1252_TEXT = "The AIIMS server attack \u2014 officials\u2019 \u201cransomware\u201d caf\u00e9 statement, in full detail."


def html_route(body: bytes, ctype: str = "text/html; charset=utf-8", status: int = 200):
    return lambda site, path: (status, {"Content-Type": ctype}, body)


FAULTS = {
    "/bad/truncated": html_route(("<html><head><title>AIIMS server update</title></head><body><article><h1>AIIMS "
                                  "server still down</h1><p>The AIIMS server remained down on Thursday while "
                                  "engineers cleaned the network and the hack was investigated further by police"
                                  ).encode()),
    # Windows-1252 bytes labelled as UTF-8 (wrong charset), and unlabelled.
    "/bad/cp1252-labelled-utf8": html_route(GOOD.format(t="AIIMS server attack", p=CP1252_TEXT).encode("cp1252")),
    "/bad/cp1252-unlabelled": html_route(GOOD.format(t="AIIMS server attack", p=CP1252_TEXT).encode("cp1252"),
                                         ctype="text/html"),
    "/bad/huge": html_route(b"<html><body><p>" + b"AIIMS server " * (20 * 1024 * 1024 // 13) + b"</p></body></html>"),
    "/bad/feed-is-html": html_route(b"<html><body><h1>Welcome</h1><p>No feed here.</p></body></html>"),
    "/bad/empty-feed": html_route(b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>',
                                  ctype="application/rss+xml"),
    "/bad/404": html_route(b"not found", status=404),
    "/bad/500": html_route(b"server error", status=500),
    "/bad/loop": lambda site, path: (302, {"Location": "/bad/loop"}, b""),
    "/bad/empty": html_route(b""),
}


def fault_incident(site: SampleSite, tmp_path) -> str:
    base = site.base_url("chronicle")
    data = yaml.safe_load(site.incident_yaml("faults"))
    data["sources"] += [
        {"type": "feed", "url": base + "/bad/feed-is-html"},
        {"type": "feed", "url": base + "/bad/empty-feed"},
        {"type": "sitemap", "url": base + "/bad/404"},
        {"type": "urls", "urls": [base + p for p in FAULTS if p not in ("/bad/feed-is-html", "/bad/empty-feed")]
         + ["http://127.0.0.1:9/dead-host"]},
    ]
    path = tmp_path / "faults.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return str(path)


def test_faulty_sources_are_counted_and_good_pages_kept(tmp_path, capsys):
    with SampleSite(extra_routes=FAULTS) as site:
        store = f"sqlite:///{tmp_path}/faults.db"
        assert main(["update", "--incident", fault_incident(site, tmp_path), "--store", store]) == 0
    captured = capsys.readouterr()
    records = {r["url"].split("/", 3)[3]: r for r in export_records(store, capsys, "--include-irrelevant")}
    # Every good sample article is still there.
    assert {a["slug"] for a in load_articles()} <= {p.split("news/")[1].split("/")[0].split("?")[0]
                                                    for p in records if p.startswith("news/")}
    # Broken and mislabelled pages still give what they can.
    assert "engineers cleaned the network" in records["bad/truncated"]["text"]
    for path in ("bad/cp1252-labelled-utf8", "bad/cp1252-unlabelled"):
        assert "officials\u2019 \u201cransomware\u201d caf\u00e9" in records[path]["text"], path
    assert "bad/huge" not in records and "bad/empty" not in records
    summary = captured.out + captured.err
    for reason in ("HTTP 404", "HTTP 500", "not an RSS or Atom feed", "empty feed", "failed"):
        assert reason in summary, reason


def test_unreadable_store_is_a_clear_error(tmp_path, capsys):
    directory = tmp_path / "a-directory.db"
    directory.mkdir()
    assert main(["search", "ransom", "--store", f"sqlite:///{directory}"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "cannot open store" in err


def test_locked_store_is_a_clear_error_and_loses_nothing(crawled, tmp_path, capsys):
    store, _ = crawled
    path = store[len("sqlite:///"):]
    before = len(export_records(store, capsys, "--include-irrelevant"))
    other_site = SampleSite().start()  # new URLs, so the update has something to write
    incident = write_incident(other_site, tmp_path)
    blocker = sqlite3.connect(path, timeout=0)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        code = main(["update", "--incident", str(incident), "--store", store])
        err = capsys.readouterr().err
    finally:
        blocker.rollback()
        blocker.close()
        other_site.stop()
    assert code == 2 and "locked" in err
    assert len(export_records(store, capsys, "--include-irrelevant")) == before


def test_killed_update_resumes_with_nothing_lost_or_duplicated(tmp_path, capsys):
    """SIGKILL an update halfway; the rerun completes the store and nothing is duplicated."""
    with SampleSite(article_delay=0.15) as site:
        incident = write_incident(site, tmp_path)
        store = f"sqlite:///{tmp_path}/killed.db"
        stored = kill_update_midway(incident, tmp_path / "killed.db")
        assert 0 < stored < len(load_articles()), "the kill should land mid-crawl"
        site.article_delay = 0
        assert main(["update", "--incident", str(incident), "--store", store]) == 0
    records = export_records(store, capsys, "--include-irrelevant")
    assert sorted(r["canonical_url"].split("/news/")[1] for r in records) == sorted(a["slug"] for a in load_articles())


@pytest.mark.parametrize("query", ['"', "AND(", "*", "NOT", "ransom AND", "(", ")", "OR OR", '"" AND'])
def test_hostile_search_syntax_gives_one_line(crawled, capsys, query):
    store, _ = crawled
    assert main(["search", query, "--store", store]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("prahari: error:")
    assert "sqlite" not in err.lower() and "fts5" not in err.lower()
