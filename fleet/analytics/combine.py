"""How estimates combine into one figure per organisation and chip at a date.

The rule (shown in the app, tested in tests/test_combine.py). For an organisation and a
chip at the as-of date, among the live estimates that pass the filters:

(a) *fleet*: the latest ``fleet``-scope estimate of that chip valid on or before the date;
(b) *clusters*: for each named cluster, its estimates of the latest date valid on or
    before the as-of date -- that date's rows describe the cluster's whole composition,
    so an earlier phase's chips do not linger -- counted only if the cluster is
    operational then (or planned, when planned capacity is included); a decommissioned
    cluster counts 0; the clusters' counts are summed per chip.

The chip's figure is the larger of (a) and (b), because clusters are a lower bound of a
fleet. An organisation-wide figure given only in H100-equivalents (a ``fleet``-scope
estimate without a chip) covers all its chips: the organisation's total is the larger of
it and the sum of its chip figures (``fleet.analytics.fleet`` adds the difference as an
"organisation-wide, chips not specified" row). Clusters given only in H100e have no chip
and add like any cluster (``H100E_ONLY``).

Several estimates on the same latest date conflict: they become a range (the median as
the point, the lowest low and highest high). Ranges carry through sums, and maxima are
taken element-wise (point, low and high). Pure pandas: no database, no streamlit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
import pandas as pd

from fleet.vocab import CERTAINTY_RANK, Certainty, Status

# The rule in a paragraph (markdown), as the app shows it on every page and each organisation's page.
RULE_SUMMARY = (
    "For each chip at the as-of date: (a) the latest whole-fleet estimate on "
    "or before that date, and (b) the sum of the latest estimate of each of its clusters operational by "
    "then. The larger counts, since clusters are a lower bound of a fleet. An organisation-wide figure given "
    "only in H100e adds whatever it exceeds the chip figures by. Same-date conflicting estimates become a "
    "range; superseded and retracted estimates never count (an organisation's page lists them, not hidden).")

H100E_ONLY = -1  # chip_key of cluster estimates that give H100-equivalents but no chip
WHOLE = -2  # chip_key of the organisation-wide H100e remainder (see fleet.analytics.fleet)
KEYS = ["holder_id", "chip_key"]
# Fleet and cluster figures are compared within one *owner's* holding: when leased
# capacity is attributed to its user, it adds to the user's own fleet instead of
# competing with it as a "conflicting" estimate.
PART_KEYS = [*KEYS, "owner_id"]


@dataclass(frozen=True)
class CombineOptions:
    as_of: date
    include_planned: bool = False
    min_certainty: Certainty = Certainty.SPECULATIVE
    attribute_to: Literal["owner", "user"] = "owner"


@dataclass
class Combined:
    by_chip: pd.DataFrame  # one row per (holder_id, chip_key)
    whole: pd.DataFrame  # organisation-wide H100e figures: one row per holder_id
    contributions: pd.DataFrame  # the estimates each figure rests on


def prepare(estimates: pd.DataFrame, options: CombineOptions) -> pd.DataFrame:
    """Filter to what may count at the as-of date and add the working columns."""
    e = estimates
    keep = e["valid_on"] <= pd.Timestamp(options.as_of)
    keep &= e["certainty"].map(CERTAINTY_RANK).fillna(0) >= CERTAINTY_RANK[Certainty(options.min_certainty)]
    if not options.include_planned:
        keep &= e["status"] != Status.PLANNED
    e = e.loc[keep].copy()
    e["owner_id"] = e["organisation_id"].astype("int64")
    holder = e["organisation_id"]
    if options.attribute_to == "user":
        holder = e["user_organisation_id"].fillna(holder)
    e["holder_id"] = holder.astype("int64")
    has_chip = e["chip_id"].notna()
    e["chip_key"] = e["chip_id"].fillna(H100E_ONLY).astype("int64")
    e["qty"] = np.where(has_chip, e["count"].astype("float64"), e["h100e"].astype("float64"))
    low = np.where(has_chip, e["count_low"].astype("float64"), e["h100e_low"].astype("float64"))
    high = np.where(has_chip, e["count_high"].astype("float64"), e["h100e_high"].astype("float64"))
    e["qty_low"] = pd.Series(low, index=e.index).fillna(e["qty"])
    e["qty_high"] = pd.Series(high, index=e.index).fillna(e["qty"])
    e["cluster_key"] = e["cluster"].fillna("").astype(str).str.casefold().str.strip()
    return e


def _latest(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    newest = frame.groupby(keys, sort=False)["valid_on"].transform("max")
    return frame.loc[frame["valid_on"] == newest]


def _collapse(latest: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """One figure per group from its latest-dated estimates (a range if they disagree)."""
    grouped = latest.groupby(keys, sort=False)
    out = grouped.agg(qty=("qty", "median"), low=("qty_low", "min"), high=("qty_high", "max"),
                      valid_on=("valid_on", "max"), n_estimates=("id", "size"))
    # A group whose latest word is "decommissioned" holds nothing at this date.
    alive = latest["status"].ne(Status.DECOMMISSIONED).groupby([latest[k] for k in keys], sort=False).any()
    out.loc[~alive.reindex(out.index).to_numpy(), ["qty", "low", "high"]] = 0.0
    return out


def _component(frame: pd.DataFrame, name: str, keys: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    latest = _latest(frame, keys)
    collapsed = _collapse(latest, keys)
    contributions = latest.assign(component=name)
    return collapsed, contributions


def combine(estimates: pd.DataFrame, options: CombineOptions) -> Combined:
    e = prepare(estimates, options)
    is_fleet, no_chip = e["scope"] == "fleet", e["chip_key"] == H100E_ONLY
    fleet, fleet_rows = _component(e.loc[is_fleet & ~no_chip], "fleet", PART_KEYS)
    cluster_latest = _latest(e.loc[~is_fleet], ["holder_id", "owner_id", "cluster_key"])
    per_cluster = _collapse(cluster_latest, [*PART_KEYS, "cluster_key"])
    clusters = per_cluster.groupby(level=PART_KEYS, sort=False).agg(
        qty=("qty", "sum"), low=("low", "sum"), high=("high", "sum"), valid_on=("valid_on", "max"),
        n_clusters=("qty", "count"))
    parts = _choose(fleet.add_prefix("fleet_").join(clusters.add_prefix("clusters_"), how="outer"))
    whole, whole_rows = _component(e.loc[is_fleet & no_chip], "whole", ["holder_id", "owner_id"])
    whole = whole.groupby(level="holder_id").agg(
        qty=("qty", "sum"), low=("low", "sum"), high=("high", "sum"), valid_on=("valid_on", "max")).reset_index()
    contributions = pd.concat([fleet_rows, cluster_latest.assign(component="cluster"), whole_rows],
                              ignore_index=True)
    contributions = contributions.merge(parts.reset_index()[[*PART_KEYS, "basis"]], on=PART_KEYS, how="left")
    # "counted": the estimate belongs to the component (fleet or clusters) that won its
    # chip; organisation-wide rows are settled once chips are priced (fleet.analytics.fleet).
    contributions["counted"] = ((contributions["component"] == "fleet") == (contributions["basis"] == "fleet")) | (
        contributions["component"] == "whole")
    return Combined(by_chip=_sum_parts(parts), whole=whole, contributions=contributions)


def _sum_parts(parts: pd.DataFrame) -> pd.DataFrame:
    """Add up the owners' parts of each (holder, chip); one part is the usual case."""
    numeric = ["fleet_qty", "fleet_low", "fleet_high", "clusters_qty", "clusters_low", "clusters_high",
               "qty", "low", "high", "n_clusters"]
    grouped = parts.groupby(level=KEYS, sort=False)
    out = grouped[numeric].sum(min_count=1)
    out["n_clusters"] = out["n_clusters"].fillna(0).astype("int64")
    out["valid_on"] = grouped["valid_on"].max()
    # vectorised (a per-group lambda dominated the cost of combining many dates at once)
    bases = grouped["basis"].first().where(grouped["basis"].nunique() == 1, "mixed") if len(parts) else []
    out["basis"] = bases
    return out.reset_index()


def _choose(both: pd.DataFrame) -> pd.DataFrame:
    """The larger of the fleet figure and the cluster sum, element-wise for the range."""
    f = both[["fleet_qty", "fleet_low", "fleet_high"]].to_numpy(dtype="float64")
    c = both.reindex(columns=["clusters_qty", "clusters_low", "clusters_high"]).to_numpy(dtype="float64")
    best = np.fmax(f, c)  # fmax ignores NaN: a missing component loses
    out = both.copy()
    out["qty"], out["low"], out["high"] = best[:, 0], best[:, 1], best[:, 2]
    use_fleet = np.nan_to_num(f[:, 0], nan=-1.0) >= np.nan_to_num(c[:, 0], nan=-1.0)
    out["basis"] = np.where(use_fleet, "fleet", "clusters")
    out["valid_on"] = both[["fleet_valid_on", "clusters_valid_on"]].max(axis=1)
    out["n_clusters"] = both.get("clusters_n_clusters", pd.Series(0, index=both.index)).fillna(0).astype("int64")
    return out
