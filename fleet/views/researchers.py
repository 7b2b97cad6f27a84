"""Compute-per-researcher page data: H100e per staff member, from each organisation's headcount
nearest the as-of date (which date, how far, which source, per row), ranked.

``per`` picks the headcount kind: ``staff`` (default), ``researchers`` or ``any`` (staff
preferred on the same date). Organisations with H100e but no headcount are listed apart.
"""

from __future__ import annotations

from typing import Any, Mapping

import pandas as pd

from fleet.analytics import breakdown
from fleet.view_state import Filters, Param, choice
from fleet.views.base import Store, register
from fleet.views.organisation import h100e_col, page_url
from fleet.vocab import GPU_RICH_H100E, OrgKind

PARAMS = (Param("per", choice(breakdown.HEADCOUNT_CHOICES), str, "staff", "Headcount counted"),)


def ranked(store: Store, filters: Filters, per: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    totals = store.fleet(filters).holders
    totals = totals.loc[(totals["kind"] != OrgKind.UNATTRIBUTED) & (totals["h100e"] > 0)]
    chosen = breakdown.nearest_headcounts(store.headcounts(filters.known_at), filters.as_of, per)
    rows = breakdown.per_staff(totals, chosen, GPU_RICH_H100E)
    b = filters.basis.value
    table = pd.DataFrame({
        "Rank": rows["rank"], "Organisation": rows["name"], "Organisation page": rows["name"].map(page_url),
        f"H100e per head ({b} basis)": rows["per_head"].round(2),
        h100e_col(b): rows["h100e"].round(0), "Headcount": rows["headcount"],
        "Headcount kind": rows["kind"], "Headcount date": pd.to_datetime(rows["valid_on"]).dt.date,
        "Days from as-of": rows["days_from_as_of"].astype("int64"),
        "Reports that date": rows["reports"].astype("int64"),
        "Headcount range that date": pd.Series(  # built per row: no rows (no headcount by that date) is no text
            [f"{low:,.0f}–{high:,.0f}" if n > 1 else "" for low, high, n in zip(rows["low"], rows["high"], rows["reports"])],
            index=rows.index, dtype=object),
        "Headcount source": rows["source_url"], "Group": rows["group"],
    })
    missing = totals.loc[~totals["holder_id"].isin(rows["holder_id"])]
    without = pd.DataFrame({"Organisation": missing["name"], "Organisation page": missing["name"].map(page_url),
                            h100e_col(b): missing["h100e"].round(0)})
    return table, without.reset_index(drop=True)


@register("researchers", "Compute per researcher", PARAMS)
def build(store: Store, filters: Filters, values: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    table, without = ranked(store, filters, values.get("per", "staff"))
    return {"per_head": table, "no_headcount": without}
