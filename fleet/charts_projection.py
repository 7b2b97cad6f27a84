"""Plotly figures of the Projections page: plain functions DataFrame -> Figure. No streamlit.

Each draws one table from ``fleet.projection_views`` (the same frame its "Download CSV"
writes): axis titles are those column names, which carry units, format and basis.
Compute and FLOP axes are logarithmic. User text (organisation, chip, cluster names)
is escaped before plotly sees it, so a name never becomes markup.
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from fleet.projection_views import ALL, HELD_FLAT, MILESTONE_FLOP, PROJECTION, RUN, RUN_HIGH, RUN_LOW, flops_col

FONT = "Source Sans Pro, Helvetica, Arial, sans-serif"
# Every Fleet figure is styled on this template, which is made plotly's default as well: a new
# Figure otherwise starts on plotly's own default, validating and deep-copying that template only
# to have it replaced (most of a small chart's drawing: the Overview's top 20, 0.15 s -> 0.035 s).
TEMPLATE = "plotly_white"
pio.templates.default = TEMPLATE
PALETTE = ["#1f4e79", "#c0392b", "#27ae60", "#8e44ad", "#e67e22", "#16a085", "#7f8c8d", "#d35400"]
LINE_STYLE = {
    "estimates (combined)": {"color": "#1f4e79", "width": 2.5},
    "from the estimates": {"color": "#1f4e79", "width": 2.5},
    "total (estimates)": {"color": "#1f4e79", "width": 2.5},
    PROJECTION: {"color": "#c0392b", "width": 2, "dash": "dash"},
    HELD_FLAT: {"color": "#7f8c8d", "width": 2, "dash": "dash"},
    "estimates + scenarios": {"color": "#27ae60", "width": 2, "dash": "dot"},
    "projection + scenarios": {"color": "#27ae60", "width": 2, "dash": "dot"},
    "Epoch AI leading-cluster trend (2.5×/yr)": {"color": "#8e44ad", "width": 1.5, "dash": "longdash"},
}


def safe(value):
    if isinstance(value, str):
        return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return value


def styled(fig: go.Figure, title: str, y_title: str, *, height: int = 460) -> go.Figure:
    fig.update_layout(title={"text": safe(title), "x": 0, "xanchor": "left", "font": {"size": 15}}, height=height,
                      margin={"l": 10, "r": 10, "t": 50, "b": 10}, font={"family": FONT}, template=TEMPLATE,
                      hoverlabel={"namelength": -1}, legend={"orientation": "h", "yanchor": "top", "y": -0.14,
                                                             "xanchor": "left", "x": 0})
    fig.update_yaxes(type="log", title=y_title, exponentformat="power")
    fig.update_xaxes(title="Date")
    return fig


def empty(title: str, message: str = "No data for these settings.") -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(title={"text": safe(title), "x": 0}, height=240, template=TEMPLATE)
    return fig


def band(fig: go.Figure, x, low, high, colour: str, name: str) -> None:
    """A shaded range between ``low`` and ``high`` (skipped where either is missing)."""
    rows = pd.DataFrame({"x": list(x), "low": list(low), "high": list(high)}).dropna()
    rows = rows.loc[(rows["low"] > 0) & (rows["high"] > 0)]
    if rows.empty:
        return
    fig.add_scatter(x=rows["x"], y=rows["high"], mode="lines", line={"width": 0}, showlegend=False,
                    hoverinfo="skip", legendgroup=name)
    fig.add_scatter(x=rows["x"], y=rows["low"], mode="lines", line={"width": 0}, fill="tonexty",
                    fillcolor=rgba(colour), name=f"{name} range", hoverinfo="skip", legendgroup=name)


def rgba(colour: str, alpha: float = 0.15) -> str:
    """A ``#rrggbb`` colour at ``alpha`` opacity."""
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _line(fig: go.Figure, rows: pd.DataFrame, y: str, name: str, style: dict, *, steps: bool, unit: str) -> None:
    rows = rows.loc[rows[y] > 0]
    fig.add_scatter(x=rows["Date"], y=rows[y], mode="lines", name=safe(name), line=style,
                    line_shape="hv" if steps else "linear", legendgroup=name,
                    hovertemplate=f"%{{x}}: %{{y:.3s}} {unit}<extra>{safe(name)}</extra>")


