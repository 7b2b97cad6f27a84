"""Breakdowns (chip families and vendors, per head, countries, one organisation's estimates):
table-driven, pure pandas."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from fleet.analytics import breakdown
from fleet.analytics.combine import H100E_ONLY, WHOLE
from fleet.analytics.compute_series import SeriesOptions, chip_series, chip_totals, fleet_series
from fleet.countries import EUROPE, region
from tests.test_combine import A100, CHIPS, H100, est, frame

TPU = 30
NO_SPEC = 40
CATALOG = pd.concat([CHIPS.assign(vendor="NVIDIA", release_date=None, memory_gb=None, memory_bw_gb_s=None,
                                  source_url="https://example.org/chip"),
                     pd.DataFrame([
                         {"id": TPU, "name": "Google TPU v5p", "vendor": "Google", "family": "TPU v5p",
                          "peak_ops_8bit": 9.18e14, "peak_flops_bf16": 4.59e14, "tdp_w": None, "price_usd": None},
                         {"id": NO_SPEC, "name": "Mystery chip", "vendor": "Acme", "family": "Other"},
                     ])], ignore_index=True)
ORGS = pd.DataFrame({"id": [1, 2, 3], "name": ["Meta", "xAI", "Mistral AI"], "kind": ["lab"] * 3,
                     "country": ["USA", "USA", "FRA"], "parent_id": [None] * 3,
                     "aliases": ["Facebook|FAIR", "X.AI", ""]})


# --- nearest headcount ----------------------------------------------------------------------------

def heads(*rows) -> pd.DataFrame:
    frame = pd.DataFrame([{"id": i, "organisation_id": org, "count": count, "kind": kind, "valid_on": when,
                           "source_url": f"https://example.org/h{i}"}
                          for i, (org, count, kind, when) in enumerate(rows, start=1)])
    frame["valid_on"] = pd.to_datetime(frame["valid_on"])
    return frame


NEAREST = [
    ("the nearest date wins over an older one",
     heads((1, 100, "staff", "2023-01-01"), (1, 200, "staff", "2024-04-20")), "staff",
     {1: (200, "2024-04-20", -11, 1)}),
    ("a headcount after the as-of date is used when it is the nearest",
     heads((1, 100, "staff", "2022-01-01"), (1, 300, "staff", "2024-06-01")), "staff",
     {1: (300, "2024-06-01", 31, 1)}),
    ("only a later headcount: still used, with positive days",
     heads((1, 300, "staff", "2025-05-01")), "staff", {1: (300, "2025-05-01", 365, 1)}),
    ("a tie in distance goes to the earlier (already known) date",
     heads((1, 100, "staff", "2024-04-21"), (1, 900, "staff", "2024-05-11")), "staff",
     {1: (100, "2024-04-21", -10, 1)}),
    ("several reports on the chosen date: their median",
     heads((1, 2600, "staff", "2024-05-01"), (1, 4000, "staff", "2024-05-01")), "staff",
     {1: (3300, "2024-05-01", 0, 2)}),
    ("no headcount of the kind: the organisation is absent",
     heads((1, 500, "researchers", "2024-05-01")), "staff", {}),
    ("any kind: staff preferred to researchers on the same date",
     heads((1, 500, "researchers", "2024-05-01"), (1, 800, "staff", "2024-05-01")), "any",
     {1: (800, "2024-05-01", 0, 1)}),
    ("any kind: a nearer researchers count beats a farther staff count",
     heads((1, 500, "researchers", "2024-05-01"), (1, 800, "staff", "2023-05-01")), "any",
     {1: (500, "2024-05-01", 0, 1)}),
    ("zero or missing counts are not headcounts",
     heads((1, 0, "staff", "2024-05-01"), (2, 40, "staff", "2020-01-01")), "staff",
     {2: (40, "2020-01-01", -1582, 1)}),
]


@pytest.mark.parametrize("rows, kind, expected", [c[1:] for c in NEAREST], ids=[c[0] for c in NEAREST])
def test_nearest_headcount(rows, kind, expected):
    out = breakdown.nearest_headcounts(rows, date(2024, 5, 1), kind).set_index("organisation_id")
    got = {int(org): (r["headcount"], f"{r['valid_on']:%Y-%m-%d}", int(r["days_from_as_of"]), int(r["reports"]))
           for org, r in out.iterrows()}
    assert got == expected


def test_nearest_headcount_rejects_an_unknown_kind():
    with pytest.raises(ValueError, match="staff, researchers, any"):
        breakdown.nearest_headcounts(heads((1, 5, "staff", "2024-01-01")), date(2024, 1, 1), "interns")


PER_STAFF = [
    ("ranked by H100e per head", [(1, 1000.0), (2, 5000.0)], {1: 10, 2: 10}, {2: (1, 500.0), 1: (2, 100.0)}),
    ("ties share the better rank", [(1, 1000.0), (2, 2000.0), (3, 50.0)], {1: 10, 2: 20, 3: 1},
     {1: (1, 100.0), 2: (1, 100.0), 3: (3, 50.0)}),
    ("no headcount: left out", [(1, 1000.0), (2, 5000.0)], {1: 10}, {1: (1, 100.0)}),
    ("no H100e: left out", [(1, 0.0), (2, 5000.0)], {1: 10, 2: 50}, {2: (1, 100.0)}),
]


@pytest.mark.parametrize("h100e, people, expected", [c[1:] for c in PER_STAFF], ids=[c[0] for c in PER_STAFF])
def test_per_staff_ranking(h100e, people, expected):
    totals = pd.DataFrame([{"holder_id": org, "name": f"org{org}", "h100e": v, "h100e_low": v, "h100e_high": v}
                           for org, v in h100e])
    chosen = pd.DataFrame([{"organisation_id": org, "headcount": n} for org, n in people.items()])
    out = breakdown.per_staff(totals, chosen, 20_000)
    assert {int(r.holder_id): (int(r.rank), r.per_head) for r in out.itertuples()} == expected


@pytest.mark.parametrize("h100e, group", [(19_999.0, "GPU-poor"), (20_000.0, "GPU-rich"), (1e6, "GPU-rich")])
def test_the_gpu_rich_line_is_inclusive(h100e, group):
    totals = pd.DataFrame([{"holder_id": 1, "name": "a", "h100e": h100e, "h100e_low": h100e, "h100e_high": h100e}])
    out = breakdown.per_staff(totals, pd.DataFrame([{"organisation_id": 1, "headcount": 10}]), 20_000)
    assert out["group"].tolist() == [group]


# --- chips ----------------------------------------------------------------------------------------

def series_rows(*rows) -> pd.DataFrame:
    return pd.DataFrame([{"date": pd.Timestamp(d), "holder_id": 1, "chip_key": k, "family": f, "h100e": h,
                          "spec_known": not np.isnan(h)} for d, k, f, h in rows])


def test_family_shares_leave_unknown_specs_out_and_count_them():
    s = series_rows(("2024-03-31", H100, "H100", 300.0), ("2024-03-31", A100, "A100", 100.0),
                    ("2024-03-31", NO_SPEC, "Other", np.nan), ("2024-06-30", H100E_ONLY, "Unspecified", 50.0))
    out = breakdown.grouped_over_time(s, CATALOG, "family")
    got = {(f"{r.date:%m}", r.group): (r.h100e, r.share, r.excluded) for r in out.itertuples()}
    assert got == {("03", "H100"): (300.0, 75.0, 1), ("03", "A100"): (100.0, 25.0, 1),
                   ("06", breakdown.UNSPECIFIED): (50.0, 100.0, 0)}


def test_vendor_groups_are_nvidia_tpu_others_and_unspecified():
    s = series_rows(("2024-03-31", H100, "H100", 100.0), ("2024-03-31", A100, "A100", 100.0),
                    ("2024-03-31", TPU, "TPU v5p", 100.0), ("2024-03-31", WHOLE, "Unspecified", 100.0),
                    ("2024-03-31", 99, "Other", 100.0))
    out = breakdown.grouped_over_time(s, CATALOG, "vendor").set_index("group")["share"].to_dict()
    assert out == {breakdown.NVIDIA: 40.0, breakdown.OTHER: 20.0, breakdown.TPU: 20.0, breakdown.UNSPECIFIED: 20.0}


def test_catalog_says_unknown_where_a_basis_lacks_a_figure():
    by_chip = pd.DataFrame({"chip_key": [H100, NO_SPEC, H100E_ONLY], "qty": [10.0, 5.0, 7.0],
                            "h100e": [10.0, np.nan, 7.0]})
    out = breakdown.catalog_table(CATALOG, by_chip, "8bit").set_index("Chip")
    assert out.loc["NVIDIA A100", "H100e per chip (price basis)"] == "unknown"
    assert out.loc["NVIDIA A100", "H100e per chip (power basis)"] == "0.5714"
    assert (out.loc["Mystery chip", [c for c in out.columns if c.startswith("H100e per chip")]] == "unknown").all()
    assert out.loc["Mystery chip", "Chips in tracked fleets"] == 5 and np.isnan(
        out.loc["Mystery chip", "H100e in tracked fleets (8bit basis)"])
    assert out.index[0] == "NVIDIA H100 SXM5 80GB"


def test_chip_series_matches_fleet_series_date_by_date():
    e = frame(est(1, "2023-01-01", 100), est(2, "2024-02-01", 50, chip=A100, scope="cluster", cluster="c1"),
              est(3, "2024-02-01", 300, org=2), est(4, "2023-06-01", 10, chip=NO_SPEC, org=2),
              est(5, "2024-05-01", h100e=1000, org=1))
    dates = [date(2023, 3, 31), date(2024, 3, 31), date(2024, 6, 30)]
    chips = chip_series(e, CATALOG, ORGS, dates)
    holders = fleet_series(e, CATALOG, ORGS, dates)
    by_chip = chips.groupby(["date", "holder_id"])["h100e"].sum(min_count=1)
    by_holder = holders.set_index(["date", "holder_id"])["h100e"]
    pd.testing.assert_series_equal(by_chip, by_holder.reindex(by_chip.index), check_names=False, check_dtype=False)
    unknown = chips.loc[~chips["spec_known"].astype(bool)]
    assert unknown["chip_key"].unique().tolist() == [NO_SPEC] and unknown["h100e"].isna().all()
    one = chip_series(e, CATALOG, ORGS, dates, SeriesOptions(holders=(2,)))
    assert set(one["holder_id"]) == {2}



def test_chip_totals_are_chip_series_summed_over_holders_and_shares_agree():
    e = frame(est(1, "2023-01-01", 100), est(2, "2024-02-01", 50, chip=A100, scope="cluster", cluster="c1"),
              est(3, "2024-02-01", 300, org=2), est(4, "2023-06-01", 10, chip=NO_SPEC, org=2),
              est(5, "2023-06-01", 20, chip=NO_SPEC, org=1), est(6, "2024-05-01", h100e=1000, org=1))
    dates = [date(2023, 3, 31), date(2024, 3, 31), date(2024, 6, 30)]
    per_holder, summed = chip_series(e, CATALOG, ORGS, dates), chip_totals(e, CATALOG, ORGS, dates)
    expected = per_holder.groupby(["date", "chip_key"])[["qty", "h100e"]].sum(min_count=1)
    got = summed.set_index(["date", "chip_key"])[["qty", "h100e"]]
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert summed.loc[summed["chip_key"] == NO_SPEC, "holders"].tolist() == [2, 2]  # two holders, two dates
    labels = ["date", "chip_key", "chip", "family", "spec_known"]  # each chip's name, family and spec carried over
    pd.testing.assert_frame_equal(summed[labels], per_holder[labels].drop_duplicates(ignore_index=True))
    for by in ("family", "vendor"):
        pd.testing.assert_frame_equal(breakdown.grouped_over_time(summed, CATALOG, by),
                                      breakdown.grouped_over_time(per_holder, CATALOG, by))


# --- countries ------------------------------------------------------------------------------------

@pytest.mark.parametrize("iso3, expected", [
    ("USA", "United States"), ("CHN", "China"), ("DEU", "Europe"), ("GBR", "Europe"), ("CHE", "Europe"),
    ("NOR", "Europe"), ("ISL", "Europe"), ("LIE", "Europe"), ("RUS", "Rest of world"), ("TUR", "Rest of world"),
    ("UKR", "Rest of world"), ("TWN", "Rest of world"), (None, "Unknown"), ("", "Unknown"),
])
def test_regions(iso3, expected):
    assert region(iso3) == expected


def test_europe_is_eu27_plus_uk_plus_efta():
    assert len(EUROPE) == 27 + 1 + 4


def test_country_totals_sum_holders_per_home_country():
    totals = pd.DataFrame({"holder_id": [1, 2, 3, 4], "name": ["Meta", "xAI", "Mistral AI", "Ghost"],
                           "country": ["USA", "USA", "FRA", None], "h100e": [300.0, 100.0, 100.0, 0.0],
                           "h100e_low": [250.0, 100.0, 50.0, 0.0], "h100e_high": [300.0, 150.0, 100.0, 0.0]})
    out = breakdown.country_totals(totals).set_index("iso3")
    assert out.loc["USA", ["h100e", "h100e_low", "h100e_high", "organisations"]].tolist() == [400, 350, 450, 2]
    assert out.loc["USA", "largest"] == "Meta" and out.loc["FRA", "region"] == "Europe"
    assert out["share"].tolist() == [80.0, 20.0]


# --- one organisation -----------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [("Meta", 1), ("meta", 1), ("  META ", 1), ("facebook", 1),
                                            ("x.ai", 2), ("Mistral-AI", 3), ("Nobody", None), ("", None)])
def test_resolve_organisation_by_name_or_alias(text, expected):
    assert breakdown.resolve_organisation(ORGS, text) == expected


def history(*rows, states=None) -> pd.DataFrame:
    h = frame(*rows).assign(source_title=None, quote=None, recorded_at=pd.Timestamp("2025-01-01"))
    h["state"] = states or ["live"] * len(h)
    return h


def test_estimates_table_flags_same_date_conflicts_among_live_estimates_only():
    h = history(est(1, "2024-01-01", 100), est(2, "2024-01-01", 300), est(3, "2024-01-01", 900),
                est(4, "2024-01-01", 50, scope="cluster", cluster="c"), est(5, "2023-01-01", 10, chip=NO_SPEC),
                states=["live", "live", "superseded", "live", "retracted"])
    out = breakdown.estimates_table(h, CATALOG, ORGS, 1, "8bit").set_index("Estimate id")
    assert out["Conflict"].to_dict() == {1: "same-date conflict (2 estimates)", 2: "same-date conflict (2 estimates)",
                                         3: "", 4: "", 5: ""}
    assert out["State"].to_dict() == {1: "live", 2: "live", 3: "superseded", 4: "live", 5: "retracted"}
    assert np.isnan(out.loc[5, "H100e (8bit basis)"])  # no spec on the basis: unknown, not zero


def test_estimate_h100e_prices_counts_and_keeps_h100e_only_figures():
    h = history(est(1, "2024-01-01", 100, chip=A100, low=80, high=120), est(2, "2024-01-01", h100e=500))
    out = breakdown.estimate_h100e(h, CATALOG, "power")
    assert out.round(4).to_dict("list") == {"h100e": [57.1429, 500.0], "h100e_low": [45.7143, 500.0],
                                            "h100e_high": [68.5714, 500.0]}


@pytest.mark.parametrize("fleet, clusters, whole, expected", [
    ([100.0, None], [None, 40.0], None, (100.0, 40.0)),
    ([None, None], [30.0, 40.0], None, (np.nan, 70.0)),
    ([100.0, None], [None, None], 500.0, (500.0, np.nan)),
    ([800.0, None], [None, 40.0], 500.0, (800.0, 40.0)),
])
def test_combined_totals_report_fleet_scope_and_cluster_sum(fleet, clusters, whole, expected):
    rows = [{"chip": f"c{i}", "spec_known": True, "fleet_chips": f, "clusters_chips": c, "fleet_h100e": f,
             "clusters_h100e": c, "org_wide": False} for i, (f, c) in enumerate(zip(fleet, clusters))]
    if whole is not None:
        rows.append({"chip": "whole", "spec_known": True, "fleet_chips": None, "clusters_chips": None,
                     "fleet_h100e": whole, "clusters_h100e": None, "org_wide": True})
    got = breakdown.combined_totals(pd.DataFrame(rows))
    np.testing.assert_equal((got["fleet"], got["clusters"]), expected)


COMBINED = [
    ("fleet and clusters, no organisation-wide figure",
     [est(1, "2024-01-01", 100), est(2, "2024-01-01", 60, scope="cluster", cluster="a"),
      est(3, "2024-01-01", 70, scope="cluster", cluster="b")], {"NVIDIA H100 SXM5 80GB": (100, 130, 130, "clusters")}),
    ("an organisation-wide figure shows in full under (a)",
     [est(1, "2024-01-01", 100), est(2, "2024-01-01", h100e=500)],
     {"NVIDIA H100 SXM5 80GB": (100, None, 100, "fleet"),
      "H100e (organisation-wide figure, chips not specified)": (500, None, 400, "organisation-wide")}),
]


@pytest.mark.parametrize("rows, expected", [c[1:] for c in COMBINED], ids=[c[0] for c in COMBINED])
def test_combined_figure_shows_both_parts(rows, expected):
    from fleet.analytics.combine import CombineOptions, combine
    from fleet.analytics.fleet import h100e_by_chip

    by_chip = h100e_by_chip(combine(frame(*rows), CombineOptions(as_of=date(2024, 6, 1))), CATALOG, "8bit")
    out = breakdown.combined_figure(by_chip, 1).set_index("chip")
    got = {chip: (r["fleet_h100e"], None if pd.isna(r["clusters_h100e"]) else r["clusters_h100e"], r["h100e"],
                  r["counted_from"].split(" figure")[0]) for chip, r in out.iterrows()}
    assert got == expected
