"""The GPU-rich vs GPU-poor split, Lorenz curve, Gini, log bins and the split over time:
tables of input -> expected output (ties, ranges, zero/one organisation, values on the line)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from fleet.analytics.distribution import (
    POOR, RICH, UNATTRIBUTED, gini, histogram, log_bin_edges, lorenz, split, split_over_time,
)


def orgs(*rows) -> pd.DataFrame:
    """(name, h100e[, low, high[, unattributed]]) tuples -> a holders frame."""
    out = []
    for row in rows:
        name, value, *rest = row
        low, high = (rest[0], rest[1]) if len(rest) >= 2 else (value, value)
        out.append({"name": name, "h100e": value, "h100e_low": low, "h100e_high": high,
                    "unattributed": rest[2] if len(rest) == 3 else False})
    return pd.DataFrame(out, columns=["name", "h100e", "h100e_low", "h100e_high", "unattributed"])


def by_group(frame: pd.DataFrame) -> dict:
    return {row["group"]: row for _, row in frame.iterrows()}


# --- split -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("rows, threshold, rich_n, poor_n, rich_share", [
    ([], 20_000, 0, 0, math.nan),
    ([("A", 5_000)], 20_000, 0, 1, 0.0),
    ([("A", 50_000)], 20_000, 1, 0, 1.0),
    ([("A", 20_000), ("B", 19_999.5)], 20_000, 1, 1, 20_000 / 39_999.5),  # exactly on the line is rich
    ([("A", 30_000), ("B", 10_000), ("C", 10_000)], 20_000, 1, 2, 0.6),
    ([("A", 10_000), ("B", 10_000)], 10_000, 2, 0, 1.0),  # a tie on the line: both rich
    ([("A", 100), ("B", 0), ("C", -0.0)], 50, 1, 0, 1.0),  # no figure: on neither side
    ([("A", 1e6), ("B", 1e5), ("C", 1e4)], 100_000, 2, 1, 1.1e6 / 1.11e6),
])
def test_split_counts_and_shares(rows, threshold, rich_n, poor_n, rich_share):
    groups = by_group(split(orgs(*rows), threshold))
    assert list(groups) == [RICH, POOR]
    assert (groups[RICH]["organisations"], groups[POOR]["organisations"]) == (rich_n, poor_n)
    if math.isnan(rich_share):
        assert math.isnan(groups[RICH]["share"]) and math.isnan(groups[POOR]["share"])
    else:
        assert groups[RICH]["share"] == pytest.approx(rich_share)
        assert groups[RICH]["share"] + groups[POOR]["share"] == pytest.approx(1.0)


def test_split_carries_ranges_through_and_flags_ranges_across_the_line():
    frame = orgs(("A", 30_000, 15_000, 40_000), ("B", 10_000, 8_000, 25_000), ("C", 5_000, 5_000, 5_000))
    groups = by_group(split(frame, 20_000))
    rich, poor = groups[RICH], groups[POOR]
    assert (rich["h100e"], rich["h100e_low"], rich["h100e_high"]) == (30_000, 15_000, 40_000)
    assert (poor["h100e"], poor["h100e_low"], poor["h100e_high"]) == (15_000, 13_000, 30_000)
    # A's low is under the line and B's high is over it: both could be on the other side.
    assert (rich["range_crosses_line"], poor["range_crosses_line"]) == (1, 1)
    # The rich's share at its lowest: rich at their low against the rest at their high, and vice versa.
    assert rich["share_low"] == pytest.approx(15_000 / (15_000 + 30_000))
    assert rich["share_high"] == pytest.approx(40_000 / (40_000 + 13_000))
    assert rich["share_low"] <= rich["share"] <= rich["share_high"]


def test_split_missing_range_columns_mean_a_point_figure():
    groups = by_group(split(pd.DataFrame({"h100e": [25_000.0, 1_000.0]}), 20_000))
    assert groups[RICH]["h100e_low"] == groups[RICH]["h100e_high"] == 25_000
    assert groups[POOR]["range_crosses_line"] == 0


def test_unattributed_clusters_are_on_neither_side_but_in_the_total():
    frame = orgs(("A", 60_000), ("B", 20_000), ("Unattributed (China)", 20_000, 20_000, 20_000, True))
    groups = by_group(split(frame, 20_000))
    assert list(groups) == [RICH, POOR, UNATTRIBUTED]
    assert groups[RICH]["organisations"] == 2 and groups[POOR]["organisations"] == 0
    assert groups[RICH]["share"] == pytest.approx(0.8) and groups[UNATTRIBUTED]["share"] == pytest.approx(0.2)
    assert sum(groups[g]["share"] for g in groups) == pytest.approx(1.0)


# --- Gini and Lorenz -------------------------------------------------------------------------------

@pytest.mark.parametrize("values, expected", [
    ([], math.nan),
    ([0, 0], math.nan),  # no compute at all: undefined
    ([42], 0.0),  # one organisation: nothing to be unequal about
    ([5, 5, 5, 5], 0.0),  # ties: perfect equality
    ([0, 0, 0, 10], 0.75),  # one holds everything: (n - 1) / n
    ([1, 2, 3, 4], 0.25),
    ([4, 1, 3, 2], 0.25),  # order does not matter
    ([1, 1, 2, 2], 1 / 6),
    ([1, np.nan, 3], 0.25),  # unknown figures are left out
])
def test_gini(values, expected):
    result = gini(values)
    assert math.isnan(result) if math.isnan(expected) else result == pytest.approx(expected)


def test_gini_refuses_negative_figures():
    with pytest.raises(ValueError, match="negative"):
        gini([3, -1])


def test_gini_is_twice_the_area_between_equality_and_the_lorenz_curve():
    rng = np.random.default_rng(7)
    values = rng.lognormal(8, 2, size=200)
    curve = lorenz(pd.DataFrame({"name": [f"o{i}" for i in range(200)], "h100e": values}))
    area = np.trapezoid(curve["share_of_h100e"], curve["share_of_organisations"])
    assert gini(values) == pytest.approx(1 - 2 * area)


@pytest.mark.parametrize("rows, expected_shares", [
    ([("A", 10)], [0.0, 1.0]),
    ([("A", 30), ("B", 10)], [0.0, 0.25, 1.0]),
    ([("B", 5), ("A", 5)], [0.0, 0.5, 1.0]),
])
def test_lorenz_points(rows, expected_shares):
    curve = lorenz(orgs(*rows))
    assert list(curve["share_of_h100e"]) == pytest.approx(expected_shares)
    assert list(curve["share_of_organisations"]) == pytest.approx(list(np.linspace(0, 1, len(rows) + 1)))
    assert curve["organisation"].iloc[0] == ""


def test_lorenz_breaks_ties_by_name_and_leaves_out_unattributed():
    curve = lorenz(orgs(("Zed", 5), ("Abe", 5), ("Big", 90), ("Unattributed", 1_000, 1_000, 1_000, True)))
    assert list(curve["organisation"]) == ["", "Abe", "Zed", "Big"]


def test_lorenz_of_nothing_is_empty():
    assert lorenz(orgs()).empty and lorenz(orgs(("A", 0))).empty


# --- log bins and the histogram --------------------------------------------------------------------

@pytest.mark.parametrize("values, per_decade, expected", [
    ([], 4, []),
    ([0, -5], 4, []),
    ([1_000], 1, [1_000, 10_000]),  # a value on an edge opens its bin
    ([1_000, 10_000], 1, [1_000, 10_000, 100_000]),
    ([150, 9_000], 1, [100, 1_000, 10_000]),
    ([20_000], 4, [10 ** 4.25, 10 ** 4.5]),
])
def test_log_bin_edges(values, per_decade, expected):
    assert list(log_bin_edges(values, per_decade)) == pytest.approx(expected)


def test_log_bin_edges_need_a_bin_per_decade():
    with pytest.raises(ValueError, match="per_decade"):
        log_bin_edges([1], 0)


def test_histogram_counts_each_side_per_bin_with_empty_bins_kept():
    frame = orgs(("a", 150), ("b", 900), ("c", 50_000), ("d", 10_000), ("e", 0),
                 ("u", 5_000_000, 5_000_000, 5_000_000, True))
    hist = histogram(frame, threshold=10_000, per_decade=1)
    assert list(hist["bin_low"]) == pytest.approx([100, 1_000, 10_000])
    assert list(hist["gpu_poor"]) == [2, 0, 0] and list(hist["gpu_rich"]) == [0, 0, 2]
    assert hist[["gpu_poor", "gpu_rich"]].to_numpy().sum() == 4


def test_histogram_splits_a_bin_the_threshold_falls_in():
    hist = histogram(orgs(("a", 12_000), ("b", 15_000), ("c", 30_000)), threshold=15_000, per_decade=1)
    assert len(hist) == 1 and (hist["gpu_poor"].iloc[0], hist["gpu_rich"].iloc[0]) == (1, 2)


def test_histogram_of_nothing_is_empty():
    assert histogram(orgs(), 20_000).empty


# --- the split over time ---------------------------------------------------------------------------

def series(*rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["date", "holder_id", "h100e", "unattributed"])
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def test_split_over_time_counts_organisations_above_the_line_each_date():
    frame = series(("2023-12-31", 1, 5_000.0, False), ("2023-12-31", 2, 25_000.0, False),
                   ("2024-03-31", 1, 20_000.0, False), ("2024-03-31", 2, 30_000.0, False),
                   ("2024-03-31", 3, 50_000.0, True), ("2024-03-31", 4, np.nan, False))
    out = split_over_time(frame, 20_000)
    assert list(out["date"].dt.date.astype(str)) == ["2023-12-31", "2024-03-31"]
    assert list(out["organisations_rich"]) == [1, 2] and list(out["organisations_poor"]) == [1, 0]
    assert list(out["h100e_total"]) == [30_000, 100_000]
    assert list(out["share_rich"]) == pytest.approx([25_000 / 30_000, 0.5])


def test_split_over_time_of_nothing_is_empty():
    assert split_over_time(series(), 20_000).empty
