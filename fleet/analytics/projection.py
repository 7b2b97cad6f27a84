"""Projected compute: trainable runs, log-linear growth fits with an 80 % interval, milestone crossings.

- **Trainable run** (FLOP) = peak FLOP/s of the share of the fleet in one cluster × MFU ×
  run length in seconds. Defaults: MFU 40 %, 90 days, and the largest single cluster
  where the data has clusters (else the whole fleet).
- **Growth fit**: ordinary least squares of ln(value) on time in years over the dated
  points (one per date an estimate takes effect); the growth rate's **80 % confidence
  interval** is slope ± t × its standard error (Student t with n − 2 degrees of freedom).
  Fewer than 3 dated points are refused with a message (a line through 2 points has no
  residuals).
- **Projection**: the latest figure grown at the fitted rate (median), and at the low and
  high ends of the rate's 80 % interval (the band). Why anchored: a fleet is a stock (a
  chip bought stays in it), so a figure above or below the fitted line stays there
  rather than returning to it; the line's own level at the as-of date (in the seed data
  from a third to 20× the latest figure) would draw a fall or a jump no one forecasts,
  and "cross" lines on the as-of date that the fleet has not reached. Starting from the
  last observation at the fitted rate is the usual reading of "if the trend continues"
  (Epoch AI's extrapolations start from the current figure; its leading-cluster trend is
  drawn that way here too). The band is zero at the as-of date and widens with the
  horizon: it is the uncertainty of the rate only, not of the steps a fleet takes around
  its trend, which near term can be larger.
- **Crossings**: the first date a trainable-run series reaches a milestone (historical
  from the observed series; projected from the median, with the band's early and late
  dates), to the resolution of the projection grid (a week). As the projection starts
  at the observed figure, a line the fleet has not reached by the as-of date is
  crossed, if at all, after it.

Pure numpy/pandas (+ scipy for the t quantile).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from fleet.names import name_key

SECONDS_PER_DAY = 86_400
DAYS_PER_YEAR = 365.25
INTERVAL = 0.80
MIN_POINTS = 3
GPT4_MULTIPLES = (5, 20, 100)  # the article's lines (×100 in the translation, ×20 in English summaries)
# Epoch AI: the computational performance of the leading AI supercomputers has grown
# about 2.5× a year (doubling every ~9 months), 2019-2025.
EPOCH_CLUSTER_TREND = 2.5
EPOCH_TREND_SOURCE = "https://epoch.ai/blog/trends-in-ai-supercomputers"
INTERVAL_METHOD = ("latest figure grown at the fitted rate; band: the rate's 80 % confidence interval "
                   "(least squares of ln(value) on time, Student t, n − 2 degrees of freedom)")


# --- units --------------------------------------------------------------------------------

def run_seconds(days: float) -> float:
    return float(days) * SECONDS_PER_DAY


def trainable_run_flop(peak_flops, mfu: float, days: float):
    """FLOP a run can do: peak FLOP/s × model FLOP/s utilisation × seconds (NaN stays NaN)."""
    if not 0 < mfu <= 1:
        raise ValueError(f"MFU must be a fraction in (0, 1], got {mfu!r}")
    if days <= 0:
        raise ValueError(f"run length must be positive days, got {days!r}")
    return peak_flops * mfu * run_seconds(days)


def percent_to_fraction(percent: float) -> float:
    return float(percent) / 100.0


def years_between(start: date | pd.Timestamp, end: date | pd.Timestamp) -> float:
    return (pd.Timestamp(end) - pd.Timestamp(start)).days / DAYS_PER_YEAR


def doubling_time_years(growth_per_year: float) -> float:
    return math.inf if growth_per_year <= 1 else math.log(2) / math.log(growth_per_year)


# --- run settings ---------------------------------------------------------------------------

@dataclass(frozen=True)
class RunSettings:
    """How a fleet becomes one training run. ``share`` None = largest single cluster (else 100 %)."""

    mfu: float = 0.40
    days: float = 90.0
    share: float | None = None  # fraction of the whole fleet in one cluster

    def describe(self) -> str:
        where = "the largest single cluster (whole fleet where no clusters are known)" if self.share is None \
            else f"{self.share:.0%} of the fleet"
        return f"{where} × MFU {self.mfu:.0%} × {self.days:g} days"


def run_flops_per_s(series: pd.DataFrame, run: RunSettings) -> pd.DataFrame:
    """The FLOP/s one run can use at each row (point/low/high), and what it rests on."""
    if run.share is not None:
        base = series[["peak_flops", "peak_flops_low", "peak_flops_high"]].to_numpy(dtype="float64") * run.share
        basis = np.full(len(series), f"{run.share:.0%} of fleet", dtype=object)
    else:
        cluster = series.reindex(columns=["cluster_flops", "cluster_flops_low", "cluster_flops_high"])
        cluster = cluster.to_numpy(dtype="float64")
        fleet = series[["peak_flops", "peak_flops_low", "peak_flops_high"]].to_numpy(dtype="float64")
        has = np.nan_to_num(cluster[:, 0]) > 0
        base = np.where(has[:, None], np.fmin(cluster, fleet), fleet)  # a cluster never exceeds its fleet
        basis = np.where(has, "largest cluster", "whole fleet (no clusters known)")
    return pd.DataFrame({"run_flops_per_s": base[:, 0], "run_flops_per_s_low": base[:, 1],
                         "run_flops_per_s_high": base[:, 2], "run_basis": basis}, index=series.index)


def trainable_runs(series: pd.DataFrame, run: RunSettings) -> pd.DataFrame:
    """``series`` plus the trainable run in FLOP (point/low/high) under ``run``."""
    per_s = run_flops_per_s(series, run)
    out = series.join(per_s)
    for suffix in ("", "_low", "_high"):
        out[f"run_flop{suffix}"] = trainable_run_flop(per_s[f"run_flops_per_s{suffix}"], run.mfu, run.days)
    return out


def cluster_share(series: pd.DataFrame, run: RunSettings) -> float:
    """The share of the fleet one run uses at the last observed date (held constant when projecting)."""
    if series.empty:
        return 1.0 if run.share is None else run.share
    last = series.sort_values("date").iloc[[-1]]
    per_s = run_flops_per_s(last, run)["run_flops_per_s"].iloc[0]
    fleet = float(last["peak_flops"].iloc[0])
    return float(per_s / fleet) if fleet > 0 and not math.isnan(per_s) else 1.0


# --- growth fit ---------------------------------------------------------------------------------

class FitRefused(ValueError):
    """Too few dated points to fit a growth rate; the message says how many and why."""


@dataclass(frozen=True)
class GrowthFit:
    quantity: str
    n_points: int
    first: date
    last: date
    slope: float  # ln growth per year
    slope_se: float
    t_crit: float
    r_squared: float
    level: float = INTERVAL
    method: str = INTERVAL_METHOD

    @property
    def growth_per_year(self) -> float:
        return math.exp(self.slope)

    @property
    def growth_interval(self) -> tuple[float, float]:
        half = self.t_crit * self.slope_se
        return math.exp(self.slope - half), math.exp(self.slope + half)

    @property
    def doubling_time_years(self) -> float:
        return doubling_time_years(self.growth_per_year)

    def project(self, start: date | pd.Timestamp, value: float, dates) -> pd.DataFrame:
        """``value`` (the figure at ``start``) grown to ``dates`` (on or after ``start``) at the
        fitted rate (median) and at the ends of its interval (low, high)."""
        when = pd.to_datetime(pd.Series(list(dates)))
        years = ((when - pd.Timestamp(start)).dt.days / DAYS_PER_YEAR).to_numpy(dtype="float64")
        centre = math.log(value) + self.slope * years
        half = self.t_crit * self.slope_se * years
        return pd.DataFrame({"date": when, "median": np.exp(centre), "low": np.exp(centre - half),
                             "high": np.exp(centre + half)})

    def summary(self) -> dict:
        low, high = self.growth_interval
        return {"quantity": self.quantity, "growth_per_year": self.growth_per_year,
                "growth_per_year_low": low, "growth_per_year_high": high,
                "doubling_time_years": self.doubling_time_years, "n_points": self.n_points,
                "first": self.first.isoformat(), "last": self.last.isoformat(), "r_squared": self.r_squared,
                "interval": f"{self.level:.0%}", "method": self.method}


def fit_growth(points: pd.DataFrame, *, quantity: str, subject: str = "this series",
               level: float = INTERVAL) -> GrowthFit:
    """Fit ln(value) = a + b·t over ``points`` (columns ``date``, ``value``); one point per date."""
    usable = points.loc[points["value"].notna() & (points["value"] > 0), ["date", "value"]]
    usable = usable.groupby(pd.to_datetime(usable["date"]))["value"].last().sort_index()
    n = len(usable)
    if n < MIN_POINTS:
        dates = ", ".join(d.date().isoformat() for d in usable.index) or "none"
        raise FitRefused(f"{subject} has {n} dated estimate{'s' if n != 1 else ''} with a positive {quantity} "
                         f"({dates}); a growth fit needs at least {MIN_POINTS}, so none is drawn.")
    from scipy import stats  # the t quantile only: importing scipy.stats takes ~0.7 s, which every page
    # a new server process draws first would otherwise pay (fleet.views imports this module)

    t = ((usable.index - usable.index[0]).days / DAYS_PER_YEAR).to_numpy(dtype="float64")
    y = np.log(usable.to_numpy(dtype="float64"))
    slope, intercept = np.polyfit(t, y, 1)
    resid = y - (intercept + slope * t)
    sxx = float(((t - t.mean()) ** 2).sum())
    resid_sd = float(math.sqrt((resid ** 2).sum() / (n - 2)))
    total = float(((y - y.mean()) ** 2).sum())
    return GrowthFit(quantity=quantity, n_points=n, first=usable.index[0].date(), last=usable.index[-1].date(),
                     slope=float(slope), slope_se=resid_sd / math.sqrt(sxx),
                     t_crit=float(stats.t.ppf(0.5 + level / 2, n - 2)),
                     r_squared=1 - float((resid ** 2).sum()) / total if total > 0 else 1.0, level=level)


def projection_dates(start: date, until: date, freq: str = "W") -> list[date]:
    """A weekly grid from ``start`` to ``until`` (both included)."""
    grid = {d.date() for d in pd.date_range(pd.Timestamp(start), pd.Timestamp(until), freq=freq)}
    return sorted(grid | {start, until})


def reference_trend(anchor: date, value: float, dates, factor: float = EPOCH_CLUSTER_TREND) -> pd.DataFrame:
    """A line growing ``factor``× a year through (anchor, value): Epoch's leading-cluster trend."""
    when = pd.to_datetime(pd.Series(list(dates)))
    t = ((when - pd.Timestamp(anchor)).dt.days / DAYS_PER_YEAR).to_numpy(dtype="float64")
    return pd.DataFrame({"date": when, "value": value * factor ** t})


