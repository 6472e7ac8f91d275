"""End to end in real headless Chromium: search, a date filter from the URL, CSV download, article view."""

from __future__ import annotations

import csv
from datetime import date, timedelta
import io

import pytest

from index.ledger import read_claims
from index.query import Filters, Scope
from index.store import open_store
from prahari.model import RawPage
from tests.browser import ARTIFACTS, browser_page, chromium_path, dashboard_server

TIMEOUT = 30_000  # ms; the first load after a server start can be slow and blank


@pytest.fixture(scope="module")
def served(crawled):
    chromium_path()  # fail (CI) or skip (laptop without chromium) before starting anything
    store, _incident = crawled
    with dashboard_server(store) as base:
        yield store, base


def wait_for_text(page, text: str) -> None:
    page.get_by_text(text, exact=False).first.wait_for(timeout=TIMEOUT)


def settle(page) -> None:
    """Wait until Streamlit has replaced its loading skeletons and drawn the timeline items."""
    page.locator(".pr-item").first.wait_for(timeout=TIMEOUT)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=TIMEOUT)


def test_search_for_nia_in_hindi_shows_hindi_and_english_reports(served):
    store, base = served
    db = open_store(store)
    nia = list(db.iter_articles(Filters(entity=["nia"])))
    db.close()
    hindi = next(a.title for a in nia if a.language == "hi")
    english = next(a.title for a in nia if a.language == "en")
    with browser_page() as page:
        page.goto(base + "/")
        wait_for_text(page, "Incident timeline")
        box = page.get_by_label("Search in Hindi or English")
        box.fill("एनआईए")
        box.press("Enter")
        wait_for_text(page, "articles match “एनआईए”")
        wait_for_text(page, hindi)
        wait_for_text(page, english)
        assert "q=%E0%A4%8F" in page.url  # the search is in the URL, so the view can be shared
        settle(page)
        page.screenshot(path=str(ARTIFACTS / "timeline-search-nia.png"), full_page=False)


def test_date_filter_from_the_url_is_applied(served):
    store, base = served
    db = open_store(store)
    expected = db.count_articles(Filters(since=date(2022, 12, 1), until=date(2022, 12, 5)))
    db.close()
    with browser_page() as page:
        page.goto(base + "/?since=2022-12-01&until=2022-12-05")
        wait_for_text(page, f"{expected} articles")
        settle(page)
        assert page.get_by_role("heading", name="2022-11-28").count() == 0  # days outside the range are gone
        assert page.get_by_role("heading", name="2022-12-01").count() == 1
        page.screenshot(path=str(ARTIFACTS / "timeline-date-filter.png"), full_page=False)


def test_csv_download_has_the_filtered_rows(served):
    store, base = served
    db = open_store(store)
    expected = sorted(a.id for a in db.iter_articles(Filters(lang="hi")))
    db.close()
    with browser_page() as page:
        page.goto(base + "/?lang=hi")
        wait_for_text(page, "Export this view")
        with page.expect_download(timeout=TIMEOUT) as download:
            page.get_by_role("button", name="Download articles (csv)").click()
        rows = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8"))))
    assert sorted(r["id"] for r in rows) == expected
    assert all(r["language"] == "hi" for r in rows) and all(r["url"].startswith("http") for r in rows)


def test_article_view_opens_with_marked_text_and_siblings(served):
    _store, base = served
    with browser_page() as page:
        page.goto(base + "/")
        wait_for_text(page, "Incident timeline")
        page.get_by_role("link", name="Article view").first.click()
        wait_for_text(page, "Same story elsewhere")
        # The marked text is an HTML element: it can land in the page a moment after the headings around it.
        page.locator("mark").first.wait_for(timeout=TIMEOUT)
        assert page.locator("mark").count() > 0, "entities, figures and dates are marked in the text"
        assert "article=" in page.url


def test_timeline_screenshot_of_the_demo_store(served):
    _store, base = served
    with browser_page() as page:
        page.goto(base + "/")
        wait_for_text(page, "Incident timeline")
        page.locator("canvas, svg").first.wait_for(timeout=TIMEOUT)  # the chart has drawn
        wait_for_text(page, "एम्स")  # Devanagari headlines are on the page
        settle(page)
        page.screenshot(path=str(ARTIFACTS / "timeline.png"), full_page=True)
    assert (ARTIFACTS / "timeline.png").stat().st_size > 20_000


def test_sidebar_language_click_filters_and_updates_the_url(served):
    store, base = served
    db = open_store(store)
    hindi = db.count_articles(Filters(lang="hi"))
    db.close()
    with browser_page() as page:
        page.goto(base + "/")
        settle(page)
        page.locator('[data-testid="stSidebar"] label').filter(has_text="हिन्दी").click()
        wait_for_text(page, f"{hindi} articles")
        assert page.url.endswith("?lang=hi")


