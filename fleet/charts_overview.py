"""Plotly figures of the Overview and GPU-rich vs GPU-poor pages: DataFrame -> Figure, no streamlit.

Each function draws one table built by ``fleet.views.overview`` / ``fleet.views.rich_poor``
(the same frame the chart's "Download CSV" writes), reading the columns by the names
those modules give them, so axis titles carry the units and the H100e basis. User text
(organisation names) is escaped before plotly sees it, so a name never becomes markup.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from fleet.analytics.distribution import POOR, RICH
from fleet.charts_detail import BOTTOM_LEGEND
from fleet.charts_projection import TEMPLATE, safe
from fleet.views.overview import short_number

FONT = "Source Sans Pro, Helvetica, Arial, sans-serif"
COLOUR = {RICH: "#c0392b", POOR: "#1f4e79"}


def styled(fig: go.Figure, title: str, *, height: int = 460) -> go.Figure:
    fig.update_layout(title={"text": safe(title), "x": 0, "xanchor": "left", "font": {"size": 15}}, height=height,
                      margin={"l": 10, "r": 10, "t": 50, "b": 10}, font={"family": FONT}, template=TEMPLATE,
                      hoverlabel={"namelength": -1},
                      legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1})
    return fig


def top_chart(top: pd.DataFrame, value: str, low: str, high: str) -> go.Figure:
    """Horizontal bars, largest on top, with error bars from each figure's low to its high."""
    names = [safe(n) for n in top["Organisation"]]
    fig = go.Figure(go.Bar(
        x=top[value], y=names, orientation="h", marker_color=COLOUR[POOR], name=value,
        error_x={"type": "data", "symmetric": False, "array": (top[high] - top[value]).clip(lower=0),
                 "arrayminus": (top[value] - top[low]).clip(lower=0), "color": "#555", "thickness": 1.2},
        customdata=np.stack([top[low], top[high]], axis=-1),
        hovertemplate="%{y}: %{x:,.0f} (range %{customdata[0]:,.0f}–%{customdata[1]:,.0f})<extra></extra>"))
    styled(fig, f"Top {len(top)} organisations by {value}", height=max(320, 26 * len(top) + 120))
    fig.update_yaxes(autorange="reversed", title=None, type="category")
    fig.update_xaxes(title=f"{value}; bars: point estimate, whiskers: low–high", separatethousands=True)
    return fig


def _decade_ticks(low: float, high: float) -> tuple[list[float], list[str]]:
    decades = range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
    return [float(d) for d in decades], [short_number(10.0 ** d) for d in decades]


def histogram_chart(hist: pd.DataFrame, threshold: float, x_title: str, per_decade: int) -> go.Figure:
    """Organisations per log-spaced bin, GPU-poor and GPU-rich stacked, the threshold as a line.

    The x axis is log10(H100e) laid out linearly with ticks labelled in H100e, so the
    equal-width log bins draw as equal-width bars.
    """
    start, stop, poor, rich = (hist[c] for c in hist.columns[:4])
    left, right = np.log10(start.astype("float64")), np.log10(stop.astype("float64"))
    fig = go.Figure()
    for group, counts in ((POOR, poor), (RICH, rich)):
        fig.add_bar(x=(left + right) / 2, y=counts, width=(right - left) * 0.95, name=group,
                    marker_color=COLOUR[group], customdata=np.stack([start, stop], axis=-1),
                    hovertemplate=f"{group}: %{{y}} organisations with %{{customdata[0]:,.0f}}–"
                                  "%{customdata[1]:,.0f} H100e<extra></extra>")
    line = math.log10(threshold)
    fig.add_vline(x=line, line_dash="dash", line_color="#333",
                  annotation_text=f"threshold {threshold:,.0f} H100e", annotation_position="top right")
    tickvals, ticktext = _decade_ticks(float(start.min()), float(stop.max()))
    styled(fig, "Organisations by H100e (log scale)")
    fig.update_layout(barmode="stack", bargap=0)
    fig.update_xaxes(title=f"{x_title}, log scale ({per_decade} bins per power of ten)",
                     tickvals=tickvals, ticktext=ticktext, range=[min(left.min(), line) - 0.2,
                                                                  max(right.max(), line) + 0.2])
    fig.update_yaxes(title="Organisations (count)")
    return fig


def lorenz_chart(curve: pd.DataFrame, gini: float, basis: str) -> go.Figure:
    """The Lorenz curve against the line of equality, the Gini coefficient in the title."""
    x, y = curve["Cumulative share of organisations (%)"], curve["Cumulative share of H100e (%)"]
    fig = go.Figure()
    fig.add_scatter(x=[0, 100], y=[0, 100], mode="lines", name="perfect equality",
                    line={"color": "#7f8c8d", "dash": "dash"}, hoverinfo="skip")
    fig.add_scatter(x=x, y=y, mode="lines+markers", name="organisations, smallest first", fill="tonexty",
                    line={"color": COLOUR[RICH], "width": 2.5}, marker={"size": 4},
                    text=[safe(n) for n in curve["Organisation added"]],
                    hovertemplate="%{text}: %{x:.1f}% of organisations hold %{y:.2f}% of H100e<extra></extra>")
    shown = "undefined" if math.isnan(gini) else f"{gini:.3f}"
    styled(fig, f"Lorenz curve of H100e across organisations — Gini coefficient {shown}")
    fig.update_xaxes(title="Cumulative share of organisations (%, smallest holders first)", range=[0, 100])
    fig.update_yaxes(title=f"Cumulative share of H100e (%, {basis} basis)", range=[0, 100])
    return fig


def over_time_chart(table: pd.DataFrame) -> go.Figure:
    """Organisations above the line per quarter end (bars) and their share of all H100e (line).

    The legend goes below the chart: above it, at the top right, it covered the share axis's
    top tick label ("100"), which stands half above the plot."""
    dates = pd.to_datetime(table["Quarter end"])
    share = next(c for c in table.columns if c.startswith("GPU-rich share"))
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_bar(x=dates, y=table["GPU-rich organisations"], name="GPU-rich organisations",
                marker_color=COLOUR[RICH], secondary_y=False)
    fig.add_scatter(x=dates, y=table[share], name=share, mode="lines", line={"color": COLOUR[POOR], "width": 2.5},
                    secondary_y=True)
    styled(fig, "GPU-rich organisations at each quarter end, and their share of tracked H100e")
    fig.update_layout(legend=BOTTOM_LEGEND)
    fig.update_xaxes(title="Quarter end")
    fig.update_yaxes(title="GPU-rich organisations (count)", secondary_y=False, rangemode="tozero")
    fig.update_yaxes(title=share, secondary_y=True, range=[0, 100], dtick=20, showgrid=False)
    return fig
