"""Fleet's Streamlit entry point: the frame only (page config, navigation, sidebar).

All logic lives in ``fleet``; pages live in ``fleet/ui/pages``. Run with
``streamlit run app.py`` (``make run`` does it after migrating and seeding).
"""

import streamlit as st

from fleet import allocator
from fleet.ui.frame import run

allocator.tune()  # once per process: million-row frames reuse freed pages (fleet/allocator.py)
st.set_page_config(page_title="Fleet — who holds the world's AI compute", page_icon="🛰️", layout="wide")
run()
