"""Evaluate the combining rule at many dates in a few calls: estimates stacked by date.

Holder ids are encoded as ``date_index * STRIDE + id`` so that one call of
``fleet.analytics.combine.combine`` evaluates a run of dates at once (each date's slice
holds only the estimates that can count then) instead of one call per date; the rule
itself is reused unchanged, so a series can never disagree with the figure a page shows
for one date.

What goes into a date's slice: a row counts at a date only if it passes the filters and
is of its group's latest date by then (the groups are the rule's: fleet figures per
holder, owner and chip; organisation-wide H100e per holder and owner; clusters per
holder, owner and cluster). So a row is stacked for the dates from its own up to, not
including, the next later date in its group. The stack grows with groups x dates, not
rows x dates, and is cut into chunks of at most ``CHUNK_ROWS`` rows so that memory stays
bounded however long the series. Pure pandas/numpy.
"""

from __future__ import annotations

from datetime import date
from typing import Iterator

import numpy as np
import pandas as pd

from fleet.analytics.candidates import H100E_ONLY, WORK_COLUMNS, CombineOptions, prepare

STRIDE = 1 << 32
CHUNK_ROWS = 300_000  # stacked rows per call of the rule: bounds the memory a series takes
_NEVER = np.iinfo("int64").max


def group_codes(prepared: pd.DataFrame) -> np.ndarray:
    """Each prepared row's group in the rule: the rows among which only the latest date counts."""
    fleet = (prepared["scope"] == "fleet").to_numpy()
    chip = prepared["chip_key"].to_numpy(dtype="int64")
    component = np.where(fleet, np.where(chip == H100E_ONLY, 1, 0), 2)
    cluster = pd.factorize(prepared["cluster_key"])[0]
    sub = np.where(component == 0, chip, np.where(component == 1, 0, cluster))
    keys = pd.DataFrame({"c": component, "h": prepared["holder_id"].to_numpy(),
                         "o": prepared["owner_id"].to_numpy(), "s": sub})
    return keys.groupby(["c", "h", "o", "s"], sort=False).ngroup().to_numpy(dtype="int64")


def until(groups: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Per row, the next later date in its group (``_NEVER`` for the group's latest date)."""
    order = np.lexsort((valid, groups))
    g, v = groups[order], valid[order]
    first = np.r_[True, (g[1:] != g[:-1]) | (v[1:] != v[:-1])]  # first row of each distinct (group, date)
    pair = np.cumsum(first) - 1
    pair_group, pair_date = g[first], v[first]
    later = np.r_[pair_date[1:], _NEVER]
    same = np.r_[pair_group[1:] == pair_group[:-1], False]
    out = np.empty(len(order), dtype="int64")
    out[order] = np.where(same, later, _NEVER)[pair]
    return out


def _nanos(values) -> np.ndarray:
    return np.asarray(values, dtype="datetime64[ns]").astype("int64")


def _chunks(start: np.ndarray, stop: np.ndarray, n_dates: int, limit: int) -> list[tuple[int, int]]:
    """Consecutive runs of date indices whose stacked rows add up to at most ``limit`` (one date may exceed it)."""
    change = np.zeros(n_dates + 1, dtype="int64")
    np.add.at(change, start, 1)
    np.add.at(change, stop, -1)
    per_date = np.cumsum(change)[:n_dates]
    runs, lo, size = [], 0, 0
    for i, rows in enumerate(per_date.tolist()):
        if i > lo and size + rows > limit:
            runs.append((lo, i))
            lo, size = i, 0
        size += rows
    runs.append((lo, n_dates))
    return runs


def _slice(estimates: pd.DataFrame, rows: np.ndarray, start: np.ndarray, stop: np.ndarray) -> pd.DataFrame:
    spans = np.maximum(stop - start, 0)
    first = np.repeat(np.cumsum(spans) - spans, spans)
    index = np.repeat(start, spans) + (np.arange(int(spans.sum()), dtype="int64") - first)
    # Only the rule's own columns, low-cardinality text as categories.
    columns = [c for c in WORK_COLUMNS if c in estimates]
    stacked = estimates[columns].iloc[np.repeat(rows, spans)].reset_index(drop=True)
    stacked = stacked.astype({c: "category" for c in ("scope", "cluster", "status", "certainty") if c in stacked})
    offset = index * STRIDE
    stacked["organisation_id"] = stacked["organisation_id"].astype("int64").to_numpy() + offset
    user = stacked["user_organisation_id"].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    stacked["user_organisation_id"] = pd.array(np.where(np.isnan(user), np.nan, user + offset), dtype="Float64") \
        .astype("Int64")
    return stacked


def date_stacks(estimates: pd.DataFrame, dates: list[date], options: CombineOptions,
                limit: int | None = None) -> Iterator[pd.DataFrame]:
    """Stacks of the estimates that can count at each of ``dates`` (sorted), holder ids encoded.

    ``options.as_of`` must be the last date. Each stack covers a run of dates; feed it to
    ``combine`` with the same options and decode the holder ids with ``decode``.
    """
    if not len(estimates) or not dates:
        return
    start, stop, rows = _spans(estimates, dates, options)
    for lo, hi in _chunks(start, stop, len(dates), limit or CHUNK_ROWS):
        inside = (start < hi) & (stop > lo)
        yield _slice(estimates, rows[inside], np.maximum(start[inside], lo), np.minimum(stop[inside], hi))


def _spans(estimates: pd.DataFrame, dates: list[date], options: CombineOptions
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row that can count at some date: the first and one-past-last date index it is stacked for,
    and its position in ``estimates`` (the prepared frame is dropped before any stack is built)."""
    prepared = prepare(estimates, options, narrow=True)
    if prepared.empty:
        nothing = np.array([], dtype="int64")
        return nothing, nothing, nothing
    valid = _nanos(prepared["valid_on"].to_numpy())
    ends = until(group_codes(prepared), valid)
    grid = _nanos([np.datetime64(pd.Timestamp(d)) for d in dates])
    start = np.searchsorted(grid, valid, side="left")  # the first date on or after the row's own
    stop = np.searchsorted(grid, ends, side="left")  # the first date on or after its group's next one
    counting = stop > start
    return start[counting], stop[counting], prepared["_row"].to_numpy()[counting]


def decode(encoded: pd.Series | np.ndarray, dates: list[date]) -> tuple[np.ndarray, np.ndarray]:
    """(dates as datetime64, holder ids) from stacked holder ids."""
    index, holder = np.divmod(np.asarray(encoded, dtype="int64"), STRIDE)
    return pd.to_datetime(pd.Series([pd.Timestamp(d) for d in dates])).to_numpy()[index], holder
