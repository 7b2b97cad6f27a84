"""Fleet compute over time: each holder's H100e and dense peak FLOP/s at a series of dates.

At every date the figures come from the one combining rule (``fleet.analytics.combine``)
and the catalog (``fleet.chips``): an organisation's chips are counted chip by chip,
each count times that chip's dense peak FLOP/s in the chosen number format (BF16 by
default; FP8 falls back to BF16 for a chip without FP8). Estimates given only in
H100e count as that many H100 SXM (so does an organisation-wide H100e figure's remainder
above its chip figures, see ``fleet.analytics.fleet``). A chip whose catalog entry lacks
the figure is left out and counted in ``unknown_spec``, never priced at zero.

The *largest single cluster* at a date is the largest of the holder's named clusters
(each cluster's latest estimates, summed over chips), from the cluster-scope
contributions the combining rule reports; it is NaN where the holder has no clusters.
Pure pandas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Iterable, Iterator

import numpy as np
import pandas as pd

from fleet.analytics import groups
from fleet.analytics.candidates import prepare
from fleet.analytics.combine import CLUSTER, H100E_ONLY, WHOLE, CombineOptions, Contributing, combine
from fleet.analytics.date_stack import date_stacks, decode
from fleet.analytics.fleet import priced
from fleet.chips import H100_REFERENCE, Basis, FlopFormat, peak_flops_series
from fleet.vocab import Certainty, Status

# What one H100 SXM does per second in each format: the price of an H100e-only estimate.
H100_PEAK_FLOPS: dict[FlopFormat, float] = {
    FlopFormat.BF16: H100_REFERENCE[Basis.BF16],
    FlopFormat.FP8: H100_REFERENCE[Basis.EIGHT_BIT],
}
SERIES_COLUMNS = ["date", "holder_id", "h100e", "h100e_low", "h100e_high", "peak_flops", "peak_flops_low",
                  "peak_flops_high", "cluster_flops", "cluster_flops_low", "cluster_flops_high", "unknown_spec"]


@dataclass(frozen=True)
class SeriesOptions:
    """Everything but the date that decides a figure: the sidebar's controls plus the format."""

    basis: Basis = Basis.EIGHT_BIT
    fmt: FlopFormat = FlopFormat.BF16
    include_planned: bool = False
    min_certainty: Certainty = Certainty.SPECULATIVE
    attribute_to: str = "owner"
    kinds: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    holders: tuple[int, ...] = field(default=())  # empty = every holder

    def combine_options(self, as_of: date) -> CombineOptions:
        return CombineOptions(as_of=as_of, include_planned=self.include_planned, min_certainty=self.min_certainty,
                              attribute_to=self.attribute_to)


def chip_flops(chips: pd.DataFrame, fmt: FlopFormat | str) -> pd.Series:
    """Dense peak FLOP/s per chip id; H100e given without chips (clusters, or an organisation-wide
    remainder) are priced as that many H100 SXM."""
    flops = peak_flops_series(chips.set_index("id"), fmt)
    h100 = H100_PEAK_FLOPS[FlopFormat(fmt)]
    return pd.concat([flops, pd.Series({H100E_ONLY: h100, WHOLE: h100})])


def relevant_estimates(estimates: pd.DataFrame, holders: Iterable[int]) -> pd.DataFrame:
    """The estimates that can count toward ``holders`` (as owner or as user): a fast pre-filter."""
    ids = list(holders)
    if not ids:
        return estimates
    keep = estimates["organisation_id"].isin(ids) | estimates["user_organisation_id"].isin(ids)
    return estimates.loc[keep]


