"""One organisation's (or the top-N's) compute outlook: observed series, fits, projection, crossings.

Ties ``compute_series`` (figures over time), ``projection`` (runs, fits, crossings) and
``scenarios`` together, so the page, the CLI and the claims all compute the same thing:

- observed: the holder's figures at each date one of its estimates takes effect, plus
  quarter ends, up to the as-of date (organisation filters do not apply: it was picked);
- fit points: the figure at each of its estimate dates (so "3 dated estimates" means three
  dates on which the store has an estimate for it);
- projection: weekly from the as-of date to ``until``, each quantity starting at its latest
  observed figure and growing at its fitted rate (``fleet.analytics.projection`` says
  why anchored); the run uses the share of the fleet in its largest cluster at the last
  observed date, held constant;
- scenarios: added on top of observed and projected figures, never to the fit.

Pure pandas.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
import pandas as pd

from fleet.analytics import scenarios as scen
from fleet.analytics.compute_series import (
    SeriesOptions, estimate_points, fleet_series, relevant_estimates, series_dates, totals,
)
from fleet.analytics.projection import (
    EPOCH_CLUSTER_TREND, FitRefused, GrowthFit, RunSettings, cluster_share, crossing_dates, fit_growth,
    milestone_lines, projection_dates, reference_trend, trainable_run_flop, trainable_runs,
)

QUANTITIES = {"h100e": "H100e", "peak_flops": "peak FLOP/s"}
# Part of the key of the projections kept on disk (the top-N crossing table,
# ``fleet.materialised.crossings``): bump it when how a projection is made, or written, changes.
PROJECTION_MODEL = 2  # 2: anchored at the latest figure


@dataclass
class Outlook:
    """Everything shown about one subject (an organisation or a top-N total)."""

    subject: str
    as_of: date
    until: date
    observed: pd.DataFrame  # date, h100e*, peak_flops*, [run_flop*], [*_scen]
    fits: dict[str, GrowthFit] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)  # quantity -> why no fit
    projected: pd.DataFrame = field(default_factory=pd.DataFrame)  # date, <q>_median/_low/_high, [*_scen]
    crossings: pd.DataFrame = field(default_factory=pd.DataFrame)
    points: pd.DataFrame = field(default_factory=pd.DataFrame)  # the subject's own estimates
    scenarios: pd.DataFrame = field(default_factory=pd.DataFrame)  # resolved scenarios that apply
    reference: pd.DataFrame | None = None  # Epoch's trend, for totals

    def at_horizon(self) -> dict:
        """The projected figures at ``until`` (median, low, high per quantity)."""
        if self.projected.empty:
            return {}
        last = self.projected.iloc[-1]
        return {c: float(last[c]) for c in self.projected.columns if c != "date" and pd.notna(last[c])}


def _fit_all(observed: pd.DataFrame, fit_dates, subject: str) -> tuple[dict, dict]:
    fits, refused = {}, {}
    at = observed.loc[observed["date"].isin(pd.to_datetime(pd.Series(list(fit_dates))))]
    for quantity, label in QUANTITIES.items():
        try:
            fits[quantity] = fit_growth(at.rename(columns={quantity: "value"}), quantity=label, subject=subject)
        except FitRefused as exc:
            refused[quantity] = str(exc)
    return fits, refused


def _project(fits: dict[str, GrowthFit], observed: pd.DataFrame, dates) -> pd.DataFrame:
    """Each fitted quantity from its latest positive observed figure (a fit has at least 3)."""
    frame = pd.DataFrame({"date": pd.to_datetime(pd.Series(list(dates)))})
    for quantity, fit in fits.items():
        latest = observed.loc[observed[quantity] > 0].iloc[-1]
        band = fit.project(latest["date"], float(latest[quantity]), dates)
        for part in ("median", "low", "high"):
            frame[f"{quantity}_{part}"] = band[part].to_numpy()
    return frame


def _with_scenarios(frame: pd.DataFrame, resolved: pd.DataFrame, holders, columns: dict[str, str]) -> None:
    """Add ``<col>_scen`` columns: each figure plus the scenarios' chips in effect by its date."""
    if resolved.empty:
        return
    for quantity, source in (("h100e", "h100e"), ("peak_flops", "peak_flops")):
        extra = scen.added(resolved, holders, frame["date"], source)
        for column in columns.get(quantity, ()):
            if column in frame:
                frame[f"{column}_scen"] = frame[column].to_numpy(dtype="float64") + extra