# --- milestones and crossings ---------------------------------------------------------------------

def find_model_run(model_runs: pd.DataFrame, name: str) -> pd.Series | None:
    """The model run called ``name`` (name-key match; the most recent publication if several)."""
    if model_runs.empty:
        return None
    hits = model_runs.loc[model_runs["name"].map(name_key) == name_key(name)]
    if hits.empty:
        return None
    return hits.sort_values(["published_on", "id"]).iloc[-1]


def milestone_lines(model_runs: pd.DataFrame, multiples=GPT4_MULTIPLES) -> pd.DataFrame:
    """Milestone model runs (``milestone`` flag) plus the GPT-4 × N lines, as horizontal lines."""
    runs = model_runs.loc[model_runs["milestone"].fillna(False).astype(bool)] if len(model_runs) else model_runs
    rows = [{"milestone": r["name"], "flop": float(r["training_flop"]), "kind": "model run",
             "published_on": r["published_on"], "model_run_id": int(r["id"]), "source_url": r["source_url"]}
            for _, r in runs.iterrows()]
    gpt4 = find_model_run(model_runs, "GPT-4")
    if gpt4 is not None:
        rows += [{"milestone": f"GPT-4 × {m}", "flop": m * float(gpt4["training_flop"]), "kind": "article line",
                  "published_on": pd.NaT, "model_run_id": int(gpt4["id"]), "source_url": gpt4["source_url"]}
                 for m in multiples]
    frame = pd.DataFrame(rows, columns=["milestone", "flop", "kind", "published_on", "model_run_id", "source_url"])
    return frame.sort_values("flop", ignore_index=True)


