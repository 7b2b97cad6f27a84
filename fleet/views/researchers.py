"""Compute-per-researcher page data: H100e per staff member, from each organisation's headcount
nearest the as-of date (which date, how far, which source, per row), ranked.

``per`` picks the headcount kind: ``staff`` (default), ``researchers`` or ``any`` (staff
preferred on the same date). Organisations with H100e but no headcount are listed apart.
"""

from __future__ import annotations

from typing import Any, Mapping

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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


def headcount_only(headcounts: pd.DataFrame, organisations: pd.DataFrame, ranked_table: pd.DataFrame,
                   per: str) -> pd.DataFrame:
    """Organisations with a headcount of the kind counted that ``ranked_table`` leaves out (``name``,
    ``parent``; by name): they hold no H100e of their own under these settings (a lab renting its
    compute counts it under the cloud that owns it unless leased capacity goes to its user; a
    division's, such as Google DeepMind's, is its parent's).

    Not one of the view's tables (a new table would change the content hash of every snapshot of
    this page taken before it); the page says with it why so few organisations are plotted."""
    counted = headcounts if per == "any" else headcounts.loc[headcounts["kind"] == per]
    ids = counted.loc[counted["count"] > 0, "organisation_id"]
    with_heads = organisations.loc[organisations["id"].isin(ids)]
    # by Arrow: pandas' isin of Arrow text makes a scalar of each wanted name (~0.1 s for 10k organisations)
    ranked = pc.is_in(pa.array(with_heads["name"], type=pa.string()),
                      value_set=pa.array(ranked_table["Organisation"], type=pa.string()))
    rows = with_heads.loc[~ranked.to_numpy(zero_copy_only=False)]
    return rows[["name", "parent"]].sort_values("name", ignore_index=True)


@register("researchers", "Compute per researcher", PARAMS)
def build(store: Store, filters: Filters, values: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    table, without = ranked(store, filters, values.get("per", "staff"))
    return {"per_head": table, "no_headcount": without}
