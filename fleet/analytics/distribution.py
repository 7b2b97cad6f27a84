"""How compute is distributed across organisations: the GPU-rich vs GPU-poor split, the
Lorenz curve and Gini coefficient, log-spaced histogram bins, and the split over time.

An organisation is **GPU-rich** when its H100e figure (the point estimate) is *at or
above* the threshold (``fleet.vocab.GPU_RICH_H100E`` by default); the rest are
GPU-poor. Ranges are carried through: each side's low/high are the sums of its members'
lows/highs, and the rich share's low/high take the rich at their low (high) against
everyone else at their high (low). An organisation whose range crosses the line (low
below it, high at or above it) stays on its point's side and is counted in
``range_crosses_line`` so the page can say how firm the split is.

Holders flagged ``unattributed`` (clusters whose owner the source does not name) are not
organisations: they are on neither side, but their compute is part of the total every
share is taken of, so the shares add up to 100 %.

The Gini coefficient is the population one over organisations' point figures:
``G = sum_i (2i - n - 1) x_i / (n * sum x)`` with ``x`` sorted ascending (0 = everyone
equal, (n-1)/n = one holds everything); undefined (NaN) with no organisation or no
compute. Pure pandas; no streamlit.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

RICH, POOR, UNATTRIBUTED = "GPU-rich", "GPU-poor", "Unattributed clusters"
VALUE_COLUMNS = ["h100e", "h100e_low", "h100e_high"]
SPLIT_COLUMNS = ["group", "organisations", *VALUE_COLUMNS, "share", "share_low", "share_high", "range_crosses_line"]
OVER_TIME_COLUMNS = ["date", "organisations_rich", "organisations_poor", "h100e_rich", "h100e_total", "share_rich"]


def _figures(frame: pd.DataFrame) -> pd.DataFrame:
    """Holders with a positive point figure; low/high default to the point where missing."""
    out = frame.loc[frame["h100e"].astype("float64") > 0].copy()
    out["h100e"] = out["h100e"].astype("float64")
    for column in ("h100e_low", "h100e_high"):
        values = out[column].astype("float64") if column in out else pd.Series(np.nan, index=out.index)
        out[column] = values.fillna(out["h100e"])
    out["unattributed"] = out["unattributed"].fillna(False).astype(bool) if "unattributed" in out else False
    return out


def is_rich(h100e: pd.Series, threshold: float) -> pd.Series:
    """At or above the line is GPU-rich (so an organisation exactly at 20,000 H100e is rich)."""
    return h100e.astype("float64") >= float(threshold)


def _share(part: float, whole: float) -> float:
    return part / whole if whole > 0 else math.nan


def _row(group: str, members: pd.DataFrame, threshold: float) -> dict:
    crosses = (members["h100e_low"] < threshold) & (members["h100e_high"] >= threshold)
    return {"group": group, "organisations": len(members), "h100e": members["h100e"].sum(),
            "h100e_low": members["h100e_low"].sum(), "h100e_high": members["h100e_high"].sum(),
            "range_crosses_line": int(crosses.sum())}


def split(frame: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """GPU-rich and GPU-poor (and unattributed, if any): counts, H100e with range, share of the total.

    ``frame`` has one row per holder: ``h100e`` and optionally ``h100e_low``/``h100e_high``
    and a boolean ``unattributed``. Holders with no positive figure are left out.
    """
    holders = _figures(frame)
    named = holders.loc[~holders["unattributed"]]
    rich = is_rich(named["h100e"], threshold)
    rows = [_row(RICH, named.loc[rich], threshold), _row(POOR, named.loc[~rich], threshold)]
    if holders["unattributed"].any():
        rows.append(_row(UNATTRIBUTED, holders.loc[holders["unattributed"]], threshold))
        rows[-1]["range_crosses_line"] = 0
    out = pd.DataFrame(rows)
    total, low, high = (out[c].sum() for c in VALUE_COLUMNS)
    out["share"] = [_share(v, total) for v in out["h100e"]]
    out["share_low"] = [_share(lo, lo + (high - hi)) for lo, hi in zip(out["h100e_low"], out["h100e_high"])]
    out["share_high"] = [_share(hi, hi + (low - lo)) for lo, hi in zip(out["h100e_low"], out["h100e_high"])]
    return out.reindex(columns=SPLIT_COLUMNS)


def _sorted_values(values: pd.Series | np.ndarray | list) -> np.ndarray:
    array = np.asarray(values, dtype="float64")
    array = array[~np.isnan(array)]
    if (array < 0).any():
        raise ValueError("H100e figures must not be negative")
    return np.sort(array, kind="stable")


def gini(values: pd.Series | np.ndarray | list) -> float:
    """The population Gini coefficient of non-negative figures (NaN with none, or all zero)."""
    x = _sorted_values(values)
    n, total = len(x), x.sum()
    if n == 0 or total <= 0:
        return math.nan
    ranks = np.arange(1, n + 1, dtype="float64")
    return float(((2 * ranks - n - 1) * x).sum() / (n * total))


def lorenz(frame: pd.DataFrame) -> pd.DataFrame:
    """Lorenz curve points from (0, 0) to (1, 1): organisations ascending by H100e (ties by name).

    Columns: ``organisation`` (the holder added at that point; empty at the origin),
    ``h100e``, ``share_of_organisations`` and ``share_of_h100e`` (cumulative fractions).
    """
    holders = frame.loc[frame["h100e"].astype("float64").notna()]
    if "unattributed" in holders:
        holders = holders.loc[~holders["unattributed"].fillna(False).astype(bool)]
    ordered = holders.assign(_name=holders.get("name", pd.Series("", index=holders.index)).astype(str)) \
        .sort_values(["h100e", "_name"], kind="stable")
    values = _sorted_values(ordered["h100e"])
    n, total = len(values), values.sum()
    columns = ["organisation", "h100e", "share_of_organisations", "share_of_h100e"]
    if n == 0 or total <= 0:
        return pd.DataFrame(columns=columns)
    return pd.DataFrame({
        "organisation": ["", *ordered["_name"]],
        "h100e": [0.0, *values],
        "share_of_organisations": np.arange(n + 1) / n,
        "share_of_h100e": np.concatenate([[0.0], np.cumsum(values) / total]),
    }, columns=columns)


def log_bin_edges(values: pd.Series | np.ndarray | list, per_decade: int = 4) -> np.ndarray:
    """Log-spaced bin edges (``per_decade`` bins per power of ten) covering the positive values.

    Edges sit on 10**(k / per_decade), so a value on an edge (1,000; 10,000) opens its bin.
    """
    if per_decade < 1:
        raise ValueError("per_decade must be at least 1")
    x = np.asarray(values, dtype="float64")
    x = x[~np.isnan(x) & (x > 0)]
    if len(x) == 0:
        return np.array([], dtype="float64")
    steps = np.floor(np.log10(x) * per_decade + 1e-9)
    first, last = int(steps.min()), int(steps.max()) + 1
    return 10.0 ** (np.arange(first, last + 1) / per_decade)


def histogram(frame: pd.DataFrame, threshold: float, per_decade: int = 4) -> pd.DataFrame:
    """Organisations per log-spaced H100e bin, GPU-poor and GPU-rich counted apart.

    One row per bin from the smallest to the largest figure (empty bins included, so gaps
    show): ``bin_low``, ``bin_high`` (a figure counts in [low, high)), ``gpu_poor``, ``gpu_rich``.
    Unattributed holders and holders without a positive figure are left out.
    """
    holders = _figures(frame)
    holders = holders.loc[~holders["unattributed"]]
    edges = log_bin_edges(holders["h100e"], per_decade)
    columns = ["bin_low", "bin_high", "gpu_poor", "gpu_rich"]
    if len(edges) == 0:
        return pd.DataFrame(columns=columns)
    first = math.floor(math.log10(edges[0]) * per_decade + 1e-9)
    index = (np.floor(np.log10(holders["h100e"].to_numpy()) * per_decade + 1e-9) - first).astype(int)
    rich = is_rich(holders["h100e"], threshold).to_numpy()
    bins = len(edges) - 1
    return pd.DataFrame({
        "bin_low": edges[:-1], "bin_high": edges[1:],
        "gpu_poor": np.bincount(index[~rich], minlength=bins)[:bins],
        "gpu_rich": np.bincount(index[rich], minlength=bins)[:bins],
    }, columns=columns)


def split_over_time(series: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Per date of a ``fleet_series`` frame: organisations above and below the line, and the
    rich's share of all compute at that date (unattributed holders count in the total only)."""
    holders = _figures(series)
    if holders.empty:
        return pd.DataFrame(columns=OVER_TIME_COLUMNS)
    named = ~holders["unattributed"]
    rich = named & is_rich(holders["h100e"], threshold)
    frame = pd.DataFrame({"date": holders["date"], "rich": rich.astype(int), "poor": (named & ~rich).astype(int),
                          "h100e_rich": holders["h100e"].where(rich, 0.0), "h100e_total": holders["h100e"]})
    out = frame.groupby("date", sort=True).sum().reset_index()
    out = out.rename(columns={"rich": "organisations_rich", "poor": "organisations_poor"})
    out["share_rich"] = out["h100e_rich"] / out["h100e_total"]
    return out.reindex(columns=OVER_TIME_COLUMNS)