def _first_date(dates: pd.Series, values: pd.Series, threshold: float):
    hit = pd.to_datetime(dates)[values.to_numpy(dtype="float64") >= threshold]
    return None if hit.empty else hit.min().date()


def crossing_dates(observed: pd.DataFrame, projected: pd.DataFrame | None, milestones: pd.DataFrame,
                   until: date | None = None) -> pd.DataFrame:
    """When a run series first reaches each milestone.

    ``observed``: ``date``, ``run_flop`` (historical). ``projected``: ``date``, ``median``,
    ``low``, ``high`` (after the last observation), or None. ``kind`` is ``historical``,
    ``projected`` (``early``/``late``: where the band's high/low edges cross; a missing
    ``late`` means not within the horizon) or ``not by <date>``.
    """
    rows = []
    for _, m in milestones.iterrows():
        row = {"milestone": m["milestone"], "flop": m["flop"], "kind": None, "date": None, "early": None,
               "late": None}
        seen = _first_date(observed["date"], observed["run_flop"], m["flop"]) if len(observed) else None
        if seen is not None:
            row.update(kind="historical", date=seen, early=seen, late=seen)
        elif projected is not None and len(projected):
            row.update(date=_first_date(projected["date"], projected["median"], m["flop"]),
                       early=_first_date(projected["date"], projected["high"], m["flop"]),
                       late=_first_date(projected["date"], projected["low"], m["flop"]))
            row["kind"] = "projected" if row["date"] is not None else None
        if row["kind"] is None:
            row["kind"] = f"not by {until.isoformat()}" if until else "not reached"
        rows.append(row)
    return pd.DataFrame(rows, columns=["milestone", "flop", "kind", "date", "early", "late"])


def latest_day(dates) -> date:
    return max(pd.Timestamp(d).date() for d in dates)


def horizon_date(as_of: date, years: float) -> date:
    return as_of + timedelta(days=round(years * DAYS_PER_YEAR))
