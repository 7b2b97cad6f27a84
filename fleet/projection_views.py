"""Projections page data: display tables whose column names carry units, basis and format.

Each table is what one chart draws and what its "Download CSV" writes, built from the
analytics (``fleet.analytics.forecast`` and friends). No streamlit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fleet.analytics.forecast import Outlook
from fleet.analytics.projection import RunSettings, trainable_runs
from fleet.countries import country_name

ALL = "All tracked organisations"
OTHER = "Other countries"
RUN = "Trainable run (FLOP)"
RUN_LOW, RUN_HIGH = "Trainable run low (FLOP)", "Trainable run high (FLOP)"
MILESTONE_FLOP = "Training compute (FLOP)"
# The projection's line (and band), named for what it is: where it starts and what widens it.
PROJECTION = "projection: latest figure × fitted growth (band: 80 % interval of the rate)"
HELD_FLAT = "held at last figure (no fit)"
AFTER_HORIZON = "after the horizon"


def flops_col(fmt: str, which: str = "") -> str:
    return f"Peak FLOP/s {which + ' ' if which else ''}(dense {fmt})"


def h100e_col(basis: str, which: str = "") -> str:
    return f"H100e {which + ' ' if which else ''}({basis} basis)"


def scientific(values: pd.Series) -> pd.Series:
    """FLOP (or FLOP/s) figures as text in scientific notation, "3.9e+18"; a missing one empty.

    Text, because Streamlit's number columns refuse every whole number above 2^53, and every
    float that large is whole: no FLOP figure ever reaches a ``NumberColumn``'s format. Up to
    10 significant digits, trailing zeros dropped: a source's figure reads as it was given
    (3.4912896e+22), a product's float noise (7.699999999999999e+24) does not.
    """
    text = [np.format_float_scientific(float(v), precision=9, trim="-") if pd.notna(v) else "" for v in values]
    return pd.Series(text, index=values.index, dtype="str")


def _dates_text(values: pd.Series, missing: str) -> pd.Series:
    """Dates as ISO text, ``missing`` where there is none: one type per column, on screen and in the CSV."""
    return pd.Series([d.isoformat() if pd.notna(d) else missing for d in values], index=values.index, dtype="str")


def _figures(frame: pd.DataFrame, fmt: str, basis: str, prefix: str = "") -> dict:
    """Series -> display columns (``prefix`` picks ``_median`` style projected columns)."""
    point = "_median" if prefix else ""
    return {flops_col(fmt): frame[f"peak_flops{point}"], flops_col(fmt, "low"): frame["peak_flops_low"],
            flops_col(fmt, "high"): frame["peak_flops_high"], h100e_col(basis): frame[f"h100e{point}"],
            h100e_col(basis, "low"): frame["h100e_low"], h100e_col(basis, "high"): frame["h100e_high"]}


def holders_with_estimates(estimates: pd.DataFrame, organisations: pd.DataFrame) -> tuple[list[str], dict[str, int]]:
    """The organisations that own or use estimated chips (sorted names, and name -> id), for the picker."""
    ids = pd.concat([estimates["organisation_id"], estimates["user_organisation_id"]]).dropna().unique()
    orgs = organisations.loc[organisations["id"].isin(ids) & (organisations["kind"] != "unattributed")]
    return sorted(orgs["name"], key=str.casefold), dict(zip(orgs["name"], orgs["id"].astype(int)))


def compute_over_time(series: pd.DataFrame, organisations: pd.DataFrame, fmt: str, basis: str,
                      countries: int = 6) -> pd.DataFrame:
    """Total of all tracked organisations and the top countries (by latest FLOP/s), quarter by quarter."""
    columns = ["Date", "Series", *_figures(pd.DataFrame(columns=[
        "peak_flops", "peak_flops_low", "peak_flops_high", "h100e", "h100e_low", "h100e_high"]), fmt, basis),
        "Organisations"]
    if series.empty:
        return pd.DataFrame(columns=columns)
    from fleet.analytics.compute_series import totals

    home = organisations.set_index("id")["country"].map(lambda c: country_name(c) if c else "Unknown")
    all_rows = totals(series).assign(group=ALL)
    by_country = totals(series, home)
    latest = by_country.loc[by_country["date"] == by_country["date"].max()]
    leaders = latest.sort_values("peak_flops", ascending=False)["group"].head(countries).tolist()
    others = totals(series.loc[~series["holder_id"].map(home).isin(leaders)]).assign(group=OTHER)
    frame = pd.concat([all_rows, by_country.loc[by_country["group"].isin(leaders)], others], ignore_index=True)
    out = pd.DataFrame({"Date": frame["date"].dt.date, "Series": frame["group"], **_figures(frame, fmt, basis),
                        "Organisations": frame["holders"]})
    order = {name: i for i, name in enumerate([ALL, *leaders, OTHER])}
    return out.sort_values(["Series", "Date"], key=lambda s: s.map(order) if s.name == "Series" else s,
                           ignore_index=True)[columns]


def holder_table(outlook: Outlook, fmt: str, basis: str) -> pd.DataFrame:
    """Observed (combined estimates), projected (latest figure at the fitted rate, band) and with-scenario lines."""
    parts = []
    obs = outlook.observed
    if not obs.empty:
        parts.append(pd.DataFrame({"Date": obs["date"].dt.date, "Line": "estimates (combined)",
                                   **_figures(obs, fmt, basis)}))
        if "peak_flops_scen" in obs:
            parts.append(pd.DataFrame({"Date": obs["date"].dt.date, "Line": "estimates + scenarios",
                                       flops_col(fmt): obs["peak_flops_scen"], h100e_col(basis): obs["h100e_scen"]}))
    proj = outlook.projected
    if "peak_flops_median" in proj or "h100e_median" in proj:
        label = HELD_FLAT if "held_flat" in proj else PROJECTION
        filled = proj.reindex(columns=[f"{q}_{p}" for q in ("peak_flops", "h100e") for p in ("median", "low", "high")])
        parts.append(pd.DataFrame({"Date": proj["date"].dt.date, "Line": label,
                                   **_figures(filled, fmt, basis, prefix="median")}))
        if "peak_flops_median_scen" in proj:
            scen = {flops_col(fmt): proj["peak_flops_median_scen"], flops_col(fmt, "low"): proj["peak_flops_low_scen"],
                    flops_col(fmt, "high"): proj["peak_flops_high_scen"], h100e_col(basis): proj["h100e_median_scen"],
                    h100e_col(basis, "low"): proj["h100e_low_scen"], h100e_col(basis, "high"): proj["h100e_high_scen"]}
            parts.append(pd.DataFrame({"Date": proj["date"].dt.date, "Line": "projection + scenarios", **scen}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["Date", "Line", flops_col(fmt)])


def points_table(outlook: Outlook, fmt: str) -> pd.DataFrame:
    p = outlook.points
    return pd.DataFrame({"Estimate ID": p["estimate_id"], "Date": pd.to_datetime(p["date"]).dt.date,
                         "Scope": p["scope"], "Cluster": p["cluster"], "Chip": p["chip"],
                         "Count (chips, or H100e)": p["count_or_h100e"], flops_col(fmt): p["peak_flops"],
                         "Status": p["status"], "Certainty": p["certainty"], "Source": p["source_url"]})


def run_table(outlook: Outlook) -> pd.DataFrame:
    """The largest trainable run over time: observed, projected (band) and with scenarios."""
    parts = []
    obs = outlook.observed
    if not obs.empty:
        parts.append(pd.DataFrame({"Date": obs["date"].dt.date, "Line": "from the estimates", RUN: obs["run_flop"],
                                   RUN_LOW: obs["run_flop_low"], RUN_HIGH: obs["run_flop_high"],
                                   "Run uses": obs["run_basis"]}))
        if "run_flop_scen" in obs:
            parts.append(pd.DataFrame({"Date": obs["date"].dt.date, "Line": "estimates + scenarios",
                                       RUN: obs["run_flop_scen"]}))
    proj = outlook.projected
    if "run_flop_median" in proj:
        label = HELD_FLAT if "held_flat" in proj else PROJECTION
        parts.append(pd.DataFrame({"Date": proj["date"].dt.date, "Line": label, RUN: proj["run_flop_median"],
                                   RUN_LOW: proj["run_flop_low"], RUN_HIGH: proj["run_flop_high"]}))
        if "run_flop_median_scen" in proj:
            parts.append(pd.DataFrame({"Date": proj["date"].dt.date, "Line": "projection + scenarios",
                                       RUN: proj["run_flop_median_scen"], RUN_LOW: proj["run_flop_low_scen"],
                                       RUN_HIGH: proj["run_flop_high_scen"]}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["Date", "Line", RUN])


def milestones_table(lines: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"Milestone": lines["milestone"], MILESTONE_FLOP: lines["flop"],
                         "Kind": lines["kind"], "Published": pd.to_datetime(lines["published_on"]).dt.date,
                         "Source": lines["source_url"]})


def crossings_table(outlook: Outlook) -> pd.DataFrame:
    """When each line is crossed, every column one type (text) so Arrow and the CSV agree.

    A date the projection does not reach reads "after the horizon" (the row's Crossing says
    which); without a projection there is no band, and its cells read "—".
    """
    c = outlook.crossings
    beyond = AFTER_HORIZON if "run_flop_median" in outlook.projected else "—"
    out = pd.DataFrame({"Milestone": c["milestone"], MILESTONE_FLOP: scientific(c["flop"]), "Crossing": c["kind"],
                        "Date": _dates_text(c["date"], beyond), "Earliest (band top)": _dates_text(c["early"], beyond),
                        "Latest (band bottom)": _dates_text(c["late"], beyond)})
    if "date_with_scenarios" in c:
        out["With scenarios"] = [d.isoformat() if pd.notna(d) else kind
                                 for d, kind in zip(c["date_with_scenarios"], c["kind_with_scenarios"])]
    return out


def fit_table(outlook: Outlook) -> pd.DataFrame:
    rows = []
    for quantity, label in (("h100e", "H100e"), ("peak_flops", "Peak FLOP/s")):
        fit = outlook.fits.get(quantity)
        if fit is None:
            rows.append({"Quantity": label, "Note": outlook.refused.get(quantity, "no data")})
            continue
        low, high = fit.growth_interval
        rows.append({"Quantity": label, "Growth (× per year)": fit.growth_per_year, "80 % low": low,
                     "80 % high": high, "Doubling time (years)": fit.doubling_time_years, "Points": fit.n_points,
                     "First": fit.first, "Last": fit.last, "R²": fit.r_squared, "Note": fit.method})
    return pd.DataFrame(rows)


def total_table(outlook: Outlook, fmt: str) -> pd.DataFrame:
    """Top-N total: observed quarter ends, the fit's median and band, and Epoch's trend line."""
    col, low, high = flops_col(fmt), flops_col(fmt, "low"), flops_col(fmt, "high")
    obs = outlook.observed
    parts = [pd.DataFrame({"Date": obs["date"].dt.date, "Line": "total (estimates)", col: obs["peak_flops"],
                           low: obs["peak_flops_low"], high: obs["peak_flops_high"]})]
    if "peak_flops_median" in outlook.projected:
        proj = outlook.projected
        parts.append(pd.DataFrame({"Date": proj["date"].dt.date, "Line": PROJECTION, col: proj["peak_flops_median"],
                                   low: proj["peak_flops_low"], high: proj["peak_flops_high"]}))
        if "peak_flops_median_scen" in proj:
            parts.append(pd.DataFrame({"Date": proj["date"].dt.date, "Line": "projection + scenarios",
                                       col: proj["peak_flops_median_scen"]}))
    if outlook.reference is not None:
        ref = outlook.reference
        parts.append(pd.DataFrame({"Date": ref["date"].dt.date, "Line": "Epoch AI leading-cluster trend (2.5×/yr)",
                                   col: ref["value"]}))
    return pd.concat(parts, ignore_index=True)


def runs_now_table(series: pd.DataFrame, organisations: pd.DataFrame, holder_ids: list[int], run: RunSettings,
                   milestones: pd.DataFrame, gpt4_flop: float | None, fmt: str) -> pd.DataFrame:
    """Each organisation's largest trainable run at the last date of ``series``, against the lines."""
    last = series.loc[(series["date"] == series["date"].max()) & series["holder_id"].isin(holder_ids)]
    runs = trainable_runs(last, run).set_index("holder_id").reindex(holder_ids)
    names = organisations.set_index("id")["name"]
    ordered = milestones.sort_values("flop")

    def reached(flop: float) -> str:
        hit = ordered.loc[ordered["flop"] <= flop, "milestone"] if pd.notna(flop) else []
        return hit.iloc[-1] if len(hit) else "—"

    return pd.DataFrame({
        "Organisation": [names.get(h, str(h)) for h in holder_ids],
        flops_col(fmt): runs["peak_flops"].to_numpy(), f"Largest cluster {flops_col(fmt)}": runs["cluster_flops"]
        .to_numpy(), "Run uses": runs["run_basis"].to_numpy(), RUN: runs["run_flop"].to_numpy(),
        "× GPT-4": (runs["run_flop"] / gpt4_flop).to_numpy() if gpt4_flop else np.nan,
        "Highest line reached": [reached(v) for v in runs["run_flop"]],
    })
