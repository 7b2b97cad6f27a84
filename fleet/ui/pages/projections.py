"""Projections page: fleet compute over time, what a fleet can train against GPT-4 × 5 / × 20 /
× 100 and the other milestones, growth fits with their 80 % band, and scenarios."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from fleet import charts_projection as charts
from fleet import projection_views as views
from fleet.analytics.projection import (
    EPOCH_CLUSTER_TREND, EPOCH_TREND_SOURCE, INTERVAL_METHOD, horizon_date,
)
from fleet.analytics.scenarios import format_scenarios, resolve_scenarios
from fleet.chips import BASIS_LABEL
from fleet.projection_state import PROJECTION_PARAMS, run_settings
from fleet.ui import cached
from fleet.ui import projection_widgets as widgets
from fleet.ui.page import page

METHOD = f"""
**Peak FLOP/s** of a fleet: each chip count (by the combining rule, as of each date) × that chip's dense
peak FLOP/s in the chosen format (BF16, or FP8 where the chip has it), summed; estimates given only in
H100e count as that many H100 SXM. Ranges (low–high) are carried through.

**Largest trainable run** (FLOP) = peak FLOP/s of the share of the fleet in one cluster × MFU × run
length in seconds. "Largest cluster" uses the organisation's largest named cluster where the data has
clusters (else the whole fleet); in the projection that cluster's share of the fleet at the as-of date
is held constant. Sanity check: 25,000 A100 × 312 TFLOP/s × 35 % × 95 days ≈ 2.2e25 FLOP, GPT-4's scale.

**Growth fit**: least squares of ln(figure) on time over the figures at the dates of the
organisation's estimates (at least 3 are needed); the top-N total is fitted on its quarter-end
values. **Projection**: the latest figure grown at the fitted rate, so it starts where the estimates
end: a fleet keeps the chips it has, so a figure above or below the fitted line does not return to
it. The band grows the latest figure at the low and high ends of the rate's 80 % confidence interval
(Student t, n − 2 degrees of freedom): it is zero at the as-of date and widens with the horizon, and it
covers the uncertainty of the rate, not the steps a fleet takes around it. Epoch AI reports that the leading AI
supercomputers grow about {EPOCH_CLUSTER_TREND}× a year ([source]({EPOCH_TREND_SOURCE})): drawn through
the latest total for comparison.

