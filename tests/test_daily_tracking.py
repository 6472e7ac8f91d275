"""Daily tracking: conditional re-runs, one new article, the digest, the update lock, search sources, date bounds."""

from __future__ import annotations

import copy
from index.sqlite import sqlite3  # the store's own SQLite: two libraries in one process miss each other's locks
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import feedparser
import yaml

from index.query import Filters
from index.store import open_store
from prahari.app.cli import main
from prahari.app.lock import lock_path
from prahari.app.sample.site import SampleSite, load_articles
from tests.conftest import export_records, write_incident


def article_requests(site: SampleSite) -> int:
    return sum(n for (_pub, path), n in site.requests.items() if path.startswith("/news/") and "search" not in path)


def conditional_listings(site: SampleSite) -> set[str]:
    """Feeds and news sitemaps; a sitemap index is always read in full, because its children change."""
    return {p["listing"]["path"] for p in site.publishers.values() if p["listing"]["type"] == "feed"} | {
        "/news-sitemap.xml"}


def latest_first_seen(url: str) -> str:
    store = open_store(url)
    try:
        return max(a.first_seen for a in store.iter_articles(Filters()))
    finally:
        store.close()


def test_second_update_fetches_no_article_and_asks_listings_conditionally(tmp_path, capsys):
    with SampleSite() as site:
        incident = write_incident(site, tmp_path)
        store = f"sqlite:///{tmp_path}/daily.db"
        assert main(["update", "--incident", str(incident), "--store", store]) == 0
        first = capsys.readouterr().out
        assert "new in aiims-2022-sample: 44 articles" in first  # 47 minus the three not about the attack
        # first_seen has one-second resolution: once update returns, a run starting now must not count its pages
        assert latest_first_seen(store) < datetime.now(timezone.utc).isoformat(timespec="seconds")
        before = article_requests(site)
        assert sum(site.conditional.values()) == 0
        assert main(["update", "--incident", str(incident), "--store", store]) == 0
        second = capsys.readouterr().out
        assert article_requests(site) == before, "a no-change update must not fetch any article page"
        conditional = {path for (_pub, path), n in site.conditional.items() if n}
        assert conditional == conditional_listings(site), "every feed and news sitemap is asked with its validators"
        assert "new in aiims-2022-sample: 0 articles, 0 facts, 0 entities" in second


def test_an_update_after_the_clock_stepped_back_lists_nothing_old_as_new(tmp_path, capsys):
    with SampleSite() as site:
        incident = write_incident(site, tmp_path)
        store = f"sqlite:///{tmp_path}/daily.db"
        assert main(["update", "--incident", str(incident), "--store", store]) == 0
        # as if the clock stepped back an hour after the first run: everything stored looks first seen later
        ahead = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat(timespec="seconds")
        with sqlite3.connect(tmp_path / "daily.db") as db:
            db.execute("UPDATE articles SET first_seen = ?", (ahead,))
            db.execute("UPDATE article_keys SET first_seen = ?", (ahead,))
        capsys.readouterr()
        assert main(["update", "--incident", str(incident), "--store", store]) == 0
        assert "new in aiims-2022-sample: 0 articles" in capsys.readouterr().out


def test_one_new_article_is_fetched_alone_and_is_all_the_digest_shows(tmp_path, capsys):
    with SampleSite() as site:
        incident = write_incident(site, tmp_path)
        store = f"sqlite:///{tmp_path}/daily.db"
        assert main(["update", "--incident", str(incident), "--store", store]) == 0
        before = article_requests(site)
        time.sleep(1.1)  # first_seen has one-second resolution: the digest boundary must separate the runs
        capsys.readouterr()
        boundary = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
        newcomer = copy.deepcopy(next(a for a in load_articles() if a["slug"] == "aiims-servers-down-opd-manual"))
        newcomer.update(slug="aiims-sixth-server-restored", published="2022-12-07T11:00:00+05:30",
                        title="AIIMS restores the last of its five hacked servers, says e-hospital data is safe",
                        body="AIIMS said on Wednesday that the e-hospital data had been restored on its servers "
                             "after the ransomware attack.\nThe National Informatics Centre and CERT-In checked "
                             "every one of the 5 physical servers before they were brought back online.")
        site.add_article(newcomer)
        assert main(["update", "--incident", str(incident), "--store", store]) == 0
        out = capsys.readouterr().out
        assert article_requests(site) == before + 1
        assert "new in aiims-2022-sample: 1 articles" in out and newcomer["title"] in out
        assert main(["digest", "--since", boundary, "--store", store]) == 0
        markdown = capsys.readouterr().out
        assert newcomer["title"] in markdown and "1 new articles in 1 stories" in markdown
        assert "**National Informatics Centre**" in markdown and "**one of the 5 physical servers**" in markdown
        assert main(["digest", "--since", boundary, "--format", "atom", "--store", store]) == 0
        feed = feedparser.parse(capsys.readouterr().out)
        assert not feed.bozo, feed.get("bozo_exception")
        assert [e.link for e in feed.entries] == [site.article_url(newcomer)]
        assert feed.entries[0].title == newcomer["title"]
        assert main(["digest", "--days", "1", "--format", "html", "--store", store]) == 0
        page = capsys.readouterr().out
        assert page.count("<li><a href=") >= 40 and '<mark class="agency">' in page