def _largest_cluster(c: Contributing, flops: pd.Series) -> pd.DataFrame:
    """Per holder, the FLOP/s of its largest named cluster (point, low, high), from the contributions'
    cluster rows: each chip's same-day figures collapsed (median, lowest low, highest high; none if the
    cluster's latest word is "decommissioned"), priced, summed per cluster, the largest per holder."""
    at = np.flatnonzero(c.component == CLUSTER)
    if not len(at):
        return pd.DataFrame(columns=["cluster_flops", "cluster_flops_low", "cluster_flops_high"], dtype="float64")
    holder, owner, cluster, chip = c.holder[at], c.owner[at], c.cluster[at], c.chip[at]
    # (holder, owner, cluster, chip) groups numbered as they first appear, as a group-by without sorting
    ids, n = groups.group(groups.compose(groups.dense(holder), groups.dense(owner), (cluster, len(c.cluster_keys)),
                                         groups.dense(chip))[0])
    qty, low, high = groups.collapse(ids, n, c.qty[at], c.low[at], c.high[at])
    alive = groups.any_of(ids, n, c.estimates["status"].take(c.row[at]).to_numpy() != Status.DECOMMISSIONED)
    qty[~alive], low[~alive], high[~alive] = 0.0, 0.0, 0.0
    first = groups.first_rows(ids, n)
    price = flops.reindex(chip[first]).to_numpy(dtype="float64")
    per_chip = pd.DataFrame({"holder_id": holder[first], "owner_id": owner[first], "cluster_key": cluster[first],
                             "qty": qty * price, "low": low * price, "high": high * price})
    per_cluster = per_chip.groupby(["holder_id", "owner_id", "cluster_key"]).sum(min_count=1)
    best = per_cluster.groupby(level="holder_id").max()
    return best.rename(columns={"qty": "cluster_flops", "low": "cluster_flops_low", "high": "cluster_flops_high"})


def _figures(stacked: pd.DataFrame, chips: pd.DataFrame, flops: pd.Series, dates: list[date],
             options: SeriesOptions) -> pd.DataFrame:
    combined = combine(stacked, options.combine_options(dates[-1]))
    figures = priced(combined, chips, options.basis)  # arrays: a frame of every by-chip column costs more
    if not len(figures["holder_id"]):
        return pd.DataFrame(columns=SERIES_COLUMNS)
    price = flops.reindex(figures["chip_key"]).to_numpy(dtype="float64")
    known_h = figures["spec_known"]
    qty, low, high = figures["qty"], figures["low"], figures["high"]
    frame = pd.DataFrame({
        "holder_id": figures["holder_id"],
        **{c: np.where(known_h, figures[c], np.nan) for c in ("h100e", "h100e_low", "h100e_high")},
        "peak_flops": qty * price, "peak_flops_low": low * price, "peak_flops_high": high * price,
        "unknown_spec": (np.isnan(price) & (qty > 0)).astype("int64"),
    })
    out = frame.groupby("holder_id").sum(min_count=1)
    out["unknown_spec"] = out["unknown_spec"].fillna(0).astype("int64")
    out = out.join(_largest_cluster(combined.clusters, flops)).reset_index()
    out["date"], out["holder_id"] = decode(out["holder_id"], dates)
    return out.reindex(columns=SERIES_COLUMNS)


def figures_at_dates(estimates: pd.DataFrame, chips: pd.DataFrame, flops: pd.Series, dates: Iterable[date],
                     options: SeriesOptions) -> pd.DataFrame:
    """One row per (date, holder): H100e, peak FLOP/s and largest cluster, with ranges."""
    dates = sorted(set(dates))
    parts = []
    for stacked in date_stacks(estimates, dates, options.combine_options(dates[-1] if dates else None)):
        parts.append(_figures(stacked, chips, flops, dates, options))
        del stacked  # let a chunk go before the next is built (a loop variable would hold it meanwhile)
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=SERIES_COLUMNS)
    # a run of dates without clusters (or organisation-wide figures) has empty, untyped columns
    return pd.concat(parts, ignore_index=True).astype({c: "float64" for c in SERIES_COLUMNS[2:-1]})


def _keep_holders(frame: pd.DataFrame, organisations: pd.DataFrame, options: SeriesOptions) -> pd.DataFrame:
    orgs = organisations.set_index("id")
    keep = frame["holder_id"].map(orgs["kind"]).isin(options.kinds) if options.kinds else True
    if options.countries:
        keep = keep & frame["holder_id"].map(orgs["country"]).isin(options.countries)
    if options.holders:
        keep = keep & frame["holder_id"].isin(options.holders)
    return frame.loc[keep] if keep is not True else frame


