"""Backfill a past incident from (fake) Common Crawl and Wayback archives on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from prahari.app.cli import main
from prahari.app.sample.site import SampleSite
from tests.archive_fakes import Capture, FakeArchives
from tests.conftest import export_records, kill_update_midway
from tests.test_store_contract import fresh_store

IN_WINDOW = "20221128103000"


def sample_captures(site: SampleSite) -> tuple[list[Capture], dict]:
    """Every sample article once in one archive (half each), plus the captures that must not become articles."""
    captures, expected = [], {}
    for number, article in enumerate(site.articles):
        url, body = site.article_url(article), site._page(article["publisher"], article["slug"])
        archive = "commoncrawl" if number % 2 == 0 else "wayback"
        captures.append(Capture(archive, url, IN_WINDOW, body, languages="hin" if article["lang"] == "hi" else "eng"))
        expected[url] = article
        if number % 5 == 0:  # a later capture of the same page under https, www. and a trailing slash: fetched once
            captures.append(Capture(archive, url.replace("http://", "https://www.") + "/", "20221205000000", body,
                                    languages="eng"))
    first = site.articles[0]
    url, body = site.article_url(first), site._page(first["publisher"], first["slug"])
    captures += [
        Capture("commoncrawl", url + "-old", "20210120000000", body, crawl="CC-MAIN-2021-04"),  # crawl outside
        Capture("wayback", url + "-older", "20211010000000", body),  # capture outside the window
        Capture("commoncrawl", url + "-missing", IN_WINDOW, b"", status=404),
        Capture("commoncrawl", url + "-pdf", IN_WINDOW, b"%PDF-1.4", mime="application/pdf"),
        Capture("wayback", url + "-pdf", IN_WINDOW, b"%PDF-1.4", mime="application/pdf"),
        Capture("commoncrawl", url + "-spanish", IN_WINDOW, body, languages="spa"),
        Capture("commoncrawl", url + "-truncated", IN_WINDOW, body, truncated=True),
        Capture("commoncrawl", url + "-not-html", IN_WINDOW, b"%PDF-1.4 binary", content_type="application/pdf"),
    ]
    return captures, expected


def live_stories(capsys) -> list[list[str]]:
    """Story groups (by slug) of a live crawl of the sample site."""
    import tempfile

    from tests.conftest import write_incident

    with SampleSite() as site, tempfile.TemporaryDirectory() as scratch:
        incident = write_incident(site, Path(scratch))
        store = f"sqlite:///{scratch}/live.db"
        assert main(["update", "--incident", str(incident), "--store", store]) == 0
        records = export_records(store, capsys, "--include-irrelevant")
    slug = {r["id"]: r["canonical_url"].rsplit("/news/", 1)[1] for r in records}
    return sorted(sorted(slug[r["id"]] for r in records if r["story_id"] == story)
                  for story in {r["story_id"] for r in records})


def archive_incident(directory: Path, archives: FakeArchives, extra_sources: list | None = None) -> Path:
    path = directory / "aiims-archive.yaml"
    path.write_text(yaml.safe_dump({
        "id": "aiims-archive", "title": "AIIMS attack, backfilled", "start": "2022-11-23", "end": "2022-12-31",
        "relevance": {"all": [["AIIMS", "एम्स"], ["server", "सर्वर", "hack", "हैक", "ransomware", "साइबर", "cyber",
                                                   "ransom", "फिरौती"]]},
        "sources": [{"type": "archive", "domains": ["127.0.0.1"], "languages": ["hin", "eng"],
                     "endpoints": archives.endpoints()}] + (extra_sources or [])},
        allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("backend", ["sqlite", "elasticsearch"])
def test_backfill_stores_in_window_pages_once_with_original_urls(tmp_path, capsys, backend):
    with SampleSite() as site:
        captures, expected = sample_captures(site)
        live = site.article_url(site.articles[1])  # also crawled live: the same article as its capture
        with FakeArchives(captures) as archives:
            incident = archive_incident(tmp_path, archives, [{"type": "urls", "urls": [live]}])
            store = fresh_store(backend, tmp_path)
            assert main(["update", "--incident", str(incident), "--store", store]) == 0
            out = capsys.readouterr()
            records = export_records(store, capsys, "--include-irrelevant")
            assert sorted(r["url"] for r in records) == sorted(expected), "every sample page once, nothing else"
            for record in records:
                article = expected[record["url"]]
                assert record["canonical_url"] == record["url"]
                assert record["title"] == article["title"]
                if article.get("date_in") in ("feed", "none"):  # no date on the page: the capture time is the hint
                    assert record["published"] == "2022-11-28T10:30:00+00:00"
                else:  # the page's own date, never the capture time
                    assert record["published"][:16] == article["published"][:16]
            assert {r["language"] for r in records if r["relevant"]} == {"hi", "en"}
            backfilled = [r["archive"] for r in records if r["archive"]]
            assert len(backfilled) >= len(expected) - 1, "where each backfilled article came from is kept"
            for where in backfilled:
                assert where["timestamp"] == IN_WINDOW and (
                    {"filename", "offset", "length"} <= set(where) if where["archive"] == "commoncrawl"
                    else where["replay_url"].endswith("id_/" + next(r["url"] for r in records if r["archive"] is where)))
            # Syndicated copies form the same stories as in a live crawl of the same pages.
            slug = {r["id"]: r["url"].rsplit("/news/", 1)[1] for r in records}
            stories = sorted(sorted(slug[r["id"]] for r in records if r["story_id"] == story)
                             for story in {r["story_id"] for r in records})
            assert stories == live_stories(capsys)
            assert "failed 1: truncated or damaged WARC record" in out.err
            assert "failed 1: archive capture is not HTML (application/pdf)" in out.err
            assert "archive commoncrawl 127.0.0.1:" in out.err and "archive wayback 127.0.0.1:" in out.err
            fetched = archives.requests["cc-data/crawl-data"] + archives.requests["wayback/web"]
            assert fetched == len(expected) - 1 + 2, "each page fetched once (one came live), plus the two failures"
            index_requests = archives.requests["cc-index/CC-MAIN-2022-49-index"] + archives.requests["wayback/cdx"]
            assert archives.requests["cc-index/CC-MAIN-2021-04-index"] == 0, "a crawl outside the window is not read"

            # A second update lists nothing already read and fetches no capture again.
            assert main(["update", "--incident", str(incident), "--store", store]) == 0
            assert archives.requests["cc-index/CC-MAIN-2022-49-index"] + archives.requests["wayback/cdx"] == index_requests
            assert archives.requests["cc-data/crawl-data"] + archives.requests["wayback/web"] == fetched
    assert len(export_records(store, capsys, "--include-irrelevant")) == len(expected)


def test_killed_backfill_resumes_with_everything_once(tmp_path, capsys):
    with SampleSite() as site:
        captures, expected = sample_captures(site)
        with FakeArchives(captures, data_delay=1.5) as archives:
            incident = archive_incident(tmp_path, archives)
            store = f"sqlite:///{tmp_path}/killed.db"
            stored = kill_update_midway(incident, tmp_path / "killed.db")
            assert 0 < stored < len(expected), "the kill should land mid-backfill"
            archives.data_delay = 0
            assert main(["update", "--incident", str(incident), "--store", store]) == 0
    records = export_records(store, capsys, "--include-irrelevant")
    assert sorted(r["url"] for r in records) == sorted(expected)


@pytest.mark.parametrize("change, key, problem", [
    ({"archives": ["archive.today"]}, "sources[0].archives", "expected a list of: commoncrawl, wayback"),
    ({"domains": ["https://amarujala.com/news"]}, "sources[0].domains[0]", "not a host name"),
    ({"endpoints": {"wayback_cdx": "ftp://mirror"}}, "sources[0].endpoints.wayback_cdx", "not an http(s) URL"),
    ({"endpoints": {"gdelt": "https://x.example"}}, "sources[0].endpoints", "expected a mapping of"),
    ({"languages": ["hindi"]}, "sources[0].languages", "ISO 639-3"),
])
def test_bad_archive_source_is_one_line_naming_file_and_key(tmp_path, capsys, change, key, problem):
    path = tmp_path / "bad.yaml"
    source = {"type": "archive", "domains": ["amarujala.com"], **change}
    path.write_text(yaml.safe_dump({"id": "x", "title": "x", "start": "2022-11-23",
                                    "relevance": {"all": [["AIIMS"]]}, "sources": [source]}), encoding="utf-8")
    assert main(["update", "--incident", str(path), "--store", f"sqlite:///{tmp_path}/s.db"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(path) in err and key in err and problem in err, err
