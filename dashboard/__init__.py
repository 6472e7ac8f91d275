"""The Streamlit dashboard: an entry file, one file per page, and one data module over index/."""
