"""How estimates combine (fleet vs clusters, latest, ranges, filters): table-driven, pure pandas."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from fleet.analytics.combine import H100E_ONLY, WHOLE, CombineOptions, combine
from fleet.analytics.fleet import h100e_by_chip, org_totals

H100, A100 = 10, 20
CHIPS = pd.DataFrame([
    {"id": H100, "name": "NVIDIA H100 SXM5 80GB", "family": "H100", "peak_ops_8bit": 1.979e15,
     "peak_flops_bf16": 9.894e14, "peak_flops_fp32": 6.7e13, "price_usd": 33600.0, "tdp_w": 700.0},
    {"id": A100, "name": "NVIDIA A100", "family": "A100", "peak_ops_8bit": 6.24e14,
     "peak_flops_bf16": 3.12e14, "peak_flops_fp32": 1.95e13, "price_usd": None, "tdp_w": 400.0},
])


def est(id, valid_on, count=None, *, org=1, chip=H100, scope="fleet", cluster=None, low=None, high=None,
        h100e=None, status="operational", certainty="likely", user=None, source=None):
    return {"id": id, "organisation_id": org, "chip_id": None if h100e is not None else chip,
            "count": count, "count_low": low if h100e is None else None, "count_high": high if h100e is None else None,
            "h100e": h100e, "h100e_low": low if h100e is not None else None,
            "h100e_high": high if h100e is not None else None, "scope": scope, "cluster": cluster,
            "valid_on": valid_on, "status": status, "certainty": certainty, "user_organisation_id": user,
            "source_url": source or f"https://example.org/{id}"}


def frame(*rows) -> pd.DataFrame:
    df = pd.DataFrame(list(rows), columns=list(est(0, "2020-01-01").keys()))
    df["valid_on"] = pd.to_datetime(df["valid_on"])
    for column in ("organisation_id", "chip_id", "count", "count_low", "count_high", "user_organisation_id"):
        df[column] = df[column].astype("Int64")
    for column in ("h100e", "h100e_low", "h100e_high"):
        df[column] = df[column].astype("float64")
    return df


def figure(rows, as_of="2025-01-01", chip=H100, org=1, **options):
    combined = combine(frame(*rows), CombineOptions(as_of=date.fromisoformat(as_of), **options))
    sel = combined.by_chip.query("holder_id == @org and chip_key == @chip")
    if sel.empty:
        return None
    row = sel.iloc[0]
    return row["qty"], row["low"], row["high"], row["basis"]


CASES = [
    ("latest fleet estimate wins over older ones",
     [est(1, "2023-01-01", 100), est(2, "2024-01-01", 300)], {}, (300, 300, 300, "fleet")),
    ("an estimate after the as-of date does not count yet",
     [est(1, "2023-01-01", 100), est(2, "2025-06-01", 900)], {}, (100, 100, 100, "fleet")),
    ("nothing valid by the as-of date: no figure",
     [est(1, "2026-01-01", 100)], {}, None),
    ("same-date conflict becomes a range around the median",
     [est(1, "2024-01-01", 100), est(2, "2024-01-01", 200), est(3, "2024-01-01", 600)], {},
     (200, 100, 600, "fleet")),
    ("an estimate's own range is carried",
     [est(1, "2024-01-01", 100, low=80, high=150)], {}, (100, 80, 150, "fleet")),
    ("clusters sum each cluster's latest estimate",
     [est(1, "2023-01-01", 50, scope="cluster", cluster="A"), est(2, "2024-01-01", 70, scope="cluster", cluster="A"),
      est(3, "2023-06-01", 30, scope="cluster", cluster="B")], {}, (100, 100, 100, "clusters")),
    ("cluster names compare case-insensitively",
     [est(1, "2023-01-01", 50, scope="cluster", cluster="Colossus"),
      est(2, "2024-01-01", 70, scope="cluster", cluster="colossus ")], {}, (70, 70, 70, "clusters")),
    ("the larger of fleet and clusters: clusters are a lower bound",
     [est(1, "2024-01-01", 100), est(2, "2024-01-01", 250, scope="cluster", cluster="A")], {},
     (250, 250, 250, "clusters")),
    ("fleet larger than its clusters wins",
     [est(1, "2024-01-01", 1000), est(2, "2024-01-01", 250, scope="cluster", cluster="A")], {},
     (1000, 1000, 1000, "fleet")),
    ("range maximum is element-wise",
     [est(1, "2024-01-01", 100, low=50, high=400), est(2, "2024-01-01", 120, scope="cluster", cluster="A")], {},
     (120, 120, 400, "clusters")),
    ("a decommissioned cluster counts zero",
     [est(1, "2020-01-01", 80, scope="cluster", cluster="Old"),
      est(2, "2023-01-01", 80, scope="cluster", cluster="Old", status="decommissioned"),
      est(3, "2021-01-01", 40, scope="cluster", cluster="New")], {}, (40, 40, 40, "clusters")),
    ("planned capacity is left out by default ...",
     [est(1, "2023-01-01", 100, scope="cluster", cluster="A"),
      est(2, "2024-06-01", 500, scope="cluster", cluster="A", status="planned")], {}, (100, 100, 100, "clusters")),
    ("... and counted when asked, once its planned date has come",
     [est(1, "2023-01-01", 100, scope="cluster", cluster="A"),
      est(2, "2024-06-01", 500, scope="cluster", cluster="A", status="planned")], {"include_planned": True},
     (500, 500, 500, "clusters")),
    ("minimum certainty filters before combining",
     [est(1, "2023-01-01", 100, certainty="confirmed"), est(2, "2024-01-01", 900, certainty="speculative")],
     {"min_certainty": "likely"}, (100, 100, 100, "fleet")),
    ("a tie between fleet and clusters is reported as fleet",
     [est(1, "2024-01-01", 100), est(2, "2024-01-01", 100, scope="cluster", cluster="A")], {},
     (100, 100, 100, "fleet")),
]


@pytest.mark.parametrize("rows, options, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_combining_rule(rows, options, expected):
    assert figure(rows, **options) == expected


def test_rented_capacity_counts_under_owner_by_default_and_under_user_when_asked():
    rows = [est(1, "2024-01-01", 100, org=1, user=2), est(2, "2024-01-01", 10, org=2)]
    assert figure(rows, org=1) == (100, 100, 100, "fleet")
    assert figure(rows, org=2) == (10, 10, 10, "fleet")
    # leased capacity adds to the user's own fleet rather than conflicting with it
    assert figure(rows, org=2, attribute_to="user") == (110, 110, 110, "fleet")
    assert figure(rows, org=1, attribute_to="user") is None


def test_h100e_only_clusters_form_their_own_pseudo_chip():
    rows = [est(1, "2024-01-01", h100e=5000.0, low=4000.0, high=8000.0, scope="cluster", cluster="Anon"),
            est(2, "2024-01-01", 100)]
    assert figure(rows, chip=H100E_ONLY) == (5000.0, 4000.0, 8000.0, "clusters")
    assert figure(rows, chip=H100) == (100, 100, 100, "fleet")


def test_a_cluster_s_latest_date_defines_its_whole_composition():
    """Phase 2 lists the cluster's chips anew (here under another chip): phase 1's do not linger."""
    rows = [est(1, "2020-01-01", 6080, chip=A100, scope="cluster", cluster="RSC"),
            est(2, "2022-06-01", 16000, chip=H100, scope="cluster", cluster="RSC")]
    assert figure(rows, as_of="2021-01-01", chip=A100) == (6080, 6080, 6080, "clusters")
    assert figure(rows, as_of="2023-01-01", chip=A100) is None
    assert figure(rows, as_of="2023-01-01", chip=H100) == (16000, 16000, 16000, "clusters")


def _org_total(rows, basis="8bit"):
    combined = combine(frame(*rows), CombineOptions(as_of=date(2025, 1, 1)))
    by_chip = h100e_by_chip(combined, CHIPS, basis)
    return by_chip, org_totals(by_chip, combined.contributions).iloc[0]


@pytest.mark.parametrize("whole, expected_total, remainder", [
    (5000.0, 5000.0, 5000.0 - 1100.0),  # the organisation-wide figure covers more than the chips
    (600.0, 1100.0, 0.0),  # the chips alone exceed it: it adds nothing
])
def test_an_organisation_wide_h100e_figure_is_compared_with_the_sum_of_its_chips(whole, expected_total, remainder):
    rows = [est(1, "2024-01-01", 1000, chip=H100), est(2, "2024-01-01", 100, chip=H100, scope="cluster",
            cluster="X"), est(3, "2023-01-01", h100e=whole), est(4, "2024-01-01", 100, chip=H100, scope="cluster",
            cluster="Y", org=1, certainty="confirmed")]
    rows[0]["count"] = 1100  # fleet figure for H100: 1100 (clusters sum to 200)
    by_chip, total = _org_total(rows)
    assert total["h100e"] == pytest.approx(expected_total)
    assert by_chip.query("chip_key == @WHOLE").iloc[0]["h100e"] == pytest.approx(remainder)


def test_organisation_wide_range_carries_into_the_total():
    rows = [est(1, "2024-01-01", 100, chip=H100), est(2, "2024-01-01", h100e=1000.0, low=500.0, high=3000.0)]
    _, total = _org_total(rows)
    assert (total["h100e"], total["h100e_low"], total["h100e_high"]) == (1000.0, 500.0, 3000.0)


def test_contributions_say_which_estimates_were_counted():
    rows = [est(1, "2024-01-01", 100), est(2, "2024-01-01", 250, scope="cluster", cluster="A"),
            est(3, "2022-01-01", 10)]
    combined = combine(frame(*rows), CombineOptions(as_of=date(2025, 1, 1)))
    counted = combined.contributions.set_index("id")["counted"].to_dict()
    assert counted == {1: False, 2: True}  # estimate 3 is not the latest and so not a contribution


def test_h100e_totals_per_basis_and_unknown_specs_are_excluded_not_zero():
    rows = [est(1, "2024-01-01", 1000, chip=H100), est(2, "2024-01-01", 1000, chip=A100),
            est(3, "2024-01-01", h100e=10.0, scope="cluster", cluster="Unknown chips")]
    combined = combine(frame(*rows), CombineOptions(as_of=date(2025, 1, 1)))
    eight = org_totals(h100e_by_chip(combined, CHIPS, "8bit"), combined.contributions).iloc[0]
    assert eight["h100e"] == pytest.approx(1000 + 1000 * 6.24e14 / 1.979e15 + 10)
    price_by_chip = h100e_by_chip(combined, CHIPS, "price")
    a100 = price_by_chip.query("chip_key == @A100").iloc[0]
    assert pd.isna(a100["h100e"]) and not a100["spec_known"]
    price = org_totals(price_by_chip, combined.contributions).iloc[0]
    assert price["h100e"] == pytest.approx(1010) and price["chips_unknown_spec"] == 1
    assert eight["n_sources"] == 3 and eight["certainty"] == "likely"


def test_empty_input_gives_empty_results():
    combined = combine(frame(), CombineOptions(as_of=date(2025, 1, 1)))
    assert combined.by_chip.empty and combined.contributions.empty
    assert org_totals(h100e_by_chip(combined, CHIPS, "8bit"), combined.contributions).empty
