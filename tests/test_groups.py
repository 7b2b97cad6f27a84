"""Integer-keyed group reductions (fleet.analytics.groups) against what pandas gives: table-driven."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleet.analytics import groups

NAN = np.nan

COLLAPSE = [
    ("groups of one keep their row", [0, 1, 2], [5.0, NAN, 7.0]),
    ("odd and even group sizes", [0, 0, 0, 1, 1, 1, 1], [3.0, 1.0, 2.0, 4.0, 1.0, 3.0, 2.0]),
    ("NaN skipped, all-NaN group stays NaN", [0, 0, 0, 1, 1], [NAN, 6.0, 2.0, NAN, NAN]),
    ("signed zeros and infinities", [0, 0, 1, 1, 1], [-0.0, 0.0, np.inf, 1.0, -np.inf]),
    ("groups interleaved", [2, 0, 1, 0, 2, 1, 2], [1e16, 0.1, 0.2, 0.3, 1.0, 0.7, 3.0]),
]


@pytest.mark.parametrize("ids, values", [c[1:] for c in COLLAPSE], ids=[c[0] for c in COLLAPSE])
def test_collapse_matches_pandas_median_min_max(ids, values):
    ids, values = np.array(ids), np.array(values)
    low, high = values - 1, values * 2
    n = int(ids.max()) + 1
    got = groups.collapse(ids, n, values, low, high)
    want = pd.DataFrame({"q": values, "lo": low, "hi": high}).groupby(ids).agg(
        q=("q", "median"), lo=("lo", "min"), hi=("hi", "max"))
    for mine, column in zip(got, ("q", "lo", "hi")):
        np.testing.assert_array_equal(mine, want[column].to_numpy())


@pytest.mark.parametrize("min_count", [0, 1])
@pytest.mark.parametrize("ids, values", [
    ([0, 1, 1, 2], [NAN, 0.1, 0.2, 3.0]),
    ([0, 0, 0, 1], [1e16, 1.0, -1e16, NAN]),
    ([1, 0, 1, 0], [NAN, NAN, 2.5, NAN]),
])
def test_sums_match_pandas_including_empty_and_all_nan_groups(ids, values, min_count):
    ids, values = np.array(ids), np.array(values)
    got = groups.sums(ids, int(ids.max()) + 1, values, min_count=min_count)
    want = pd.Series(values).groupby(ids).sum(min_count=min_count).to_numpy()
    np.testing.assert_array_equal(got, want)


def summed(rows, min_count):
    ids = np.array([row[0] for row in rows])
    columns = [np.array([row[1] for row in rows]), np.array([row[2] for row in rows])]
    n = int(ids.max()) + 2  # the last group has no rows
    with np.errstate(over="ignore", invalid="ignore"):  # infinities and their sums: both sides alike
        got = groups.sums_of(ids, n, *columns, min_count=min_count)
        want = pd.DataFrame(dict(enumerate(columns))).groupby(ids).sum(min_count=min_count).reindex(range(n))
    if min_count == 0:
        want = want.fillna(0.0)
    return got, [want[0].to_numpy(), want[1].to_numpy()]


NO_NAN = st.one_of(st.floats(allow_nan=False, allow_infinity=True, width=64),
                   st.sampled_from([0.1, 1e16, -1e16, 3.0, -0.0, 0.0]))


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(st.tuples(st.integers(0, 6), NO_NAN, NO_NAN), min_size=1, max_size=40),
       min_count=st.sampled_from([0, 1]))
def test_sums_of_sorted_ids_without_nan_equal_pandas_to_the_bit(rows, min_count):
    """pandas adds runs of sorted ids with np.add.reduceat when no value is NaN; so does sums_of, for
    every group at once."""
    got, want = summed(sorted(rows, key=lambda row: row[0]), min_count)
    for mine, theirs in zip(got, want):
        np.testing.assert_array_equal(mine, theirs)


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(st.tuples(st.integers(0, 6), st.one_of(st.floats(-1e12, 1e12), st.just(NAN)),
                               st.one_of(st.floats(-1e12, 1e12), st.just(NAN))), min_size=1, max_size=40),
       min_count=st.sampled_from([0, 1]))
def test_sums_of_other_ids_equal_pandas(rows, min_count):
    """Elsewhere pandas adds with compensated sums, or by runs when the rows of groups with more than one
    row are sorted and hold no NaN: the two agree to rounding."""
    got, want = summed(rows, min_count)
    for mine, theirs in zip(got, want):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-3)


@pytest.mark.parametrize("key, size", [
    (np.array([5, 3, 5, 9, 3]), 10),  # narrow: direct addressing
    (np.array([5, 3, 5, 1 << 40, 3]), (1 << 40) + 1),  # wide: hashing
    (np.array([], dtype="int64"), 1),
])
def test_group_any_partitions_like_group(key, size):
    fast, n_fast = groups.group_any(key, size)
    slow, n_slow = groups.group(key)
    assert n_fast == n_slow == len(set(key.tolist()))
    assert len({(a, b) for a, b in zip(fast.tolist(), slow.tolist())}) == n_slow  # the same partition


def test_compose_sorts_like_the_tuples_and_renumbers_wide_prefixes():
    a, b = np.array([3, 1, 3, 1 << 40]), np.array([2, 9, 1, 0])
    key, size = groups.compose(groups.dense(a), groups.dense(b), groups.dense(b))
    assert size < 1 << 62
    assert list(np.argsort(key, kind="stable")) == sorted(range(4), key=lambda i: (a[i], b[i], b[i]))
    wide, size = groups.compose((np.array([0, 1 << 45]), 1 << 46), (np.array([1, 0]), 1 << 40))
    assert size == 2 << 40 and wide.tolist() == [1, (1 << 40)]  # the prefix renumbered 0, 1
    with pytest.raises(ValueError, match="cannot compose"):
        groups.compose((np.array([0, 1]), 2), (np.array([0, 0]), 1 << 61))


@pytest.mark.parametrize("keys, values, expected", [
    ([2, 5, 9], [9, 2, 3, 5, 100, -4], [2, 0, -1, 1, -1, -1]),  # narrow: a lookup table
    ([2, 5, 1 << 50], [1 << 50, 5, 7], [2, 1, -1]),  # wide: binary search
    ([], [1, 2], [-1, -1]),
])
def test_positions_finds_keys_or_says_minus_one(keys, values, expected):
    got = groups.positions(np.array(keys, dtype="int64"), np.array(values, dtype="int64"))
    assert got.tolist() == expected


def test_union_places_each_side_in_the_sorted_distinct_keys():
    keys, left, right = groups.union(np.array([7, 1, 4]), np.array([4, 9]))
    assert keys.tolist() == [1, 4, 7, 9] and left.tolist() == [2, 0, 1] and right.tolist() == [1, 3]


@pytest.mark.parametrize("values", [[5, 3, 5, 9], [10**12, 3, 3], [], [-4, -4, 2]])
def test_distinct_sorts_narrow_and_wide_ranges_alike(values):
    assert list(groups.distinct(np.array(values, dtype="int64"))) == sorted(set(values))


LONG = "x" * 40  # strings equal in length, last 16 bytes and middle: they share a key
DISTINCT = [
    ("repeats within and across groups", [0, 0, 1, 1, 1], ["a", "a", "a", "b", None]),
    ("same key, different strings", [0, 0, 0], ["A" + LONG, "B" + LONG, "A" + LONG]),
    ("empty, short, multibyte", [0, 0, 0, 1, 1], ["", "é", "é", "", None]),
    ("nothing named", [0, 1], [None, None]),
]


@pytest.mark.parametrize("dtype", ["str", "string[python]", object])
@pytest.mark.parametrize("ids, values", [c[1:] for c in DISTINCT], ids=[c[0] for c in DISTINCT])
def test_count_distinct_matches_pandas_nunique(ids, values, dtype):
    ids, strings = np.array(ids), pd.Series(values, dtype=dtype)
    want = strings.groupby(ids).nunique().reindex(range(2), fill_value=0).to_numpy()
    np.testing.assert_array_equal(groups.count_distinct(ids, 2, strings), want)
    # the same strings at positions of a longer, sliced frame (Arrow offsets other than 0)
    padded = pd.concat([pd.Series(["pad", "z" * 30], dtype=dtype), strings], ignore_index=True).iloc[1:]
    rows = np.arange(len(strings)) + 1
    np.testing.assert_array_equal(groups.count_distinct(ids, 2, padded, rows), want)


@pytest.mark.parametrize("ids, values", [
    ([30, 10, 20], [10, 20, 30, 40, -1, 5]),  # unsorted ids; values outside their range
    ([7], [7, 7, 8]),
    ([5, 1 << 40], [1 << 40, 5, 6]),  # a range too wide for a table
    ([], [1, 2]),
])
def test_lookup_is_get_indexer(ids, values):
    ids, values = np.array(ids, dtype="int64"), np.array(values, dtype="int64")
    want = pd.Index(ids, dtype="int64").get_indexer(values)
    assert groups.lookup(ids, values).tolist() == want.tolist()
