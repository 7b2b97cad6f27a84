"""Compute per researcher page: H100e per staff member from the headcount nearest the as-of
date, ranked, and a log-log scatter of H100e against headcount, GPU-rich vs GPU-poor."""

from __future__ import annotations

import streamlit as st

from fleet import charts_detail as charts
from fleet.chips import BASIS_LABEL
from fleet.ui.page import page
from fleet.views.organisation import h100e_col
from fleet.views.researchers import PARAMS
from fleet.vocab import GPU_RICH_H100E

PER_LABEL = {"staff": "staff", "researchers": "researchers", "any": "any (staff preferred)"}


def render() -> None:
    with page("researchers", PARAMS) as ctx:
        st.title("Compute per researcher")
        f = ctx.filters
        st.segmented_control("Headcount counted", list(PER_LABEL), key=ctx.key("per"), required=True,
                             format_func=PER_LABEL.get)
        tables = ctx.view()
        table, without = tables["per_head"], tables["no_headcount"]
        st.caption(f"As of {f.as_of:%Y-%m-%d}, {BASIS_LABEL[f.basis]}. Each organisation's headcount is the "
                   "report nearest the as-of date, before or after it (a tie goes to the earlier one); the table "
                   "says which date and source. Several reports on that date: their median, with the range.")
        if table.empty:
            st.info("No organisation has both H100e and a headcount for these settings. Headcounts come from "
                    "Epoch AI's staff reports (`python -m fleet seed`, or the epoch-staff scraper).")
        else:
            b = f.basis.value
            title = f"H100e ({b} basis) against headcount ({ctx.value('per')}), log-log"
            ctx.chart(ctx.drawn(charts.per_head_scatter, table, title, GPU_RICH_H100E), table, title)
            ctx.table(table, "Compute per head, ranked", column_config={
                h100e_col(b): st.column_config.NumberColumn(format="localized"),
                "Headcount": st.column_config.NumberColumn(format="localized"),
                "Headcount source": st.column_config.LinkColumn(display_text="source"),
                "Organisation page": st.column_config.LinkColumn(display_text="open")})
        if len(without):
            per = PER_LABEL[ctx.value("per")]
            hint = (" (labs renting from clouds appear with the sidebar's “Count leased/rented capacity under: "
                    "user”)." if f.attribute_to == "owner" else ".")
            st.caption(f"{len(without)} organisation(s) with H100e have no headcount ({per}) in the store{hint}")
            with st.expander("Organisations without a headcount"):
                ctx.table(without, "Organisations without a headcount", column_config={
                    "Organisation page": st.column_config.LinkColumn(display_text="open")})


if __name__ == "__main__":
    render()