**Scenarios** add chips on top of the data from their date on; they never change the fit.
"""


def controls(ctx, org_names: list[str]) -> None:
    top = st.columns([4, 1, 2, 2])
    key = ctx.key("org")
    if st.session_state.get(key) not in ["", *org_names]:
        st.warning(f"Unknown organisation {st.session_state.get(key)!r} in the link; showing the top-N total.")
        st.session_state[key] = ""
    top[0].selectbox("Organisation", ["", *org_names], key=key,
                     format_func=lambda n: n or f"Top {ctx.value('top')} total (all tracked organisations)")
    top[1].number_input("Top N", min_value=1, max_value=50, step=1, key=ctx.key("top"))
    top[2].segmented_control("Peak FLOP/s format", ["bf16", "fp8"], key=ctx.key("format"), required=True,
                             format_func=lambda f: f"dense {f.upper()}")
    top[3].slider("Horizon (years)", min_value=0.5, max_value=10.0, step=0.5, key=ctx.key("horizon"))
    run = st.columns([2, 2, 2, 2])
    run[0].slider("MFU (%)", min_value=1.0, max_value=100.0, step=1.0, key=ctx.key("mfu"),
                  help="Model FLOP/s utilisation: the share of peak a training run sustains.")
    run[1].number_input("Run length (days)", min_value=1, max_value=3650, step=1, key=ctx.key("days"))
    run[2].segmented_control("A run uses", ["cluster", "share"], key=ctx.key("run_on"), required=True,
                             format_func={"cluster": "largest cluster", "share": "share of fleet"}.get)
    run[3].slider("Share of fleet (%)", min_value=1, max_value=100, step=1, key=ctx.key("share"),
                  disabled=ctx.value("run_on") != "share")


def fleet_compute(ctx, fmt: str) -> pd.DataFrame:
    series = cached.projection_series(ctx.version, ctx.filters, fmt)
    st.subheader("Fleet compute over time")
    table = cached.compute_over_time(ctx.version, ctx.filters, fmt)
    title = f"Peak FLOP/s (dense {fmt.upper()}) of all tracked organisations and the leading countries"
    widgets.chart(ctx, ctx.drawn(charts.compute_chart, table, fmt, title), table, title,
                  extra=[f"format: dense {fmt}", "countries: the holder's home country"])
    unknown = int(series.loc[series["date"] == series["date"].max(), "unknown_spec"].sum()) if len(series) else 0
    if unknown:
        st.caption(f"⚠️ {unknown} chip figure(s) have no dense {fmt.upper()} figure in the catalog and are left "
                   "out of these totals.")
    return series


def fit_summary(outlook) -> None:
    cols = st.columns(2)
    for col, (quantity, label) in zip(cols, (("h100e", "H100e"), ("peak_flops", "peak FLOP/s"))):
        fit = outlook.fits.get(quantity)
        if fit is None:
            col.info(outlook.refused.get(quantity, "No data to fit."), icon="📉")
            continue
        low, high = fit.growth_interval
        doubling = "" if math.isinf(fit.doubling_time_years) else f"; doubles every {fit.doubling_time_years:.2f} y"
        col.metric(f"Growth of {label} (× per year)", f"{fit.growth_per_year:.2f}×",
                   help=f"80 % interval {low:.2f}–{high:.2f}×{doubling}; {fit.n_points} dated points "
                        f"{fit.first}..{fit.last}; R² {fit.r_squared:.2f}")
        col.caption(f"80 % interval {low:.2f}× – {high:.2f}×{doubling} · {fit.n_points} points")


def projection_note(outlook) -> None:
    """Say where the projection starts and which window its rate comes from (the chart's red line)."""
    fit = outlook.fits.get("peak_flops")
    if fit is None or "peak_flops_median" not in outlook.projected:
        return
    start = outlook.projected.iloc[0]
    st.caption(f"The projection starts at the latest figure ({start['peak_flops_median']:.3g} FLOP/s on "
               f"{start['date']:%Y-%m-%d}) and grows at the rate fitted over {fit.first}…{fit.last} "
               f"({fit.growth_per_year:.2f}× a year, {fit.n_points} points); the band grows it at the ends of that "
               "rate's 80 % interval. It is not the fitted line itself, whose level can sit well above or below the "
               "latest figure.")


def one_organisation(ctx, name: str, holder_id: int, fmt: str, lines: pd.DataFrame, until, run, scen: str) -> None:
    outlook, _ = cached.holder_outlook(ctx.version, ctx.filters, holder_id, fmt, run, until, scen)
    if outlook.observed.empty:
        ctx.nothing_found(f"No estimates of {name} match these settings by {ctx.filters.as_of:%Y-%m-%d}.", icon="🔍")
        return
    st.subheader(f"{name}: fleet compute and its projection to {until:%Y-%m-%d}")
    fit_summary(outlook)
    table, points = views.holder_table(outlook, fmt, ctx.filters.basis.value), views.points_table(outlook, fmt)
    title = f"{name}: peak FLOP/s (dense {fmt.upper()}), its estimates, and the 80 % projection band"
    settings = [f"format: dense {fmt}", f"organisation: {name}", f"projection: {INTERVAL_METHOD}",
                f"scenarios: {scen or 'none'}"]
    widgets.chart(ctx, ctx.drawn(charts.holder_chart, table, points, fmt, title), table, title, extra=settings)
    widgets.download(ctx, points, f"{name} estimates as points", label="Download its estimates (CSV)",
                     extra=settings)
    projection_note(outlook)
    st.subheader(f"What {name} can train")
    runs = views.run_table(outlook)
    shown_lines = views.milestones_table(lines)
    title = f"{name}: largest trainable run ({run.describe()}) against the milestones"
    widgets.chart(ctx, ctx.drawn(charts.run_chart, runs, shown_lines, title), runs, title,
                  extra=[*settings, run.describe()])
    crossings = views.crossings_table(outlook)
    st.markdown("**When each line is crossed** (historical from the estimates; projected from the latest figure "
                "at the fitted rate, with the dates at the fast and slow ends of the rate's 80 % interval)")
    widgets.frame(crossings)
    widgets.download(ctx, crossings, f"{name} milestone crossings", extra=[*settings, run.describe()])
    with st.expander("The fits in numbers"):
        widgets.frame(views.fit_table(outlook))


def top_n(ctx, series: pd.DataFrame, fmt: str, lines: pd.DataFrame, until, run, scen: str) -> None:
    top = int(ctx.value("top"))
    outlook, holders, _ = cached.total_outlook(ctx.version, ctx.filters, fmt, top, until, scen)
    if not holders:
        ctx.nothing_found("No estimates match these settings.", icon="🔍")
        return
    st.subheader(f"Top {top} organisations together: growth and projection to {until:%Y-%m-%d}")
    fit_summary(outlook)
    table = views.total_table(outlook, fmt)
    title = f"Top {top} total peak FLOP/s (dense {fmt.upper()}), its fit, and Epoch AI's 2.5×/yr trend"
    names = ctx.organisations().set_index("id")["name"]
    widgets.chart(ctx, ctx.drawn(charts.total_chart, table, fmt, title), table, title,
                  extra=[f"format: dense {fmt}", "organisations: " + ", ".join(names[h] for h in holders),
                         f"projection: {INTERVAL_METHOD}", f"reference: {EPOCH_TREND_SOURCE}"])
    projection_note(outlook)
    st.subheader("What each can train now")
    now = views.runs_now_table(series, ctx.organisations(), holders, run, lines,
                               cached.milestones(ctx.version, ctx.filters.known_at)[1], fmt)
    title = f"Largest trainable run as of {ctx.filters.as_of:%Y-%m-%d} ({run.describe()})"
    widgets.chart(ctx, ctx.drawn(charts.runs_bar, now, views.milestones_table(lines), title), now, title,
                  extra=[f"format: dense {fmt}", run.describe()])
    crossings = cached.top_crossings(ctx.version, ctx.filters, fmt, tuple(holders), run, until)
    st.markdown(f"**When each crosses the GPT-4 lines** (historical, or projected from its own fit up to "
                f"{until:%Y-%m-%d}; pick an organisation above for the bands)")
    widgets.frame(crossings)
    widgets.download(ctx, crossings, f"Top {top} crossing dates", extra=[f"format: dense {fmt}", run.describe()])


def render() -> None:
    with page("projections", PROJECTION_PARAMS) as ctx:
        st.title("Projections")
        org_names, ids = cached.holders_with_estimates(ctx.version, ctx.filters.known_at)
        controls(ctx, org_names)
        fmt, values = ctx.value("format"), ctx.state.values()
        run, until = run_settings(values), horizon_date(ctx.filters.as_of, float(ctx.value("horizon")))
        scen = format_scenarios(ctx.value("scen"))
        st.caption(f"As of {ctx.filters.as_of:%Y-%m-%d}; H100e on the {BASIS_LABEL[ctx.filters.basis]}; peak "
                   f"FLOP/s dense {fmt.upper()}; a run is {run.describe()}. Log axes.")
        resolved, problems = resolve_scenarios(ctx.value("scen"), ctx.organisations(), ctx.chips(), fmt=fmt,
                                               basis=ctx.filters.basis)
        for problem in problems:
            st.warning(problem, icon="⚠️")
        lines = cached.milestones(ctx.version, ctx.filters.known_at)[0]
        if lines.empty:
            st.caption("No milestone model runs in the store (nor GPT-4), so no lines are drawn.")
        series = fleet_compute(ctx, fmt)
        if series.empty:
            ctx.nothing_found("No estimates match these settings. On an empty store, run `python -m fleet seed`.",
                              icon="🔍")
        else:
            name = ctx.value("org")
            if name:
                one_organisation(ctx, name, ids[name], fmt, lines, until, run, scen)
            else:
                top_n(ctx, series, fmt, lines, until, run, scen)
        with st.expander("Scenarios: add chips to an organisation by a date", expanded=bool(scen)):
            widgets.scenario_editor(ctx, org_names, sorted(ctx.chips()["name"], key=str.casefold), resolved,
                                    ctx.value("org"))
        with st.expander("How these numbers are made"):
            st.markdown(METHOD)


if __name__ == "__main__":
    render()
