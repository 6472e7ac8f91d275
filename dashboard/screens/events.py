"""Events: what happened on each day the reports name, with the claims and sources behind it."""

from __future__ import annotations

import streamlit as st

from dashboard import data
from prahari.times import shown
from dashboard.render import LANGUAGE_LABELS, STATUS_COLOURS, STYLE, literal, sources_html
from dashboard.view import filters_key

url = data.current_store_url()
view = st.session_state["view"]
key = filters_key(view.filters())

st.header("Events")
st.caption("One row per event: the day it happened (named in the reports, not the day they were published), "
           "how many outlets and which languages report it. Open a row for its claims and sources.")
events = data.events(url, key)
if not events:
    st.info("No events in this view. Events are built from dated facts by `prahari update` and `prahari reprocess`.")
    st.stop()
claims = {c["id"]: c for c in data.claims(url, key, None)}
st.write(f"**{len(events)}** events")
for event in events:
    languages = " + ".join(LANGUAGE_LABELS.get(lang, lang) for lang in event["languages"])
    title = event.get("summary") or event.get("summary_hi") or ""
    label = f"{event['date']} · {title} · {event['outlets']} outlet(s) · {languages}"
    with st.expander(literal(label)):
        if event.get("summary_hi") and event.get("summary"):
            st.markdown(literal(event["summary_hi"]))
        st.caption(literal(f"Entities: {', '.join(event['entities']) or '—'} · first reported "
                           f"{shown(event['first_reported'])} by {event['first_source']}"))
        for claim_id in event["claims"]:
            claim = claims.get(claim_id)
            if claim:
                cols = st.columns([4, 1])
                cols[0].markdown(f"{literal(claim['slot'])} = **{literal(claim['text'])}**")
                cols[1].badge(claim["status"], color=STATUS_COLOURS[claim["status"]])
        st.html(STYLE + sources_html(event.get("sentences") or [], "No sources.", len(event["facts"])))
