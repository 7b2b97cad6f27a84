"""KPI tiles drawn from a view's table (rows: Measure, Value[, Low, High, Meaning]), and the
note that goes under figures some chips could not be priced in.

The table is recorded in ``ctx.shown`` like any chart's or table's, so a snapshot or
export holds exactly the figures the tiles show. A measure ending in "(%)" shows as a
percentage, a coefficient with three decimals, anything else as a whole number; the
tile's help gives the Meaning and, where the figure has one, its range.
"""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st


def formatted(measure: str, value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if measure.endswith("(%)"):
        return f"{value:.1f}%"
    if "coefficient" in measure.casefold():
        return f"{value:.3f}"
    return f"{value:,.0f}"


def _help(measure: str, row: pd.Series) -> str | None:
    """The row's Meaning, and its range where it has one."""
    parts = [str(row["Meaning"])] if isinstance(row.get("Meaning"), str) else []
    low, high = row.get("Low"), row.get("High")
    if not (low is None or high is None or pd.isna(low) or pd.isna(high) or round(low, 1) == round(high, 1)):
        parts.append(f"Range {formatted(measure, low)} – {formatted(measure, high)} (the estimates' lows and "
                     "highs carried through).")
    return " ".join(parts) or None


def tiles(ctx, frame: pd.DataFrame, view: str) -> None:
    """One ``st.metric`` per row of ``frame``, side by side."""
    ctx.shown[view] = frame
    if frame.empty:
        return
    for column, (_, row) in zip(st.columns(len(frame)), frame.iterrows()):
        measure = str(row["Measure"])
        column.metric(measure, formatted(measure, row["Value"]), help=_help(measure, row), border=True)


def unknown_spec_note(ctx) -> None:
    """Say how many chip figures the totals leave out for lack of a spec on the chosen basis."""
    unknown = ctx.fleet().excluded_unknown_spec
    if unknown:
        st.caption(f"{unknown:,} chip figures have no spec on the {ctx.filters.basis.value} basis: unknown, "
                   "and excluded from these totals.")