@pytest.mark.parametrize("widget", ["source", "dates", "starred"])
def test_the_first_change_to_a_sidebar_filter_takes_effect(served, widget):
    """Each filter is the first thing touched on a fresh page: nothing settles the widgets beforehand."""
    _store, base = served
    with browser_page() as page:
        page.goto(base + "/")
        settle(page)
        sidebar = page.locator('[data-testid="stSidebar"]')
        if widget == "source":
            sidebar.locator('[data-testid="stSelectbox"]').filter(has_text="Source").click()
            page.get_by_role("option").first.click()
            wanted = "source="
        elif widget == "dates":
            page.get_by_label("year, Published between start date").click()
            page.keyboard.type("20221125")
            page.get_by_label("year, Published between end date").click()
            page.keyboard.type("20221130")
            page.keyboard.press("Escape")  # the range is applied when its calendar closes
            page.get_by_text("Incident timeline").click()
            wanted = "since=2022-11-25&until=2022-11-30"
        else:
            sidebar.get_by_text("Starred only").click()
            wanted = "starred=1"
        page.wait_for_url(f"**{wanted}**", timeout=TIMEOUT)


def test_claims_page_shows_the_disputed_ransom_claim_with_sources_in_both_languages(served):
    store, base = served
    db = open_store(store)
    [ransom] = read_claims(db, Scope(), slot="ransom_demand")
    db.close()
    hindi_denial = next(f for f in ransom["facts"] if f["stance"] == "denied" and f["language"] == "hi")
    english_claim = next(f for f in ransom["facts"] if f["stance"] != "denied" and f["language"] == "en")
    with browser_page() as page:
        page.goto(base + "/claims?status=disputed")
        wait_for_text(page, "ransom_demand")
        wait_for_text(page, "₹200 crore")
        wait_for_text(page, hindi_denial["sentence"][:40])  # against, in Hindi
        wait_for_text(page, english_claim["sentence"][:40])  # for, in English
        assert page.get_by_text("Against (2)").count() == 1
        page.screenshot(path=str(ARTIFACTS / "claims.png"), full_page=False)
        # A source opens: its article view, with the report's headline.
        source = page.locator(f'a.pr-open[href$="article={english_claim["article_id"]}"]').first
        source.click()
        page.wait_for_url(f"**/article?article={english_claim['article_id']}", timeout=TIMEOUT)
        db = open_store(store)
        title = db.get_article(english_claim["article_id"]).title
        db.close()
        wait_for_text(page, title)
        assert "status=disputed" not in page.url


def test_events_view_and_event_bars_keep_their_state_in_the_url(served):
    _store, base = served
    with browser_page() as page:
        page.goto(base + "/events")
        wait_for_text(page, "2022-11-25")
        page.get_by_text("2022-11-25", exact=False).first.click()
        wait_for_text(page, "registered a case")
        page.goto(base + "/?bars=events")
        wait_for_text(page, "Bars: events per day")
        page.locator('label').filter(has_text="Reports per day").click()
        wait_for_text(page, "Bars: reports per day by language")
        assert "bars=" not in page.url


def test_a_search_narrows_chart_count_list_and_export_together(served):
    store, base = served
    with browser_page() as page:
        page.goto(base + "/?q=ransom")
        wait_for_text(page, "articles match “ransom”")
        settle(page)
        count = int(page.get_by_text("articles match “ransom”").first.inner_text().split()[0])
        db = open_store(store)
        from index.query import build_search
        expected = db.search(build_search("ransom"), Filters(), limit=1000)
        db.close()
        assert count == len(expected) < db_total(store)
        # The list holds only matches, each with its matched words marked (फिरौती is ransom in Hindi).
        hits = page.locator("mark.pr-hit")
        assert hits.count() > 0
        marked = {t.casefold() for t in hits.all_inner_texts()}
        assert marked & {"ransom", "फिरौती"} and marked <= {"ransom", "फिरौती", "ransomware"} | marked
        listed = page.locator(".pr-item").count()
        with page.expect_download(timeout=TIMEOUT) as download:
            page.get_by_role("button", name="Download articles (csv)").click()
        rows = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8"))))
    assert sorted(r["id"] for r in rows) == sorted(a.id for a in expected), "export rows are the search's rows"
    assert listed <= len(rows)  # syndicated copies fold in the list
    assert all(r["relevant"] for r in rows)


def db_total(store: str) -> int:
    db = open_store(store)
    try:
        return db.count_articles(Filters())
    finally:
        db.close()


def test_a_search_that_finds_nothing_says_which_words_stay_in_their_script(served):
    _store, base = served
    with browser_page() as page:
        page.goto(base + "/?q=restored&lang=hi")
        wait_for_text(page, "No articles match “restored”")
        wait_for_text(page, "these words match only as typed: “restored”")
        assert page.locator(".pr-item").count() == 0


