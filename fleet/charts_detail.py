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

from fleet.charts_projection import FONT, PALETTE, TEMPLATE, empty, rgba, safe
from fleet.views.overview import short_number

# One colour per area a stacked chart can show (MAX_TRACES), each at least 26 CIE76 ΔE from every
# other and from FOLD_GREY: shades of one hue, or several greys, cannot be told apart in a legend.
# PALETTE's first six lead so a chart's main series keep the other pages' colours; its seventh (a grey:
# grey marks the "other" area alone) and eighth (an orange too near the fifth) are left out.
QUALITATIVE = [*PALETTE[:6], "#f1c40f", "#e84393", "#8c564b", "#5dade2", "#808000", "#f5b7b1", "#6c5ce7",
               "#9acd32", "#17becf", "#0b3d2e"]
FOLD_GREY = "#9e9e9e"
# The chip catalog's family for chips in no named family (and the family breakdown's fill for none).
CATCH_ALL = "Other"
RICH_POOR = {"GPU-rich": "#c0392b", "GPU-poor": "#1f4e79"}


# The legend along the figure's bottom edge (``yref="container"``): plotly then grows the bottom
# margin to fit it below the x axis's title, which a legend a fixed fraction of the plot's height
# below it covered once its entries wrapped to a second row.
BOTTOM_LEGEND = {"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom", "xanchor": "left", "x": 0}


def layout(fig: go.Figure, title: str, *, height: int = 460) -> go.Figure:
    fig.update_layout(title={"text": safe(title), "x": 0, "xanchor": "left", "font": {"size": 15}}, height=height,
                      margin={"l": 10, "r": 10, "t": 50, "b": 10}, font={"family": FONT}, template=TEMPLATE,
                      hoverlabel={"namelength": -1}, legend=BOTTOM_LEGEND)
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


def _plural(group: str) -> str:
    """"Chip family" -> "families": what the fold's legend entry sums."""
    word = group.split()[-1].lower()
    return word[:-1] + "ies" if word.endswith("y") else word + "s"


def _fold_small(wide: pd.DataFrame, group: str, limit: int = MAX_TRACES) -> tuple[pd.DataFrame, bool]:
    """(the ``limit - 1`` largest groups and one "Other families (N)" column summing the rest, folded?).

    More groups than a palette has colours cannot be told apart on a stacked chart (a big
    fleet can hold 170 chip models); the chart's table and download keep every group. A group
    named "Other" joins the fold rather than standing beside it: a legend with two "other"
    areas does not say how they differ.
    """
    if wide.shape[1] <= limit:
        return wide, False
    kept = [c for c in wide.columns if c != CATCH_ALL][:limit - 1]
    rest = wide.drop(columns=kept)
    other = rest.sum(axis=1, min_count=1).rename(f"Other {_plural(group)} ({rest.shape[1]})")
    return pd.concat([wide[kept], other], axis=1), True


def _largest_first(wide: pd.DataFrame, percent: bool) -> pd.DataFrame:
    """Groups in the order they are kept: on a 100 % chart by their largest share of a date's total
    (a family that once led, as Kepler did in 2014, stays its own area rather than most of the
    fold's), otherwise by their sum (an area too thin to see on an H100e axis is one to fold)."""
    weight = wide.div(wide.sum(axis=1), axis=0).max() if percent else wide.sum()
    return wide[weight.sort_values(ascending=False, kind="stable").index]


def _colours(names: list, folded: bool) -> list[str]:
    """A palette colour per group in order; grey for the one "other" area (the fold, or "Other")."""
    others = {CATCH_ALL, names[-1]} if folded else {CATCH_ALL}
    palette = iter(QUALITATIVE)
    return [FOLD_GREY if name in others else next(palette) for name in names]


def _share_title(value: str) -> str:
    """"H100e (8bit basis)" -> "Share of tracked H100e (%, 8bit basis)"."""
    unit, _, basis = value.partition(" (")
    return f"Share of tracked {unit} (%, {basis.rstrip(')')})"


