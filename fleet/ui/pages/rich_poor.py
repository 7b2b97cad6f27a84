"""GPU-rich vs GPU-poor page: the histogram of organisations by H100e on a log axis with
both groups coloured, a threshold slider, counts and compute share on each side, the
Lorenz curve with the Gini coefficient, and the split at each quarter end.
Data: ``fleet.views.rich_poor``."""

from __future__ import annotations

import streamlit as st

from fleet import charts_overview as charts
from fleet.chips import BASIS_LABEL
from fleet.ui.page import page
from fleet.ui.tiles import tiles, unknown_spec_note
from fleet.views.overview import h100e_column, short_number
from fleet.views.rich_poor import BINS_PER_DECADE, PARAMS, THRESHOLDS
from fleet.vocab import GPU_RICH_H100E

METHOD = f"""
**GPU-rich** organisations hold at least the threshold in H100-equivalents (the point estimate; an
organisation exactly on the line is rich); the rest are **GPU-poor**. The default line,
{GPU_RICH_H100E:,} H100e, is the article's. Clusters whose owner the source does not name are not an
organisation: they are on neither side, but count in the tracked total every share is taken of.
Ranges (low–high) are carried through: a side's low and high are its members' sums, and the rich's share
ranges from the rich at their low against everyone else at their high to the reverse. "Ranges crossing the
line" counts organisations whose range reaches the other side.

The **Lorenz curve** lines organisations up from the smallest fleet to the largest and plots the share of
all their H100e held by each bottom share of them. The **Gini coefficient** is twice the area between
that curve and the line of equality: 0 when every organisation holds the same, close to 1 when one holds
nearly everything ((n-1)/n at most with n organisations). It covers only organisations with a figure.

**Over time**: the same rule at every quarter end up to the as-of date, each date's figures from the
estimates valid by then (with the sidebar's filters and known-at).
"""


def threshold_slider(ctx) -> None:
    st.select_slider("GPU-rich threshold (H100e)", options=list(THRESHOLDS), key=ctx.key("threshold"),
                     format_func=lambda t: f"{t:,}", help=f"Default {GPU_RICH_H100E:,} H100e (the article's line).")


def split_table(ctx, split, threshold: int) -> None:
    """The groups side by side; shares to one decimal, as the tiles show them (the CSV keeps two:
    shown as stored, 97.32 beside 1.3 read as figures of different precision)."""
    share = st.column_config.NumberColumn(format="%.1f %%")
    number = st.column_config.NumberColumn(format="localized")
    ctx.table(split, "GPU-rich vs GPU-poor", extra=[f"threshold: {threshold} H100e"], column_config={
        c: share if c.startswith("Share") else number for c in split.columns if c.startswith(("H100e", "Share"))})


def distribution_charts(ctx, tables, threshold: int) -> None:
    basis = ctx.filters.basis.value
    hist = tables["histogram"]
    fig = ctx.drawn(charts.histogram_chart, hist, threshold, h100e_column(basis), BINS_PER_DECADE)
    ctx.chart(fig, hist, "Organisations by H100e", extra=[f"threshold: {threshold} H100e"])
    gini = float(tables["summary"].set_index("Measure").loc["Gini coefficient", "Value"])
    ctx.chart(ctx.drawn(charts.lorenz_chart, tables["lorenz"], gini, basis), tables["lorenz"], "Lorenz curve",
              extra=[f"Gini coefficient: {gini:.4f}"])


def render() -> None:
    with page("rich-poor", PARAMS) as ctx:
        st.title("GPU-rich vs GPU-poor")
        f = ctx.filters
        threshold = ctx.value("threshold")
        st.caption(f"As of {f.as_of:%Y-%m-%d}, {BASIS_LABEL[f.basis]}. GPU-rich: at or above "
                   f"{threshold:,} H100e ({short_number(threshold)}).")
        threshold_slider(ctx)
        tables = ctx.view()
        if tables["lorenz"].empty:
            ctx.nothing_found("No organisation has an H100e figure for these filters. Widen the sidebar filters or "
                              "move the as-of date; on an empty store, run `python -m fleet seed` to load the seed "
                              "data.")
            return
        tiles(ctx, tables["summary"], "Split at the threshold")
        unknown_spec_note(ctx)
        split_table(ctx, tables["split"], threshold)
        distribution_charts(ctx, tables, threshold)
        over = tables["over_time"]
        if not over.empty:
            st.subheader("The split over time")
            ctx.chart(ctx.drawn(charts.over_time_chart, over), over, "GPU-rich organisations over time",
                      extra=[f"threshold: {threshold} H100e"])
        with st.expander("How the split and the Gini coefficient are computed"):
            st.markdown(METHOD)
