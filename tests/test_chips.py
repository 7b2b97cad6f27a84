"""H100-equivalents on each basis, pinned to known values from the seeded catalog."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from fleet.chips import Basis, FlopFormat, basis_metric, factor_series, h100e_factor, peak_flops_series
from fleet.names import name_key

CATALOG = pd.read_csv(Path(__file__).resolve().parent.parent / "data" / "seed" / "chips.csv")


def spec(name: str) -> dict:
    """A catalog row found by name or alias, as the store would resolve it."""
    key = name_key(name)
    for _, row in CATALOG.iterrows():
        names = [row["name"], *(str(row["aliases"]).split("|") if pd.notna(row["aliases"]) else [])]
        if key in {name_key(n) for n in names}:
            return row.to_dict()
    raise LookupError(name)


@pytest.mark.parametrize("alias", ["H100", "NVIDIA H100 SXM", "H100 SXM5 80GB", "NVIDIA H100 SXM5 80GB"])
def test_h100_aliases_resolve_to_one_chip(alias):
    assert spec(alias)["name"] == "NVIDIA H100 SXM5 80GB"


@pytest.mark.parametrize("basis", list(Basis))
def test_16384_h100_sxm_are_16384_h100e_on_every_basis(basis):
    assert 16_384 * h100e_factor(spec("H100"), basis) == pytest.approx(16_384)


@pytest.mark.parametrize("chip, basis, expected, tolerance", [
    ("MI300X", "8bit", 1.32, 0.01),
    ("GB200", "8bit", 2.53, 0.01),
    ("TPU v4", "8bit", 0.14, 0.005),
    ("TPU v4", "bf16", 0.28, 0.005),
    ("A100", "bf16", 312 / 989.4, 0.01),
])
def test_known_factors(chip, basis, expected, tolerance):
    assert h100e_factor(spec(chip), basis) == pytest.approx(expected, abs=tolerance)


def test_a_missing_figure_is_unknown_never_zero():
    no_price = {"peak_ops_8bit": 1e15, "peak_flops_bf16": 5e14, "price_usd": None, "tdp_w": float("nan")}
    assert h100e_factor(no_price, "price") is None
    assert h100e_factor(no_price, "power") is None
    assert h100e_factor({}, "8bit") is None
    frame = pd.DataFrame([no_price, {"peak_ops_8bit": 1.979e15, "price_usd": 33600.0, "tdp_w": 700.0}])
    price = factor_series(frame, "price")
    assert pd.isna(price[0]) and price[1] == pytest.approx(1.0)


def test_8bit_basis_takes_the_highest_of_8_16_and_32_bit():
    assert basis_metric({"peak_flops_fp32": 3e13, "peak_flops_bf16": 1.2e14}, "8bit") == 1.2e14
    assert basis_metric({"peak_flops_fp32": 3e13}, "8bit") == 3e13


def test_vectorised_factors_match_the_scalar_ones():
    expected = CATALOG.apply(lambda row: h100e_factor(row.to_dict(), "8bit"), axis=1).astype("float64")
    pd.testing.assert_series_equal(factor_series(CATALOG, "8bit"), expected, check_names=False)


def test_peak_flops_in_fp8_fall_back_to_bf16_where_a_chip_has_no_8bit_figure():
    frame = pd.DataFrame([{"peak_flops_bf16": 3.12e14, "peak_ops_8bit": None},
                          {"peak_flops_bf16": 9.894e14, "peak_ops_8bit": 1.979e15}])
    assert peak_flops_series(frame, FlopFormat.FP8).tolist() == [3.12e14, 1.979e15]
    assert peak_flops_series(frame, "bf16").tolist() == [3.12e14, 9.894e14]
