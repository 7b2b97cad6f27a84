"""Organisation page: one organisation's fleet over time by chip with its estimates and their
ranges, every estimate (live, superseded, retracted) with sources and quotes, how its figure
combines, and its headcounts and model runs. Estimates and model runs dated after the as-of
date are listed apart, in closed expanders (``fleet.views.organisation`` says why)."""

from __future__ import annotations

import re

import streamlit as st

from fleet import charts_detail as charts
from fleet.analytics.breakdown import resolve_organisation
from fleet.chips import BASIS_LABEL
from fleet.projection_views import scientific
from fleet.ui.page import page
from fleet.analytics.combine import RULE_SUMMARY
from fleet.views.organisation import PARAMS, h100e_col

RULE = "**How the figure combines.** " + RULE_SUMMARY


def literal(text: str) -> str:
    """User text for a markdown-rendering element: every markdown/HTML character backslash-escaped."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~&$:])", r"\\\1", text)


def choose(ctx) -> None:
    """The searchable picker; a name or alias in the URL is resolved, an unknown one warned about."""
    orgs = ctx.organisations()
    names = sorted(orgs["name"], key=str.casefold)
    key = ctx.key("org")
    wanted = st.session_state.get(key) or ""
    if wanted and wanted not in names:
        found = resolve_organisation(orgs, wanted)
        if found is None:
            st.warning(f"Unknown organisation {literal(repr(wanted))} (parameter org); showing the largest "
                       "organisation.",
                       icon="⚠️")
            st.session_state[key] = ""
        else:
            st.session_state[key] = orgs.set_index("id").loc[found, "name"]
    st.selectbox("Organisation (type to search)", ["", *names], key=key,
                 format_func=lambda n: n or "The largest organisation at the as-of date")


def header(ctx, subject) -> None:
    row = subject.iloc[0]
    b = ctx.filters.basis.value
    st.subheader(literal(str(row["Organisation"])), anchor=False)
    details = [row["Kind"], row["Country"]] + ([f"part of {row['Parent']}"] if row["Parent"] else [])
    st.text(" · ".join(str(d) for d in details) + (f"\nalso known as: {row['Aliases']}" if row["Aliases"] else ""))
    cols = st.columns(3)
    cols[0].metric(f"H100e ({b} basis), counted", f"{row[h100e_col(b)]:,.0f}",
                   help=f"Range {row[h100e_col(b, 'low')]:,.0f}–{row[h100e_col(b, 'high')]:,.0f}")
    for col, label, name in ((cols[1], "(a) Fleet-scope figure", "(a) Fleet-scope figure"),
                             (cols[2], "(b) Sum of its clusters", "(b) Sum of clusters")):
        value = row[f"{name}, H100e ({b} basis)"]
        col.metric(f"{label}, H100e", "none" if value != value or value is None else f"{value:,.0f}")
    unknown = int(row["Chip figures without a spec on this basis (not counted)"])
    if unknown:
        st.caption(f"⚠️ {unknown} chip figure(s) have no spec on the {BASIS_LABEL[ctx.filters.basis]}: "
                   "shown as unknown and left out of the totals.")


def as_of_note(ctx, name: str) -> None:
    """Why rows dated after the as-of date sit apart: the page agrees with the figures it explains."""
    f = ctx.filters
    recorded = f"recorded by {f.known_at:%Y-%m-%d %H:%M} UTC" if f.known_at else "recorded to date"
    st.caption(f"As of {f.as_of:%Y-%m-%d}: the figures rest only on estimates valid on or before that date. "
               f"Estimates valid and model runs published after it ({recorded}) are plans, forecasts and later "
               f"events, not {literal(name)}'s state then: they are listed apart, under \"dated after the as-of "
               "date\", and count toward nothing here.")


def later(ctx, table, what: str):
    """A closed expander for the rows dated after the as-of date (see ``as_of_note``)."""
    return st.expander(f"{len(table)} {what} dated after the as-of date ({ctx.filters.as_of:%Y-%m-%d})")


def estimates_section(ctx, tables) -> None:
    shown, after = tables["estimates"], tables.get("estimates_after_as_of")
    st.subheader("Every estimate", anchor=False)
    states = ", ".join(f"{n} {s}" for s, n in shown["State"].value_counts().items())
    st.caption(f"{len(shown)} estimate(s) valid on or before {ctx.filters.as_of:%Y-%m-%d}"
               + (f": {states}" if states else "")
               + ". Superseded and retracted ones are listed but never counted; same-date conflicts are flagged.")
    number = st.column_config.NumberColumn(format="localized")
    config = {c: number for c in shown.columns if c.startswith(("H100e", "Count"))} | {
        "Source": st.column_config.LinkColumn(display_text="source"),
        "Quote": st.column_config.TextColumn(width="large")}
    ctx.table(shown, "Estimates", column_config=config)
    if after is not None:
        with later(ctx, after, "estimate(s)"):
            ctx.table(after, "Estimates valid after the as-of date", column_config=config)


def render() -> None:
    with page("organisation", PARAMS) as ctx:
        st.title("Organisation")
        choose(ctx)
        tables = ctx.view()
        if not tables:
            st.info("No organisations in the store yet. Run `python -m fleet seed` to load the sourced seed data.")
            return
        subject = tables["organisation"]
        if subject["Notice"].iloc[0]:
            st.warning(literal(subject["Notice"].iloc[0]), icon="⚠️")
        header(ctx, subject)
        name, b = str(subject["Organisation"].iloc[0]), ctx.filters.basis.value
        history = tables["history"]
        title = f"{name}: fleet by chip over time, H100e ({b} basis), with its estimates"
        ctx.chart(ctx.drawn(charts.organisation_history, history, title), history, title)
        if (history["Series"] == "estimate").sum() == 1:
            st.caption("One estimate so far: the fleet is drawn from that date on.")
        st.caption("Steps at quarter ends and at each estimate's date. Diamonds are single estimates (a cluster's "
                   "is a part of the fleet) with their low–high range.")
        as_of_note(ctx, name)
        st.subheader("How its figure combines", anchor=False)
        st.markdown(RULE)
        number = st.column_config.NumberColumn(format="localized")
        parts = tables["combined"]
        ctx.table(parts, f"{name} combined figure", column_config={c: number for c in parts.columns if "(" in c})
        estimates_section(ctx, tables)
        people(ctx, tables, name)


def people(ctx, tables, name: str) -> None:
    st.subheader("Headcount and model runs", anchor=False)
    if tables["headcounts"].empty:
        st.caption(f"No headcount of {literal(name)} in the store.")
    else:
        ctx.table(tables["headcounts"], f"{name} headcounts", column_config={
            "Headcount": st.column_config.NumberColumn(format="localized"),
            "Source": st.column_config.LinkColumn(display_text="source")})
    runs, after = tables["model_runs"], tables.get("model_runs_after_as_of")
    if runs.empty:
        st.caption(f"No model runs of {literal(name)} published by {ctx.filters.as_of:%Y-%m-%d} in the store.")
    else:
        model_runs(ctx, runs, f"{name} model runs")
    if after is not None:
        with later(ctx, after, "model run(s)"):
            model_runs(ctx, after, f"{name} model runs after the as-of date")


def model_runs(ctx, runs, view: str) -> None:
    """A model-runs table: training compute in scientific notation (as text, ``scientific`` says why),
    chip counts with separators."""
    runs = runs.assign(**{"Training compute (FLOP)": scientific(runs["Training compute (FLOP)"])})
    ctx.table(runs, view, column_config={"Chips": st.column_config.NumberColumn(format="localized"),
                                         "Source": st.column_config.LinkColumn(display_text="source")})


if __name__ == "__main__":
    render()
