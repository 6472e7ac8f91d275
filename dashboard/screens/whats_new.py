"""What's new: articles, facts and entities first seen since a chosen date (default: since yesterday)."""

from __future__ import annotations

from datetime import date, datetime, time

import streamlit as st

from dashboard import data
from dashboard.render import STYLE, item_html
from dashboard.view import filters_key, yesterday
from prahari.times import display_zone

url = data.current_store_url()
view = st.session_state["view"]

st.header("What's new")
try:
    default = date.fromisoformat(st.query_params.get("new_since", ""))
except ValueError:
    default = yesterday()
chosen = st.date_input("First seen since", value=default, format="YYYY-MM-DD")
st.query_params["new_since"] = chosen.isoformat()
since = datetime.combine(chosen, time(), display_zone()).isoformat()  # midnight where the analyst is
key = filters_key(view.filters(first_seen_since=since))

total = data.count_articles(url, key)
entities = data.new_entities(url, key)
left, right = st.columns(2)
left.metric("New articles", total)
right.metric("New entities", len(entities))
if entities:
    st.write("First seen: " + ", ".join(f"{e['name']}" + (f" / {e['name_hi']}" if e["name_hi"] else "")
                                         for e in entities[:30]))
articles, _total = data.article_page(url, key, 0)
facts = data.facts_for(url, tuple(a.id for a in articles))
if not articles:
    st.info("Nothing new since then. Run `prahari update` to check the sources again.")
current_day = None
for article in articles:
    day = article.filed_day() or "undated"
    if day != current_day:
        st.subheader(day)
        current_day = day
    st.html(STYLE + item_html(article, facts.get(article.id, []), 1))
if total > len(articles):
    st.caption(f"Showing the first {len(articles)} of {total}; `prahari digest --since {chosen}` lists them all.")
