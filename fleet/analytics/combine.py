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


# The columns the rule reads; ``combine`` works on these alone and brings an estimate's
# other columns (sources, quotes, notes ...) back only for the rows it reports.
WORK_COLUMNS = ("id", "organisation_id", "user_organisation_id", "chip_id", "count", "count_low", "count_high",
                "h100e", "h100e_low", "h100e_high", "scope", "cluster", "valid_on", "status", "certainty")


def _passing(e: pd.DataFrame, options: CombineOptions) -> np.ndarray:
    """Which rows may count at the as-of date (a boolean mask, computed column-wise)."""
    keep = (e["valid_on"] <= pd.Timestamp(options.as_of)).to_numpy().copy()
    floor = CERTAINTY_RANK[Certainty(options.min_certainty)]
    allowed = [c.value for c, rank in CERTAINTY_RANK.items() if rank >= floor]
    keep &= e["certainty"].isin(allowed).to_numpy()
    if not options.include_planned:
        keep &= (e["status"] != Status.PLANNED).to_numpy()
    return keep


def _cluster_keys(cluster: pd.Series) -> np.ndarray:
    # casefold and strip each distinct name once (a few hundred), not each of a million rows
    codes, uniques = pd.factorize(cluster, use_na_sentinel=True)
    keys = pd.Index(uniques, dtype=object).astype(str).str.casefold().str.strip().to_numpy(dtype=object)
    return np.append(keys, "")[codes]


def prepare(estimates: pd.DataFrame, options: CombineOptions, *, narrow: bool = False) -> pd.DataFrame:
    """Filter to what may count at the as-of date and add the working columns.

    ``narrow`` keeps only ``WORK_COLUMNS`` (plus ``_row``, each row's position in
    ``estimates``), which is what ``combine`` needs: far less copying on big frames.
    """
    keep = _passing(estimates, options)
    source = estimates[[c for c in WORK_COLUMNS if c in estimates]] if narrow else estimates
    e = source.loc[keep]  # a boolean .loc copies: the caller's frame is never modified
    if narrow:
        e["_row"] = np.flatnonzero(keep)
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
    e["cluster_key"] = _cluster_keys(e["cluster"])
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
    e = prepare(estimates, options, narrow=True)
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
    return Combined(by_chip=_sum_parts(parts), whole=whole, contributions=_with_all_columns(contributions, estimates))


def _with_all_columns(contributions: pd.DataFrame, estimates: pd.DataFrame) -> pd.DataFrame:
    """The reported estimates with every column the caller's frame has, in its order first."""
    rows = contributions.pop("_row").to_numpy()
    extra = [c for c in estimates.columns if c not in contributions.columns]
    if extra:
        restored = estimates[extra].iloc[rows].reset_index(drop=True)
        contributions = pd.concat([contributions.reset_index(drop=True), restored], axis=1)
    first = [c for c in estimates.columns if c in contributions.columns]
    return contributions[first + [c for c in contributions.columns if c not in first]]


def _sum_parts(parts: pd.DataFrame) -> pd.DataFrame:
    """Add up the owners' parts of each (holder, chip); one part is the usual case."""
    numeric = ["fleet_qty", "fleet_low", "fleet_high", "clusters_qty", "clusters_low", "clusters_high",
               "qty", "low", "high", "n_clusters"]
    shared = parts.index.droplevel("owner_id").duplicated(keep=False)
    # A (holder, chip) with one part is its own sum: only shared ones (leases attributed to
    # their user) need the group-by, which is most of the cost on a big store.
    single = parts.loc[~shared].reset_index(level="owner_id", drop=True)
    single = single[numeric + ["valid_on", "basis"]].astype({"n_clusters": "float64"})
    if shared.any():
        grouped = parts.loc[shared].groupby(level=KEYS, sort=False)
        many = grouped[numeric].sum(min_count=1)
        many["valid_on"] = grouped["valid_on"].max()
        # vectorised (a per-group lambda dominated the cost of combining many dates at once)
        many["basis"] = grouped["basis"].first().where(grouped["basis"].nunique() == 1, "mixed")
        single = pd.concat([single, many])
    single["n_clusters"] = single["n_clusters"].fillna(0).astype("int64")
    return single.reset_index()


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
