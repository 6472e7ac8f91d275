"""Article view: the full text with entities, figures and dates marked, its metadata and its story siblings."""

from __future__ import annotations

import html

import streamlit as st

from dashboard import data
from dashboard.render import STYLE, article_text_html, legend_html, member_html

url = data.current_store_url()
article_id = st.query_params.get("article", "")
article = data.article(url, article_id) if article_id else None
if article is None:
    st.warning("No such article. Open one from the timeline.")
    st.page_link("screens/timeline.py", label="Back to the timeline", icon=":material/timeline:")
    st.stop()

st.html(STYLE + f"<h2>{html.escape(article.title)}</h2>"
        f'<p><a href="{html.escape(article.url)}" target="_blank" rel="noopener noreferrer">Original at '
        f"{html.escape(article.source)}</a></p>")
meta = {"published": article.published, "first seen": article.first_seen, "author": article.author,
        "language": {"hi": "हिन्दी", "en": "English"}.get(article.language, article.language),
        "relevant": f"{article.relevant} ({article.relevance:.2f})", "story": article.story_id,
        "copy of": article.duplicate_of, "incident": article.incident}
st.dataframe([{"field": k, "value": str(v) if v is not None else "—"} for k, v in meta.items()], hide_index=True)
st.html(STYLE + f"<div class='pr-meta'>Marked: {legend_html()}</div>" + article_text_html(article))

siblings = [m for m in data.story_members(url, (article.story_id or article.id,)).get(article.story_id or article.id, [])
            if m["id"] != article.id]
st.subheader(f"Same story elsewhere ({len(siblings)})")
for member in siblings:
    st.html(member_html(member))
    st.page_link("screens/article.py", label="Article view", icon=":material/article:", query_params={"article": member["id"]})
