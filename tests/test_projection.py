"""Projected compute, pure: the FLOP formula, units, fleet FLOP/s over time, growth fits,
crossings, milestones and scenarios. Table-driven; synthetic frames, no database."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from fleet.analytics.compute_series import SeriesOptions, chip_flops, fleet_series, series_dates
from fleet.analytics.forecast import project_holder, project_total, top_holders
from fleet.analytics.projection import (
    FitRefused, RunSettings, crossing_dates, doubling_time_years, fit_growth, milestone_lines, percent_to_fraction,
    projection_dates, reference_trend, run_seconds, trainable_run_flop, trainable_runs, years_between,
)
from fleet.analytics.scenarios import Scenario, format_scenarios, parse_scenarios, resolve_scenarios
from tests.test_combine import est, frame

H100, A100, TPU, MYSTERY = 10, 20, 30, 40
CHIPS = pd.DataFrame([
    {"id": H100, "name": "NVIDIA H100 SXM5 80GB", "family": "H100", "vendor": "NVIDIA", "peak_ops_8bit": 1.979e15,
     "peak_flops_bf16": 9.894e14, "peak_flops_fp32": 6.7e13, "price_usd": 33600.0, "tdp_w": 700.0,
     "aliases": "H100|H100 SXM"},
    {"id": A100, "name": "NVIDIA A100", "family": "A100", "vendor": "NVIDIA", "peak_ops_8bit": 6.24e14,
     "peak_flops_bf16": 3.12e14, "peak_flops_fp32": 1.95e13, "price_usd": None, "tdp_w": 400.0, "aliases": ""},
    {"id": TPU, "name": "Google TPU v5p", "family": "TPU v5p", "vendor": "Google", "peak_ops_8bit": 9.18e14,
     "peak_flops_bf16": 4.59e14, "peak_flops_fp32": None, "price_usd": None, "tdp_w": None, "aliases": "TPU v5p"},
    {"id": MYSTERY, "name": "Mystery ASIC", "family": None, "vendor": None, "peak_ops_8bit": None,
     "peak_flops_bf16": None, "peak_flops_fp32": None, "price_usd": None, "tdp_w": None, "aliases": ""},
])
ORGS = pd.DataFrame([
    {"id": 1, "name": "OpenAI", "kind": "lab", "country": "USA", "parent_id": None, "aliases": ""},
    {"id": 2, "name": "Meta", "kind": "company", "country": "USA", "parent_id": None, "aliases": "Meta AI|Facebook"},
    {"id": 3, "name": "Baidu", "kind": "company", "country": "CHN", "parent_id": None, "aliases": ""},
])
GPT4 = 2.1e25


# --- the formula and units ------------------------------------------------------------------------

@pytest.mark.parametrize("peak, mfu, days, expected", [
    (25_000 * 312e12, 0.35, 95, 2.2e25),  # GPT-4's reported scale from 25k A100s
    (1e15, 1.0, 1, 8.64e19),
    (16_384 * 989.4e12, 0.40, 54, 3.0e25),  # Llama 3.1 405B's cluster, roughly
    (0.0, 0.4, 90, 0.0),
])
def test_trainable_run_formula(peak, mfu, days, expected):
    assert trainable_run_flop(peak, mfu, days) == pytest.approx(expected, rel=0.02)


def test_the_gpt4_sanity_check_is_exact_to_the_formula():
    assert trainable_run_flop(25_000 * 312e12, 0.35, 95) == pytest.approx(25_000 * 312e12 * 0.35 * 95 * 86_400)


@pytest.mark.parametrize("mfu, days", [(0.0, 90), (1.5, 90), (-0.1, 90), (0.4, 0), (0.4, -3)])
def test_the_formula_refuses_impossible_settings(mfu, days):
    with pytest.raises(ValueError, match="MFU|run length"):
        trainable_run_flop(1e18, mfu, days)


@pytest.mark.parametrize("function, argument, expected", [
    (run_seconds, 1, 86_400), (run_seconds, 90, 7_776_000), (percent_to_fraction, 40, 0.40),
    (percent_to_fraction, 100, 1.0), (doubling_time_years, 2.0, 1.0), (doubling_time_years, 4.0, 0.5),
    (doubling_time_years, 2.5, math.log(2) / math.log(2.5)), (doubling_time_years, 0.9, math.inf),
])
def test_unit_conversions(function, argument, expected):
    assert function(argument) == pytest.approx(expected)


def test_years_between_uses_julian_years():
    assert years_between(date(2020, 1, 1), date(2024, 1, 1)) == pytest.approx(4.0, abs=0.002)


@pytest.mark.parametrize("fmt, chip, expected", [
    ("bf16", H100, 9.894e14), ("fp8", H100, 1.979e15), ("bf16", A100, 3.12e14), ("fp8", A100, 6.24e14),
    ("bf16", -1, 989.4e12), ("fp8", -1, 1.979e15),  # H100e-only estimates: priced as an H100 SXM
])
def test_chip_flops_per_format(fmt, chip, expected):
    assert chip_flops(CHIPS, fmt)[chip] == pytest.approx(expected)


def test_a_chip_without_a_figure_is_unknown_not_zero():
    assert math.isnan(chip_flops(CHIPS, "bf16")[MYSTERY])


# --- fleet FLOP/s over time ---------------------------------------------------------------------

def series(*rows, dates=("2024-06-30",), **options):
    return fleet_series(frame(*rows), CHIPS, ORGS, [date.fromisoformat(d) for d in dates], SeriesOptions(**options))


def one(result, holder=1, when=None):
    sel = result.loc[result["holder_id"] == holder]
    if when:
        sel = sel.loc[sel["date"] == pd.Timestamp(when)]
    return sel.iloc[0]


SERIES_CASES = [
    ("chip by chip: 25k A100 + 1k H100 (BF16)", [est(1, "2024-01-01", 25_000, chip=A100),
                                                 est(2, "2024-01-01", 1_000, chip=H100)], {},
     25_000 * 3.12e14 + 1_000 * 9.894e14),
    ("FP8 selectable", [est(1, "2024-01-01", 1_000, chip=H100)], {"fmt": "fp8"}, 1_000 * 1.979e15),
    ("H100e-only estimates count as H100 SXM", [est(1, "2024-01-01", h100e=500.0)], {}, 500 * 989.4e12),
    ("the combining rule decides the count", [est(1, "2023-01-01", 100), est(2, "2024-01-01", 300),
                                              est(3, "2024-01-01", 400, scope="cluster", cluster="A")], {},
     400 * 9.894e14),
]


@pytest.mark.parametrize("rows, options, expected", [c[1:] for c in SERIES_CASES], ids=[c[0] for c in SERIES_CASES])
def test_peak_flops_of_a_fleet(rows, options, expected):
    assert one(series(*rows, **options))["peak_flops"] == pytest.approx(expected)


def test_ranges_are_carried_through():
    row = one(series(est(1, "2024-01-01", 1_000, low=800, high=1_500)))
    assert (row["peak_flops_low"], row["peak_flops"], row["peak_flops_high"]) == pytest.approx(
        (800 * 9.894e14, 1_000 * 9.894e14, 1_500 * 9.894e14))
    assert (row["h100e_low"], row["h100e_high"]) == pytest.approx((800, 1_500))


def test_unknown_specs_are_left_out_and_counted():
    row = one(series(est(1, "2024-01-01", 1_000), est(2, "2024-01-01", 5_000, chip=MYSTERY)))
    assert row["peak_flops"] == pytest.approx(1_000 * 9.894e14) and row["unknown_spec"] == 1


def test_largest_single_cluster_comes_from_the_cluster_contributions():
    rows = [est(1, "2024-01-01", 50_000), est(2, "2024-01-01", 24_576, scope="cluster", cluster="RSC-1"),
            est(3, "2024-01-01", 16_000, scope="cluster", cluster="RSC-2"),
            est(4, "2024-01-01", 10_000, chip=A100, scope="cluster", cluster="RSC-2")]
    row = one(series(*rows))
    assert row["cluster_flops"] == pytest.approx(24_576 * 9.894e14)  # RSC-2: 1.58e19 < RSC-1: 2.43e19
    assert row["peak_flops"] == pytest.approx(50_000 * 9.894e14 + 10_000 * 3.12e14)


def test_series_follow_the_estimates_through_time_and_filters():
    rows = [est(1, "2022-01-01", 100), est(2, "2023-01-01", 200), est(3, "2024-01-01", 400, org=3)]
    result = series(*rows, dates=("2021-06-30", "2022-06-30", "2023-06-30", "2024-06-30"))
    assert one(result, 1, "2022-06-30")["h100e"] == 100 and one(result, 1, "2024-06-30")["h100e"] == 200
    assert 3 not in set(result.loc[result["date"] == pd.Timestamp("2023-06-30"), "holder_id"])
    only_china = series(*rows, dates=("2024-06-30",), countries=("CHN",))
    assert set(only_china["holder_id"]) == {3}


def test_series_dates_are_quarter_ends_plus_estimates_and_as_of():
    estimates = frame(est(1, "2023-02-10", 1), est(2, "2023-08-01", 1), est(3, "2023-08-01", 2),
                      est(4, "2024-01-05", 1))  # a date after as-of
    plain = series_dates(estimates, date(2023, 12, 15))
    assert plain == [date(2023, 3, 31), date(2023, 6, 30), date(2023, 9, 30), date(2023, 12, 15)]
    exact = series_dates(estimates, date(2023, 12, 15), include_estimate_dates=True)
    assert exact == sorted([*plain, date(2023, 2, 10), date(2023, 8, 1)])
    assert {type(d) for d in exact} == {date}


# --- growth fits ---------------------------------------------------------------------------------------

def synthetic(growth: float, noise: float, n: int = 12, seed: int = 7, start="2018-01-01") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.date_range(start, periods=n, freq="6MS")
    t = (dates - dates[0]).days / 365.25
    values = 1_000 * growth ** t * np.exp(rng.normal(0, noise, n))
    return pd.DataFrame({"date": dates, "value": values})


@pytest.mark.parametrize("growth", [0.8, 1.5, 2.5, 4.0])
def test_a_known_growth_rate_is_recovered_within_5_percent(growth):
    fit = fit_growth(synthetic(growth, noise=0.05), quantity="H100e")
    assert fit.growth_per_year == pytest.approx(growth, rel=0.05)
    low, high = fit.growth_interval
    assert low < fit.growth_per_year < high


def band_width(fit) -> float:
    """ln(high / low) two years after the figure the projection starts from."""
    band = fit.project(date(2024, 1, 1), 1e4, [date(2026, 1, 1)]).iloc[0]
    return math.log(band["high"] / band["low"])


def test_noisy_data_gives_a_wider_band():
    quiet = fit_growth(synthetic(2.0, noise=0.05), quantity="H100e")
    noisy = fit_growth(synthetic(2.0, noise=0.6), quantity="H100e")
    assert band_width(noisy) > 3 * band_width(quiet)
    assert (noisy.growth_interval[1] - noisy.growth_interval[0]) > (quiet.growth_interval[1] - quiet.growth_interval[0])


def test_the_projection_starts_at_the_figure_it_is_given_and_its_band_widens_from_there():
    fit = fit_growth(synthetic(2.0, noise=0.2), quantity="H100e")
    band = fit.project(date(2024, 1, 1), 5e4, [date(2024, 1, 1), date(2025, 1, 1), date(2027, 1, 1)])
    assert band.iloc[0][["median", "low", "high"]].tolist() == pytest.approx([5e4] * 3)
    assert band["median"].iloc[1] == pytest.approx(5e4 * fit.growth_per_year, rel=0.01)
    low, high = fit.growth_interval  # the band's ends are the rate's interval, compounded
    assert band["low"].iloc[2] == pytest.approx(5e4 * low ** 3, rel=0.01)
    assert band["high"].iloc[2] == pytest.approx(5e4 * high ** 3, rel=0.01)
    assert (band["high"] / band["low"]).is_monotonic_increasing


def test_the_80_percent_interval_of_the_rate_covers_the_true_rate_about_80_percent_of_the_time():
    trials = 300
    hits = sum(low <= 2.0 <= high for low, high in
               (fit_growth(synthetic(2.0, noise=0.3, n=8, seed=trial), quantity="H100e").growth_interval
                for trial in range(trials)))
    assert 0.73 <= hits / trials <= 0.87


@pytest.mark.parametrize("n", [0, 1, 2])
def test_fewer_than_three_dated_points_are_refused_with_a_message(n):
    points = synthetic(2.0, noise=0.0, n=max(n, 1)).head(n)
    with pytest.raises(FitRefused, match=rf"has {n} dated estimate.*at least 3"):
        fit_growth(points, quantity="H100e", subject="Tiny Lab")


def test_zero_and_missing_values_do_not_count_as_points():
    points = pd.DataFrame({"date": pd.to_datetime(["2020-01-01", "2021-01-01", "2022-01-01", "2023-01-01"]),
                           "value": [100.0, 0.0, np.nan, 400.0]})
    with pytest.raises(FitRefused, match="has 2 dated"):
        fit_growth(points, quantity="H100e")


def test_a_perfect_exponential_has_a_zero_width_band_and_exact_rate():
    fit = fit_growth(synthetic(3.0, noise=0.0, n=5), quantity="H100e")
    assert fit.growth_per_year == pytest.approx(3.0) and fit.r_squared == pytest.approx(1.0)
    band = fit.project(date(2024, 1, 1), 1e4, [date(2025, 1, 1)]).iloc[0]
    assert band["low"] == pytest.approx(band["high"])
    assert band["median"] == pytest.approx(1e4 * 3 ** years_between(date(2024, 1, 1), date(2025, 1, 1)))


def test_reference_trend_grows_2_5x_a_year():
    line = reference_trend(date(2024, 1, 1), 1e20, [pd.Timestamp("2024-01-01"), pd.Timestamp("2026-01-01")])
    assert line["value"].iloc[1] / line["value"].iloc[0] == pytest.approx(2.5 ** 2, rel=0.002)


def test_projection_dates_are_weekly_and_include_both_ends():
    grid = projection_dates(date(2025, 1, 1), date(2025, 3, 1))
    assert grid[0] == date(2025, 1, 1) and grid[-1] == date(2025, 3, 1) and 9 <= len(grid) <= 11


# --- milestones and crossings ------------------------------------------------------------------------

RUNS = pd.DataFrame([
    {"id": 1, "name": "GPT-3 175B (davinci)", "training_flop": 3.14e23, "milestone": True,
     "published_on": pd.Timestamp("2020-05-28"), "source_url": "https://example.org/gpt3"},
    {"id": 2, "name": "GPT-4", "training_flop": GPT4, "milestone": True,
     "published_on": pd.Timestamp("2023-03-15"), "source_url": "https://example.org/gpt4"},
    {"id": 3, "name": "Some small model", "training_flop": 1e20, "milestone": False,
     "published_on": pd.Timestamp("2021-01-01"), "source_url": "https://example.org/small"},
])


def test_milestones_are_the_flagged_runs_plus_gpt4_multiples():
    lines = milestone_lines(RUNS).set_index("milestone")["flop"]
    assert list(lines.index) == ["GPT-3 175B (davinci)", "GPT-4", "GPT-4 × 5", "GPT-4 × 20", "GPT-4 × 100"]
    assert lines["GPT-4 × 5"] == pytest.approx(5 * GPT4) and lines["GPT-4 × 100"] == pytest.approx(100 * GPT4)


def test_without_gpt4_in_the_store_there_are_no_multiples():
    lines = milestone_lines(RUNS.loc[RUNS["name"] != "GPT-4"])
    assert not lines["milestone"].str.startswith("GPT-4").any()


OBSERVED = pd.DataFrame({"date": pd.to_datetime(["2022-01-01", "2023-01-01", "2024-01-01"]),
                         "run_flop": [1e24, 3e25, 6e25]})
PROJECTED = pd.DataFrame({"date": pd.to_datetime(["2024-06-01", "2025-01-01", "2026-01-01"]),
                          "median": [8e25, 2e26, 9e26], "low": [5e25, 9e25, 2.5e26], "high": [1.2e26, 5e26, 3e27]})
CROSSING_CASES = [
    ("already crossed: the historical date", 2.1e25, ("historical", "2023-01-01", "2023-01-01", "2023-01-01")),
    ("crossed by the median, early by the band's top", 1.05e26, ("projected", "2025-01-01", "2024-06-01", "2026-01-01")),
    ("the band's low edge never gets there", 5e26, ("projected", "2026-01-01", "2025-01-01", None)),
    ("only the band's top edge gets there", 2.1e27, ("not by 2026-01-01", None, "2026-01-01", None)),
    ("out of reach", 1e28, ("not by 2026-01-01", None, None, None)),
]


@pytest.mark.parametrize("flop, expected", [c[1:] for c in CROSSING_CASES], ids=[c[0] for c in CROSSING_CASES])
def test_crossing_dates(flop, expected):
    lines = pd.DataFrame({"milestone": ["line"], "flop": [flop]})
    row = crossing_dates(OBSERVED, PROJECTED, lines, until=date(2026, 1, 1)).iloc[0]
    as_date = lambda s: date.fromisoformat(s) if s else None  # noqa: E731
    assert (row["kind"], row["date"], row["early"], row["late"]) == (expected[0], *map(as_date, expected[1:]))


def test_crossings_without_a_projection_are_historical_or_not_reached():
    lines = pd.DataFrame({"milestone": ["a", "b"], "flop": [1e25, 1e27]})
    out = crossing_dates(OBSERVED, None, lines)
    assert list(out["kind"]) == ["historical", "not reached"]


# --- scenarios --------------------------------------------------------------------------------------------

def test_scenarios_round_trip_through_their_text_form():
    text = "Meta:B200:100000:2026-06-30;xAI:GB200:50000:2025-12-31"
    parsed = parse_scenarios(text)
    assert parsed[0] == Scenario("Meta", "B200", 100_000, date(2026, 6, 30))
    assert format_scenarios(parsed) == text and parse_scenarios("") == ()


@pytest.mark.parametrize("text, message", [
    ("Meta:B200:lots:2026-06-30", r"scenario 1 .*count 'lots' is not a whole number"),
    ("Meta:B200:100:2026-13-01", r"scenario 1 .*date '2026-13-01' is not YYYY-MM-DD"),
    ("Meta:B200:100", r"scenario 1 .*expected organisation:chip:count:YYYY-MM-DD"),
    ("Meta:B200:1:2026-01-01;Meta:B200:0:2026-01-01", r"scenario 2 .*count must be from 1"),
    (";".join(["A:B:1:2026-01-01"] * 21), "at most 20"),
])
def test_bad_scenarios_are_refused_naming_the_row(text, message):
    with pytest.raises(ValueError, match=message):
        parse_scenarios(text)


def test_scenarios_resolve_aliases_and_report_unknown_names():
    scenarios = parse_scenarios("Facebook:H100:1000:2025-01-01;Meta AI:H10O:5:2025-01-01;Metaa:H100:5:2025-01-01")
    rows, problems = resolve_scenarios(scenarios, ORGS, CHIPS)
    assert list(rows["organisation"]) == ["Meta"] and rows["peak_flops"].iloc[0] == pytest.approx(1000 * 9.894e14)
    assert rows["h100e"].iloc[0] == pytest.approx(1000)
    assert any("unknown chip 'H10O'" in p for p in problems)
    assert any("unknown organisation 'Metaa'" in p and "did you mean 'Meta'" in p for p in problems)


# --- one organisation's outlook ---------------------------------------------------------------------------

def doubling_estimates(org=1, start=2019, years=6, base=1_000):
    return [est(10 * org + i, f"{start + i}-01-01", base * 2 ** i, org=org) for i in range(years)]


def test_project_holder_fits_growth_projects_and_crosses_milestones():
    outlook = project_holder(frame(*doubling_estimates()), CHIPS, ORGS, RUNS, 1, as_of=date(2024, 6, 30),
                             until=date(2027, 6, 30))
    assert outlook.fits["h100e"].growth_per_year == pytest.approx(2.0, rel=0.01)
    assert outlook.fits["peak_flops"].n_points == 6
    # from the latest figure (32k, held since 2024-01-01) at 2× a year: 3 years on, 256k (the fitted
    # line itself, through the middle of each year's step, would say 32k × 2^3.5)
    assert outlook.at_horizon()["h100e_median"] == pytest.approx(32_000 * 2 ** 3, rel=0.01)
    crossings = outlook.crossings.set_index("milestone")
    assert crossings.loc["GPT-3 175B (davinci)", "kind"] == "historical"
    # 8k H100 (2022): 8000 × 9.894e14 × 0.4 × 90 d = 2.46e25 ≥ GPT-4's 2.1e25; 4k (2021) = 1.23e25 is not
    assert crossings.loc["GPT-4", "date"] == date(2022, 1, 1)
    # 32k (2024) = 9.85e25 < GPT-4 × 5 = 1.05e26: crossed only by the projection, from mid-2024
    assert crossings.loc["GPT-4 × 5", "kind"] == "projected"
    assert date(2024, 6, 30) <= crossings.loc["GPT-4 × 5", "date"] <= date(2024, 9, 30)
    assert crossings.loc["GPT-4 × 20", "kind"] == "projected"
    assert crossings.loc["GPT-4 × 20", "early"] <= crossings.loc["GPT-4 × 20", "date"]


# A fleet above its fitted line (a big recent purchase) and one below it (no estimate for two
# years): the fitted line's own level at the as-of date is 5× off either way.
ABOVE = [est(1, "2019-01-01", 1_000), est(2, "2020-01-01", 2_000), est(3, "2021-01-01", 4_000),
         est(4, "2022-01-01", 8_000), est(5, "2023-01-01", 200_000)]
STALE = doubling_estimates()  # 32k from 2024-01-01 on


@pytest.mark.parametrize("rows, as_of", [(ABOVE, date(2023, 6, 30)), (STALE, date(2026, 6, 30))],
                         ids=["latest figure above the fitted line", "latest figure below it"])
def test_the_projection_starts_at_the_latest_figure(rows, as_of):
    outlook = project_holder(frame(*rows), CHIPS, ORGS, RUNS, 1, as_of=as_of, until=date(2028, 6, 30))
    latest, first = outlook.observed.iloc[-1], outlook.projected.iloc[0]
    assert first["date"] == pd.Timestamp(as_of) == latest["date"]
    for quantity in ("h100e", "peak_flops"):
        assert [first[f"{quantity}_{p}"] for p in ("median", "low", "high")] == pytest.approx([latest[quantity]] * 3)
    assert first["run_flop_median"] == pytest.approx(latest["run_flop"])
    year_on = outlook.projected.loc[outlook.projected["date"] >= pd.Timestamp(as_of) + pd.Timedelta(days=365)]
    assert year_on["h100e_median"].iloc[0] == pytest.approx(
        latest["h100e"] * outlook.fits["h100e"].growth_per_year, rel=0.01)


def test_a_line_the_fleet_has_not_reached_is_not_crossed_on_the_as_of_date():
    # 32k H100 since 2024-01-01 is a 9.85e25 FLOP run, short of GPT-4 × 5 (1.05e26); the fitted
    # line says 181k by mid-2026, which once "crossed" every GPT-4 line on the as-of date itself
    as_of = date(2026, 6, 30)
    outlook = project_holder(frame(*STALE), CHIPS, ORGS, RUNS, 1, as_of=as_of, until=date(2029, 6, 30))
    projected = outlook.crossings.loc[outlook.crossings["kind"] == "projected"].set_index("milestone")
    assert {"GPT-4 × 5", "GPT-4 × 20"} <= set(projected.index)
    assert (projected[["date", "early", "late"]].dropna().map(lambda d: d > as_of)).all().all()
    # 34.1k H100 reach 1.05e26: 32k × 2^t needs t ≈ 0.09 y, the first weeks of August
    assert date(2026, 7, 31) <= projected.loc["GPT-4 × 5", "date"] <= date(2026, 8, 14)


def test_scenarios_add_on_top_without_changing_the_fit():
    estimates = frame(*doubling_estimates())
    resolved, problems = resolve_scenarios(parse_scenarios("OpenAI:H100:500000:2025-06-30"), ORGS, CHIPS)
    plain = project_holder(estimates, CHIPS, ORGS, RUNS, 1, as_of=date(2024, 6, 30), until=date(2027, 6, 30))
    more = project_holder(estimates, CHIPS, ORGS, RUNS, 1, as_of=date(2024, 6, 30), until=date(2027, 6, 30),
                          resolved=resolved)
    assert problems == [] and more.fits["h100e"] == plain.fits["h100e"]
    last = more.projected.iloc[-1]
    assert last["h100e_median_scen"] - last["h100e_median"] == pytest.approx(500_000)
    before = more.projected.loc[more.projected["date"] < pd.Timestamp("2025-06-30")]
    assert (before["h100e_median_scen"] == before["h100e_median"]).all()
    # a 500k-H100 cluster is one run: 500000 × 9.894e14 × 0.4 × 90 d = 1.54e27 ≥ GPT-4 × 20 (4.2e26)
    crossing = more.crossings.set_index("milestone").loc["GPT-4 × 20"]
    assert crossing["date_with_scenarios"] <= date(2025, 7, 7)


def test_a_share_of_the_fleet_replaces_the_largest_cluster():
    estimates = frame(est(1, "2024-01-01", 10_000), est(2, "2024-01-01", 4_000, scope="cluster", cluster="A"))
    result = fleet_series(estimates, CHIPS, ORGS, [date(2024, 6, 30)])
    by_cluster = trainable_runs(result, RunSettings())["run_flop"].iloc[0]
    by_half = trainable_runs(result, RunSettings(share=0.5))["run_flop"].iloc[0]
    assert by_cluster == pytest.approx(trainable_run_flop(4_000 * 9.894e14, 0.4, 90))
    assert by_half == pytest.approx(trainable_run_flop(5_000 * 9.894e14, 0.4, 90))


def test_an_organisation_with_two_dated_estimates_gets_no_fit_and_a_reason():
    outlook = project_holder(frame(*doubling_estimates(years=2)), CHIPS, ORGS, RUNS, 1, as_of=date(2024, 6, 30),
                             until=date(2027, 6, 30))
    assert outlook.fits == {} and "at least 3" in outlook.refused["h100e"]
    assert "run_flop_median" not in outlook.projected


def test_top_n_total_is_fitted_and_carries_the_epoch_reference():
    estimates = frame(*doubling_estimates(org=1), *doubling_estimates(org=2, base=3_000))
    result = fleet_series(estimates, CHIPS, ORGS, series_dates(estimates, date(2024, 6, 30)))
    top = top_holders(result, ORGS, date(2024, 6, 30), 1)
    assert top == [2]
    outlook = project_total(result, [1, 2], subject="Top 2", as_of=date(2024, 6, 30), until=date(2026, 6, 30))
    assert outlook.fits["h100e"].growth_per_year == pytest.approx(2.0, rel=0.15)
    assert outlook.reference is not None and outlook.reference["value"].is_monotonic_increasing


def test_scenarios_never_lower_the_observed_run():
    estimates = frame(est(1, "2020-01-01", 1_000), est(2, "2021-01-01", 2_000),
                      est(3, "2022-01-01", 50_000, scope="cluster", cluster="Big"), est(4, "2022-01-01", 60_000),
                      est(5, "2023-01-01", 80_000))
    resolved, _ = resolve_scenarios(parse_scenarios("OpenAI:NVIDIA A100:10:2021-06-01"), ORGS, CHIPS)
    outlook = project_holder(estimates, CHIPS, ORGS, RUNS, 1, as_of=date(2024, 1, 1), until=date(2025, 1, 1),
                             resolved=resolved)
    observed = outlook.observed
    assert (observed["run_flop_scen"] >= observed["run_flop"] - 1).all()
    before = observed.loc[observed["date"] < pd.Timestamp("2021-06-01")]
    assert (before["run_flop_scen"] == before["run_flop"]).all()


def test_crossings_by_holder_names_each_organisation_and_line():
    from fleet.analytics.forecast import crossings_by_holder

    estimates = frame(*doubling_estimates(org=1), est(99, "2024-01-01", 10, org=3))
    table = crossings_by_holder(estimates, CHIPS, ORGS, RUNS, [1, 3], as_of=date(2024, 6, 30),
                                until=date(2027, 6, 30)).set_index("Organisation")
    assert table.loc["OpenAI", "GPT-4"] == "2022-01-01"
    assert table.loc["OpenAI", "GPT-4 × 5"].startswith("~2024-") and table.loc["OpenAI", "GPT-4 × 5"].endswith(
        "(projected)")
    assert table.loc["Baidu", "GPT-4 × 100"] == "not by 2027-06-30"  # one estimate: no fit, no projection
