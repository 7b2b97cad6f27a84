"""Widgets of the Projections and Claims pages: the scenario editor (charts and downloads
are ``fleet.ui.widgets``)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from fleet.analytics.scenarios import MAX_SCENARIOS, Scenario
from fleet.projection_views import scientific
# Chart + download moved to fleet.ui.widgets, shared by every page; re-exported for these pages.
from fleet.ui.widgets import LICENCE, chart, download, frame, header_lines, slug  # noqa: F401


# --- scenarios ------------------------------------------------------------------------------------

def _add(scen_key: str) -> None:
    s = st.session_state
    org, chip = s.get("proj.add.org"), s.get("proj.add.chip")
    count, by = s.get("proj.add.count"), s.get("proj.add.by")
    current = tuple(s.get(scen_key, ()))
    if not (org and chip and count and by):
        s["proj.add.problem"] = "Pick an organisation, a chip, a count and a date."
    elif len(current) >= MAX_SCENARIOS:
        s["proj.add.problem"] = f"At most {MAX_SCENARIOS} scenarios."
    else:
        s[scen_key] = current + (Scenario(org, chip, int(count), by),)
        s["proj.add.problem"] = ""


def _remove(scen_key: str) -> None:
    drop = set(st.session_state.get("proj.remove", []))
    st.session_state[scen_key] = tuple(s for s in st.session_state.get(scen_key, ()) if s.to_text() not in drop)
    st.session_state["proj.remove"] = []


def scenario_editor(ctx, org_names: list[str], chip_names: list[str], resolved: pd.DataFrame,
                    default_org: str) -> None:
    """List, add and remove scenarios; they live in the URL (``scen=``)."""
    key = ctx.key("scen")
    scenarios = tuple(st.session_state.get(key, ()))
    st.caption("Each row adds N chips of a type to an organisation from a date on, on top of the estimates and "
               "of the projection (the growth fit itself is left alone). For the largest trainable run, a "
               "scenario's chips are one new cluster. Scenarios are part of the page's link.")
    if scenarios:
        shown = resolved.rename(columns={"scenario": "#", "organisation": "Organisation", "chip": "Chip",
                                         "count": "Chips", "by": "By", "peak_flops": "Peak FLOP/s added",
                                         "h100e": f"H100e added ({ctx.filters.basis.value} basis)"})
        shown = shown.drop(columns=["holder_id", "chip_id"], errors="ignore")
        if "By" in shown:
            shown["By"] = pd.to_datetime(shown["By"]).dt.date
        shown["Peak FLOP/s added"] = scientific(shown["Peak FLOP/s added"])  # text: see scientific()
        frame(shown,
              column_config={shown.columns[-1]: st.column_config.NumberColumn(format="localized")})
        left, right = st.columns([4, 1])
        left.multiselect("Remove scenarios", [s.to_text() for s in scenarios], key="proj.remove",
                         label_visibility="collapsed", placeholder="Pick scenarios to remove")
        right.button("Remove", on_click=_remove, args=(key,), key="proj.remove.go")
    with st.form("proj.add", border=True):
        cols = st.columns([3, 3, 2, 2])
        index = org_names.index(default_org) if default_org in org_names else None
        cols[0].selectbox("Organisation", org_names, index=index, key="proj.add.org", placeholder="Organisation")
        cols[1].selectbox("Chip", chip_names, index=None, key="proj.add.chip", placeholder="Chip type")
        cols[2].number_input("Chips", min_value=1, max_value=100_000_000, value=100_000, step=1_000,
                             key="proj.add.count")
        cols[3].date_input("By", value=date(ctx.filters.as_of.year + 1, 12, 31), key="proj.add.by",
                           min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))
        st.form_submit_button("Add scenario", on_click=_add, args=(key,))
    if st.session_state.get("proj.add.problem"):
        st.warning(st.session_state["proj.add.problem"])
