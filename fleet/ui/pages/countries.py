"""Countries page: a choropleth of H100e by the holder's home country and the United States
vs China vs Europe vs rest of world over time."""

from __future__ import annotations

import streamlit as st

from fleet import charts_detail as charts
from fleet.chips import BASIS_LABEL
from fleet.countries import EUROPE_DEFINITION
from fleet.ui.page import page
from fleet.views.countries import PARAMS
from fleet.views.organisation import h100e_col

TREND_LABEL = {"area": "stacked H100e", "lines": "lines", "share": "share (100 %)"}


def render() -> None:
    with page("countries", PARAMS) as ctx:
        st.title("Countries")
        f, b = ctx.filters, ctx.filters.basis.value
        st.caption(f"As of {f.as_of:%Y-%m-%d}, {BASIS_LABEL[f.basis]}. Each organisation's H100e counts toward "
                   f"its home country (where it is based, not where its clusters stand). {EUROPE_DEFINITION}.")
        tables = ctx.view()
        countries, regions = tables["countries"], tables["regions"]
        if countries.empty:
            ctx.nothing_found("No estimates match these filters. On an empty store, run `python -m fleet seed`.")
            return
        title = f"H100e ({b} basis) by home country, as of {f.as_of:%Y-%m-%d} (log colour scale)"
        ctx.chart(ctx.drawn(charts.choropleth, countries, title), countries, title)
        unknown = countries.loc[countries["ISO3"] == "", h100e_col(b)].sum()
        if unknown:
            st.caption(f"{unknown:,.0f} H100e belong to organisations without a known country (listed, not mapped).")
        st.segmented_control("Regions over time as", list(TREND_LABEL), key=ctx.key("trend"), required=True,
                             format_func=TREND_LABEL.get)
        trend = ctx.value("trend")
        title = f"United States vs China vs Europe vs rest of world: {TREND_LABEL[trend]} ({b} basis), quarter ends"
        fig = ctx.drawn(charts.stacked, regions, "Region", h100e_col(b), title, percent=trend == "share",
                        lines=trend == "lines")
        ctx.chart(fig, regions, title, extra=[EUROPE_DEFINITION])
        ctx.table(countries, "H100e by country", column_config={
            c: st.column_config.NumberColumn(format="localized") for c in countries.columns if c.startswith("H100e")})


if __name__ == "__main__":
    render()
