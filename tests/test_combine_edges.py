"""The combining rule at the edges its integer-coded implementation handles separately:
groups of one vs several same-day rows, missing counts and ranges, decommissioned latest
rows, several owners of one holding, wide (date-stacked) ids. Table-driven, pure pandas."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from fleet.analytics.combine import WHOLE, CombineOptions, combine
from fleet.analytics.fleet import DETAIL_COLUMNS, fleet_state, h100e_by_chip
from tests.test_combine import A100, CHIPS, H100, est, figure, frame

DAY = "2024-01-01"

CASES = [
    ("one latest row is its own figure", [est(1, DAY, 100)], (100, 100, 100, "fleet")),
    ("two same-day rows: the mean of the two as median, the outer range",
     [est(1, DAY, 100), est(2, DAY, 300)], (200, 100, 300, "fleet")),
    ("four same-day rows: the mean of the middle two",
     [est(1, DAY, 10), est(2, DAY, 400), est(3, DAY, 20), est(4, DAY, 30)], (25, 10, 400, "fleet")),
    ("a conflict's own ranges widen the range",
     [est(1, DAY, 100, low=50, high=120), est(2, DAY, 110, low=90, high=500)], (105, 50, 500, "fleet")),
    ("a same-day row without a count is skipped by the median, not the range",
     [est(1, DAY, None), est(2, DAY, 70, low=60)], (70, 60, 70, "fleet")),
    ("only rows without a count: no point figure",
     [est(1, DAY, None), est(2, DAY, None)], (None, None, None, "fleet")),
    ("an older row never joins the latest date's conflict",
     [est(1, "2023-01-01", 1000), est(2, DAY, 100), est(3, DAY, 300)], (200, 100, 300, "fleet")),
    ("a decommissioned latest row alone holds nothing",
     [est(1, "2023-01-01", 100), est(2, DAY, 100, status="decommissioned")], (0, 0, 0, "fleet")),
    ("a decommissioned row in a same-day conflict: the group is still alive, its median counts",
     [est(1, DAY, 100), est(2, DAY, 60, status="decommissioned")], (80, 60, 100, "fleet")),
    ("a decommissioned cluster conflict counts zero",
     [est(1, DAY, 50, scope="cluster", cluster="A", status="decommissioned"),
      est(2, DAY, 70, scope="cluster", cluster="a", status="decommissioned")], (0, 0, 0, "clusters")),
    ("a cluster's same-day rows for one chip conflict; another cluster adds",
     [est(1, DAY, 50, scope="cluster", cluster="A"), est(2, DAY, 70, scope="cluster", cluster="A "),
      est(3, DAY, 5, scope="cluster", cluster="B")], (65, 55, 75, "clusters")),
]


def _plain(result):
    if result is None:
        return None
    return tuple(None if isinstance(v, float) and np.isnan(v) else v for v in result)


@pytest.mark.parametrize("rows, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_latest_rows_collapse_into_one_figure(rows, expected):
    assert _plain(figure(rows)) == expected


def test_several_owners_of_one_holding_add_up_in_owner_order():
    """Leases from owners 7 and 3 attributed to user 5, which has its own fleet too."""
    rows = [est(1, DAY, 10, org=7, user=5), est(2, DAY, 20, org=5), est(3, DAY, 40, org=3, user=5, scope="cluster",
            cluster="Leased")]
    by_chip = combine(frame(*rows), CombineOptions(as_of=date(2025, 1, 1), attribute_to="user")).by_chip
    assert by_chip[["holder_id", "chip_key", "qty", "fleet_qty", "clusters_qty", "n_clusters", "basis"]].to_dict(
        "records") == [{"holder_id": 5, "chip_key": H100, "qty": 70.0, "fleet_qty": 30.0, "clusters_qty": 40.0,
                        "n_clusters": 1, "basis": "mixed"}]


@pytest.mark.parametrize("offset", [0, 1 << 32, 39 << 32])
def test_wide_ids_combine_like_narrow_ones(offset):
    """Date-stacked series shift holder ids by multiples of 2**32: the keys are renumbered, not overflowed."""
    rows = [est(1, DAY, 100, org=1), est(2, DAY, 300, org=1), est(3, DAY, 7, org=2, chip=A100),
            est(4, DAY, 40, org=2, user=1, scope="cluster", cluster="X")]
    estimates = frame(*rows)
    estimates["organisation_id"] += offset
    estimates["user_organisation_id"] += offset
    for attribute_to in ("owner", "user"):
        by_chip = combine(estimates, CombineOptions(as_of=date(2025, 1, 1), attribute_to=attribute_to)).by_chip
        got = {(h - offset, c): q for h, c, q in by_chip[["holder_id", "chip_key", "qty"]].itertuples(index=False)}
        assert got == ({(1, H100): 200.0, (2, A100): 7.0, (2, H100): 40.0} if attribute_to == "owner"
                       else {(1, H100): 240.0, (2, A100): 7.0})


def test_contributions_keep_a_fleet_row_s_cluster_name_as_its_key():
    rows = [est(1, DAY, 100, cluster=" Main Site"), est(2, DAY, 5, scope="cluster", cluster="B")]
    contributions = combine(frame(*rows), CombineOptions(as_of=date(2025, 1, 1))).contributions
    assert contributions.set_index("id")["cluster_key"].to_dict() == {1: "main site", 2: "b"}
    assert contributions["cluster_key"].dtype == "str"


def test_priced_figures_stay_numeric_without_an_organisation_wide_figure():
    by_chip = h100e_by_chip(combine(frame(est(1, DAY, 100)), CombineOptions(as_of=date(2025, 1, 1))), CHIPS, "8bit")
    assert by_chip["h100e"].dtype == "float64" and by_chip["spec_known"].dtype == bool
    assert by_chip["n_clusters"].dtype == "int64" and list(by_chip["h100e"]) == [100.0]


def test_dates_that_are_not_datetimes_are_refused_by_name():
    estimates = frame(est(1, DAY, 100))
    estimates["valid_on"] = estimates["valid_on"].dt.strftime("%Y-%m-%d").astype(object)
    with pytest.raises(TypeError, match='"valid_on"'):
        combine(estimates, CombineOptions(as_of=date(2025, 1, 1)))


def test_the_caller_s_columns_come_back_for_the_reported_rows_only():
    estimates = frame(est(1, "2020-01-01", 1), est(2, DAY, 100), est(3, DAY, 5, scope="cluster", cluster="C"))
    estimates["note"] = ["old", "fleet", "cluster"]
    contributions = combine(estimates, CombineOptions(as_of=date(2025, 1, 1))).contributions
    assert list(contributions.columns[:len(estimates.columns)]) == list(estimates.columns)
    assert contributions[["id", "note", "component"]].to_dict("list") == {
        "id": [2, 3], "note": ["fleet", "cluster"], "component": ["fleet", "cluster"]}
    pd.testing.assert_frame_equal(estimates, frame(est(1, "2020-01-01", 1), est(2, DAY, 100), est(
        3, DAY, 5, scope="cluster", cluster="C")).assign(note=["old", "fleet", "cluster"]))  # input untouched


ORGS = pd.DataFrame({"id": [1, 2, 3], "name": ["Lab", "Cloud", "Startup"], "kind": ["lab", "cloud", "startup"],
                     "country": ["US", "US", "FR"], "parent_id": [None, None, 1]})
MIXED = [est(1, DAY, 100), est(2, DAY, 300, source="https://example.org/shared"),
         est(3, DAY, 50, chip=A100, source="https://example.org/shared", certainty="confirmed"),
         est(4, DAY, 20, org=2, scope="cluster", cluster="Big", certainty="speculative"),
         est(5, DAY, None, org=2, h100e=5000, low=4000, high=6000),
         est(6, DAY, 7, org=3, chip=999)]  # a chip not in the catalog: no spec


@pytest.mark.parametrize("options", [{}, {"kinds": ("lab", "cloud")}, {"countries": ("FR",)},
                                     {"attribute_to": "user", "basis": "bf16"}], ids=repr)
def test_holders_are_the_totals_without_the_leaderboard_columns(options):
    estimates = frame(*MIXED)
    state = fleet_state(estimates, CHIPS, ORGS, as_of=date(2025, 1, 1), **options)
    totals = state.totals
    assert set(DETAIL_COLUMNS) <= set(totals.columns)
    pd.testing.assert_frame_equal(state.holders, totals.drop(columns=list(DETAIL_COLUMNS)))
    # the lazily built parts do not depend on which is read first
    other = fleet_state(estimates, CHIPS, ORGS, as_of=date(2025, 1, 1), **options)
    pd.testing.assert_frame_equal(other.contributions, state.contributions)
    pd.testing.assert_frame_equal(other.totals, totals)


def test_the_leaderboard_columns_follow_each_holder_after_sorting():
    state = fleet_state(frame(*MIXED), CHIPS, ORGS, as_of=date(2025, 1, 1))
    rows = state.totals.set_index("name")
    assert list(state.totals["name"]) == ["Cloud", "Lab", "Startup"]  # largest first
    assert rows.loc["Startup", "h100e"] == 0 and rows.loc["Startup", "chips_unknown_spec"] == 1  # no spec
    assert rows.loc["Lab", "n_sources"] == 2 and rows.loc["Lab", "n_estimates"] == 3
    assert rows.loc["Lab", "certainty"] == "likely"  # the lowest it rests on
    assert rows.loc["Lab", "chip_mix"].startswith("NVIDIA H100 SXM5 80GB")
    assert rows.loc["Cloud", "n_estimates"] == 2 and rows.loc["Cloud", "certainty"] == "speculative"
    assert rows.loc["Cloud", "h100e"] == 5000  # the organisation-wide figure exceeds its cluster


def test_the_latest_source_is_the_last_of_the_latest_dated_counted_estimates():
    """The leaderboard's "Latest source": the URL of the newest estimate a total rests on; of
    several on that date, the last in the contributions' order; an estimate that does not count
    (a fleet figure beaten by its clusters) or has no URL is passed over."""
    estimates = frame(est(1, "2024-01-01", 100, source="https://example.org/old-h100"),
                      est(2, "2024-06-01", 50, chip=A100, source="https://example.org/a100-first"),
                      est(3, "2024-06-01", 60, chip=A100, source="https://example.org/a100-second"),
                      est(4, "2024-09-01", 10, org=2, source="https://example.org/beaten"),
                      est(5, "2024-03-01", 40, org=2, scope="cluster", cluster="C", source="https://example.org/c"),
                      est(6, "2024-01-01", 5, org=3, source="https://example.org/kept"),
                      est(7, "2024-05-01", 5, org=3, chip=A100))
    estimates.loc[estimates["id"] == 7, "source_url"] = None
    state = fleet_state(estimates, CHIPS, ORGS, as_of=date(2025, 1, 1))
    latest = state.totals.set_index("name")["latest_source"]
    assert latest.to_dict() == {"Lab": "https://example.org/a100-second", "Cloud": "https://example.org/c",
                                "Startup": "https://example.org/kept"}


@pytest.mark.parametrize("options", [{}, {"kinds": ("lab", "cloud")}, {"countries": ("FR",)},
                                     {"attribute_to": "user", "basis": "bf16"}], ids=repr)
def test_the_state_s_figures_are_the_priced_figures_of_the_holders_shown(options):
    """``fleet_state`` prices arrays and builds its by_chip frame only when read: the same frame
    ``h100e_by_chip`` gives, restricted to the organisations the filters keep."""
    estimates, as_of = frame(*MIXED), date(2025, 1, 1)
    state = fleet_state(estimates, CHIPS, ORGS, as_of=as_of, **options)
    combine_options = CombineOptions(as_of=as_of, attribute_to=options.get("attribute_to", "owner"))
    want = h100e_by_chip(combine(estimates, combine_options), CHIPS, options.get("basis", "8bit"))
    orgs = ORGS.set_index("id")
    shown = orgs.index[orgs["kind"].isin(options.get("kinds", orgs["kind"])) &
                       orgs["country"].isin(options.get("countries", orgs["country"]))]
    want = want.loc[want["holder_id"].isin(shown)].reset_index(drop=True)
    assert len(want) and (WHOLE in set(want["chip_key"]) or options)  # the organisation-wide row is covered
    pd.testing.assert_frame_equal(state.by_chip, want)
