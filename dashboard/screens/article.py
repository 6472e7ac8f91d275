"""Article view: back to the list, the report's metadata (times in IST), the analyst's star, tags and note on it
and on each of its facts, the full text with entities, figures and dates marked, the stored page as it was
fetched (sandboxed: no scripts, nothing loaded from elsewhere), and the same story at other outlets."""

from __future__ import annotations

import html

import pandas as pd
import streamlit as st
import streamlit.components.v1 as components

from dashboard import data
from dashboard.render import LANGUAGE_LABELS, STYLE, article_text_html, legend_html, literal, member_html
from dashboard.view import FILTER_KEYS
from prahari.times import shown

url = data.current_store_url()
back = {k: st.query_params.get_all(k) for k in FILTER_KEYS if st.query_params.get_all(k)}
st.page_link("screens/timeline.py", label="Back to the timeline", icon=":material/arrow_back:",
             query_params={k: v if len(v) > 1 else v[0] for k, v in back.items()})
article_id = st.query_params.get("article", "")
article = data.article(url, article_id) if article_id else None
if article is None:
    st.warning("No such article. Open one from the timeline.")
    st.stop()

st.html(STYLE + f"<h2>{html.escape(article.title)}</h2>"
        f'<p><a href="{html.escape(article.url)}" target="_blank" rel="noopener noreferrer">Original at '
        f"{html.escape(article.source)}</a></p>")
meta = {"published": shown(article.published), "first seen": shown(article.first_seen), "author": article.author,
        "language": LANGUAGE_LABELS.get(article.language, article.language),
        "relevant": f"{article.relevant} ({article.relevance:.2f})", "story": article.story_id,
        "copy of": article.duplicate_of, "incident": article.incident}
st.dataframe([{"field": k, "value": str(v) if v else "—"} for k, v in meta.items()], hide_index=True)

# --- The analyst's own marks: kept in the store, never touched by reprocess, copied by reindex, in exports.
note = data.workspace(url, "article", (article.id,)).get(article.id) or {}
with st.form("annotate_article"):
    st.subheader("Your notes on this report")
    starred = st.checkbox("★ Star this report", value=bool(note.get("starred")))
    tags = st.text_input("Tags (comma-separated)", value=", ".join(note.get("tags") or []),
                         placeholder="key report, ransom, denial")
    text = st.text_area("Note", value=note.get("note") or "", placeholder="Why this report matters …", height=90)
    if st.form_submit_button("Save", icon=":material/bookmark:"):
        problem = data.annotate(url, "article", article.id, starred, tags.split(","), text)
        if problem:
            st.error(literal(f"Not saved: {problem}"))
        else:
            st.toast("Saved")
            st.rerun()
if note.get("updated"):
    st.caption(f"Last saved {shown(note['updated'])}")

facts = data.facts_for(url, (article.id,)).get(article.id, [])
if facts:
    st.subheader(f"Facts in this report ({len(facts)})")
    fact_notes = data.workspace(url, "fact", tuple(f.id for f in facts))
    table = pd.DataFrame([{"id": f.id, "★": bool((fact_notes.get(f.id) or {}).get("starred")),
                           "tags": ", ".join((fact_notes.get(f.id) or {}).get("tags") or []),
                           "note": (fact_notes.get(f.id) or {}).get("note") or "", "sentence": f.sentence}
                          for f in facts])
    edited = st.data_editor(table, hide_index=True, width="stretch", disabled=["id", "sentence"], key="fact_notes",
                            column_config={"id": None, "sentence": st.column_config.TextColumn(width="large"),
                                           "★": st.column_config.CheckboxColumn("★", width="small")})
    if st.button("Save fact notes", icon=":material/bookmark:"):
        problems = [data.annotate(url, "fact", after["id"], bool(after["★"]), str(after["tags"] or "").split(","),
                                  str(after["note"] or ""), article_id=article.id)
                    for before, after in zip(table.to_dict("records"), edited.to_dict("records")) if before != after]
        if any(problems):
            st.error(literal(f"Not saved: {next(p for p in problems if p)}"))
        else:
            st.toast("Saved")
            st.rerun()

st.html(STYLE + f"<div class='pr-meta'>Marked: {legend_html()}</div>" + article_text_html(article))

page = data.raw_page(url, article.canonical_url)
if page is not None:
    with st.expander(f"Stored page as fetched {shown(page.fetched_at)} (evidence)"):
        st.caption("The page exactly as stored: scripts do not run and nothing is loaded from the publisher.")
        body = page.body.decode("utf-8", errors="replace")
        # A sandbox without allow-scripts stops scripts; the CSP stops images, styles and frames from elsewhere;
        # links open as new windows, which the sandbox (no allow-popups) refuses, so a click goes nowhere.
        guard = ('<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
                 "style-src 'unsafe-inline'; img-src data:\"><base target=\"_blank\">")
        components.html(f'<iframe sandbox="" srcdoc="{html.escape(guard + body, quote=True)}" '
                        'style="width:100%;height:560px;border:1px solid #ccc"></iframe>', height=580)
        st.download_button("Download the stored HTML", data=page.body, file_name=f"{article.id}.html",
                           mime="text/html", on_click="ignore", icon=":material/download:")

siblings = [m for m in data.story_members(url, (article.story_id or article.id,)).get(article.story_id or article.id, [])
            if m["id"] != article.id]
st.subheader(f"Same story elsewhere ({len(siblings)})")
for member in siblings:
    st.html(member_html(member))
    st.page_link("screens/article.py", label="Article view", icon=":material/article:", query_params={"article": member["id"]})
