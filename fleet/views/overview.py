"""Overview page data: the ranked leaderboard of organisations at the as-of date."""

from __future__ import annotations

from typing import Any, Mapping

import pandas as pd

from fleet.countries import country_name
from fleet.view_state import Filters
from fleet.views.base import Store, register
from fleet.vocab import OrgKind

PARAMS = ()


def h100e_column(basis: str, which: str = "") -> str:
    return f"H100e {which + ' ' if which else ''}({basis} basis)"


def leaderboard(store: Store, filters: Filters) -> pd.DataFrame:
    state = store.fleet(filters)
    totals = state.totals.loc[state.totals["kind"] != OrgKind.UNATTRIBUTED]
    totals = totals.loc[totals["h100e"] > 0]
    counted = state.contributions.loc[state.contributions["counted"]]
    latest_source = counted.sort_values("valid_on").groupby("holder_id")["source_url"].last()
    basis = filters.basis.value
    return pd.DataFrame({
        "Rank": range(1, len(totals) + 1),
        "Organisation": totals["name"].to_numpy(),
        "Kind": totals["kind"].to_numpy(),
        "Country": totals["country"].map(country_name).to_numpy(),
        h100e_column(basis): totals["h100e"].round(0).to_numpy(),
        h100e_column(basis, "low"): totals["h100e_low"].round(0).to_numpy(),
        h100e_column(basis, "high"): totals["h100e_high"].round(0).to_numpy(),
        "Chip mix (share of H100e)": totals["chip_mix"].to_numpy(),
        "Last estimate": pd.to_datetime(totals["last_valid_on"]).dt.date.to_numpy(),
        "Certainty (lowest counted)": totals["certainty"].to_numpy(),
        "Sources": totals["n_sources"].to_numpy(),
        "Latest source": totals["holder_id"].map(latest_source).to_numpy(),
    })


@register("overview", "Overview", PARAMS)
def build(store: Store, filters: Filters, values: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    return {"leaderboard": leaderboard(store, filters)}
