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
import pyarrow as pa
import pyarrow.compute as pc

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
    keys = np.flatnonzero(present)
    number = np.empty(size, dtype="int64")  # read only where a key is present
    number[keys] = np.arange(len(keys))
    return number[key], len(keys)


def union(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sorted distinct keys of two arrays of distinct keys, and where each entry of each landed."""
    both = np.concatenate([left, right])
    order = np.argsort(both, kind="stable")  # a merge sort finds the runs: often a side is sorted already
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


def first_rows(ids: np.ndarray, n: int) -> np.ndarray:
    """Each group's first row (the row index of its first member; undefined for a group without rows)."""
    first = np.empty(n, dtype="int64")
    first[ids[::-1]] = np.arange(len(ids) - 1, -1, -1)  # the last write wins
    return first


def sizes(ids: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(ids, minlength=n)


def any_of(ids: np.ndarray, n: int, mask: np.ndarray) -> np.ndarray:
    """Per group: does any member satisfy ``mask``?"""
    return np.bincount(ids[mask], minlength=n) > 0


def collapse(ids: np.ndarray, n: int, qty: np.ndarray, low: np.ndarray,
             high: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per group: median of ``qty``, min of ``low``, max of ``high`` (NaN skipped, as pandas)."""
    q, lo, hi = some(ids, n, qty), some(ids, n, low), some(ids, n, high)
    count = sizes(ids, n)[ids]
    many = count > 1
    if many.any():
        at = np.flatnonzero(many)
        lo[ids[at]], hi[ids[at]] = np.nan, np.nan
        np.fmin.at(lo, ids[at], low[at])
        np.fmax.at(hi, ids[at], high[at])
        pairs = count[at] == 2  # the usual conflict: two same-day estimates, no sort needed
        _pair_medians(q, ids[at[pairs]], qty[at[pairs]])
        _medians(q, ids[at[~pairs]], qty[at[~pairs]])
    return q, lo, hi


def _pair_medians(out: np.ndarray, ids: np.ndarray, values: np.ndarray) -> None:
    """``_medians`` of groups of exactly two rows: their mean, or the one that is not NaN."""
    if not len(ids):
        return
    first = first_rows(ids, int(ids.max()) + 1)
    second = np.empty_like(first)
    second[ids] = np.arange(len(ids))
    groups_ = ids[first[ids] == np.arange(len(ids))]
    a, b = values[first[groups_]], values[second[groups_]]
    out[groups_] = np.where(np.isnan(a), b, np.where(np.isnan(b), a, (a + b) / 2))


def _medians(out: np.ndarray, ids: np.ndarray, values: np.ndarray) -> None:
    """``out[g]`` = the median of group g's non-NaN values, computed as pandas does (mean of the two middle ones)."""
    if not len(ids):
        return
    # NaN last; rows with equal keys hold equal values, so their order does not matter (no stable sort)
    order = np.argsort(compose((ids, int(ids.max()) + 1), ascending(values))[0])
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


def ascending(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Codes that sort like float ``values`` (NaN last, equal values one code), and how many there can be.

    Values repeat a lot (counts, counts times a few factors): ranking the distinct ones and
    sorting integer codes is far cheaper than sorting the floats (or a lexsort with them).
    """
    codes, uniques = pd.factorize(values)  # -0.0 and 0.0 are one value, as they compare equal
    rank = np.empty(len(uniques) + 1, dtype="int64")
    rank[np.argsort(uniques, kind="stable")] = np.arange(len(uniques))
    rank[-1] = len(uniques)  # NaN (code -1)
    return rank[codes], len(uniques) + 1


def sums(ids: np.ndarray, n: int, values: np.ndarray, *, min_count: int = 0) -> np.ndarray:
    """pandas' ``groupby(...).sum(min_count=...)``, term order as given, without grouping singletons."""
    return sums_of(ids, n, values, min_count=min_count)[0]


def sums_of(ids: np.ndarray, n: int, *columns: np.ndarray, min_count: int = 0) -> list[np.ndarray]:
    """``sums`` of several columns over the same groups: the rows of groups with two or more are
    grouped once for all of them."""
    floats = [np.asarray(values, dtype="float64") for values in columns]
    runs = _runs(ids, floats)
    if runs is not None:  # what pandas does for these (see _grouped_sums), for every group at once
        outs = []
        for values in floats:
            out = np.zeros(n) if min_count == 0 else np.full(n, np.nan)
            out[ids[runs]] = np.add.reduceat(values, runs) if len(runs) else values[:0]
            outs.append(out)
        if min_count > 1:
            small = ids[runs][np.diff(np.append(runs, len(ids))) < min_count]
            for out in outs:
                out[small] = np.nan
        return outs
    count = sizes(ids, n)
    outs = []
    for values in floats:
        out = some(ids, n, values)
        if min_count == 0:
            out[count == 0] = 0.0
            out[np.isnan(out) & (count == 1)] = 0.0  # pandas: a sum of nothing (NaN skipped) is 0
        else:
            out[count == 0] = np.nan
        outs.append(out)
    many = count[ids] > 1
    if many.any():
        at, totals = _grouped_sums(ids[many], [values[many] for values in floats], min_count)
        for out, total in zip(outs, totals):
            out[at] = total
    return outs


def _runs(ids: np.ndarray, floats: list[np.ndarray]) -> np.ndarray | None:
    """Where each run of equal ids starts, if the ids are sorted and no value is NaN; else None.

    pandas adds such runs with ``np.add.reduceat`` (and others with compensated sums).
    """
    if (ids[1:] < ids[:-1]).any() or any(np.isnan(values).any() for values in floats):
        return None
    return np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]]) if len(ids) else np.array([], dtype="int64")


def _grouped_sums(ids: np.ndarray, floats: list[np.ndarray], min_count: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """``DataFrame(floats).groupby(ids, sort=False).sum(min_count)``: the groups and each column's sums."""
    total = pd.DataFrame(dict(enumerate(floats))).groupby(ids, sort=False).sum(min_count=min_count)
    return total.index.to_numpy(), [total[i].to_numpy() for i in range(len(floats))]


def distinct(values: np.ndarray) -> np.ndarray:
    """The sorted distinct integer values: marks in a table over a narrow range (ids), else one sort
    and a neighbour comparison."""
    if len(values) and values.dtype.kind in "iu":
        low, high = int(values.min()), int(values.max())
        if high - low <= 4 * len(values) + 4096:
            present = np.zeros(high - low + 1, dtype=bool)
            present[values - low] = True
            return (np.flatnonzero(present) + low).astype(values.dtype)
    ranked = np.sort(values)
    keep = np.empty(len(ranked), dtype=bool)
    keep[:1] = True
    np.not_equal(ranked[1:], ranked[:-1], out=keep[1:])
    return ranked[keep]


def lookup(ids: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Where each of ``values`` is in the distinct integer ``ids`` (any order); -1 where it is not."""
    ids = np.asarray(ids, dtype="int64")
    if not len(ids):
        return np.full(len(values), -1, dtype="int64")
    low, high = int(ids.min()), int(ids.max())
    if high - low <= 4 * len(values) + 4096:
        return _by_table(ids, low, high, values)
    return pd.Index(ids).get_indexer(values)


def positions(keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Where each of ``values`` is in the sorted distinct ``keys``; -1 where it is not."""
    if not len(keys):
        return np.full(len(values), -1, dtype="int64")
    low, high = int(keys[0]), int(keys[-1])
    if high - low <= 4 * len(values) + 4096:
        return _by_table(keys, low, high, values)
    at = np.searchsorted(keys, values).clip(max=len(keys) - 1)
    return np.where(keys[at] == values, at, -1)


def _by_table(ids: np.ndarray, low: int, high: int, values: np.ndarray) -> np.ndarray:
    """``lookup`` for ids in a narrow range [low, high]: one table lookup per value."""
    table = np.full(high - low + 1, -1, dtype="int64")
    table[ids - low] = np.arange(len(ids))
    inside = (values >= low) & (values <= high)
    return np.where(inside, table[np.clip(values, low, high) - low], -1)


# Strings. Hashing hundreds of thousands of nearly unique strings (source URLs) is the
# costliest step of counting distinct ones; these read a few bytes of each string straight
# from Arrow's buffers instead, and compare whole strings only where those bytes agree.

_MIX = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit multiplier (golden ratio): spreads bits when mixing


def string_keys(values: pd.Series, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A uint64 key per string of ``values`` (at ``rows``, all if None) -- equal strings get equal
    keys -- and which are present (not missing).

    Strings stored in Arrow (pandas' "str" dtype) are keyed by their length and two 8-byte
    words (the last 8 bytes and the 8 before the middle), gathered from the buffers without
    visiting each string: different strings may share a key, so callers settle those ties
    exactly (``count_distinct``). Other storage is factorized and its codes are the keys.
    """
    if not isinstance(values.dtype, pd.StringDtype):
        codes = pd.factorize(values if rows is None else values.iloc[rows])[0]
        return codes.astype(np.uint64), codes >= 0
    array = pa.array(values.array, type=pa.large_string(), from_pandas=True)  # no copy when stored so
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    _, offsets, data = array.buffers()
    offsets = np.frombuffer(offsets, dtype="<i8")[array.offset:array.offset + len(array) + 1]
    start, end = offsets[:-1], offsets[1:]
    present = pc.is_valid(array).to_numpy(zero_copy_only=False)
    if rows is not None:
        start, end, present = start[rows], end[rows], present[rows]
    data = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8)
    if len(data) < 8:
        data = np.concatenate([data, np.zeros(8 - len(data), dtype=np.uint8)])
    # every 8-byte window of the bytes as a little-endian uint64 (an unaligned view: no copy)
    words = np.ndarray((len(data) - 7,), dtype="<u8", buffer=data, strides=(1,))
    length = end - start
    long = length >= 16  # both words lie inside the string: read as they are
    if long.all():
        return _mix(length, words[end - 8], words[start + length // 2 - 8]), present
    key = np.empty(len(length), dtype=np.uint64)
    at = np.flatnonzero(long)
    start_, end_, length_ = start[at], end[at], length[at]
    key[at] = _mix(length_, words[end_ - 8], words[start_ + length_ // 2 - 8])
    at = np.flatnonzero(~long)  # the two words cover the whole string, others' bytes masked out
    start_, end_ = start[at], end[at]
    key[at] = _mix(length[at], _last_word(words, start_, end_), _last_word(words, start_, np.maximum(end_ - 8, start_)))
    return key, present


def _mix(length: np.ndarray, *words: np.ndarray) -> np.ndarray:
    key = length.astype(np.uint64)
    for word in words:
        key = (key ^ word) * _MIX  # wraps around: uint64 arithmetic
    return key


def _last_word(words: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """The last (up to 8) bytes of each byte range [start, end) as a uint64; the bytes of other strings
    that share its window are zeroed."""
    at = np.maximum(end - 8, 0)  # the window ending at ``end`` (or the first one, for ranges near the start)
    skip = np.maximum(start, end - 8) - at  # bytes of the window before the range
    keep = np.minimum(end - start, 8)  # bytes of the range
    word = words[at] >> (8 * np.minimum(skip, 7)).astype(np.uint64)
    mask = np.where(keep >= 8, np.uint64(0xFFFFFFFFFFFFFFFF),
                    (np.uint64(1) << (8 * np.minimum(keep, 7)).astype(np.uint64)) - np.uint64(1))
    return word & mask


def count_distinct(ids: np.ndarray, n: int, values: pd.Series, rows: np.ndarray | None = None) -> np.ndarray:
    """Per group: how many distinct strings, missing ones aside, its rows hold. ``values`` holds
    the strings at ``rows`` (row i's is ``values.iloc[rows[i]]``), or at the rows' own positions.

    Keys (``string_keys``) stand in for the strings: a (group, key) pair only one row holds is
    one distinct string of that group. Rows that share a pair -- the same string, or rarely
    two strings with one key -- are settled by comparing the strings themselves.
    """
    keys, present = string_keys(values, rows)
    at = np.flatnonzero(present)
    ids = ids[at]
    pair, size = group((keys[at] ^ (ids.astype(np.uint64) * _MIX)).view(np.int64))
    alone = sizes(pair, size)[pair] == 1
    out = np.bincount(ids[alone], minlength=n)
    if not alone.all():
        shared = at[~alone] if rows is None else rows[at[~alone]]
        codes, uniques = pd.factorize(values.iloc[shared])
        width = max(len(uniques), 1)
        pairs = distinct(compose((ids[~alone], n), (codes.astype("int64"), width))[0])
        out += np.bincount(pairs // width, minlength=n)
    return out