def fleet_series(estimates: pd.DataFrame, chips: pd.DataFrame, organisations: pd.DataFrame,
                 dates: Iterable[date], options: SeriesOptions = SeriesOptions()) -> pd.DataFrame:
    """Long frame (``SERIES_COLUMNS``): one row per (date, holder) with a figure at that date."""
    flops = chip_flops(chips, options.fmt)
    pool = relevant_estimates(estimates, options.holders)
    out = figures_at_dates(pool, chips, flops, dates, options)
    if out.empty:
        return pd.DataFrame(columns=SERIES_COLUMNS).astype({"date": "datetime64[ns]"})
    out = _keep_holders(out, organisations, options)
    out["holder_id"] = out["holder_id"].astype("int64")
    return out.sort_values(["date", "holder_id"], ignore_index=True)


def series_dates(estimates: pd.DataFrame, as_of: date, *, freq: str = "QE", start: date | None = None,
                 include_estimate_dates: bool = False) -> list[date]:
    """Quarter ends from the first estimate (or ``start``) to ``as_of``, plus ``as_of`` itself.

    With ``include_estimate_dates`` the estimates' own dates are added, which makes the
    series exact for a step function that only changes when an estimate takes effect.
    """
    dated = estimates.loc[estimates["valid_on"] <= pd.Timestamp(as_of), "valid_on"] if len(estimates) else []
    if len(dated) == 0:
        return [as_of]
    first = pd.Timestamp(start) if start else pd.Timestamp(dated.min())  # not min(): it walks 1M Timestamps
    grid = pd.date_range(first, pd.Timestamp(as_of), freq=freq)
    dates = {d.date() for d in grid} | {as_of}
    if include_estimate_dates:  # each distinct date once
        dates |= set(pd.DatetimeIndex(pd.unique(dated.to_numpy())).date)
    return sorted(dates)


def totals(series: pd.DataFrame, by: pd.Series | None = None) -> pd.DataFrame:
    """Sum holders per date (optionally per group, e.g. a holder->country map); ranges add up."""
    value_cols = ["h100e", "h100e_low", "h100e_high", "peak_flops", "peak_flops_low", "peak_flops_high",
                  "unknown_spec"]
    frame = series.copy()
    keys = ["date"]
    if by is not None:
        frame["group"] = frame["holder_id"].map(by).fillna("Unknown")
        keys.append("group")
    out = frame.groupby(keys)[value_cols].sum(min_count=1).reset_index()
    out["holders"] = frame.groupby(keys)["holder_id"].nunique().to_numpy()
    return out


def estimate_points(estimates: pd.DataFrame, chips: pd.DataFrame, holder_id: int, as_of: date,
                    options: SeriesOptions = SeriesOptions()) -> pd.DataFrame:
    """The holder's own estimates that pass the filters by ``as_of``, as points: each one's FLOP/s, uncombined."""
    flops = chip_flops(chips, options.fmt)
    pool = relevant_estimates(estimates, [holder_id])
    mine = prepare(pool, options.combine_options(as_of)) if len(pool) else pool.assign(holder_id=[])
    mine = mine.loc[mine["holder_id"] == holder_id]
    has_chip = mine["chip_id"].notna()
    qty = np.where(has_chip, mine["count"].astype("float64"), mine["h100e"].astype("float64"))
    key = mine["chip_id"].fillna(H100E_ONLY).astype("int64")
    names = chips.set_index("id")["name"]
    return pd.DataFrame({
        "estimate_id": mine["id"].astype("int64"), "date": mine["valid_on"], "scope": mine["scope"],
        "cluster": mine["cluster"], "chip": key.map(names).fillna("H100e (chips not specified)"),
        "count_or_h100e": qty, "peak_flops": qty * key.map(flops).to_numpy(dtype="float64"),
        "status": mine["status"], "certainty": mine["certainty"], "source_url": mine["source_url"],
    }).sort_values(["date", "estimate_id"], ignore_index=True)


CHIP_SERIES_COLUMNS = ["date", "holder_id", "chip_key", "chip", "family", "qty", "h100e", "h100e_low",
                       "h100e_high", "spec_known"]
CHIP_SERIES_TYPES = {"holder_id": "int64", "chip_key": "int64", "qty": "float64", "h100e": "float64",
                     "h100e_low": "float64", "h100e_high": "float64", "spec_known": "bool", "chip": "str",
                     "family": "str"}