def test_digest_escapes_page_text(tmp_path, capsys):
    hostile = {"slug": "aiims-script-title", "publisher": "chronicle", "published": "2022-11-25T10:00:00+05:30",
               "author": "Staff", "title": "AIIMS server <script>alert(1)</script> [click](http://evil)",
               "body": "The AIIMS server hack is being probed by the National Investigation Agency since Friday.",
               "related": [], "expect": {}, "lang": "en"}
    with SampleSite(articles=[hostile]) as site:
        incident = write_incident(site, tmp_path)
        store = f"sqlite:///{tmp_path}/hostile.db"
        assert main(["update", "--incident", str(incident), "--store", store]) == 0
        capsys.readouterr()
        assert main(["digest", "--days", "1", "--format", "html", "--store", store]) == 0
        page = capsys.readouterr().out
        assert "<script>" not in page and "&lt;script&gt;" in page
        assert main(["digest", "--days", "1", "--format", "atom", "--store", store]) == 0
        feed = feedparser.parse(capsys.readouterr().out)
        assert not feed.bozo and "<script>" in feed.entries[0].title


def test_a_second_update_on_the_same_store_refuses_to_start(tmp_path, capsys):
    with SampleSite(article_delay=0.3) as site:
        incident = write_incident(site, tmp_path)
        store = f"sqlite:///{tmp_path}/locked.db"
        first = subprocess.Popen([sys.executable, "-m", "prahari.app.cli", "update", "--incident", str(incident),
                                  "--store", store], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            lock = lock_path(f"sqlite:{tmp_path}/locked.db")
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not (lock.exists() and lock.read_text().startswith("pid")):
                time.sleep(0.1)
            assert lock.read_text().startswith(f"pid {first.pid}")
            capsys.readouterr()
            assert main(["update", "--incident", str(incident), "--store", store]) == 2
            err = capsys.readouterr().err
            assert "another update is already running" in err and f"pid {first.pid}" in err
            assert len(err.strip().splitlines()) == 1
        finally:
            first.kill()
            first.wait()
        # The lock dies with its holder: the next update runs.
        site.article_delay = 0
        assert main(["update", "--incident", str(incident), "--store", store]) == 0


def test_search_sources_discover_both_languages_through_gdelt_and_bing(tmp_path, capsys):
    with SampleSite() as site:
        raw = yaml.safe_load(site.incident_yaml("aiims-search"))
        raw["end"] = "2022-12-10"
        raw["sources"] = [{"type": "search", "endpoints": site.search_endpoints()}]
        incident = tmp_path / "aiims-search.yaml"
        incident.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
        store = f"sqlite:///{tmp_path}/search.db"
        assert main(["update", "--incident", str(incident), "--store", store]) == 0
        asked = [path for (_pub, path), _n in site.requests.items() if "/api/v2/doc/doc" in path or "/news/search" in path]
        gdelt = [p for p in asked if "/api/v2/doc/doc" in p]
        bing = [p for p in asked if "/news/search" in p]
        assert len(gdelt) == 2 and len(bing) == 2
        assert any("sourcelang%3Ahindi" in p for p in gdelt) and any("sourcelang%3Aenglish" in p for p in gdelt)
        assert all("startdatetime=20221123000000" in p and "enddatetime=20221210235959" in p for p in gdelt)
        assert {"setlang=hi", "setlang=en"} <= {part for p in bing for part in p.split("&")}
        records = export_records(store, capsys)
    assert {r["language"] for r in records} == {"hi", "en"}
    assert all(r["published"][:10] <= "2022-12-11" for r in records), "the incident's end bounds discovery"
    expected = {a["slug"] for a in load_articles() if a["published"][:10] <= "2022-12-10"}
    assert {r["canonical_url"].rsplit("/", 1)[1] for r in records} <= expected
    assert len(records) >= 20


def test_sitemap_archives_outside_the_incident_dates_are_not_read(tmp_path, capsys):
    def archive_index(site: SampleSite, _path: str):
        base = site.base_url("samachar")
        body = ('<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"<sitemap><loc>{base}/sitemap-2021-05.xml</loc></sitemap>"
                f"<sitemap><loc>{base}/sitemap-archive-old.xml</loc><lastmod>2022-01-04</lastmod></sitemap>"
                f"<sitemap><loc>{base}/news-sitemap.xml</loc><lastmod>2022-12-20</lastmod></sitemap>"
                "</sitemapindex>")
        return 200, {"Content-Type": "application/xml"}, body.encode()

    with SampleSite(extra_routes={"/sitemap-index.xml": archive_index}) as site:
        incident = write_incident(site, tmp_path)
        store = f"sqlite:///{tmp_path}/archives.db"
        assert main(["update", "--incident", str(incident), "--store", store]) == 0
        paths = {path for (_pub, path), _n in site.requests.items()}
    assert "/news-sitemap.xml" in paths
    assert "/sitemap-2021-05.xml" not in paths and "/sitemap-archive-old.xml" not in paths
    assert len(export_records(store, capsys, "--include-irrelevant")) == len(load_articles())


def test_refresh_fetches_stored_pages_again(tmp_path, capsys):
    with SampleSite() as site:
        incident = write_incident(site, tmp_path)
        store = f"sqlite:///{tmp_path}/refresh.db"
        assert main(["update", "--incident", str(incident), "--store", store]) == 0
        before = article_requests(site)
        assert main(["update", "--incident", str(incident), "--store", store, "--refresh"]) == 0
        assert article_requests(site) - before >= len(load_articles())
        assert len(export_records(store, capsys, "--include-irrelevant")) == len(load_articles())

