"""Group-wise reductions on integer-coded keys: how the combining rule stays fast at scale.

The rule (``fleet.analytics.combine``) groups the same rows several times over -- the
latest date per organisation x chip x owner, per cluster, the collapse of same-day
conflicts, the sums per part -- and pandas hashes every key column again in each
multi-column group-by. Here each key column becomes an order-preserving integer code
once, a multi-column key one int64 (``compose``), and a group-by one hash pass
(``group``: ids in the order groups first appear, as ``groupby(sort=False)``) or, for
a narrow key whose order does not matter, direct addressing (``group_any``);
reductions are numpy scatters over the ids.

Most groups hold one row, whose figure is that row's. Reductions that must agree with
pandas to the last bit work on the groups with two or more rows only: medians as pandas
computes them (the mean of the two middle values), and pandas' compensated (Kahan) sums,
whose result depends on the order of the terms, through a pandas group-by in the order
the caller gives them. Pure numpy and pandas; nothing here knows about estimates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_ROOM = 1 << 62  # a composed key stays below this, so int64 arithmetic never overflows
_SMALLEST = np.iinfo(np.int64).min  # also NaT's int64 value: it loses every maximum


def dense(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Order-preserving int64 codes for integer ``values``, and how many codes there can be."""
    values = np.asarray(values, dtype="int64")
    if not len(values):
        return values, 1
    low, high = int(values.min()), int(values.max())
    if high - low <= 4 * len(values) + 4096:  # a narrow range (ids, chip keys): the offset is a code
        return values - low, high - low + 1
    codes, uniques = pd.factorize(values, sort=True)  # wide (date-stacked holder ids): number them
    return codes.astype("int64"), len(uniques)


def compose(*parts: tuple[np.ndarray, int]) -> tuple[np.ndarray, int]:
    """One int64 per row that sorts like the tuple of the parts' codes, and its size."""
    key, size = parts[0]
    for codes, n in parts[1:]:
        if size * n >= _ROOM:
            key, size = dense(key)  # renumber the prefix densely to make room
            if size * n >= _ROOM:
                raise ValueError(f"cannot compose a key of {size} x {n} distinct values into one int64")
        key, size = key * n + codes, size * n
    return key, size


def group(key: np.ndarray) -> tuple[np.ndarray, int]:
    """Each row's group id and the number of groups; ids follow the order groups first appear in."""
    ids, uniques = pd.factorize(key)
    return ids, len(uniques)


def group_any(key: np.ndarray, size: int) -> tuple[np.ndarray, int]:
    """Like ``group``, for callers that do not depend on the order of the ids.

    ``size`` bounds the key (0 <= key < size, as ``compose`` returns). A narrow key is
    numbered by direct addressing (ids in key order), which is cheaper than hashing.
    """
    if size > 4 * len(key) + (1 << 16):
        return group(key)
    present = np.zeros(size, dtype=bool)
    present[key] = True
    number = np.cumsum(present) - 1
    return number[key], int(number[-1]) + 1 if size else 0