def _chip_chunks(estimates: pd.DataFrame, chips: pd.DataFrame, organisations: pd.DataFrame, dates: list[date],
                 options: SeriesOptions) -> Iterator[pd.DataFrame]:
    """``CHIP_SERIES_COLUMNS`` rows for a run of dates at a time (``fleet.analytics.date_stack``)."""
    pool = relevant_estimates(estimates, options.holders)
    for stacked in date_stacks(pool, dates, options.combine_options(dates[-1] if dates else None)):
        figures = priced(combine(stacked, options.combine_options(dates[-1])), chips, options.basis)
        del stacked  # let a chunk go before the next is built (a loop variable would hold it meanwhile)
        at = np.flatnonzero(figures["qty"] > 0)
        when, holder = decode(figures["holder_id"][at], dates)
        rows = pd.DataFrame({"date": when, "holder_id": holder, "chip_key": figures["chip_key"][at],
                             "chip": pd.array(figures.names, dtype="str").take(figures.name_at[at]),
                             "family": pd.array(figures.families, dtype="str").take(figures.name_at[at]),
                             **{c: figures[c][at] for c in CHIP_SERIES_COLUMNS[5:]}})
        del figures
        yield _keep_holders(rows.astype(CHIP_SERIES_TYPES), organisations, options)
        del rows


def chip_series(estimates: pd.DataFrame, chips: pd.DataFrame, organisations: pd.DataFrame, dates: Iterable[date],
                options: SeriesOptions = SeriesOptions()) -> pd.DataFrame:
    """Long frame (``CHIP_SERIES_COLUMNS``): one row per (date, holder, chip) priced in H100e on the basis.

    The dates go through the combining rule a run at a time (``fleet.analytics.date_stack``), like ``fleet_series``.
    A chip without the basis's figure keeps its count with ``spec_known`` False and NaN H100e.
    """
    parts = list(_chip_chunks(estimates, chips, organisations, sorted(set(dates)), options))
    if not parts:
        return pd.DataFrame(columns=CHIP_SERIES_COLUMNS).astype({"date": "datetime64[ns]"})
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["date", "holder_id", "chip_key"], ignore_index=True)


CHIP_TOTALS_COLUMNS = ["date", "chip_key", "chip", "family", "spec_known", "holders", "qty", "h100e", "h100e_low",
                       "h100e_high"]


def chip_totals(estimates: pd.DataFrame, chips: pd.DataFrame, organisations: pd.DataFrame, dates: Iterable[date],
                options: SeriesOptions = SeriesOptions()) -> pd.DataFrame:
    """``chip_series`` summed over holders: one row per (date, chip) with how many holders it adds up.

    Summed a run of dates at a time, so the per-holder rows (millions at scale) never exist at once.
    """
    keys = ["date", "chip_key", "chip", "family", "spec_known"]
    sums = {"holders": ("holder_id", "size"), "qty": ("qty", "sum"), "h100e": ("h100e", "sum"),
            "h100e_low": ("h100e_low", "sum"), "h100e_high": ("h100e_high", "sum")}
    parts, pending = [], []  # pending: the rows of a date cut into several chunks (by holder), summed whole

    def add_up() -> None:
        rows = pd.concat(pending, ignore_index=True) if len(pending) > 1 else pending[0]
        # a chip key fixes its name, family and spec: group on (date, chip key) alone -- the same
        # groups in the same order as all five keys, without hashing three more columns
        grouped = rows.groupby(keys[:2], as_index=False)
        out = grouped.agg(**{k: (k, "first") for k in keys[2:]}, **sums)
        parts.append(out)
        pending.clear()

    for rows in _chip_chunks(estimates, chips, organisations, sorted(set(dates)), options):
        if rows.empty:
            continue
        if pending and rows["date"].iloc[0] > pending[-1]["date"].iloc[-1]:
            add_up()
        pending.append(rows)
        del rows  # not held while the next chunk is built
    if pending:
        add_up()
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=CHIP_TOTALS_COLUMNS).astype({"date": "datetime64[ns]"})
    out = pd.concat(parts, ignore_index=True).sort_values(["date", "chip_key"], ignore_index=True)
    out.loc[~out["spec_known"], ["h100e", "h100e_low", "h100e_high"]] = np.nan  # unknown, as in chip_series
    return out
