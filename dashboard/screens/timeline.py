"""Timeline: search, a chart of reports per day by language (click a day to filter to it) with the days facts
refer to on their own strip, then the reports day by day, a page of whole days at a time. A search narrows
everything on the page: chart, count, list and export."""

from __future__ import annotations

from collections import Counter
from datetime import date
from urllib.parse import urlencode

import streamlit as st

from dashboard import charts, data
from dashboard.render import STYLE, legend_html, list_html, literal
from dashboard.view import day_pages, filters_key, sync_query, view_from_widgets
from index.query import single_script_words
from prahari.errors import QuerySyntaxError

url = data.current_store_url()
st.header("Incident timeline")
st.text_input("Search in Hindi or English", key="w_q",
              placeholder='एनआईए · ransom · फिरौती · "200 crore" · hack* · ransom NOT bitcoin')
view = view_from_widgets(st.session_state)
sync_query(st.query_params, view)
st.session_state["synced_view"] = view.key()
st.session_state["view"] = view
key = filters_key(view.filters())

# --- What is in view: every article the filters keep, or the articles the search finds among them.
found = None
if view.q:
    try:
        found = data.search(url, key, view.q)
    except QuerySyntaxError as exc:
        st.warning(literal(str(exc)))
        st.stop()
if view.starred:
    starred = data.starred_articles(url, key)
    kept = {a.id for a in starred}
    found = starred if found is None else [a for a in found if a.id in kept]
if found is not None:
    days = data.found_day_counts(found)
    fact_days = data.found_fact_days(url, tuple(a.id for a in found))
    if not found:
        what = f"match “{literal(view.q)}”" + (" among the starred ones" if view.starred else "") if view.q else \
            "are starred in this view (star a report from its article view)"
        st.info(f"No articles {what}.")
        lonely = single_script_words(view.q) if view.q else []
        if lonely:
            st.caption("Only names and glossary words cross scripts; these words match only as typed: "
                       + ", ".join(f"“{literal(w)}”" for w in lonely)
                       + ". Try the other language's word too (restored OR बहाल).")
        st.stop()
else:
    days = data.day_counts(url, key)
    fact_days = data.fact_days(url, key)
    if not days:
        st.info("No articles match these filters. Widen the dates or clear a filter in the sidebar.")
        st.stop()

# --- The charts: reports (or events) per day, and the days facts refer to.
BAR_MODES = {"reports": "Reports per day", "events": "Events per day"}


def day_link(day: str) -> str:
    """This view narrowed to one day: a bar's link (a new page load, which reads the view from the URL)."""
    return "?" + urlencode({**view.to_query(), "since": day, "until": day}, doseq=True)


def draw_charts() -> None:
    """Reports per day (click a bar to see that day alone), and the days facts refer to below them."""
    reports = [row for row in days if row["day"]]
    facts_per_day = [row for row in fact_days if row["day"]]
    mode = st.query_params.get("bars", "reports")
    mode = st.radio("Bars", list(BAR_MODES), index=list(BAR_MODES).index(mode) if mode in BAR_MODES else 0,
                    horizontal=True, format_func=BAR_MODES.get, key="bars_mode")
    if mode == "events":
        st.query_params["bars"] = "events"
        happened = Counter(e["date"] for e in data.events(url, key) if e["date"])
        per_day = [{"day": d, "count": n} for d, n in sorted(happened.items())]
        span = charts.day_span(row["day"] for row in (*reports, *facts_per_day, *per_day))
        bars = charts.event_bars(per_day, span)
        caption = "Bars: events per day, on the day they happened (named in the reports). The Events page lists them."
    else:
        if "bars" in st.query_params:
            del st.query_params["bars"]
        span = charts.day_span(row["day"] for row in (*reports, *facts_per_day))
        bars = charts.report_bars(reports, span, day_link)
        caption = ("Bars: reports per day by language (click one to see that day alone). Red ticks under them: the "
                   "days facts in these reports refer to." + (" Both follow the search." if found is not None else ""))
    st.html(charts.STYLE + bars + charts.fact_strip(facts_per_day, span))
    st.caption(caption)


draw_charts()

# --- The list, a page of whole days at a time; the page is in the URL.
pages = day_pages(days, data.PAGE_SIZE)
asked = st.query_params.get("page", "1")
page = min(max(int(asked) if asked.isdigit() else 1, 1), len(pages))
shown_page = pages[page - 1]
total = sum(row["count"] for row in days)
if found is not None:
    on_days = [a for a in found if a.filed_day() == shown_page.first or (
        shown_page.first is not None and shown_page.first <= (a.filed_day() or "") <= shown_page.last)]
    articles = on_days[shown_page.offset:shown_page.offset + shown_page.count]
    capped = " (the best 1,000)" if len(found) >= data.SEARCH_LIMIT else ""
    starred_note = " starred" if view.starred else ""
    if view.q:
        st.write(f"**{total}**{starred_note} articles match “{literal(view.q)}”{capped}, in time order")
    else:
        st.write(f"**{total}** starred articles, in time order")
else:
    articles = data.articles_on_page(url, key, shown_page)
    st.write(f"**{total}** articles")


def pager(where: str) -> None:
    """Previous / next with the page and its days (the page number lives in the URL)."""
    if len(pages) == 1:
        return
    left, middle, right = st.columns([1, 3, 1])
    if left.button("‹ Earlier", key=f"prev_{where}", disabled=page == 1, width="stretch"):
        st.query_params["page"] = str(page - 1)
        st.rerun()
    middle.markdown(f"Page {page} of {len(pages)} · {shown_page.label()} · {shown_page.count} articles",
                    text_alignment="center")
    if right.button("Later ›", key=f"next_{where}", disabled=page == len(pages), width="stretch"):
        st.query_params["page"] = str(page + 1)
        st.rerun()


pager("top")
ids = tuple(a.id for a in articles)
facts = data.facts_for(url, ids)
notes = data.workspace(url, "article", ids)
stories = data.story_members(url, tuple(sorted({a.story_id or a.id for a in articles})))
matches = data.match_words(view.q) if view.q else None
st.html(STYLE + f"<div class='pr-meta'>Marked: {legend_html()}"
        + (" · <mark class='pr-hit'>search match</mark>" if matches else "") + "</div>"
        + list_html(articles, facts, stories, matches, notes))
pager("bottom")



st.divider()
st.subheader("Export this view")
if found is not None:
    st.caption(f"The {len(found)} articles in this list (every page), their facts or their figures.")
    choices = ["articles", "facts", "figures"]
else:
    st.caption("The same rows as `prahari export` with the sidebar's filters.")
    choices = ["articles", "facts", "figures", "claims", "events", "notes"]
what = st.radio("What", choices, horizontal=True, key="export_what")
fmt = st.radio("Format", ["csv", "xlsx", "jsonl"], horizontal=True, key="export_format")
mime = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "jsonl": "application/x-ndjson"}[fmt]
found_ids = tuple(a.id for a in found) if found is not None else None
st.download_button(f"Download {what} ({fmt})", data=lambda: data.export_view(url, key, what, fmt, found_ids),
                   file_name=f"prahari-{what}-{date.today().isoformat()}.{fmt}", mime=mime, on_click="ignore",
                   icon=":material/download:")
