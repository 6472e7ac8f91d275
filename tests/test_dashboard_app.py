"""The dashboard's pages and controls under Streamlit's AppTest, over a real crawled store."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from datetime import date
from streamlit.testing.v1 import AppTest

from dashboard import charts, data
from dashboard.render import item_html
from dashboard.view import View, filters_key
from index.query import Filters
from index.store import open_store
from prahari.app.cli import main
from prahari.model import Article

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")


@pytest.fixture()
def app(crawled, monkeypatch, main_module_restored):
    store, _incident = crawled
    monkeypatch.setenv("PRAHARI_STORE", store)
    data.check_store.clear()
    return AppTest.from_file(APP, default_timeout=60)


def query(at: AppTest, key: str) -> list[str]:
    """A URL query parameter as a list (AppTest keeps single values as strings)."""
    value = at.query_params.get(key, [])
    return value if isinstance(value, list) else [value]


def list_block(at: AppTest) -> str:
    """The HTML of the timeline's list (the one st.html block holding the reports)."""
    return next(h.value for h in at.html if "pr-item" in h.value)


def list_days(at: AppTest) -> list[str]:
    """The day headings of the list, in order."""
    return re.findall(r'<h3 class="pr-day">([^<]+)</h3>', list_block(at))


def texts(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown) + "\n".join(c.value for c in at.caption)


def test_timeline_renders_chart_days_and_items(app):
    app.run()
    assert not app.exception
    assert [h.value for h in app.header] == ["Incident timeline"]
    chart = next(h.value for h in app.html if "pr-plot" in h.value)  # the per-day chart is drawn
    assert "2022-11-25: " in chart and " reports" in chart and " facts" in chart
    assert list_days(app)[0].startswith("2022-11-"), "items are grouped by day"
    assert list_block(app).count("<summary>2 sources carry this story</summary>") == 1  # the syndicated copy is folded
    assert "44** articles" in texts(app)


def test_day_bars_stack_languages_on_a_shared_day_axis():
    span = (date(2022, 11, 25), date(2022, 12, 4))  # ten days: each day's column is a tenth of the width
    rows = [{"day": "2022-11-25", "language": "en", "count": 5}, {"day": "2022-11-25", "language": "hi", "count": 3},
            {"day": "2022-12-04", "language": "en", "count": 2}]
    drawn = charts.report_bars(rows, span, lambda day: f"?since={day}&until={day}")
    assert "title='2022-11-25: 8 reports (हिन्दी 3, English 5)'" in drawn  # Hindi first, at the bottom
    assert "href='?since=2022-12-04&amp;until=2022-12-04'" in drawn and "left:91.0%" in drawn
    assert "height:100.00%" in drawn and "height:25.00%" in drawn  # gridlines every 2 up to 8
    strip = charts.fact_strip([{"day": "2022-11-29", "count": 4}], span)
    assert "left:45.0%" in strip and "2022-11-29: 4 facts" in strip  # the middle of the fifth day, under its bar
    assert charts.day_span(["2022-12-04", None, "2022-11-25T10:00:00", "2022-11", "soon"]) == span
    assert charts.day_span([None, "not a day"]) is None
    assert "soon" not in charts.fact_strip([{"day": "soon", "count": 1}], span)  # a day that does not parse is left out


def test_search_finds_entity_aliases_and_rejects_hostile_syntax(app, crawled):
    app.run()
    app.text_input(key="w_q").set_value("एनआईए").run()
    assert not app.exception
    store = open_store(crawled[0])
    with_nia = {a.language for a in store.iter_articles(Filters(entity=["nia"]))}
    store.close()
    assert with_nia == {"hi", "en"}
    line = next(m.value for m in app.markdown if "match" in m.value)
    assert int(line.split("**")[1]) >= 4
    assert query(app, "q") == ["एनआईए"]
    app.text_input(key="w_q").set_value('"unclosed AND (').run()
    assert not app.exception
    assert app.warning and "quote" in app.warning[0].value


def test_sidebar_filters_are_read_from_the_url(app):
    app.query_params["since"] = "2022-12-01"
    app.query_params["lang"] = "hi"
    app.run()
    assert not app.exception
    assert app.date_input(key="w_dates").value == (date(2022, 12, 1),)
    assert app.radio(key="w_lang").value == "hi"
    store = open_store(data.current_store_url())
    expected = store.count_articles(View(since=date(2022, 12, 1), lang="hi").filters())
    store.close()
    assert f"{expected}** articles" in texts(app)