def _scenario_runs(frame: pd.DataFrame, resolved: pd.DataFrame, holders, run: RunSettings, share: float,
                   fleet_cols: list[str], run_cols: list[str]) -> None:
    """Run FLOP with scenarios: the larger of the usual run and a scenario cluster (or a share of all)."""
    if resolved.empty:
        return
    biggest = scen.largest_added_cluster(resolved, holders, frame["date"])
    extra = scen.added(resolved, holders, frame["date"], "peak_flops")
    for fleet_col, run_col in zip(fleet_cols, run_cols):
        if fleet_col not in frame:
            continue
        fleet = frame[fleet_col].to_numpy(dtype="float64")
        if run.share is not None:
            per_s = (fleet + extra) * run.share
        elif run_col == "run_flop" and "run_flops_per_s" in frame:  # observed: the cluster actually known then
            per_s = np.fmax(frame["run_flops_per_s"].to_numpy(dtype="float64"), biggest)
        else:  # projected: the last observed cluster share, held constant
            per_s = np.fmax(fleet * share, biggest)
        frame[f"{run_col}_scen"] = trainable_run_flop(per_s, run.mfu, run.days)


def project_holder(estimates: pd.DataFrame, chips: pd.DataFrame, organisations: pd.DataFrame,
                   model_runs: pd.DataFrame, holder_id: int, *, as_of: date, until: date,
                   options: SeriesOptions = SeriesOptions(), run: RunSettings = RunSettings(),
                   resolved: pd.DataFrame | None = None) -> Outlook:
    name = organisations.set_index("id")["name"].get(holder_id, f"organisation {holder_id}")
    options = replace(options, kinds=(), countries=(), holders=(holder_id,))
    pool = relevant_estimates(estimates, [holder_id])
    dates = series_dates(pool, as_of, include_estimate_dates=True)
    observed = trainable_runs(fleet_series(pool, chips, organisations, dates, options), run)
    observed = observed.sort_values("date", ignore_index=True)
    points = estimate_points(estimates, chips, holder_id, as_of, options)
    fits, refused = _fit_all(observed, points["date"].unique(), name)
    resolved = (resolved if resolved is not None else scen.resolve_scenarios((), organisations, chips)[0])
    resolved = resolved.loc[resolved["holder_id"] == holder_id]
    outlook = Outlook(subject=name, as_of=as_of, until=until, observed=observed, fits=fits, refused=refused,
                      points=points, scenarios=resolved)
    share = cluster_share(observed, run)
    grid = projection_dates(as_of, until)
    projected = _project(fits, observed, grid)
    if "peak_flops" in fits:
        for part in ("median", "low", "high"):
            projected[f"run_flop_{part}"] = trainable_run_flop(projected[f"peak_flops_{part}"] * share, run.mfu,
                                                               run.days)
    elif not resolved.empty and not observed.empty:
        projected = _held_flat(observed, grid, share, run)
    holders = [holder_id]
    _with_scenarios(observed, resolved, holders, {"h100e": ["h100e"], "peak_flops": ["peak_flops"]})
    _scenario_runs(observed, resolved, holders, run, share, ["peak_flops"], ["run_flop"])
    _with_scenarios(projected, resolved, holders, {q: [f"{q}_{p}" for p in ("median", "low", "high")]
                                                   for q in QUANTITIES})
    _scenario_runs(projected, resolved, holders, run, share,
                   [f"peak_flops_{p}" for p in ("median", "low", "high")],
                   [f"run_flop_{p}" for p in ("median", "low", "high")])
    outlook.projected = projected
    outlook.crossings = _crossings(observed, projected, model_runs, until, with_scenarios=not resolved.empty)
    return outlook


def _held_flat(observed: pd.DataFrame, grid, share: float, run: RunSettings) -> pd.DataFrame:
    """Without a fit, scenarios go on top of the last observed figures held flat (and say so)."""
    last = observed.iloc[-1]
    frame = pd.DataFrame({"date": pd.to_datetime(pd.Series(list(grid)))})
    for quantity in QUANTITIES:
        for part, column in (("median", quantity), ("low", f"{quantity}_low"), ("high", f"{quantity}_high")):
            frame[f"{quantity}_{part}"] = float(last[column])
    for part in ("median", "low", "high"):
        frame[f"run_flop_{part}"] = trainable_run_flop(frame[f"peak_flops_{part}"] * share, run.mfu, run.days)
    frame["held_flat"] = True
    return frame


