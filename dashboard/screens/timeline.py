"""Timeline: search, a chart of reports per day by language with facts as events, then day by day."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.render import STYLE, item_html, legend_html, literal, member_html
from dashboard.view import filters_key, sync_query, view_from_widgets
from prahari.errors import QuerySyntaxError

url = data.current_store_url()
view = st.session_state["view"]
key = filters_key(view.filters())

st.header("Incident timeline")
st.text_input("Search in Hindi or English", key="w_q",
              placeholder='एनआईए · ransom · फिरौती · "200 crore" · hack* · ransom NOT bitcoin')
view = view_from_widgets(st.session_state)
sync_query(st.query_params, view)
st.session_state["synced_view"] = view.key()

days = pd.DataFrame(data.day_counts(url, key), columns=["day", "language", "count"])
events = pd.DataFrame(data.fact_days(url, key), columns=["day", "count"])
if days.empty:
    st.info("No articles match these filters. Widen the dates or clear a filter in the sidebar.")
    st.stop()
BAR_MODES = {"reports": "Reports per day", "events": "Events per day"}
mode = st.query_params.get("bars", "reports")
mode = st.radio("Bars", list(BAR_MODES), index=list(BAR_MODES).index(mode) if mode in BAR_MODES else 0,
                horizontal=True, format_func=BAR_MODES.get, key="bars_mode")
if mode == "events":
    st.query_params["bars"] = "events"
    per_day = pd.DataFrame([{"day": e["date"], "outlets": e["outlets"], "event": e.get("summary") or e.get("summary_hi")}
                            for e in data.events(url, key)], columns=["day", "outlets", "event"])
    counted = per_day.groupby("day").size().reset_index(name="count") if not per_day.empty else per_day
    bars = alt.Chart(counted).mark_bar(color="#7b4fa0").encode(
        x=alt.X("day:T", title=None), y=alt.Y("count:Q", title="events"), tooltip=["day:T", "count:Q"])
    st.altair_chart(bars.properties(height=220), width="stretch")
    st.caption("Bars: events per day, on the day they happened (named in the reports). The Events page lists them.")
else:
    if "bars" in st.query_params:
        del st.query_params["bars"]
    days["language"] = days["language"].map({"hi": "हिन्दी", "en": "English"}).fillna(days["language"])
    bars = alt.Chart(days).mark_bar().encode(
        x=alt.X("day:T", title=None), y=alt.Y("count:Q", title="reports"),
        color=alt.Color("language:N", title="language"), tooltip=["day:T", "language:N", "count:Q"])
    ticks = alt.Chart(events).mark_tick(color="#c0392b", thickness=2, size=14).encode(
        x="day:T", tooltip=[alt.Tooltip("day:T"), alt.Tooltip("count:Q", title="facts")])
    st.altair_chart(alt.layer(bars, ticks).properties(height=220), width="stretch")
    st.caption("Bars: reports per day by language. Red ticks: days that facts refer to.")

if view.q:
    try:
        articles = data.search(url, key, view.q)
    except QuerySyntaxError as exc:
        st.warning(literal(str(exc)))
        st.stop()
    total = len(articles)
    st.write(f"**{total}** articles match “{literal(view.q)}” (best 200, in time order)")
else:
    pages_total = max(1, -(-data.count_articles(url, key) // data.PAGE_SIZE))
    page = st.number_input("Page", min_value=1, max_value=pages_total, value=1, step=1, key="page") - 1
    articles, total = data.article_page(url, key, int(page))
    st.write(f"**{total}** articles · page {page + 1} of {pages_total}")

facts = data.facts_for(url, tuple(a.id for a in articles))
stories = data.story_members(url, tuple(sorted({a.story_id or a.id for a in articles})))
st.html(STYLE + f"<div class='pr-meta'>Marked: {legend_html()}</div>")
shown: set[str] = set()
current_day = None
for article in articles:
    story = article.story_id or article.id
    if story in shown:
        continue  # a syndicated copy: folded under the first copy of its story on this page
    shown.add(story)
    day = (article.published or "undated")[:10]
    if day != current_day:
        st.subheader(day)
        current_day = day
    members = stories.get(story, [])
    st.html(STYLE + item_html(article, facts.get(article.id, []), len(members)))
    cols = st.columns([1, 4])
    cols[0].page_link("screens/article.py", label="Article view", icon=":material/article:", query_params={"article": article.id})
    if len(members) > 1:
        with cols[1].expander(f"{len(members)} sources carry this story"):
            st.html("<br>".join(member_html(m) for m in members))

st.divider()
st.subheader("Export this view")
st.caption("The same rows as `prahari export` with the sidebar's filters (the search box does not narrow exports).")
what = st.radio("What", ["articles", "facts", "figures", "claims", "events"], horizontal=True, key="export_what")
fmt = st.radio("Format", ["csv", "xlsx", "jsonl"], horizontal=True, key="export_format")
mime = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "jsonl": "application/x-ndjson"}[fmt]
st.download_button(f"Download {what} ({fmt})", data=lambda: data.export_view(url, key, what, fmt),
                   file_name=f"prahari-{what}.{fmt}", mime=mime, on_click="ignore", icon=":material/download:")