@pytest.mark.parametrize("widget, key, value, param, expected", [
    ("radio", "w_lang", "en", "lang", ["en"]),
    ("multiselect", "w_entity", ["nia", "cert-in"], "entity", ["cert-in", "nia"]),
    ("selectbox", "w_kind", "money", "kind", ["money"]),
    ("date_input", "w_dates", (date(2022, 11, 25), date(2022, 11, 30)), "until", ["2022-11-30"]),
    ("text_input", "w_q", "फिरौती", "q", ["फिरौती"]),
])
def test_each_control_writes_its_value_to_the_url(app, widget, key, value, param, expected):
    app.run()
    getattr(app, widget)(key=key).set_value(value).run()
    assert not app.exception
    assert sorted(query(app, param)) == expected


def test_bad_url_values_are_ignored_not_fatal(app):
    app.query_params["since"] = "not-a-date"
    app.query_params["lang"] = "<script>"
    app.query_params["kind"] = "bogus"
    app.run()
    assert not app.exception and "44** articles" in texts(app)


def test_each_page_renders(app, crawled):
    app.run()
    for page, header in (("screens/entities.py", "Entities"), ("screens/figures.py", "Figures"),
                         ("screens/whats_new.py", "What's new"), ("screens/claims.py", "Claims"),
                         ("screens/events.py", "Events")):
        app.switch_page(page).run()
        assert not app.exception, page
        assert [h.value for h in app.header] == [header]
    app.switch_page("screens/entities.py").run()
    agencies = app.dataframe[0].value
    nia = agencies[agencies["id"] == "nia"].iloc[0]
    assert str(nia["first_mention"]) == "2022-11-28" and nia["role"] == "investigating" and nia["articles"] >= 2
    assert set(agencies["type"]) == {"AGENCY"}
    app.switch_page("screens/figures.py").run()
    table = app.dataframe[0].value
    assert len(table) > 20 and {"figure", "title", "event_date", "kind", "value", "unit", "sentence", "source",
                                "url"} <= set(table.columns)
    shown = set(table["figure"])
    assert {"20 of 50 servers", "3–4 crore patients", "₹200 crore", "about ₹200 crore"} <= shown
    assert list(table["event_date"].dropna()) == sorted(table["event_date"].dropna())
    money = table[table["figure"] == "₹200 crore"].iloc[0]
    assert money["value"] == 2e9 and money["title"]
    app.query_params["unit"] = ["server"]
    app.switch_page("screens/figures.py").run()
    assert set(app.dataframe[0].value["unit"]) == {"server"}
    del app.query_params["unit"]
    app.switch_page("screens/whats_new.py").run()
    assert [m.value for m in app.metric][0] == "44"  # everything was first seen today


def test_article_view_and_missing_article(app, crawled):
    store = open_store(crawled[0])
    wire = next(a for a in store.iter_articles(Filters()) if a.duplicate_of)
    store.close()
    app.query_params["article"] = wire.id
    app.run()
    app.switch_page("screens/article.py").run()
    assert not app.exception
    assert any(s.value.startswith("Same story elsewhere (1)") for s in app.subheader)
    app.query_params["article"] = "0000"
    app.switch_page("screens/article.py").run()
    assert app.warning and "No such article" in app.warning[0].value


def test_export_of_the_view_matches_the_cli(crawled, capsys, tmp_path):
    store, _incident = crawled
    key = filters_key(View(lang="en").filters())
    rows = list(csv.DictReader(io.StringIO(data.export_view(store, key, "articles", "csv").decode("utf-8"))))
    assert main(["export", "--what", "articles", "--format", "csv", "--lang", "en", "--store", store,
                 "--out", str(tmp_path / "cli.csv")]) == 0
    assert rows == list(csv.DictReader(io.StringIO((tmp_path / "cli.csv").read_text(encoding="utf-8"))))
    facts = data.export_view(store, key, "facts", "jsonl").decode("utf-8").splitlines()
    capsys.readouterr()
    assert main(["export", "--what", "facts", "--format", "jsonl", "--lang", "en", "--store", store]) == 0
    assert facts == capsys.readouterr().out.splitlines() and all(json.loads(f)["language"] == "en" for f in facts)


