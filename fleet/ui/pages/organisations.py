"""Organisations page: each organisation's H100-equivalents at the as-of date, and sources."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from fleet.chips import BASIS_LABEL
from fleet.countries import country_name
from fleet.ui.page import page
from fleet.vocab import OrgKind


def table(ctx) -> pd.DataFrame:
    state = ctx.fleet()
    totals = state.totals.loc[state.totals["kind"] != OrgKind.UNATTRIBUTED]
    counted = state.contributions.loc[state.contributions["counted"]]
    latest_source = counted.sort_values("valid_on").groupby("holder_id")["source_url"].last()
    basis = ctx.filters.basis.value
    return pd.DataFrame({
        "Organisation": totals["name"],
        "Kind": totals["kind"],
        "Country": totals["country"].map(country_name),
        f"H100e ({basis} basis)": totals["h100e"].round(0),
        f"H100e low ({basis})": totals["h100e_low"].round(0),
        f"H100e high ({basis})": totals["h100e_high"].round(0),
        "Chip mix (share of H100e)": totals["chip_mix"],
        "Last estimate": pd.to_datetime(totals["last_valid_on"]).dt.date,
        "Sources": totals["n_sources"],
        "Latest source": totals["holder_id"].map(latest_source),
    })


def render() -> None:
    with page("organisations") as ctx:
        st.title("Organisations")
        f = ctx.filters
        st.caption(f"As of {f.as_of:%Y-%m-%d}, {BASIS_LABEL[f.basis]}. Estimates given only in H100e count as "
                   "that many H100 SXM. Each figure is the larger of the latest whole-fleet estimate and the sum "
                   "of the organisation's operational clusters.")
        shown = table(ctx)
        if shown.empty:
            st.info("No estimates match these filters. On an empty store, run `python -m fleet seed` "
                    "to load the sourced seed data.")
            return
        st.metric("Organisations with estimates", f"{len(shown):,}")
        number = st.column_config.NumberColumn(format="localized")
        st.dataframe(shown, hide_index=True, width="stretch",
                     column_config={c: number for c in shown.columns if c.startswith("H100e")}
                     | {"Latest source": st.column_config.LinkColumn()})
