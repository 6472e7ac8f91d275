"""Figures: every extracted number with its unit, value, sentence, source and date (sortable)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.view import filters_key

url = data.current_store_url()
view = st.session_state["view"]
rows = data.figure_rows(url, filters_key(view.filters()))

st.header("Figures")
st.caption("Every figure the NLP found, with the sentence it came from. Click a column header to sort.")
if not rows:
    st.info("No figures in this view.")
    st.stop()
table = pd.DataFrame(rows)
if view.kind:
    table = table[table["kind"] == view.kind]
st.dataframe(table, hide_index=True, width="stretch", column_config={
    "url": st.column_config.LinkColumn("link", display_text="original"),
    "value": st.column_config.NumberColumn("value", format="%.6g"),
    "sentence": st.column_config.TextColumn("sentence", width="large"),
})
st.caption(f"{len(table)} figures" + (" (the first 5,000)" if len(rows) >= 5000 else ""))
