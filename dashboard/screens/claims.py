"""Claims: each slot's values with their status, and the sources for and against side by side."""

from __future__ import annotations

import streamlit as st

from dashboard import data
from prahari.times import shown
from dashboard.render import LANGUAGE_LABELS, STATUS_COLOURS, STYLE, literal, sources_html
from dashboard.view import filters_key

url = data.current_store_url()
view = st.session_state["view"]
key = filters_key(view.filters())

st.header("Claims")
st.caption("What the reports claim, value by value. **Disputed**: another outlet gives an incompatible value, or "
           "denies it. **Corroborated**: two or more independent outlets, none against. Syndicated copies and wire "
           "stories rewritten in the other language count as one outlet.")

STATUSES = ["all", "disputed", "corroborated", "single-source"]
wanted = st.query_params.get("status", "all")
status = st.radio("Status", STATUSES, horizontal=True, index=STATUSES.index(wanted) if wanted in STATUSES else 0)
claims = data.claims(url, key, None if status == "all" else status)
slots = sorted({c["slot"] for c in data.claims(url, key, None)})
wanted_slot = st.query_params.get("slot")
slot = st.selectbox("Slot", slots, index=slots.index(wanted_slot) if wanted_slot in slots else None,
                    placeholder="Every slot")
for name, value in (("status", None if status == "all" else status), ("slot", slot)):
    if value and st.query_params.get(name) != value:
        st.query_params[name] = value
    elif not value and name in st.query_params:
        del st.query_params[name]
if slot:
    claims = [c for c in claims if c["slot"] == slot]

if not claims:
    st.info("No claims in this view. Claims are built from the facts by `prahari update` and `prahari reprocess`.")
    st.stop()
counts = {s: sum(1 for c in claims if c["status"] == s) for s in STATUSES[1:]}
st.write(f"**{len(claims)}** claims · {counts['disputed']} disputed · {counts['corroborated']} corroborated · "
         f"{counts['single-source']} single-source")

texts = {c["id"]: c["text"] for c in data.claims(url, key, None)}
for claim in claims:
    with st.container(border=True):
        head = st.columns([3, 1])
        head[0].markdown(f"**{literal(claim['slot'])}** = {literal(claim['text'])}")
        head[1].badge(claim["status"], color=STATUS_COLOURS[claim["status"]])
        languages = " + ".join(LANGUAGE_LABELS.get(lang, lang) for lang in claim["languages"])
        st.caption(literal(f"{claim['outlets']} independent outlet(s) for, {claim['against']} against · {languages} · "
                           f"first reported {shown(claim['first_reported'])} by "
                           f"{claim['first_source']}"))
        if claim["conflicts_with"]:
            st.caption(literal("Conflicts with: " + "; ".join(texts.get(c, c) for c in claim["conflicts_with"])))
        backing = [f for f in claim["facts"] if f["stance"] != "denied"]
        against = [f for f in claim["facts"] if f["stance"] == "denied"]
        sides = st.columns(2)
        with sides[0]:
            st.markdown(f"**For** ({claim['facts_for']})")
            st.html(STYLE + sources_html(backing, "No source backs this value.", claim["facts_for"]))
        with sides[1]:
            st.markdown(f"**Against** ({claim['facts_against']})")
            st.html(STYLE + sources_html(against, "No source denies it.", claim["facts_against"]))
