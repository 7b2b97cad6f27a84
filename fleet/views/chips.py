"""Chips page data: fleet share by chip family and by vendor (Nvidia / Google TPU / others)
at quarter ends, and the chip catalog with specs and H100e factors on every basis.

``show`` picks the over-time measure: ``share`` (% of the date's H100e, default) or ``h100e``.
Chip figures without a spec on the basis are left out of every total; the tables count them.
"""

from __future__ import annotations

from typing import Any, Mapping

import pandas as pd

from fleet.analytics import breakdown
from fleet.analytics.compute_series import chip_totals, series_dates
from fleet.view_state import Filters, Param, choice
from fleet.views.base import Store, register, series_options
from fleet.views.organisation import h100e_col

SHOW = ("share", "h100e")
PARAMS = (Param("show", choice(SHOW), str, "share", "Over time, show"),)


def over_time(store: Store, filters: Filters) -> pd.DataFrame:
    estimates = store.estimates(filters.known_at)
    dates = series_dates(estimates, filters.as_of)
    return chip_totals(estimates, store.chips(), store.organisations(), dates, series_options(filters))


def grouped(series: pd.DataFrame, chips: pd.DataFrame, by: str, label: str, basis: str) -> pd.DataFrame:
    rows = breakdown.grouped_over_time(series, chips, by)
    return pd.DataFrame({"Date": rows["date"].dt.date, label: rows["group"], h100e_col(basis): rows["h100e"].round(0),
                         "Share of the date's H100e (%)": rows["share"].round(2),
                         "Chip figures without a spec (left out)": rows["excluded"]})


@register("chips", "Chips", PARAMS)
def build(store: Store, filters: Filters, values: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    series = over_time(store, filters)
    chips, b = store.chips(), filters.basis.value
    return {"families": grouped(series, chips, "family", "Chip family", b),
            "vendors": grouped(series, chips, "vendor", "Vendor group", b),
            "catalog": breakdown.catalog_table(chips, store.fleet(filters).by_chip, filters.basis)}
