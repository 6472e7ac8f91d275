"""Figures: every number the reports give, as it reads ("20 of 50 servers", "₹200 crore"), with its headline,
outlet, dates and link; narrowed by kind (sidebar) and unit (here, kept in the URL)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.render import STYLE, figure_summary_html
from dashboard.view import IST, filters_key

url = data.current_store_url()
view = st.session_state["view"]
key = filters_key(view.filters())
rows = data.figure_rows(url, key)

st.header("Figures")
st.caption("Every figure the reports give, with the sentence it came from, oldest event first. Pick a figure kind "
           "in the sidebar; click a column header to sort. The raw value (in rupees or units) is in the last column.")
if not rows:
    st.info("No figures in this view. Clear the figure kind or widen the filters in the sidebar.")
    st.stop()
table = pd.DataFrame(rows)
if view.kind:
    table = table[table["kind"] == view.kind]
units = sorted(u for u in table["unit"].dropna().unique())
wanted = [u for u in st.query_params.get_all("unit") if u in units]
chosen = st.multiselect("Units", units, default=wanted, placeholder="Any unit (servers, patients, INR …)")
if chosen != wanted:
    st.query_params["unit"] = chosen
if chosen:
    table = table[table["unit"].isin(chosen)]
st.subheader("Reported figures")
st.html(STYLE + figure_summary_html(table.to_dict("records")))
table["event_date"] = pd.to_datetime(table["event_date"], errors="coerce").dt.date
table["published"] = pd.to_datetime(table["published"], errors="coerce", utc=True).dt.tz_convert(IST)
table = table.sort_values(["event_date", "published"], na_position="last")
shown = table[["event_date", "figure", "title", "source", "language", "stance", "qualifier", "kind", "unit",
               "sentence", "published", "url", "value"]]
st.dataframe(shown, hide_index=True, width="stretch", height=min(36 * (len(shown) + 1) + 2, 720), column_config={
    "event_date": st.column_config.DateColumn("event date", format="YYYY-MM-DD"),
    "figure": st.column_config.TextColumn("figure", width="medium"),
    "title": st.column_config.TextColumn("headline", width="large"),
    "source": "outlet",
    "stance": st.column_config.TextColumn("stance", help="asserted, attributed (sources say, allegedly) or denied"),
    "sentence": st.column_config.TextColumn("sentence", width="large"),
    "published": st.column_config.DatetimeColumn("published (IST)", format="YYYY-MM-DD HH:mm"),
    "url": st.column_config.LinkColumn("link", display_text="original ↗"),
    "value": st.column_config.NumberColumn("raw value", format="%.6g"),
})
st.caption(f"{len(table)} figures" + (" (the first 5,000)" if len(rows) >= 5000 else ""))
st.download_button("Download every figure with its source (xlsx)", icon=":material/download:", on_click="ignore",
                   data=lambda: data.export_view(url, key, "figures", "xlsx"),
                   file_name="prahari-figures.xlsx",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
st.caption("One row per figure with its sentence, headline, outlet, dates and link, for the sidebar's filters "
           "(the unit picker above narrows the table only); `prahari export --what figures` writes the same.")