def stacked(table: pd.DataFrame, group: str, value: str, title: str, *, percent: bool = False,
            lines: bool = False, step: bool = False) -> go.Figure:
    """One trace per group over ``Date``: stacked areas (optionally normalised to 100 %) or lines.

    Largest groups first (``_largest_first``); beyond ``MAX_TRACES`` the smallest are drawn together
    as one."""
    if table.empty:
        return empty(title)
    # One pivot, then each trace from plain numpy arrays: plotly validates and serialises
    # those in bulk (an organisation with 170 chips at 2,500 dates took seconds per rerun
    # when each trace filtered the table and handed plotly Python date objects).
    wide = table.pivot_table(index="Date", columns=group, values=value, aggfunc="sum", sort=True, dropna=False)
    wide, folded = _fold_small(_largest_first(wide, percent), group)
    x = epoch_ms(wide.index)
    traces = []
    # Areas filled nearly opaque: plotly's default fill (the line colour at half opacity) pales
    # every colour towards white, and pale colours are hard to tell apart.
    for i, (name, colour) in enumerate(zip(wide.columns, _colours(list(wide.columns), folded))):
        y = wide[name].to_numpy(dtype="float64")
        y = y if lines else np.nan_to_num(y, nan=0.0)
        traces.append(go.Scatter(
            x=x, y=y, name=safe(str(name)), mode="lines", line={"color": colour, "width": 2 if lines else 0.5,
                                                                 "shape": "hv" if step else "linear"},
            fillcolor=None if lines else rgba(colour, 0.85),
            stackgroup=None if lines else "one", groupnorm="percent" if percent and i == 0 else None))
    fig = go.Figure(data=traces)
    layout(fig, title)
    fig.update_yaxes(title=_share_title(value) if percent else value, rangemode="tozero")
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


def _log_axis(values: pd.Series, *also: float) -> dict:
    """A log axis over ``values`` (and ``also``) with labelled major ticks only.

    Ticks at 1-2-5 × each power of ten over a short span, at the powers alone over a long one,
    labelled "500", "1k", "20k": plotly's own log ticks label the minor steps with a bare digit
    ("2", "3" … "9"), which crowd the axis and read as values."""
    known = pd.concat([values.astype("float64"), pd.Series(also, dtype="float64")])
    known = known.loc[known > 0]
    low, high = np.log10(known.min()) - 0.25, np.log10(known.max()) + 0.25
    steps = (1, 2, 5) if high - low <= 4 else (1,)
    ticks = [m * 10.0 ** e for e in range(int(np.floor(low)), int(np.ceil(high)) + 1) for m in steps]
    ticks = [t for t in ticks if low <= np.log10(t) <= high]
    return {"type": "log", "range": [low, high], "tickvals": ticks, "ticktext": [short_number(t) for t in ticks]}


def _group_points(rows: pd.DataFrame, name: str, colour: str, value: str, per: str) -> go.Scatter:
    """One group's organisations. A group with none keeps its legend entry (one point at None,
    which draws nothing): plotly leaves an empty trace out of the legend, and the colours need
    their key even when every organisation is on one side."""
    marker = {"color": colour, "size": 11}
    if rows.empty:
        return go.Scatter(x=[None], y=[None], mode="markers", name=name, marker=marker, showlegend=True)
    return go.Scatter(
        x=rows["Headcount"], y=rows[value], mode="markers+text", name=name, marker=marker, showlegend=True,
        text=[safe(n) for n in rows["Organisation"]], textposition="top center",
        customdata=np.stack([rows[per], rows["Headcount date"].astype(str)], axis=-1),
        hovertemplate="%{text}<br>%{y:,.0f} H100e · %{x:,.0f} people (%{customdata[1]})"
                      "<br>%{customdata[0]:,.1f} H100e per head<extra></extra>")


def per_head_scatter(table: pd.DataFrame, title: str, threshold: float) -> go.Figure:
    """Log-log: H100e against headcount, one point per organisation, coloured GPU-rich / GPU-poor,
    the threshold a labelled line (the y axis reaches it)."""
    if table.empty:
        return empty(title, "No organisation has both H100e and a headcount for these settings.")
    value = _column(table, "H100e (")
    per = _column(table, "H100e per head")
    fig = go.Figure()
    for group, colour in RICH_POOR.items():
        side = "≥" if group == "GPU-rich" else "<"
        fig.add_trace(_group_points(table.loc[table["Group"] == group], f"{group} ({side} {threshold:,.0f} H100e)",
                                    colour, value, per))
    fig.add_hline(y=threshold, line={"color": "#7f8c8d", "dash": "dash", "width": 1})
    # Labelled by hand: on a log axis an annotation's y is log10 of the value, and add_hline's own
    # label passes the value itself, which put it far off the chart.
    fig.add_annotation(text=f"GPU-rich line: {threshold:,.0f} H100e", xref="paper", x=0, xanchor="left",
                       y=np.log10(threshold), yanchor="bottom", showarrow=False, font={"color": "#555555"})
    layout(fig, title)
    fig.update_xaxes(_log_axis(table["Headcount"]),
                     title="Headcount (people, the report nearest the as-of date; log scale)")
    fig.update_yaxes(_log_axis(table[value], threshold), title=f"{value}, log scale")
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