def test_clicking_a_day_bar_filters_to_that_day_and_keeps_the_view(served):
    store, base = served
    db = open_store(store)
    busiest = max(db.timeline(Filters(lang="hi")), key=lambda r: r["count"])
    day = date.fromisoformat(busiest["day"])
    expected = db.count_articles(Filters(lang="hi", since=day, until=day))
    db.close()
    with browser_page() as page:
        page.goto(base + "/?lang=hi")
        settle(page)
        # Each bar is a link titled with its day and count: a click opens this view narrowed to that day.
        bar = page.get_by_role("link", name=f"{day.isoformat()}: {expected:,} reports")
        assert bar.count() == 1
        bar.click()
        page.wait_for_url(f"**until={day.isoformat()}**", timeout=TIMEOUT)
        assert f"since={day.isoformat()}" in page.url and "lang=hi" in page.url
        wait_for_text(page, f"{expected} articles")
        settle(page)
        assert page.get_by_role("heading", name=day.isoformat()).count() == 1
        assert page.get_by_role("heading", name=(day - timedelta(days=1)).isoformat()).count() == 0


def test_the_figures_page_reads_figures_as_written(served):
    _store, base = served
    with browser_page() as page:
        page.goto(base + "/figures")
        wait_for_text(page, "Reported figures")
        summary = page.locator(".pr-figures").first
        summary.wait_for(timeout=TIMEOUT)
        text = summary.inner_text()
        assert "20 of 50 servers" in text and "₹200 crore" in text and "3–4 crore patients" in text
        page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=TIMEOUT)
        page.screenshot(path=str(ARTIFACTS / "figures.png"), full_page=False)


def linked_page_article(store: str) -> str:
    """An article whose stored page has links (the evidence viewer must not follow them anywhere)."""
    db = open_store(store)
    try:
        return next(a.id for a in db.iter_articles(Filters())
                    if b'<a href="' in (db.get_page(a.canonical_url) or RawPage("", b"", "")).body)
    finally:
        db.close()


def test_no_request_leaves_the_dashboard_host(served):
    _store, base = served
    host = base.split("//", 1)[1].split("/", 1)[0]
    requested: list[str] = []
    with browser_page() as page:
        page.on("request", lambda request: requested.append(request.url))
        for path in ("/", "/?q=ransom", "/claims", "/events", "/entities", "/figures", "/new"):
            page.goto(base + path)
            page.wait_for_load_state("networkidle")
        # The stored page (evidence) opens sandboxed: its images, styles and links must not reach the publisher.
        page.goto(base + f"/article?article={linked_page_article(_store)}")
        page.get_by_text("Stored page as fetched").first.click()
        stored = page.frame_locator('iframe[title="st.iframe"]').first.frame_locator("iframe")
        stored.locator("a[href]").first.click(timeout=TIMEOUT)
        page.wait_for_timeout(1000)
        page.wait_for_load_state("networkidle")
    elsewhere = sorted({u for u in requested if u.split("//", 1)[-1].split("/", 1)[0] != host
                        and not u.startswith(("data:", "blob:", "about:"))})
    assert requested and elsewhere == [], elsewhere


def test_star_tags_and_note_survive_a_reload_and_a_reprocess(served, crawled):
    from index.workspace import annotate
    from prahari.app.cli import main

    store, base = served
    db = open_store(store)
    article = next(a for a in db.iter_articles(Filters(entity=["cert-in"])))
    db.close()
    try:
        with browser_page() as page:
            page.goto(base + f"/article?article={article.id}&lang={article.language}")
            wait_for_text(page, "Your notes on this report")
            page.get_by_text("★ Star this report").click()
            page.get_by_label("Tags (comma-separated)").fill("key report, cert-in")
            page.get_by_role("textbox", name="Note").fill("CERT-In arrives on day one")
            # Leave the box first, as a person does: Streamlit commits a form's text when its box loses focus,
            # and under load a click straight after fill could submit before that commit.
            page.keyboard.press("Tab")
            page.get_by_role("button", name="Save").first.click()
            wait_for_text(page, "Last saved")
            assert main(["reprocess", "--incident", str(crawled[1]), "--store", store]) == 0
            page.reload()
            wait_for_text(page, "Your notes on this report")
            assert page.get_by_role("checkbox", name="★ Star this report").is_checked()
            assert page.get_by_label("Tags (comma-separated)").input_value() == "key report, cert-in"
            assert page.get_by_role("textbox", name="Note").input_value() == "CERT-In arrives on day one"
            page.get_by_role("link", name="Back to the timeline").click()
            page.wait_for_url(f"**lang={article.language}**", timeout=TIMEOUT)  # the filters came back
            page.goto(base + "/?starred=1")
            wait_for_text(page, "starred articles")
            settle(page)
            assert page.locator(".pr-item").count() == 1
            assert "★ starred #key report #cert-in — CERT-In arrives on day one" in page.locator(".pr-note").inner_text()
    finally:
        db = open_store(store)
        annotate(db, "article", article.id, False, [], "")  # the shared store goes back as it was
        db.close()


def test_a_page_of_reports_stays_short_on_a_phone(served):
    _store, base = served
    with browser_page(viewport={"width": 390, "height": 844}, mobile=True) as page:
        page.goto(base + "/")
        settle(page)
        items = page.locator(".pr-item").count()
        height = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
        page.screenshot(path=str(ARTIFACTS / "timeline-phone.png"), full_page=True)
    assert items >= 10
    assert height / items < 260, f"{height} px for {items} reports"  # one compact block per report
    print(f"phone: {height} px for {items} reports")
