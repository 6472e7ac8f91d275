"""Prahari dashboard entry: page setup, the shared sidebar filters (kept in the URL), and navigation."""

from __future__ import annotations

from datetime import datetime, time, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import streamlit as st

from dashboard import data
from dashboard.render import LANGUAGE_LABELS, literal
from dashboard.view import FIGURE_KINDS, View, filters_key, sync_query, view_from_widgets, widget_state, yesterday
from index.query import Filters
from prahari.errors import PrahariError

# The icon is a file of ours: a :material/…: page icon makes the browser fetch it from fonts.gstatic.com, and
# nothing on the page may leave the analyst's machine.
ICON = Path(__file__).parent / "assets" / "prahari.png"
st.set_page_config(page_title="Prahari · प्रहरी", page_icon=str(ICON), layout="wide")

url = data.current_store_url()
try:
    data.check_store(url)  # a missing or broken store stops here with its one-line message
except PrahariError as exc:
    st.error(literal(str(exc)))
    st.stop()

# The URL is the source of truth when it changes from outside (first load, a shared link, a page link,
# the back button); otherwise the widgets are, and their values are written back to the URL.
linked = View.from_query(st.query_params, st.query_params.get_all("entity"))
if st.session_state.get("synced_view") != linked.key():
    st.session_state.update(widget_state(linked))
options = data.filter_options(url)


def _entity_label(entity_id: str) -> str:
    found = next((e for e in options["entity"] if e["value"] == entity_id), None)
    if not found:
        return entity_id
    names = [found.get("name") or entity_id] + ([found["name_hi"]] if found.get("name_hi") else [])
    return " / ".join(dict.fromkeys(names))


timeline_page = st.Page("screens/timeline.py", title="Timeline", icon=":material/timeline:", default=True)

with st.sidebar:
    st.title("प्रहरी Prahari")
    new_count = data.count_articles(url, filters_key(Filters(
        incident=st.session_state["w_incident"],
        first_seen_since=datetime.combine(yesterday(), time(), timezone.utc).isoformat())))
    st.badge(f"{new_count} new since yesterday", icon=":material/fiber_new:", color="red" if new_count else "gray")
    # Counted like `prahari export` and the digest: relevant articles in the incident picked, and their facts.
    scope_key = filters_key(Filters(incident=st.session_state["w_incident"]))
    st.caption(f"{data.count_articles(url, scope_key)} relevant articles · "
               f"{sum(d['count'] for d in data.fact_days(url, scope_key))} facts")
    incidents = sorted({i["value"] for i in options["incident"] if i["value"]} | {st.session_state["w_incident"]} - {None})
    st.selectbox("Incident", incidents, key="w_incident", placeholder="All incidents")
    st.date_input("Published between", value=(), key="w_dates", format="YYYY-MM-DD")
    st.radio("Language", ["both", "hi", "en"], key="w_lang", horizontal=True,
             format_func=lambda v: {"both": "Both", **LANGUAGE_LABELS}[v])
    sources = sorted({s["value"] for s in options["source"]} | {st.session_state["w_source"]} - {None})
    st.selectbox("Source", sources, key="w_source", placeholder="All sources")
    entity_ids = list(dict.fromkeys([e["value"] for e in options["entity"]] + st.session_state["w_entity"]))
    st.multiselect("Entities", entity_ids, key="w_entity", format_func=_entity_label, placeholder="NIA / एनआईए, CERT-In …")
    st.selectbox("Figure kind", FIGURE_KINDS, key="w_kind", placeholder="Any figure")
    st.toggle("★ Starred only", key="w_starred", help="Reports you starred, and the reports of facts you starred")

view = view_from_widgets(st.session_state)
with st.sidebar.expander("Saved views", icon=":material/bookmarks:"):
    for name, saved in data.workspace(url, "search").items():
        left, right = st.columns([5, 1])
        left.page_link(timeline_page, label=name, icon=":material/search:",
                       query_params={k: v if len(v) > 1 else v[0] for k, v in parse_qs(saved["query"]).items()})
        if right.button("✕", key=f"forget_{name}", help=f"Forget “{name}”"):
            data.delete_search(url, name)
            st.rerun()
    name = st.text_input("Name this view", key="saved_name", placeholder="Ransom, both languages")
    if st.button("Save this view", icon=":material/bookmark_add:", disabled=not name.strip()):
        problem = data.save_search(url, name, urlencode(view.to_query(), doseq=True))
        if problem:
            st.error(literal(f"Not saved: {problem}"))
        else:
            st.rerun()

sync_query(st.query_params, view)
st.session_state["synced_view"] = view.key()
st.session_state["view"] = view

pages = [
    timeline_page,
    st.Page("screens/whats_new.py", title=f"What's new ({new_count})", icon=":material/fiber_new:", url_path="new"),
    st.Page("screens/claims.py", title="Claims", icon=":material/fact_check:", url_path="claims"),
    st.Page("screens/events.py", title="Events", icon=":material/event_note:", url_path="events"),
    st.Page("screens/entities.py", title="Entities", icon=":material/account_balance:", url_path="entities"),
    st.Page("screens/figures.py", title="Figures", icon=":material/pin:", url_path="figures"),
    st.Page("screens/article.py", title="Article", icon=":material/article:", url_path="article", visibility="hidden"),
]
st.navigation(pages).run()