def test_page_text_is_escaped():
    hostile = Article(id="x", url="https://example.org/a?b=1&c=<2>", canonical_url="u", source="evil<b>.org",
                      title="<script>alert(1)</script> [click](javascript:alert(1)) **bold**", language="en",
                      text="", published="2022-11-25T10:00:00+05:30")
    rendered = item_html(hostile, [], 1)
    assert "<script>" not in rendered and "&lt;script&gt;" in rendered
    assert "evil&lt;b&gt;.org" in rendered and "[click](javascript:alert(1)) **bold**" in rendered


def test_claims_page_filters_by_status_and_slot_from_the_url(app, crawled):
    app.query_params["status"] = "disputed"
    app.query_params["slot"] = "servers_affected"
    app.run()
    app.switch_page("screens/claims.py").run()
    assert not app.exception
    status = next(r for r in app.radio if r.label == "Status")
    assert status.value == "disputed"
    shown = " ".join(m.value for m in app.markdown)
    assert "**3** claims · 3 disputed" in shown and "20 of 50 servers" in shown and "ransom_demand" not in shown
    status.set_value("corroborated").run()
    assert query(app, "status") == ["corroborated"] and query(app, "slot") == ["servers_affected"]
    assert "No claims in this view" in app.info[0].value  # every server count is disputed


def test_pages_hold_whole_days_and_cut_only_a_day_too_big_for_one():
    from dashboard.view import DayPage, day_pages

    days = [{"day": "2022-11-23", "language": "hi", "count": 10}, {"day": "2022-11-23", "language": "en", "count": 8},
            {"day": "2022-11-24", "language": "en", "count": 9}, {"day": "2022-11-25", "language": "hi", "count": 130},
            {"day": "2022-11-26", "language": "en", "count": 3}]
    assert day_pages(days, 25) == [
        DayPage("2022-11-23", "2022-11-23", 18), DayPage("2022-11-24", "2022-11-24", 9),
        DayPage("2022-11-25", "2022-11-25", 25, 0, 1, 6), DayPage("2022-11-25", "2022-11-25", 25, 25, 2, 6),
        DayPage("2022-11-25", "2022-11-25", 25, 50, 3, 6), DayPage("2022-11-25", "2022-11-25", 25, 75, 4, 6),
        DayPage("2022-11-25", "2022-11-25", 25, 100, 5, 6), DayPage("2022-11-25", "2022-11-25", 5, 125, 6, 6),
        DayPage("2022-11-26", "2022-11-26", 3)]
    assert day_pages(days[:3], 30) == [DayPage("2022-11-23", "2022-11-24", 27)]
    assert day_pages(days[:3], 30)[0].label() == "2022-11-23 – 2022-11-24"
    assert day_pages([], 25) == [DayPage(None, None, 0)]


def test_a_view_saved_by_name_comes_back_as_a_link_and_can_be_forgotten(app, crawled):
    app.query_params["lang"] = "hi"
    app.query_params["q"] = "फिरौती"
    app.run()
    app.text_input(key="saved_name").set_value("फिरौती, Hindi only").run()
    next(b for b in app.button if b.label == "Save this view").click().run()
    assert not app.exception
    store = open_store(crawled[0])
    saved = store.workspace("search")
    store.close()
    assert list(saved) == ["फिरौती, Hindi only"]
    assert dict(p.split("=", 1) for p in saved["फिरौती, Hindi only"]["query"].split("&")) == {
        "q": "%E0%A4%AB%E0%A4%BF%E0%A4%B0%E0%A5%8C%E0%A4%A4%E0%A5%80", "lang": "hi"}
    links = [link for link in app.get("page_link") if link.proto.label == "फिरौती, Hindi only"]
    assert links, "the saved view is listed in the sidebar"
    next(b for b in app.button if b.key == "forget_फिरौती, Hindi only").click().run()
    store = open_store(crawled[0])
    assert store.workspace("search") == {}
    store.close()


def test_the_page_lives_in_the_url_and_a_new_filter_starts_at_page_one(app):
    app.query_params["page"] = "2"
    app.run()
    assert not app.exception
    pager = [m.value for m in app.markdown if "Page " in m.value and " of " in m.value]
    assert len(pager) == 2 and "Page 2 of 2" in pager[0], pager  # above and below the list
    assert list_days(app)[0] > "2022-11-28"  # page 2 starts after page 1's days
    app.radio(key="w_lang").set_value("hi").run()
    assert "page" not in app.query_params
    assert all("Page 1 of" in m.value for m in app.markdown if "Page " in m.value and " of " in m.value)
    assert list_days(app)[0] <= "2022-12-01", "the Hindi list starts at its first day"