def _crossings(observed, projected, model_runs, until, *, with_scenarios: bool) -> pd.DataFrame:
    lines = milestone_lines(model_runs)
    proj = None
    if "run_flop_median" in projected:
        proj = projected.rename(columns={"run_flop_median": "median", "run_flop_low": "low",
                                         "run_flop_high": "high"})
    base = crossing_dates(observed[["date", "run_flop"]], proj, lines, until)
    if not with_scenarios:
        return base
    obs = observed[["date", "run_flop_scen"]].rename(columns={"run_flop_scen": "run_flop"})
    proj_s = None
    if "run_flop_median_scen" in projected:
        proj_s = projected.rename(columns={"run_flop_median_scen": "median", "run_flop_low_scen": "low",
                                           "run_flop_high_scen": "high"})
    with_s = crossing_dates(obs, proj_s, lines, until)
    return base.join(with_s[["kind", "date"]].rename(columns={"kind": "kind_with_scenarios",
                                                              "date": "date_with_scenarios"}))


def top_holders(series: pd.DataFrame, organisations: pd.DataFrame, as_of: date, n: int) -> list[int]:
    """The ``n`` organisations with the most H100e at the last date up to ``as_of`` (unattributed left out)."""
    at = series.loc[series["date"] <= pd.Timestamp(as_of)]
    if at.empty:
        return []
    latest = at.loc[at["date"] == at["date"].max()]
    kinds = organisations.set_index("id")["kind"]
    latest = latest.loc[latest["holder_id"].map(kinds) != "unattributed"]
    return latest.sort_values("h100e", ascending=False)["holder_id"].head(n).astype(int).tolist()


def project_total(series: pd.DataFrame, holder_ids: list[int], *, subject: str, as_of: date, until: date,
                  resolved: pd.DataFrame | None = None) -> Outlook:
    """The summed figures of ``holder_ids`` over the series' dates (quarter ends), fitted and projected."""
    chosen = series.loc[series["holder_id"].isin(holder_ids)]
    observed = totals(chosen).sort_values("date", ignore_index=True)
    fits, refused = _fit_all(observed, observed["date"], subject)
    grid = projection_dates(as_of, until)
    projected = _project(fits, observed, grid)
    resolved = resolved if resolved is not None else pd.DataFrame(columns=["holder_id", "by", "peak_flops", "h100e"])
    resolved = resolved.loc[resolved["holder_id"].isin(holder_ids)]
    _with_scenarios(observed, resolved, holder_ids, {"h100e": ["h100e"], "peak_flops": ["peak_flops"]})
    _with_scenarios(projected, resolved, holder_ids, {q: [f"{q}_{p}" for p in ("median", "low", "high")]
                                                      for q in QUANTITIES})
    reference = None
    positive = observed.loc[observed["peak_flops"] > 0]
    if not positive.empty:
        last = positive.iloc[-1]
        span = list(observed["date"]) + list(grid)
        reference = reference_trend(last["date"].date(), float(last["peak_flops"]), span, EPOCH_CLUSTER_TREND)
    return Outlook(subject=subject, as_of=as_of, until=until, observed=observed, fits=fits, refused=refused,
                   projected=projected, scenarios=resolved, reference=reference)


def all_holders_series(estimates: pd.DataFrame, chips: pd.DataFrame, organisations: pd.DataFrame, *,
                       as_of: date, options: SeriesOptions = SeriesOptions(),
                       start: date | None = None) -> pd.DataFrame:
    """Every holder at quarter ends (and the as-of date): the basis of totals and country lines."""
    return fleet_series(estimates, chips, organisations, series_dates(estimates, as_of, start=start), options)


def crossings_by_holder(estimates: pd.DataFrame, chips: pd.DataFrame, organisations: pd.DataFrame,
                        model_runs: pd.DataFrame, holder_ids: list[int], *, as_of: date, until: date,
                        options: SeriesOptions = SeriesOptions(), run: RunSettings = RunSettings(),
                        lines: tuple[str, ...] = ("GPT-4", "GPT-4 × 5", "GPT-4 × 20", "GPT-4 × 100")) -> pd.DataFrame:
    """One row per organisation: when it crosses each line ("2024-03-12", "~2027-07-04 (projected)", "not by ...")."""
    names = organisations.set_index("id")["name"]
    rows = []
    for holder in holder_ids:
        outlook = project_holder(estimates, chips, organisations, model_runs, holder, as_of=as_of, until=until,
                                 options=options, run=run)
        found = outlook.crossings.set_index("milestone")
        row = {"Organisation": names.get(holder, str(holder))}
        for line in lines:
            if line not in found.index:
                row[line] = "no such line"
                continue
            c = found.loc[line]
            row[line] = (c["date"].isoformat() if c["kind"] == "historical" else
                         f"~{c['date'].isoformat()} (projected)" if c["kind"] == "projected" else c["kind"])
        rows.append(row)
    return pd.DataFrame(rows, columns=["Organisation", *lines])
