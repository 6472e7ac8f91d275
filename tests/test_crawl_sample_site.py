"""Real Scrapy crawls of the sample site on 127.0.0.1: every source type, metadata path, dedup and relevance."""

from __future__ import annotations

from datetime import datetime

from prahari.app.cli import main
from prahari.app.sample.site import SampleSite, load_articles
from tests.conftest import export_records, write_incident


def by_url(records):
    return {r["canonical_url"].split("/news/")[1]: r for r in records}


def test_every_sample_article_is_stored_with_correct_metadata(crawled, site, capsys):
    store, _ = crawled
    records = by_url(export_records(store, capsys, "--include-irrelevant"))
    articles = load_articles()
    assert set(records) == {a["slug"] for a in articles}
    for article in articles:
        record = records[article["slug"]]
        assert record["title"] == article["title"], article["slug"]
        assert datetime.fromisoformat(record["published"]) == datetime.fromisoformat(article["published"])
        assert record["published"].endswith("+05:30")
        assert record["language"] == article["lang"]
        assert record["author"] == article["author"]  # Devanagari names keep their last vowel sign
        assert record["relevant"] is (not article.get("irrelevant", False)), article["slug"]
        assert record["source"] == f"127.0.0.1:{site.ports[article['publisher']]}"
        # Body only: no nav, related-links box, "also read" line, share bar or footer.
        for boilerplate in ("Related", "Share on", "All rights reserved", "इसे भी पढ़ें", "Also Read", "कॉपीराइट"):
            assert boilerplate not in record["text"], (article["slug"], boilerplate)
        first_paragraph = article["body"].strip().splitlines()[0].strip()
        assert first_paragraph in record["text"]
        assert set(record) >= {"id", "url", "canonical_url", "fetched", "relevance", "incident", "story_id",
                               "duplicate_of", "entities", "figures", "dates"}


def test_syndicated_copies_share_a_story(crawled, capsys):
    store, _ = crawled
    records = by_url(export_records(store, capsys, "--include-irrelevant"))
    original, copy = records["chronicle-wire-mha-meeting"], records["metro-wire-mha-meeting"]
    assert original["story_id"] == copy["story_id"]
    assert copy["duplicate_of"] == original["id"] and original["duplicate_of"] is None
    others = [r for slug, r in records.items() if slug not in ("chronicle-wire-mha-meeting", "metro-wire-mha-meeting")]
    assert all(r["story_id"] == r["id"] and r["duplicate_of"] is None for r in others)


def test_irrelevant_articles_are_left_out_by_default(crawled, capsys):
    store, _ = crawled
    default = export_records(store, capsys)
    everything = export_records(store, capsys, "--include-irrelevant")
    assert len(everything) - len(default) == sum(1 for a in load_articles() if a.get("irrelevant"))
    assert all(r["relevant"] for r in default)


def test_rerun_fetches_no_article_page_and_adds_nothing(site, tmp_path, capsys):
    incident = write_incident(site, tmp_path)
    store = f"sqlite:///{tmp_path}/re.db"
    assert main(["update", "--incident", str(incident), "--store", store]) == 0
    first = export_records(store, capsys, "--include-irrelevant")
    before = sum(n for (pub, path), n in site.requests.items() if path.startswith("/news/"))
    assert main(["update", "--incident", str(incident), "--store", store]) == 0
    out = capsys.readouterr().out
    after = sum(n for (pub, path), n in site.requests.items() if path.startswith("/news/"))
    assert after == before, "the second run fetched article pages again"
    assert "0 pages fetched" in out
    second = export_records(store, capsys, "--include-irrelevant")
    assert sorted(r["id"] for r in first) == sorted(r["id"] for r in second)


def test_amp_and_tracking_variants_are_not_stored_twice(crawled, capsys):
    store, _ = crawled
    records = export_records(store, capsys, "--include-irrelevant")
    urls = [r["canonical_url"] for r in records]
    assert len(urls) == len(set(urls))
    assert not any("utm_" in u or u.endswith("/amp") for u in urls)


def test_sitemap_index_and_news_sitemap_dates_are_used(crawled, capsys):
    """The 'feed date' article has no date in its page: the date comes from the news sitemap."""
    store, _ = crawled
    records = by_url(export_records(store, capsys, "--include-irrelevant"))
    assert records["ehospital-bahal"]["published"].startswith("2022-11-29T13:00")


def test_max_pages_limits_article_fetches(site, tmp_path, capsys):
    incident = write_incident(site, tmp_path)
    store = f"sqlite:///{tmp_path}/max.db"
    assert main(["update", "--incident", str(incident), "--store", store, "--max-pages", "5"]) == 0
    assert len(export_records(store, capsys, "--include-irrelevant")) == 5


def test_update_can_run_twice_in_one_process_and_on_a_second_site(tmp_path, capsys):
    """Twisted's reactor cannot restart: crawls run in child processes, so this works."""
    with SampleSite() as other:
        incident = write_incident(other, tmp_path, "other")
        store = f"sqlite:///{tmp_path}/two.db"
        assert main(["update", "--incident", str(incident), "--store", store]) == 0
        assert main(["update", "--incident", str(incident), "--store", store]) == 0
    assert len(export_records(store, capsys, "--include-irrelevant")) == len(load_articles())
