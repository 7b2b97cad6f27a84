"""GPU-rich vs GPU-poor page data: the split at a movable threshold, the histogram of
organisations on log-spaced bins, the Lorenz curve with its Gini coefficient, and the
split at every quarter end up to the as-of date.

The threshold (URL ``threshold``) is one of the slider's marks: a 1-1.5-2-3-5-7 ladder per
power of ten from 100 to 10 million H100e, the article's 20,000 (the default) among them.
The rule itself (at or above the line is rich; unattributed clusters are on neither side
but in the total) is ``fleet.analytics.distribution``'s.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import pandas as pd

from fleet.analytics import distribution as dist
from fleet.view_state import Filters, Param
from fleet.views.base import Store, register
from fleet.views.overview import KPI_COLUMNS, h100e_column, holders, short_number
from fleet.vocab import GPU_RICH_H100E, OrgKind

THRESHOLDS: tuple[int, ...] = tuple(round(m * 10 ** e) for e in range(2, 7) for m in (1, 1.5, 2, 3, 5, 7)) \
    + (10_000_000,)
BINS_PER_DECADE = 4


def parse_threshold(text: str) -> int:
    value = float(text.strip().replace(",", "").replace("_", ""))
    if not math.isfinite(value) or value <= 0:
        raise ValueError("expected a positive number of H100e")
    if value in THRESHOLDS:
        return int(value)
    nearest = min(THRESHOLDS, key=lambda t: abs(math.log10(t) - math.log10(value)))
    raise ValueError(f"not one of the slider's marks; the nearest is {nearest}")


PARAMS = (Param("threshold", parse_threshold, str, GPU_RICH_H100E, "GPU-rich threshold (H100e)"),)


def split_table(split: pd.DataFrame, basis: str) -> pd.DataFrame:
    share = "Share of tracked H100e (%)"
    return pd.DataFrame({
        "Group": split["group"], "Organisations": split["organisations"],
        h100e_column(basis): split["h100e"].round(0), h100e_column(basis, "low"): split["h100e_low"].round(0),
        h100e_column(basis, "high"): split["h100e_high"].round(0),
        share: (100 * split["share"]).round(2), share.replace("(%)", "low (%)"): (100 * split["share_low"]).round(2),
        share.replace("(%)", "high (%)"): (100 * split["share_high"]).round(2),
        "Ranges crossing the line": split["range_crosses_line"],
    })


def summary(split: pd.DataFrame, gini: float, threshold: float) -> pd.DataFrame:
    """The page's tiles as rows (Measure, Value, Low, High, Meaning)."""
    groups = split.set_index("group")
    line, nan = short_number(threshold), float("nan")
    rich = groups.loc[dist.RICH]
    rows = [(f"GPU-rich (≥ {line} H100e)", float(rich["organisations"]), nan, nan,
             f"Organisations at or above {threshold:,.0f} H100e."),
            (f"GPU-poor (< {line} H100e)", float(groups.loc[dist.POOR, "organisations"]), nan, nan,
             f"Organisations with a figure below {threshold:,.0f} H100e."),
            ("GPU-rich share (%)", 100 * rich["share"], 100 * rich["share_low"], 100 * rich["share_high"],
             "Share of all tracked H100e (unattributed clusters included) held by the GPU-rich."),
            ("Gini coefficient", gini, nan, nan,
             "Inequality of H100e across organisations: 0 = all equal, near 1 = one holds nearly all.")]
    return pd.DataFrame(rows, columns=KPI_COLUMNS)


def _edge(values: pd.Series) -> pd.Series:
    """Bin edges as shown: whole H100e, but three significant digits below one H100e (a handful of
    old chips is a fraction of one: rounded to 0 they were bins from 0 to 0, which the log-scale
    chart cannot draw)."""
    return values.round(0).where(values >= 1, values.map(lambda v: float(f"{v:.3g}")))


def histogram_table(frame: pd.DataFrame, threshold: float, basis: str) -> pd.DataFrame:
    hist = dist.histogram(frame, threshold, BINS_PER_DECADE)
    return pd.DataFrame({
        f"From ({h100e_column(basis)})": _edge(hist["bin_low"]), f"To ({h100e_column(basis)})": _edge(hist["bin_high"]),
        dist.POOR + " organisations": hist["gpu_poor"], dist.RICH + " organisations": hist["gpu_rich"],
    })


def lorenz_table(frame: pd.DataFrame, basis: str) -> pd.DataFrame:
    curve = dist.lorenz(frame)
    return pd.DataFrame({
        "Organisation added": curve["organisation"], h100e_column(basis): curve["h100e"].round(0),
        "Cumulative share of organisations (%)": (100 * curve["share_of_organisations"]).round(3),
        "Cumulative share of H100e (%)": (100 * curve["share_of_h100e"]).round(3),
    })


def over_time(store: Store, filters: Filters, threshold: float) -> pd.DataFrame:
    """The split at each quarter end (and the as-of date), from the same combining rule."""
    organisations = store.organisations()
    series = store.series(filters)
    kinds = organisations.set_index("id")["kind"]
    series = series.assign(unattributed=series["holder_id"].map(kinds).eq(OrgKind.UNATTRIBUTED))
    out = dist.split_over_time(series, threshold)
    basis = filters.basis.value
    return pd.DataFrame({
        "Quarter end": pd.to_datetime(out["date"]).dt.date, "GPU-rich organisations": out["organisations_rich"],
        "GPU-poor organisations": out["organisations_poor"],
        f"H100e held by the GPU-rich ({basis} basis)": out["h100e_rich"].round(0),
        h100e_column(basis, "tracked"): out["h100e_total"].round(0),
        f"GPU-rich share of tracked H100e (%, {basis} basis)": (100 * out["share_rich"]).round(2),
    })


@register("rich-poor", "GPU-rich vs GPU-poor", PARAMS)
def build(store: Store, filters: Filters, values: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    threshold = float(values.get("threshold", GPU_RICH_H100E))
    basis = filters.basis.value
    every = holders(store.fleet(filters))
    split = dist.split(every, threshold)
    named = every.loc[~every["unattributed"]]
    return {
        "summary": summary(split, dist.gini(named["h100e"]), threshold),
        "split": split_table(split, basis),
        "histogram": histogram_table(every, threshold, basis),
        "lorenz": lorenz_table(named, basis),
        "over_time": over_time(store, filters, threshold),
    }