def _lined(table: pd.DataFrame, y: str, low: str | None, high: str | None, fig: go.Figure, unit: str) -> None:
    for line, rows in table.groupby("Line", sort=False):
        style = LINE_STYLE.get(line, {"color": "#555", "width": 2})
        if low in rows and high in rows and rows[low].notna().any():
            band(fig, rows["Date"], rows[low], rows[high], style["color"], line)
        _line(fig, rows, y, line, style, steps=line.startswith(("estimates", "from the", "total")), unit=unit)


def compute_chart(table: pd.DataFrame, fmt: str, title: str) -> go.Figure:
    """All tracked organisations (with range) and the leading countries, quarter by quarter."""
    y, low, high = flops_col(fmt), flops_col(fmt, "low"), flops_col(fmt, "high")
    if table.empty or not (table[y] > 0).any():
        return empty(title)
    fig = go.Figure()
    for i, (series, rows) in enumerate(table.groupby("Series", sort=False)):
        colour = PALETTE[i % len(PALETTE)]
        if series == ALL:
            band(fig, rows["Date"], rows[low], rows[high], colour, series)
        _line(fig, rows, y, series, {"color": colour, "width": 3 if series == ALL else 1.6}, steps=False,
              unit="FLOP/s")
    return styled(fig, title, y)


def holder_chart(table: pd.DataFrame, points: pd.DataFrame, fmt: str, title: str) -> go.Figure:
    """An organisation's peak FLOP/s: combined estimates (steps, range), projection band, its estimates."""
    y = flops_col(fmt)
    if table.empty or not (table[y] > 0).any():
        return empty(title)
    fig = go.Figure()
    _lined(table, y, flops_col(fmt, "low"), flops_col(fmt, "high"), fig, "FLOP/s")
    shown = points.loc[points[y] > 0]
    if len(shown):
        text = shown[["Estimate ID", "Chip", "Scope", "Cluster", "Certainty"]].astype(str).map(safe)
        fig.add_scatter(x=shown["Date"], y=shown[y], mode="markers", name="its estimates (each on its own)",
                        marker={"size": 7, "color": "#222", "symbol": "circle-open"}, customdata=text,
                        hovertemplate="#%{customdata[0]} %{customdata[1]} (%{customdata[2]} %{customdata[3]}): "
                                      "%{y:.3s} FLOP/s, %{customdata[4]}<extra>%{x}</extra>")
    return styled(fig, title, y)


def run_chart(table: pd.DataFrame, milestones: pd.DataFrame, title: str) -> go.Figure:
    """The largest trainable run over time against the milestone lines (GPT-4 × 5, × 20, × 100 ...)."""
    if table.empty or not (table[RUN] > 0).any():
        return empty(title)
    fig = go.Figure()
    _lined(table, RUN, RUN_LOW, RUN_HIGH, fig, "FLOP")
    fig = styled(fig, title, RUN, height=RUN_CHART_PX[0])
    _milestone_lines(fig, milestones, table[[RUN, RUN_LOW, RUN_HIGH]], plot_px=RUN_CHART_PX[1])
    return fig


# The milestone charts' heights and, less title, axis labels and legend, their plot areas' (about).
RUN_CHART_PX, RUNS_BAR_PX = (520, 330), (480, 280)
# A milestone label is 10 px text; labels of lines closer than this many pixels are moved apart.
LABEL_GAP_PX = 13
LOG_PAD = 0.15  # decades of headroom below the lowest and above the highest value or line


