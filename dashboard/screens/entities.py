"""Entities: who is named, since when and doing what (first and last mention, articles, role), and a heatmap of
entity × day; a click on a name filters the timeline to it."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.view import filters_key

url = data.current_store_url()
view = st.session_state["view"]
key = filters_key(view.filters())
TYPES = {"AGENCY": "Agencies", "ORG": "Organisations", "PERSON": "People", "PLACE": "Places"}

st.header("Entities")
rows = data.entity_rows(url, key)
if not rows:
    st.info("No entities in this view.")
    st.stop()
kinds = st.segmented_control("Type", list(TYPES), format_func=TYPES.get, selection_mode="multi", default=["AGENCY"],
                             key="entity_types") or list(TYPES)
rows = [r for r in rows if r["type"] in kinds]
table = pd.DataFrame(rows)
table["name"] = [" / ".join(dict.fromkeys(n for n in (r["name"], r["name_hi"]) if n)) for r in rows]
for column in ("first_mention", "last_mention"):
    table[column] = pd.to_datetime(table[column], errors="coerce").dt.date
st.caption("When each was first and last named, in how many articles, and its role where the text says it "
           "(investigating, assisting, affected, commenting). Sorted by articles; click a header to sort by date.")
st.dataframe(table[["name", "type", "first_mention", "last_mention", "articles", "role", "id"]], hide_index=True,
             width="stretch", column_config={
                 "first_mention": st.column_config.DateColumn("first named", format="YYYY-MM-DD"),
                 "last_mention": st.column_config.DateColumn("last named", format="YYYY-MM-DD"),
                 "id": st.column_config.TextColumn("id (for --entity)")})

st.subheader("Who is named when")
shown_ids = tuple(r["id"] for r in rows[:20])
cells = pd.DataFrame(data.entity_timeline(url, key, shown_ids), columns=["day", "entity", "count"])
names = {r["id"]: r["name"] for r in rows}
cells["entity"] = cells["entity"].map(names)
order = [names[i] for i in shown_ids]
st.altair_chart(alt.Chart(cells).mark_rect().encode(
    x=alt.X("day:O", title=None, axis=alt.Axis(labelAngle=-60)),
    y=alt.Y("entity:N", title=None, sort=order, axis=alt.Axis(labelLimit=320)),
    color=alt.Color("count:Q", title="articles", scale=alt.Scale(scheme="oranges")),
    tooltip=["day:O", "entity:N", "count:Q"]).properties(height=24 * len(order) + 60), width="stretch")

st.subheader("Filter the timeline to one")
for entity in rows[:30]:
    query = {**view.to_query(), "entity": sorted(set(view.entity) | {entity["id"]})}
    st.page_link("screens/timeline.py", label=f"{entity['name']} — {entity['articles']} articles, "
                 f"{entity['first_mention'] or '?'} to {entity['last_mention'] or '?'}", query_params=query)
