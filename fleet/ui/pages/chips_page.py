"""Chips page: fleet share by chip family and by vendor (Nvidia / Google TPU / others) over
time, and the chip catalog with specs and the H100e factor on every basis."""

from __future__ import annotations

import streamlit as st

from fleet import charts_detail as charts
from fleet.chips import BASIS_LABEL
from fleet.ui.page import page
from fleet.views.chips import PARAMS
from fleet.views.organisation import h100e_col

SHOW_LABEL = {"share": "share of H100e (100 %)", "h100e": "H100e"}


def over_time(ctx, table, group: str, what: str) -> None:
    b, show = ctx.filters.basis.value, ctx.value("show")
    title = f"Tracked fleets by {what} over time: {SHOW_LABEL[show]} ({b} basis), quarter ends"
    fig = ctx.drawn(charts.stacked, table, group, h100e_col(b), title, percent=show == "share")
    ctx.chart(fig, table, title, extra=[f"shown as: {SHOW_LABEL[show]}"])


def render() -> None:
    with page("chips", PARAMS) as ctx:
        st.title("Chips")
        f = ctx.filters
        st.segmented_control("Over time, show", list(SHOW_LABEL), key=ctx.key("show"), required=True,
                             format_func=SHOW_LABEL.get)
        tables = ctx.view()
        st.caption(f"As of {f.as_of:%Y-%m-%d}, {BASIS_LABEL[f.basis]}. Every organisation's figure by the "
                   "combining rule, summed per chip family or vendor. \"Unspecified\" is capacity given only in "
                   "H100e (no chip named).")
        families, vendors = tables["families"], tables["vendors"]
        if families.empty:
            ctx.nothing_found("No estimates match these filters. On an empty store, run `python -m fleet seed`.")
        else:
            excluded = int(families.loc[families["Date"] == families["Date"].max(),
                                        "Chip figures without a spec (left out)"].max())
            if excluded:
                st.caption(f"⚠️ {excluded} chip figure(s) at the latest date have no spec on this basis: "
                           "unknown, left out of these totals.")
            over_time(ctx, families, "Chip family", "chip family")
            over_time(ctx, vendors, "Vendor group", "vendor (Nvidia vs Google TPU vs others)")
        catalog(ctx, tables["catalog"])


def catalog(ctx, table) -> None:
    st.subheader("Chip catalog", anchor=False)
    b = ctx.filters.basis.value
    unknown = int((table[f"H100e per chip ({b} basis)"] == "unknown").sum())
    st.caption(f"H100e per chip on each basis: 8bit = best dense 8/16/32-bit OP/s ÷ H100 SXM's 1,979 TOP/s; "
               f"bf16 = dense BF16 ÷ 989.4 TFLOP/s; price = release price ÷ US$33,600; power = TDP ÷ 700 W. "
               f"\"unknown\" = the catalog lacks that figure; such chips count toward no H100e total on that "
               f"basis ({unknown} chip(s) on the {b} basis).")
    number = st.column_config.NumberColumn(format="localized")
    ctx.table(table, "Chip catalog", column_config={
        c: number for c in table.columns if c.startswith(("Chips in", "H100e in", "Price", "TDP", "Memory"))} | {
        "Source": st.column_config.LinkColumn(display_text="source")})


if __name__ == "__main__":
    render()
