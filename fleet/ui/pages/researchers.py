"""Compute per researcher page: H100e per staff member from the headcount nearest the as-of
date, ranked, and a log-log scatter of H100e against headcount, GPU-rich vs GPU-poor."""

from __future__ import annotations

import streamlit as st

from fleet import charts_detail as charts
from fleet.chips import BASIS_LABEL
from fleet.ui.page import page
from fleet.ui.snapshot_ui import md
from fleet.views.organisation import h100e_col
from fleet.views.researchers import PARAMS, headcount_only
from fleet.vocab import GPU_RICH_H100E

NAMED = 10  # organisations named in the coverage note; the rest counted
PER_LABEL = {"staff": "staff", "researchers": "researchers", "any": "any (staff preferred)"}


def coverage(ctx, table, without) -> str:
    """How many organisations have both figures, and why the others are missing: the headcounts (Epoch
    AI's staff reports) cover a handful of labs, and some of those hold no H100e of their own."""
    per = PER_LABEL[ctx.value("per")]
    holders, n = len(table) + len(without), len(table)
    unranked = headcount_only(ctx.headcounts(), ctx.organisations(), table, ctx.value("per"))
    if not holders and unranked.empty:
        return ""  # an empty store: the page's info says what to load
    text = (f"None of the {holders} organisations with H100e has a headcount ({per})." if not n else
            f"{n} of the {holders} organisations with H100e {'has' if n == 1 else 'have'} a headcount ({per}): "
            f"only {'it is' if n == 1 else 'they are'} ranked and plotted.")
    text += f" The store's headcounts (Epoch AI's staff reports) cover {n + len(unranked)} organisation(s)."
    if unranked.empty:
        return text
    hint = (" Labs renting their compute from clouds count it with the sidebar's “Count leased/rented capacity "
            "under: user”." if ctx.filters.attribute_to == "owner" else "")
    return (f"{text} The other {len(unranked):,} hold no H100e of their own under these settings: "
            f"{named(unranked)}.{hint}")


def named(unranked, limit: int = NAMED) -> str:
    """The first ``limit`` organisations (name, and parent where there is one), then how many more:
    a big store has thousands with a headcount and no H100e, too many for a caption."""
    # names are user text: shown literally
    names = [md(name) + (f" (part of {md(parent)})" if isinstance(parent, str) else "")
             for name, parent in unranked.head(limit).itertuples(index=False)]
    more = len(unranked) - limit
    return ", ".join(names) + (f" and {more:,} more" if more > 0 else "")


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
        note = coverage(ctx, table, without)
        if note:
            st.caption(note)
        if table.empty:
            ctx.nothing_found("No organisation has both H100e and a headcount for these settings. Headcounts come from "
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
            with st.expander(f"Organisations with H100e but no headcount ({len(without)})"):
                ctx.table(without, "Organisations without a headcount", column_config={
                    "Organisation page": st.column_config.LinkColumn(display_text="open")})


if __name__ == "__main__":
    render()
