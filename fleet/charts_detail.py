"""Plotly figures of the Organisation, Chips, Compute-per-researcher and Countries pages.

Plain functions DataFrame -> Figure, no streamlit. Each draws exactly one table a
``fleet.views`` builder returns (the frame its "Download CSV" writes), reading the column
names the builder set, which carry units and basis. User text (organisation, chip and
cluster names) is escaped before plotly sees it, so a name never becomes markup.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from fleet.charts_projection import FONT, PALETTE, TEMPLATE, empty, safe

QUALITATIVE = [*PALETTE, "#2c3e50", "#f1c40f", "#95a5a6", "#e84393", "#00b894", "#6c5ce7", "#fd79a8", "#636e72"]
RICH_POOR = {"GPU-rich": "#c0392b", "GPU-poor": "#1f4e79"}


def layout(fig: go.Figure, title: str, *, height: int = 460) -> go.Figure:
    fig.update_layout(title={"text": safe(title), "x": 0, "xanchor": "left", "font": {"size": 15}}, height=height,
                      margin={"l": 10, "r": 10, "t": 50, "b": 10}, font={"family": FONT}, template=TEMPLATE,
                      hoverlabel={"namelength": -1}, legend={"orientation": "h", "yanchor": "top", "y": -0.14,
                                                             "xanchor": "left", "x": 0})
    return fig


def epoch_ms(dates) -> np.ndarray:
    """Dates as milliseconds since 1970 (float64, NaN for none), for an axis of ``type="date"``.

    plotly sends a float array as one binary block; datetime64 values go as one ISO string each
    (20 bytes a point): the Organisation chart of a big fleet repeats its 2,500 dates in each of
    16 stacked traces, and re-serialising and hashing that text was much of every rerun."""
    days = pd.to_datetime(pd.Series(dates)).to_numpy(dtype="datetime64[ms]")
    return np.where(np.isnat(days), np.nan, days.astype("int64").astype("float64"))


def _column(table: pd.DataFrame, prefix: str) -> str:
    return next(c for c in table.columns if c.startswith(prefix))


MAX_TRACES = 16


def _fold_small(wide: pd.DataFrame, limit: int = MAX_TRACES) -> pd.DataFrame:
    """The ``limit - 1`` largest groups and one "Other (N more)" trace summing the rest.

    More groups than a palette has colours cannot be told apart on a stacked chart (a big
    fleet can hold 170 chip models); the chart's table and download keep every group.
    """
    if wide.shape[1] <= limit:
        return wide
    kept, rest = wide.iloc[:, :limit - 1], wide.iloc[:, limit - 1:]
    other = rest.sum(axis=1, min_count=1).rename(f"Other ({rest.shape[1]} more)")
    return pd.concat([kept, other], axis=1)


def stacked(table: pd.DataFrame, group: str, value: str, title: str, *, percent: bool = False,
            lines: bool = False, step: bool = False) -> go.Figure:
    """One trace per group over ``Date``: stacked areas (optionally normalised to 100 %) or lines.

    Largest groups first; beyond ``MAX_TRACES`` the smallest are drawn together as one."""
    if table.empty:
        return empty(title)
    # One pivot, then each trace from plain numpy arrays: plotly validates and serialises
    # those in bulk (an organisation with 170 chips at 2,500 dates took seconds per rerun
    # when each trace filtered the table and handed plotly Python date objects).
    wide = table.pivot_table(index="Date", columns=group, values=value, aggfunc="sum", sort=True, dropna=False)
    wide = _fold_small(wide[wide.sum().sort_values(ascending=False, kind="stable").index])
    x = epoch_ms(wide.index)
    traces = []
    for i, name in enumerate(wide.columns):
        y = wide[name].to_numpy(dtype="float64")
        y = y if lines else np.nan_to_num(y, nan=0.0)
        colour = QUALITATIVE[i % len(QUALITATIVE)]
        traces.append(go.Scatter(
            x=x, y=y, name=safe(str(name)), mode="lines", line={"color": colour, "width": 2 if lines else 0.5,
                                                                 "shape": "hv" if step else "linear"},
            stackgroup=None if lines else "one", groupnorm="percent" if percent and i == 0 else None))
    fig = go.Figure(data=traces)
    layout(fig, title)
    fig.update_yaxes(title="Share of H100e (%)" if percent else value, rangemode="tozero")
    fig.update_xaxes(title="Date", type="date")
    return fig


def organisation_history(table: pd.DataFrame, title: str) -> go.Figure:
    """The combined fleet stacked by chip (a step at each estimate) and each estimate with its range."""
    value = _column(table, "H100e (")
    low, high = _column(table, "H100e low"), _column(table, "H100e high")
    fleet = table.loc[table["Series"] != "estimate"]
    points = table.loc[table["Series"] == "estimate"]
    if fleet.empty and points.empty:
        return empty(title, "No estimates of this organisation by the as-of date.")
    fig = stacked(fleet, "Chip", value, title, step=True) if len(fleet) else layout(go.Figure(), title)
    if len(points):
        text = [safe(f"{c} · {s}{(': ' + k) if k else ''} · {st}, {ce}{(' · ' + x) if x else ''}")
                for c, s, k, st, ce, x in zip(points["Chip"], points["Scope"], points["Cluster"].fillna(""),
                                               points["Status"], points["Certainty"], points["Conflict"].fillna(""))]
        y = points[value].to_numpy(dtype="float64")
        fig.add_trace(go.Scatter(
            x=epoch_ms(points["Date"]), y=y, mode="markers", name="estimates (point, low–high)", text=text,
            hovertemplate="%{x}<br>%{y:,.0f} H100e<br>%{text}<extra></extra>",
            marker={"color": "#111111", "size": 8, "symbol": "diamond"},
            error_y={"type": "data", "symmetric": False,
                     "array": np.clip(points[high].to_numpy(dtype="float64") - y, 0, None),
                     "arrayminus": np.clip(y - points[low].to_numpy(dtype="float64"), 0, None), "color": "#111111"}))
    fig.update_yaxes(title=value, rangemode="tozero")
    fig.update_xaxes(title="Date", type="date")
    return fig


def per_head_scatter(table: pd.DataFrame, title: str, threshold: float) -> go.Figure:
    """Log-log: H100e against headcount, one point per organisation, coloured GPU-rich / GPU-poor."""
    if table.empty:
        return empty(title, "No organisation has both H100e and a headcount for these settings.")
    value = _column(table, "H100e (")
    per = _column(table, "H100e per head")
    fig = go.Figure()
    for group, colour in RICH_POOR.items():
        rows = table.loc[table["Group"] == group]
        if rows.empty:
            continue
        fig.add_trace(go.Scatter(
            x=rows["Headcount"], y=rows[value], mode="markers+text", name=f"{group} (≥ {threshold:,.0f} H100e)"
            if group == "GPU-rich" else f"{group} (< {threshold:,.0f} H100e)",
            text=[safe(n) for n in rows["Organisation"]], textposition="top center",
            customdata=np.stack([rows[per], rows["Headcount date"].astype(str)], axis=-1),
            hovertemplate="%{text}<br>%{y:,.0f} H100e · %{x:,.0f} people (%{customdata[1]})"
                          "<br>%{customdata[0]:,.1f} H100e per head<extra></extra>",
            marker={"color": colour, "size": 11}))
    fig.add_hline(y=threshold, line={"color": "#7f8c8d", "dash": "dash", "width": 1},
                  annotation_text=f"GPU-rich line: {threshold:,.0f} H100e", annotation_position="bottom right")
    layout(fig, title)
    fig.update_xaxes(type="log", title="Headcount (people, nearest the as-of date)")
    fig.update_yaxes(type="log", title=value)
    return fig


def choropleth(table: pd.DataFrame, title: str) -> go.Figure:
    """World map of H100e by country (ISO3), coloured on a log scale so smaller holders show."""
    value = _column(table, "H100e (")
    rows = table.loc[table["ISO3"].astype(str).str.len() == 3]
    rows = rows.loc[rows[value] > 0]
    if rows.empty:
        return empty(title, "No H100e with a known country for these settings.")
    logs = np.log10(rows[value].astype("float64"))
    ticks = list(range(int(np.floor(logs.min())), int(np.ceil(logs.max())) + 1))
    fig = go.Figure(go.Choropleth(
        locations=rows["ISO3"], z=logs, locationmode="ISO-3", colorscale="Blues", marker_line_color="#ffffff",
        text=[safe(n) for n in rows["Country"]], customdata=rows[value],
        hovertemplate="%{text}<br>%{customdata:,.0f} H100e<extra></extra>",
        colorbar={"title": safe(value), "tickvals": ticks, "ticktext": [f"{10 ** t:,.0f}" for t in ticks]}))
    layout(fig, title, height=480)
    # Explicit centre and extent: the outlines are served locally (static/topojson) and plotly's
    # defaults for them centre the map on the Pacific.
    fig.update_geos(showframe=False, showcoastlines=False, projection_type="natural earth",
                    projection_rotation={"lon": 0, "lat": 0}, lonaxis_range=[-180, 180], lataxis_range=[-58, 84],
                    showland=True, landcolor="#eeeeee", showcountries=True, countrycolor="#ffffff")
    return fig
