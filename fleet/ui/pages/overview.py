"""Overview page: KPI tiles, the top-N bar chart with ranges and the ranked leaderboard of
organisations' H100-equivalents at the as-of date. Data: ``fleet.views.overview``."""

from __future__ import annotations

import streamlit as st

from fleet import charts_overview as charts
from fleet.chips import BASIS_LABEL
from fleet.ui.page import page
from fleet.ui.tiles import tiles, unknown_spec_note
from fleet.views.overview import PARAMS, h100e_column
from fleet.vocab import GPU_RICH_H100E

RULE = ("Each figure is the larger of the latest whole-fleet estimate and the sum of the organisation's "
        "operational clusters; conflicting estimates of one date give a range (low–high), carried into totals. "
        "Estimates given only in H100e count as that many H100 SXM.")


def top_chart(ctx, top) -> None:
    basis = ctx.filters.basis.value
    st.subheader("Largest fleets")
    st.number_input("Organisations in the chart (top N)", min_value=1, max_value=100, step=1, key=ctx.key("top"))
    if top.empty:
        return
    fig = ctx.drawn(charts.top_chart, top, h100e_column(basis), h100e_column(basis, "low"),
                    h100e_column(basis, "high"))
    ctx.chart(fig, top, f"Top {len(top)} organisations by H100e")


def leaderboard(ctx, board) -> None:
    st.subheader("Leaderboard")
    number = st.column_config.NumberColumn(format="localized")
    config = {c: number for c in board.columns if c.startswith("H100e")}
    config["Organisation page"] = st.column_config.LinkColumn(display_text="open page",
                                                              help="The organisation's estimates and history")
    config["Latest source"] = st.column_config.LinkColumn()
    config["Organisation"] = st.column_config.TextColumn(pinned=True)  # named while scrolling to the sources
    ctx.table(board, "Leaderboard", column_config=config)


def render() -> None:
    with page("overview", PARAMS) as ctx:
        st.title("Overview")
        f = ctx.filters
        st.caption(f"As of {f.as_of:%Y-%m-%d}, {BASIS_LABEL[f.basis]}. {RULE}")
        tables = ctx.view()
        board = tables["leaderboard"]
        if board.empty:
            ctx.nothing_found("No estimates match these filters. Widen the sidebar filters (kind, country, minimum "
                              "certainty, planned capacity) or move the as-of date; on an empty store, run "
                              "`python -m fleet seed` to load the sourced seed data.")
            return
        tiles(ctx, tables["kpis"], "Key figures")
        st.caption(f"GPU-rich: at or above {GPU_RICH_H100E:,} H100e, the article's line (move it on the "
                   "GPU-rich vs GPU-poor page). Tracked H100e include clusters whose owner is not named.")
        unknown_spec_note(ctx)
        top_chart(ctx, tables["top"])
        leaderboard(ctx, board)
