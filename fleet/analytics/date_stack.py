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
bounded however long the series and however many estimates count at one date (a date
with more is cut by holder: the rule works holder by holder). Pure pandas/numpy.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Iterator, TypeVar

import numpy as np
import pandas as pd

from fleet.analytics import candidates, memo
from fleet.analytics.candidates import H100E_ONLY, WORK_COLUMNS, CombineOptions, Rows

T = TypeVar("T")
STRIDE = 1 << 32
CHUNK_ROWS = 300_000  # stacked rows per call of the rule: bounds the memory a series takes
_NEVER = np.iinfo("int64").max
_ROOM = 1 << 62  # group codes are combined arithmetically below this, int64 never overflows


def group_codes(r: Rows) -> np.ndarray:
    """Each row's group in the rule: the rows among which only the latest date counts.

    Fleet figures per (holder, owner, chip), organisation-wide H100e per (holder, owner),
    clusters per (holder, owner, cluster): the four keys are numbered and combined into
    one int64 (not dense; equal exactly when all four are), sorted groups where they
    would not fit.
    """
    component = np.where(r.fleet, np.where(r.chip == H100E_ONLY, 1, 0), 2)
    sub = np.where(component == 0, r.chip, np.where(component == 1, 0, r.cluster))
    code, size = component, 3
    for key in (r.holder, r.owner, sub):
        numbers, uniques = pd.factorize(key)
        if size * len(uniques) >= _ROOM:  # an id space this wide: number the groups by sorting
            return _sorted_codes([component, r.holder, r.owner, sub])
        code, size = code * len(uniques) + numbers, size * len(uniques)
    return code


def _sorted_codes(keys: list[np.ndarray]) -> np.ndarray:
    order = np.lexsort(keys[::-1])
    new = np.zeros(len(order), dtype=bool)
    new[0] = True
    for key in keys:
        k = key[order]
        new[1:] |= k[1:] != k[:-1]
    codes = np.empty(len(order), dtype="int64")
    codes[order] = np.cumsum(new) - 1
    return codes


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
    # Only the rule's own columns, low-cardinality text as categories: each text column is made
    # categorical once per column's data (``memo``), so a stack copies codes, not strings.
    columns = [c for c in WORK_COLUMNS if c in estimates]
    text = {c: memo.derived(estimates[c], "date_stack.category", _categories)
            for c in ("scope", "cluster", "status", "certainty") if c in estimates}
    stacked = estimates[columns].assign(**text).iloc[np.repeat(rows, spans)].reset_index(drop=True)
    offset = index * STRIDE
    stacked["organisation_id"] = stacked["organisation_id"].astype("int64").to_numpy() + offset
    user = stacked["user_organisation_id"].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    stacked["user_organisation_id"] = pd.array(np.where(np.isnan(user), np.nan, user + offset), dtype="Float64") \
        .astype("Int64")
    return stacked


def _categories(values: pd.Series) -> pd.Series:
    return values.astype("category")


def date_stacks(estimates: pd.DataFrame, dates: list[date], options: CombineOptions,
                limit: int | None = None) -> Iterator[pd.DataFrame]:
    """Stacks of the estimates that can count at each of ``dates`` (sorted), holder ids encoded.

    ``options.as_of`` must be the last date. Each stack covers a run of dates; feed it to
    ``combine`` with the same options and decode the holder ids with ``decode``. The next
    stack is built on a helper thread while the caller works on the one it was handed
    (gathering a stack's rows lets go of the GIL), so at most two are held at once.
    """
    return ahead(_stacks(estimates, dates, options, limit))


_END = object()


def ahead(items: Iterator[T]) -> Iterator[T]:
    """``items``, each next one made on a helper thread while the caller works on the last."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="fleet-stack") as pool:
        try:
            coming = pool.submit(next, items, _END)
        except RuntimeError:  # the interpreter is exiting: no new threads, so one at a time here
            yield from items
            return
        while (item := coming.result()) is not _END:
            coming = pool.submit(next, items, _END)
            yield item
            del item  # not held while the next one is made


def _stacks(estimates: pd.DataFrame, dates: list[date], options: CombineOptions,
            limit: int | None) -> Iterator[pd.DataFrame]:
    if not len(estimates) or not dates:
        return
    limit = limit or CHUNK_ROWS
    start, stop, rows, holder = _spans(estimates, dates, options)
    for lo, hi in _chunks(start, stop, len(dates), limit):
        inside = np.flatnonzero((start < hi) & (stop > lo))
        for part in _by_holder(inside, holder[inside], limit):
            yield _slice(estimates, rows[part], np.maximum(start[part], lo), np.minimum(stop[part], hi))


def _by_holder(inside: np.ndarray, holder: np.ndarray, limit: int) -> list[np.ndarray]:
    """``inside`` cut into parts of about ``limit`` rows, each holder's rows in one part, in order.

    Only a date with more rows than ``limit`` is cut (``_chunks`` keeps a run of dates
    within it): the rule works holder by holder, so the parts' figures are the date's.
    Holders go to parts in id order, so a part's rows come before the next part's.
    """
    if len(inside) <= limit:
        return [inside]
    _, which, counts = np.unique(holder, return_inverse=True, return_counts=True)
    part_of = (np.cumsum(counts) - counts) // limit  # by the rows of the holders before it
    ids = part_of[which]
    return [inside[ids == k] for k in np.unique(part_of)]


def _spans(estimates: pd.DataFrame, dates: list[date], options: CombineOptions
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per row that can count at some date: the first and one-past-last date index it is stacked for,
    its position in ``estimates`` and its holder (from the rule's own arrays: no working frame is built)."""
    r = candidates.rows(estimates, options)
    if not len(r.row):
        nothing = np.array([], dtype="int64")
        return nothing, nothing, nothing, nothing
    ends = until(group_codes(r), r.day)
    grid = np.array(dates, dtype="datetime64[D]").astype(r.day_dtype).view("int64")
    start = np.searchsorted(grid, r.day, side="left")  # the first date on or after the row's own
    stop = np.searchsorted(grid, ends, side="left")  # the first date on or after its group's next one
    counting = stop > start
    return start[counting], stop[counting], r.row[counting], r.holder[counting]


def decode(encoded: pd.Series | np.ndarray, dates: list[date]) -> tuple[np.ndarray, np.ndarray]:
    """(dates as datetime64, holder ids) from stacked holder ids."""
    index, holder = np.divmod(np.asarray(encoded, dtype="int64"), STRIDE)
    return pd.to_datetime(pd.Series([pd.Timestamp(d) for d in dates])).to_numpy()[index], holder
