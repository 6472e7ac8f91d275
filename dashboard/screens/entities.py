"""Entities: the agencies, people and places most mentioned, mentions over time; a click filters the timeline."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.view import filters_key

url = data.current_store_url()
view = st.session_state["view"]
key = filters_key(view.filters())

st.header("Entities")
top = data.facets(url, key)["entity"]
if not top:
    st.info("No entities in this view.")
    st.stop()
st.subheader("Mentions over time")
chosen = tuple(e["value"] for e in top[:8])
series = pd.DataFrame(data.entity_timeline(url, key, chosen), columns=["day", "entity", "count"])
names = {e["value"]: e.get("name") or e["value"] for e in top}
series["entity"] = series["entity"].map(names)
st.altair_chart(alt.Chart(series).mark_line(point=True).encode(
    x=alt.X("day:T", title=None), y=alt.Y("count:Q", title="articles"), color=alt.Color("entity:N", title=None),
    tooltip=["day:T", "entity:N", "count:Q"]).properties(height=260), width="stretch")

for kind, title in (("AGENCY", "Agencies"), ("PERSON", "People"), ("PLACE", "Places"), ("ORG", "Organisations")):
    group = [e for e in top if e.get("type") == kind]
    if not group:
        continue
    st.subheader(title)
    for entity in group[:15]:
        label = entity.get("name") or entity["value"]
        if entity.get("name_hi") and entity["name_hi"] != label:
            label += f" / {entity['name_hi']}"
        query = {**view.to_query(), "entity": sorted(set(view.entity) | {entity["value"]})}
        st.page_link("screens/timeline.py", label=f"{label} — {entity['count']} articles", query_params=query)