def union(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sorted distinct keys of two arrays of distinct keys, and where each entry of each landed."""
    both = np.concatenate([left, right])
    order = np.argsort(both)
    ranked = both[order]
    new = np.empty(len(ranked), dtype=bool)
    new[:1] = True
    np.not_equal(ranked[1:], ranked[:-1], out=new[1:])
    at = np.empty(len(both), dtype="int64")
    at[order] = np.cumsum(new) - 1
    return ranked[new], at[:len(left)], at[len(left):]


def newest(ids: np.ndarray, n: int, values: np.ndarray) -> np.ndarray:
    """Which rows hold their group's largest (int64) value -- all of them on a tie."""
    return values == largest(ids, n, values)[ids]


def largest(ids: np.ndarray, n: int, values: np.ndarray) -> np.ndarray:
    """Each group's largest int64 value (datetimes as int64: NaT never wins)."""
    top = np.full(n, _SMALLEST, dtype="int64")
    np.maximum.at(top, ids, values)
    return top


def smallest(ids: np.ndarray, n: int, values: np.ndarray) -> np.ndarray:
    low = np.full(n, np.iinfo(np.int64).max, dtype="int64")
    np.minimum.at(low, ids, values)
    return low


def some(ids: np.ndarray, n: int, values: np.ndarray) -> np.ndarray:
    """One member's value per group: *the* value for groups whose members all agree."""
    out = np.empty(n, dtype=values.dtype)
    out[ids] = values
    return out


def sizes(ids: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(ids, minlength=n)


def any_of(ids: np.ndarray, n: int, mask: np.ndarray) -> np.ndarray:
    """Per group: does any member satisfy ``mask``?"""
    return np.bincount(ids[mask], minlength=n) > 0


def collapse(ids: np.ndarray, n: int, qty: np.ndarray, low: np.ndarray,
             high: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per group: median of ``qty``, min of ``low``, max of ``high`` (NaN skipped, as pandas)."""
    q, lo, hi = some(ids, n, qty), some(ids, n, low), some(ids, n, high)
    many = sizes(ids, n)[ids] > 1
    if many.any():
        at = np.flatnonzero(many)
        lo[ids[at]], hi[ids[at]] = np.nan, np.nan
        np.fmin.at(lo, ids[at], low[at])
        np.fmax.at(hi, ids[at], high[at])
        _medians(q, ids[at], qty[at])
    return q, lo, hi


def _medians(out: np.ndarray, ids: np.ndarray, values: np.ndarray) -> None:
    """``out[g]`` = the median of group g's non-NaN values, computed as pandas does (mean of the two middle ones)."""
    order = np.lexsort((values, ids))  # NaN sorts last within each group
    ids, values = ids[order], values[order]
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    count = np.add.reduceat(~np.isnan(values), starts) if len(starts) else starts
    upper = starts + count // 2
    lower = np.maximum(starts, starts + (count - 1) // 2)
    middle = (values[upper.clip(max=len(values) - 1)] + values[lower]) / 2
    odd = count % 2 == 1
    middle[odd] = values[upper[odd]]
    middle[count == 0] = np.nan
    out[ids[starts]] = middle


def sums(ids: np.ndarray, n: int, values: np.ndarray, *, min_count: int = 0) -> np.ndarray:
    """pandas' ``groupby(...).sum(min_count=...)``, term order as given, without grouping singletons."""
    out = some(ids, n, values.astype("float64"))
    count = sizes(ids, n)
    if min_count == 0:
        out[count == 0] = 0.0
        out[np.isnan(out) & (count == 1)] = 0.0  # pandas: a sum of nothing (NaN skipped) is 0
    else:
        out[count == 0] = np.nan
    many = count[ids] > 1
    if many.any():
        total = pd.Series(values[many]).groupby(ids[many], sort=False).sum(min_count=min_count)
        out[total.index.to_numpy()] = total.to_numpy()
    return out


def distinct(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values (one sort and a neighbour comparison)."""
    ranked = np.sort(values)
    keep = np.empty(len(ranked), dtype=bool)
    keep[:1] = True
    np.not_equal(ranked[1:], ranked[:-1], out=keep[1:])
    return ranked[keep]


def positions(keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Where each of ``values`` is in the sorted distinct ``keys``; -1 where it is not."""
    if not len(keys):
        return np.full(len(values), -1, dtype="int64")
    low, high = int(keys[0]), int(keys[-1])
    if high - low <= 4 * len(values) + 4096:  # a narrow range: one table lookup per value
        table = np.full(high - low + 1, -1, dtype="int64")
        table[keys - low] = np.arange(len(keys))
        inside = (values >= low) & (values <= high)
        return np.where(inside, table[np.clip(values, low, high) - low], -1)
    at = np.searchsorted(keys, values).clip(max=len(keys) - 1)
    return np.where(keys[at] == values, at, -1)

