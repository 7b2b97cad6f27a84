"""Chart + table + CSV download: how every page puts a view's data on screen.

Every download is exactly the table on screen, with ``# `` provenance lines: the view, the
basis, as-of and known-at, the data cut-off, extra settings and the licence. Cells a
spreadsheet would run as formulas are neutralised (``fleet.exports``).
"""

from __future__ import annotations

import functools
import re

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from fleet import provenance
from fleet.exports import to_csv_bytes
from fleet.provenance import LICENCE  # noqa: F401  (re-exported for the pages)


# Geo charts read their outlines from our own server (static/topojson), not plotly's CDN.
TOPOJSON_URL = "/app/static/topojson/"


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")[:60] or "view"


def header_lines(ctx, view: str, extra: list[str] | None = None) -> list[str]:
    high_water = ctx.version[2] if len(ctx.version) > 2 else None
    return provenance.header_lines(ctx.filters, view, high_water, extra)


def download(ctx, table: pd.DataFrame, view: str, *, extra: list[str] | None = None,
             label: str = "Download CSV") -> None:
    shown = getattr(ctx, "shown", None)
    if shown is not None:  # every table a page offers for download is data it shows (snapshots hash it)
        shown[view] = table
    lines = header_lines(ctx, view, extra)
    # the CSV is written when the button is pressed (Streamlit calls ``data`` then, off the
    # script thread): a rerun no longer hashes every table offered or writes its CSV
    st.download_button(label, data=functools.partial(to_csv_bytes, table, header_lines=lines), mime="text/csv",
                       file_name=f"fleet-{slug(view)}-{ctx.filters.as_of:%Y-%m-%d}.csv", key=f"dl.{slug(view)}",
                       on_click="ignore", help=f"{len(table):,} rows: exactly the data shown, with its settings.")


def chart(ctx, fig: go.Figure, table: pd.DataFrame, view: str, *, extra: list[str] | None = None) -> None:
    """A plotly chart (PNG via its modebar) and the CSV of exactly ``table``, the data it draws."""
    config = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "filename": f"fleet-{slug(view)}"},
              "topojsonURL": TOPOJSON_URL}
    st.plotly_chart(fig, config=config, key=f"chart.{slug(view)}")
    download(ctx, table, view, extra=extra)


def frame(data: pd.DataFrame, **dataframe_kwargs) -> None:
    """A table as every page shows one: ``st.dataframe`` (text stays text) at full width.

    A missing value shows as an empty cell, as in the CSV: Streamlit's default writes "None"
    in it, which reads as a value (a count of "None") rather than as no value.
    """
    st.dataframe(data, hide_index=True, width="stretch", placeholder="", **dataframe_kwargs)


def table(ctx, data: pd.DataFrame, view: str, *, extra: list[str] | None = None, **dataframe_kwargs) -> None:
    """A table (``frame``) and its CSV download."""
    frame(data, **dataframe_kwargs)
    download(ctx, data, view, extra=extra)
