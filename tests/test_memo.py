"""Figures kept against a column's Arrow data (fleet.analytics.memo), and the combining rule
that keeps its text scans there: a changed column is never answered from an old figure."""

from __future__ import annotations

import gc
from datetime import date

import numpy as np
import pandas as pd
import pytest

from fleet.analytics import memo
from fleet.analytics.combine import CombineOptions, combine
from tests.test_combine import H100, est, frame

DAY = "2024-01-01"


class Counting:
    def __init__(self):
        self.calls = 0

    def __call__(self, values: pd.Series) -> np.ndarray:
        self.calls += 1
        return values.str.len().to_numpy(dtype="int64", na_value=-1)


def test_a_figure_is_computed_once_per_arrow_data_and_shared_by_shallow_copies():
    words = pd.DataFrame({"w": pd.array(["a", "bb", None], dtype="str")})
    compute = Counting()
    first = memo.derived(words["w"], "test.len", compute)
    again = memo.derived(words.copy(deep=False)["w"], "test.len", compute)
    assert compute.calls == 1 and again is first
    assert first.tolist() == [1, 2, -1] and not first.flags.writeable  # shared: nobody may write to it
    assert memo.derived(words["w"], "test.other", Counting()) is not first  # another name, another figure


def test_setting_a_value_gives_new_data_and_a_new_figure():
    words = pd.DataFrame({"w": pd.array(["a", "bb", "ccc"], dtype="str")})
    compute = Counting()
    memo.derived(words["w"], "test.len", compute)
    words.loc[0, "w"] = "dddd"
    assert memo.derived(words["w"], "test.len", compute).tolist() == [4, 2, 3]
    assert compute.calls == 2


def test_a_figure_is_dropped_with_its_data():
    words = pd.DataFrame({"w": pd.array(["x"] * 5, dtype="str")})
    before = memo.kept()
    memo.derived(words["w"], "test.len", Counting())
    assert memo.kept() == before + 1
    del words
    gc.collect()
    assert memo.kept() == before


@pytest.mark.parametrize("dtype", [object, "category"])
def test_columns_not_stored_in_arrow_are_computed_every_time(dtype):
    values = pd.Series(["a", "bb"], dtype=dtype)
    compute = Counting()
    memo.derived(values, "test.len", compute)
    memo.derived(values, "test.len", compute)
    assert compute.calls == 2


def _figure(estimates: pd.DataFrame, options: CombineOptions) -> float:
    by_chip = combine(estimates, options).by_chip
    return float(by_chip.loc[(by_chip["holder_id"] == 1) & (by_chip["chip_key"] == H100), "qty"].iloc[0])


@pytest.mark.parametrize("edits, expected", [
    ({"status": "decommissioned"}, 0.0),  # the latest row now holds nothing
    ({"status": "planned"}, 100.0),  # planned capacity does not count: the older row is the latest
    ({"certainty": "speculative"}, 100.0),  # below the threshold asked for: the older row is the latest
    ({"scope": "cluster", "cluster": "Site", "count": 50}, 100.0),  # a smaller cluster: the fleet figure wins
], ids=repr)
def test_the_rule_sees_a_text_column_edited_between_two_calls(edits, expected):
    estimates = frame(est(1, "2023-01-01", 100), est(2, DAY, 300))
    options = CombineOptions(as_of=date(2025, 1, 1), min_certainty="likely")
    assert _figure(estimates, options) == 300.0  # the memo now holds this frame's columns
    for column, value in edits.items():
        estimates.loc[1, column] = value
    assert _figure(estimates, options) == expected


def test_the_rule_sees_a_renamed_cluster():
    estimates = frame(est(1, DAY, 10, scope="cluster", cluster="A"), est(2, DAY, 30, scope="cluster", cluster="B"))
    options = CombineOptions(as_of=date(2025, 1, 1))
    assert _figure(estimates, options) == 40.0  # two clusters add up
    estimates.loc[1, "cluster"] = " a"  # now the same cluster as the first: a same-day conflict
    assert _figure(estimates, options) == 20.0
