"""Overview page data: KPI tiles, the ranked leaderboard and the top-N table at the as-of date.

Tables (the names are the contract with the page and with snapshots):

- ``kpis``: H100e tracked (every holder, unattributed clusters included), organisations,
  the GPU-rich count (at or above ``fleet.vocab.GPU_RICH_H100E``) and their share of all
  tracked H100e, each with its low/high where the figure has a range.
- ``leaderboard``: one row per organisation with a figure, ranked (ties share a rank),
  with a link to its Organisation page.
- ``top``: the first ``top`` rows of the leaderboard (the bar chart's data).
"""

from __future__ import annotations

from typing import Any, Mapping
from urllib.parse import quote

import numpy as np
import pandas as pd

from fleet.analytics.distribution import RICH, split
from fleet.analytics.fleet import FleetState
from fleet.countries import country_name
from fleet.view_state import Filters, Param, number_in
from fleet.views.base import Store, register
from fleet.vocab import GPU_RICH_H100E, OrgKind

TOP_DEFAULT = 20
PARAMS = (Param("top", number_in(1, 100, int), str, TOP_DEFAULT, "Organisations in the top-N chart"),)
KPI_COLUMNS = ["Measure", "Value", "Low", "High", "Meaning"]


def h100e_column(basis: str, which: str = "") -> str:
    return f"H100e {which + ' ' if which else ''}({basis} basis)"


def short_number(value: float) -> str:
    """1,000 -> "1k", 20,000 -> "20k", 1,500,000 -> "1.5M"."""
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:g}{suffix}"
    return f"{value:g}"


ORG_PAGE = "/organisation?org="
_PLAIN_NAME = r"[A-Za-z0-9_.~ -]*"  # characters ``quote`` keeps as they are, and the space


def org_page_url(name: str) -> str:
    """The Organisation page's link for ``name`` (url-encoded, so a name can never break out)."""
    return ORG_PAGE + quote(str(name), safe="")


def org_page_urls(names: pd.Series) -> np.ndarray:
    """``org_page_url`` of each name: a plain name (most of them) by one vectorised replace of its
    spaces, the rest one by one (10,000 ``quote`` calls were a tenth of a second of a cold Overview)."""
    names = names.astype("str")
    plain = names.str.fullmatch(_PLAIN_NAME).to_numpy(dtype=bool, na_value=False)
    urls = (ORG_PAGE + names.str.replace(" ", "%20", regex=False)).to_numpy(dtype=object)
    urls[~plain] = [org_page_url(n) for n in names[~plain]]
    return urls


def holders(state: FleetState, *, details: bool = False) -> pd.DataFrame:
    """Every holder with a positive figure, flagged ``unattributed`` (for fleet.analytics.distribution);
    with the leaderboard's columns (chip mix, sources, certainty) if ``details``."""
    every = state.totals if details else state.holders
    every = every.loc[every["h100e"] > 0]
    return every.assign(unattributed=every["kind"] == OrgKind.UNATTRIBUTED)


def ranked(state: FleetState) -> pd.DataFrame:
    """Organisations (unattributed clusters left out) by H100e, largest first, ties by name."""
    totals = holders(state, details=True)
    totals = totals.loc[~totals["unattributed"]]
    return totals.sort_values(["h100e", "name"], ascending=[False, True], kind="stable", ignore_index=True)


def leaderboard(store: Store, filters: Filters) -> pd.DataFrame:
    state = store.fleet(filters)
    totals = ranked(state)
    basis = filters.basis.value
    return pd.DataFrame({
        "Rank": totals["h100e"].round(0).rank(method="min", ascending=False).astype("int64").to_numpy(),
        "Organisation": totals["name"].to_numpy(),
        "Organisation page": org_page_urls(totals["name"]),
        "Kind": totals["kind"].to_numpy(),
        "Country": totals["country"].map(country_name).to_numpy(),
        h100e_column(basis): totals["h100e"].round(0).to_numpy(),
        h100e_column(basis, "low"): totals["h100e_low"].round(0).to_numpy(),
        h100e_column(basis, "high"): totals["h100e_high"].round(0).to_numpy(),
        "Chip mix (share of H100e)": totals["chip_mix"].to_numpy(),
        "Last estimate": pd.to_datetime(totals["last_valid_on"]).dt.date.to_numpy(),
        "Certainty (lowest counted)": totals["certainty"].to_numpy(),
        "Sources": totals["n_sources"].to_numpy(),
        "Latest source": totals["latest_source"].to_numpy(),
    })


def kpis(state: FleetState, basis: str, threshold: float = GPU_RICH_H100E) -> pd.DataFrame:
    """The Overview's tiles as rows: Measure, Value, Low, High (NaN where a figure has no range), Meaning."""
    every = holders(state)
    rich = split(every, threshold).set_index("group").loc[RICH]
    nan = float("nan")
    rows = [
        (h100e_column(basis, "tracked"), every["h100e"].sum(), every["h100e_low"].sum(), every["h100e_high"].sum(),
         "All tracked H100e at the as-of date, clusters whose owner is not named included."),
        ("Organisations", float((~every["unattributed"]).sum()), nan, nan,
         "Organisations with an H100e figure for these filters."),
        (f"GPU-rich (≥ {short_number(threshold)} H100e)", float(rich["organisations"]), nan, nan,
         f"Organisations at or above {threshold:,.0f} H100e, the article's line."),
        ("GPU-rich share (%)", 100 * rich["share"], 100 * rich["share_low"], 100 * rich["share_high"],
         "Share of all tracked H100e held by the GPU-rich."),
    ]
    return pd.DataFrame(rows, columns=KPI_COLUMNS)


def top_n(board: pd.DataFrame, n: int, basis: str) -> pd.DataFrame:
    columns = ["Rank", "Organisation", h100e_column(basis), h100e_column(basis, "low"), h100e_column(basis, "high")]
    return board.head(n)[columns].reset_index(drop=True)


@register("overview", "Overview", PARAMS)
def build(store: Store, filters: Filters, values: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    basis = filters.basis.value
    board = leaderboard(store, filters)
    return {"kpis": kpis(store.fleet(filters), basis), "leaderboard": board,
            "top": top_n(board, int(values.get("top", TOP_DEFAULT)), basis)}