def _milestone_lines(fig: go.Figure, milestones: pd.DataFrame, values: pd.DataFrame, *, plot_px: int) -> None:
    """A line per milestone across the plot, named in the right margin with a leader to its end.

    Annotations on a log axis take log10 of the value (shapes take the value itself), and the
    axis range is set here, padded, so that the lowest line does not sit on the x-axis and
    pixel offsets are known: labels of close lines (GPT-4.5 and GPT-4 × 20 are 10 % apart) are
    spread ``LABEL_GAP_PX`` apart around their lines, each with a leader to its own line.
    ``plot_px`` is the plot area's approximate height. One layout update with every shape and
    label: ``add_hline`` per line re-validated the whole layout each time and was most of a
    warm rerun of the Projections page.
    """
    if milestones.empty:
        return
    ms = milestones.sort_values(MILESTONE_FLOP)
    logs = [math.log10(v) for v in ms[MILESTONE_FLOP]]
    shown = values.to_numpy(dtype="float64").ravel()
    shown = [math.log10(v) for v in shown if v > 0]
    low, high = min(logs + shown) - LOG_PAD, max(logs + shown) + LOG_PAD
    px = [(v - low) / (high - low) * plot_px for v in logs]
    shapes, labels = list(fig.layout.shapes or ()), list(fig.layout.annotations or ())
    for (_, m), at, where in zip(ms.iterrows(), logs, _spread(px, LABEL_GAP_PX)):
        colour = "#c0392b" if m["Kind"] == "article line" else "#777"
        y = m[MILESTONE_FLOP]
        shapes.append({"type": "line", "xref": "x domain", "x0": 0, "x1": 1, "yref": "y", "y0": y, "y1": y,
                       "line": {"color": colour, "dash": "dot" if m["Kind"] == "article line" else "dash",
                                "width": 1}})
        labels.append({"text": safe(str(m["Milestone"])), "xref": "x domain", "x": 1, "yref": "y", "y": at,
                       "xanchor": "left", "yanchor": "middle", "showarrow": True, "arrowhead": 0, "arrowwidth": 0.8,
                       "arrowcolor": colour, "ax": 16, "ay": -(where - (at - low) / (high - low) * plot_px),
                       "standoff": 0, "font": {"size": 10, "color": colour},
                       "hovertext": safe(f"{m['Milestone']}: {y:.3g} FLOP ({m['Kind']})")})
    longest = max(len(str(n)) for n in ms["Milestone"])
    fig.update_layout(shapes=shapes, annotations=labels, margin={"r": 24 + 6 * longest})
    fig.update_yaxes(range=[low, high])


def _spread(targets: list[float], gap: float) -> list[float]:
    """Positions for labels wanted at ``targets`` (ascending): at least ``gap`` apart, each run
    of labels that would overlap centred on the mean of its targets."""
    runs = [[t] for t in targets]
    merged = True
    while merged:
        merged = False
        for i in range(len(runs) - 1):
            if _run_start(runs[i], gap) + gap * len(runs[i]) > _run_start(runs[i + 1], gap):
                runs[i:i + 2] = [runs[i] + runs[i + 1]]
                merged = True
                break
    return [_run_start(run, gap) + gap * k for run in runs for k in range(len(run))]


def _run_start(run: list[float], gap: float) -> float:
    return sum(run) / len(run) - gap * (len(run) - 1) / 2


def total_chart(table: pd.DataFrame, fmt: str, title: str) -> go.Figure:
    """Top-N total, its fit and band, and Epoch AI's leading-cluster trend as a reference."""
    y = flops_col(fmt)
    if table.empty or not (table[y] > 0).any():
        return empty(title)
    fig = go.Figure()
    _lined(table, y, flops_col(fmt, "low"), flops_col(fmt, "high"), fig, "FLOP/s")
    return styled(fig, title, y)


def runs_bar(table: pd.DataFrame, milestones: pd.DataFrame, title: str) -> go.Figure:
    """Each organisation's largest trainable run now, on a log axis, with the milestone lines."""
    shown = table.loc[table[RUN] > 0]
    if shown.empty:
        return empty(title)
    fig = go.Figure(go.Bar(x=[safe(n) for n in shown["Organisation"]], y=shown[RUN], marker_color="#1f4e79",
                           customdata=shown[["Run uses"]].astype(str),
                           hovertemplate="%{x}: %{y:.3s} FLOP (%{customdata[0]})<extra></extra>"))
    fig = styled(fig, title, RUN, height=RUNS_BAR_PX[0])
    fig.update_xaxes(title="Organisation")
    _milestone_lines(fig, milestones, shown[[RUN]], plot_px=RUNS_BAR_PX[1])
    return fig
