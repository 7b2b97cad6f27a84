"""The chip catalog's arithmetic: H100-equivalents under a basis, and peak FLOP/s.

An H100-equivalent (H100e) expresses any chip count as the number of H100 SXM chips
with the same capability, under one of four bases:

- ``8bit`` (default; Epoch AI's rule, comparable with its datasets): the chip's highest
  dense 8-, 16- or 32-bit OP/s ÷ the H100 SXM's 1.979e15.
- ``bf16``: dense tensor BF16/FP16 FLOP/s ÷ 989.4e12 — closer to what training uses.
- ``price``: release price ÷ the H100 SXM's (US$33,600, Epoch's figure).
- ``power``: TDP ÷ the H100 SXM's 700 W.

A chip lacking the figure a basis needs has an *unknown* factor (NaN / None), never
zero: callers exclude it from totals and say so. Estimates given only in H100e (no chip)
count as that many H100 SXM on every basis (factor 1).
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Mapping

import numpy as np
import pandas as pd


class Basis(StrEnum):
    EIGHT_BIT = "8bit"
    BF16 = "bf16"
    PRICE = "price"
    POWER = "power"


# The H100 SXM's figure on each basis: the denominators.
H100_REFERENCE: dict[Basis, float] = {
    Basis.EIGHT_BIT: 1.979e15,
    Basis.BF16: 989.4e12,
    Basis.PRICE: 33_600.0,
    Basis.POWER: 700.0,
}

BASIS_LABEL: dict[Basis, str] = {
    Basis.EIGHT_BIT: "8-bit OP/s basis (Epoch AI)",
    Basis.BF16: "dense BF16 FLOP/s basis",
    Basis.PRICE: "release-price basis",
    Basis.POWER: "TDP (power) basis",
}

SPEC_COLUMNS = ("peak_ops_8bit", "peak_flops_bf16", "peak_flops_fp32", "price_usd", "tdp_w")


class FlopFormat(StrEnum):
    BF16 = "bf16"
    FP8 = "fp8"


def _clean(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) or number <= 0 else number


def basis_metric(spec: Mapping[str, object], basis: Basis | str) -> float | None:
    """The chip's figure on ``basis`` (OP/s, FLOP/s, USD or W), or None if unknown."""
    basis = Basis(basis)
    if basis is Basis.EIGHT_BIT:
        figures = [_clean(spec.get(col)) for col in ("peak_ops_8bit", "peak_flops_bf16", "peak_flops_fp32")]
        known = [f for f in figures if f is not None]
        return max(known) if known else None
    column = {Basis.BF16: "peak_flops_bf16", Basis.PRICE: "price_usd", Basis.POWER: "tdp_w"}[basis]
    return _clean(spec.get(column))


def h100e_factor(spec: Mapping[str, object], basis: Basis | str = Basis.EIGHT_BIT) -> float | None:
    """H100-equivalents per chip; None when the catalog lacks the figure."""
    metric = basis_metric(spec, basis)
    return None if metric is None else metric / H100_REFERENCE[Basis(basis)]


def factor_series(chips: pd.DataFrame, basis: Basis | str = Basis.EIGHT_BIT) -> pd.Series:
    """Column-wise ``h100e_factor`` for a catalog frame (indexed like ``chips``); NaN = unknown."""
    basis = Basis(basis)
    if basis is Basis.EIGHT_BIT:  # the largest known of the three (fmax skips NaN)
        columns = ("peak_ops_8bit", "peak_flops_bf16", "peak_flops_fp32")
        metric = np.fmax.reduce([_positive(chips, c) for c in columns])
    else:
        metric = _positive(chips, {Basis.BF16: "peak_flops_bf16", Basis.PRICE: "price_usd", Basis.POWER: "tdp_w"}[basis])
    return pd.Series(metric / H100_REFERENCE[basis], index=chips.index)


def _positive(chips: pd.DataFrame, column: str) -> np.ndarray:
    """A spec column as float64, NaN where missing or not positive (column-wise: the app prices
    figures many times over)."""
    if column not in chips:
        return np.full(len(chips), np.nan)
    values = chips[column].to_numpy(dtype="float64", na_value=np.nan)
    return np.where(values > 0, values, np.nan)


def peak_flops_series(chips: pd.DataFrame, fmt: FlopFormat | str = FlopFormat.BF16) -> pd.Series:
    """Dense peak FLOP/s per chip in a number format (FP8 falls back to BF16 where a chip has no FP8)."""
    frame = chips.reindex(columns=["peak_flops_bf16", "peak_ops_8bit"]).astype("float64")
    frame = frame.where(frame > 0)
    if FlopFormat(fmt) is FlopFormat.BF16:
        return frame["peak_flops_bf16"]
    return frame["peak_ops_8bit"].fillna(frame["peak_flops_bf16"])


def h100e(counts: pd.Series | np.ndarray | float, factors: pd.Series | np.ndarray | float):
    """Counts × factors, keeping NaN (unknown) rather than turning it into zero."""
    return counts * factors
