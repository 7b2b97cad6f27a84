"""Overview page: the ranked leaderboard of organisations' H100-equivalents at the as-of date."""

from __future__ import annotations

import streamlit as st

from fleet.chips import BASIS_LABEL
from fleet.ui.page import page
from fleet.views.overview import PARAMS


def render() -> None:
    with page("overview", PARAMS) as ctx:
        st.title("Overview")
        f = ctx.filters
        st.caption(f"As of {f.as_of:%Y-%m-%d}, {BASIS_LABEL[f.basis]}. Estimates given only in H100e count as "
                   "that many H100 SXM. Each figure is the larger of the latest whole-fleet estimate and the sum "
                   "of the organisation's operational clusters.")
        shown = ctx.view()["leaderboard"]
        if shown.empty:
            st.info("No estimates match these filters. On an empty store, run `python -m fleet seed` "
                    "to load the sourced seed data.")
            return
        st.metric("Organisations with estimates", f"{len(shown):,}")
        number = st.column_config.NumberColumn(format="localized")
        ctx.table(shown, "Leaderboard",
                  column_config={c: number for c in shown.columns if c.startswith("H100e")}
                  | {"Latest source": st.column_config.LinkColumn()})
