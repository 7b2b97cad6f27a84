"""Countries page data: H100e by the holder's home country (ISO 3166 alpha-3) at the as-of
date, and the United States vs China vs Europe vs rest of world at quarter ends.

Europe is the EU-27 + the United Kingdom + EFTA (``fleet.countries.EUROPE``). ``trend``
picks how the regions are drawn: ``area`` (stacked, default), ``lines`` or ``share`` (100 %).
"""

from __future__ import annotations

from typing import Any, Mapping

import pandas as pd

from fleet.analytics import breakdown
from fleet.analytics.compute_series import totals
from fleet.view_state import Filters, Param, choice
from fleet.views.base import Store, register
from fleet.views.organisation import h100e_col

TRENDS = ("area", "lines", "share")
PARAMS = (Param("trend", choice(TRENDS), str, "area", "Regions over time as"),)


def by_country(store: Store, filters: Filters) -> pd.DataFrame:
    rows = breakdown.country_totals(store.fleet(filters).holders)
    b = filters.basis.value
    return pd.DataFrame({"ISO3": rows["iso3"], "Country": rows["country"], "Region": rows["region"],
                         h100e_col(b): rows["h100e"].round(0), h100e_col(b, "low"): rows["h100e_low"].round(0),
                         h100e_col(b, "high"): rows["h100e_high"].round(0),
                         "Share of tracked H100e (%)": rows["share"].round(2),
                         "Organisations": rows["organisations"], "Largest organisation": rows["largest"]})


def by_region(store: Store, filters: Filters) -> pd.DataFrame:
    orgs = store.organisations()
    series = store.series(filters)
    rows = totals(series, breakdown.region_map(orgs))
    b = filters.basis.value
    rows["share"] = 100 * rows["h100e"] / rows.groupby("date")["h100e"].transform("sum")
    order = {name: i for i, name in enumerate(breakdown.REGION_ORDER)}
    rows = rows.assign(order=rows["group"].map(order)).sort_values(["date", "order"], ignore_index=True)
    return pd.DataFrame({"Date": pd.to_datetime(rows["date"]).dt.date, "Region": rows["group"],
                         h100e_col(b): rows["h100e"].round(0), "Share of the date's H100e (%)": rows["share"].round(2),
                         "Organisations": rows["holders"]})


@register("countries", "Countries", PARAMS)
def build(store: Store, filters: Filters, values: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    return {"countries": by_country(store, filters), "regions": by_region(store, filters)}
