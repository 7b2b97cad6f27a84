"""The detail pages' charts (fleet.charts_detail). The stacked chart: one trace per group, largest
first, the smallest folded into one "Other …" trace beyond MAX_TRACES (with the catalog's "Other"
family in it), values exactly the table's, every area a distinct colour. The per-head scatter:
both groups in the legend, a labelled threshold, log axes with major ticks only."""

from __future__ import annotations

import itertools
import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from fleet.charts_detail import FOLD_GREY, MAX_TRACES, per_head_scatter, stacked

DATES = [date(2024, 3, 31), date(2024, 6, 30), date(2024, 9, 30)]


def table(groups: int, gap: int | None = None, names: dict[int, str] | None = None) -> pd.DataFrame:
    """Group g holds (g + 1) * 10 H100e at every date (group ``gap`` has no row at the first date);
    ``names`` renames some groups."""
    names = names or {}
    rows = [{"Date": d, "Chip": names.get(g, f"chip {g:02d}"), "H100e (8bit basis)": float((g + 1) * 10)}
            for g in range(groups) for i, d in enumerate(DATES) if not (i == 0 and g == gap)]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("groups", [1, MAX_TRACES - 1, MAX_TRACES])
def test_up_to_the_limit_every_group_is_its_own_trace_largest_first(groups):
    fig = stacked(table(groups), "Chip", "H100e (8bit basis)", "t")
    assert [t.name for t in fig.data] == [f"chip {g:02d}" for g in reversed(range(groups))]
    assert list(fig.data[0].y) == [groups * 10.0] * len(DATES)


def test_a_group_without_a_row_at_a_date_is_stacked_as_zero_there():
    fig = stacked(table(3, gap=2), "Chip", "H100e (8bit basis)", "t")
    [gapped] = [t for t in fig.data if t.name == "chip 02"]
    assert list(gapped.y) == [0.0, 30.0, 30.0]


def test_beyond_the_limit_the_smallest_groups_are_one_other_trace_with_their_sum():
    groups = MAX_TRACES + 4
    fig = stacked(table(groups), "Chip", "H100e (8bit basis)", "t")
    names = [t.name for t in fig.data]
    assert len(names) == MAX_TRACES and names[-1] == "Other chips (5)"
    assert list(fig.data[-1].y) == pytest.approx([150.0] * len(DATES))  # chip 00..04: 10 + 20 + ... + 50
    drawn = sum(np.asarray(t.y) for t in fig.data)
    assert drawn[-1] == pytest.approx(table(groups).groupby("Date")["H100e (8bit basis)"].sum().iloc[-1])


def test_lines_keep_gaps_as_gaps():
    fig = stacked(table(2, gap=1), "Chip", "H100e (8bit basis)", "t", lines=True)
    assert np.isnan(fig.data[0].y[0]) and fig.data[0].stackgroup is None


def test_an_empty_table_draws_the_empty_figure():
    fig = stacked(table(0).reindex(columns=["Date", "Chip", "H100e (8bit basis)"]), "Chip", "H100e (8bit basis)", "t")
    assert len(fig.data) == 0 and fig.layout.annotations[0].text


def test_a_figure_is_the_same_whatever_template_plotly_would_start_it_on(monkeypatch):
    """Fleet makes its template plotly's default (a new figure no longer validates and copies plotly's
    own, only to replace it): the figures come out exactly as when they started on plotly's."""
    import plotly.io as pio

    from fleet.charts_projection import TEMPLATE

    assert pio.templates.default == TEMPLATE
    ours = json.loads(stacked(table(3), "Chip", "H100e (8bit basis)", "t").to_json())
    monkeypatch.setattr(pio.templates, "default", "plotly")
    theirs = json.loads(stacked(table(3), "Chip", "H100e (8bit basis)", "t").to_json())
    assert ours == theirs
    assert ours["layout"]["template"]["layout"]["plot_bgcolor"] == "white"  # plotly_white's, not plotly's #E5ECF6


# --- one "other" area, distinct colours, the legend clear of the axes ----------------------------

def _lab(colour: str) -> np.ndarray:
    """CIELAB of "#rrggbb" or "rgba(r,g,b,a)" (D65), for colour differences as the eye sees them."""
    if colour.startswith("rgba"):
        rgb = np.array([float(v) for v in colour[5:-1].split(",")[:3]]) / 255
    else:
        rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255
    linear = np.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ linear
    f = np.cbrt(np.maximum(xyz / np.array([0.95047, 1.0, 1.08883]), 0.008856))
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _chroma(colour: str) -> float:
    return float(np.hypot(*_lab(colour)[1:]))


def test_the_catalog_s_other_family_joins_the_fold_so_the_legend_has_one_other_area():
    # the UX review's legend held both "Other (6 more)" and "Other" (the catalog's family for chips in no
    # named family): two "other" areas, and nothing said how they differed
    groups = MAX_TRACES + 4
    data = table(groups, names={10: "Other"}).rename(columns={"Chip": "Chip family"})
    fig = stacked(data, "Chip family", "H100e (8bit basis)", "t")
    names = [t.name for t in fig.data]
    assert [n for n in names if n.lower().startswith("other")] == ["Other families (5)"] and len(names) == MAX_TRACES
    assert "chip 04" in names  # the 15 largest named groups are kept, though "Other" (110) is larger than some
    assert list(fig.data[-1].y) == pytest.approx([10 + 20 + 30 + 40 + 110.0] * len(DATES))


def test_up_to_the_limit_the_other_family_is_one_area_of_its_own_in_grey():
    fig = stacked(table(4, names={1: "Other"}), "Chip", "H100e (8bit basis)", "t")
    colours = {t.name: t.line.color for t in fig.data}
    assert colours["Other"] == FOLD_GREY and FOLD_GREY not in [c for n, c in colours.items() if n != "Other"]


@pytest.mark.parametrize("groups", [MAX_TRACES, MAX_TRACES + 9])
def test_every_area_has_a_colour_far_from_every_other_and_only_the_fold_is_grey(groups):
    # in the review "Other (6 more)", "TPU v4" and "MI300" were near-identical greys, and "Maia" and "Trainium" alike
    fig = stacked(table(groups), "Chip", "H100e (8bit basis)", "t")
    fills = [t.fillcolor for t in fig.data]
    assert len(set(fills)) == len(fills) == MAX_TRACES
    assert min(np.linalg.norm(_lab(a) - _lab(b)) for a, b in itertools.combinations(fills, 2)) >= 25
    shown = fig.data if groups == MAX_TRACES else fig.data[:-1]
    assert min(_chroma(t.line.color) for t in shown) >= 20  # no grey among the named groups
    if groups > MAX_TRACES:
        assert fig.data[-1].line.color == FOLD_GREY and _chroma(FOLD_GREY) < 1


def test_the_stacked_legend_sits_under_the_figure_and_the_share_axis_names_its_basis():
    fig = stacked(table(3), "Chip", "H100e (8bit basis)", "t", percent=True)
    legend = fig.layout.legend
    assert (legend.yref, legend.y, legend.yanchor, legend.orientation) == ("container", 0, "bottom", "h")
    assert fig.layout.yaxis.title.text == "Share of tracked H100e (%, 8bit basis)"


def test_on_a_100_percent_chart_a_group_that_once_led_keeps_its_own_area():
    # a family that held most of the early years (Kepler) is small in a sum over all dates dominated by
    # today's fleets: ranked by that sum it vanished into the fold and the fold led the chart for years
    data = table(MAX_TRACES + 2)
    first, oldest = data["Date"] == DATES[0], data["Chip"] == "chip 00"
    data = data.loc[oldest | ~first]  # at the first date, chip 00 is all there is ...
    data.loc[oldest & ~first, "H100e (8bit basis)"] = 0.0  # ... and then none: 10 H100e in all
    share = [t.name for t in stacked(data, "Chip", "H100e (8bit basis)", "t", percent=True).data]
    amount = [t.name for t in stacked(data, "Chip", "H100e (8bit basis)", "t").data]
    assert share[0] == "chip 00" and "chip 00" not in amount and amount[0] == "chip 17"


# --- the per-head scatter ------------------------------------------------------------------------

def heads(*rows: tuple[str, float, float]) -> pd.DataFrame:
    """(organisation, H100e, headcount) rows as the researchers view lays them out, at the 20k line."""
    return pd.DataFrame([{"Organisation": name, "H100e per head (8bit basis)": h / n, "H100e (8bit basis)": h,
                          "Headcount": n, "Headcount date": date(2025, 3, 12),
                          "Group": "GPU-rich" if h >= 20_000 else "GPU-poor"} for name, h, n in rows])


def test_the_scatter_keeps_both_groups_in_its_legend_when_every_point_is_rich():
    fig = per_head_scatter(heads(("xAI", 500_000, 300), ("Meta", 2_300_000, 3400)), "t", 20_000)
    assert [(t.name, t.showlegend) for t in fig.data] == [("GPU-rich (≥ 20,000 H100e)", True),
                                                           ("GPU-poor (< 20,000 H100e)", True)]
    assert list(fig.data[0].text) == ["xAI", "Meta"] and all(v is None for v in fig.data[1].y)
    assert fig.layout.legend.yref == "container" and fig.layout.legend.y == 0


def test_the_threshold_line_is_labelled_inside_the_y_range_though_every_point_is_far_above_it():
    fig = per_head_scatter(heads(("xAI", 500_000, 300), ("Meta", 2_300_000, 3400)), "t", 20_000)
    (label,) = fig.layout.annotations
    assert label.text == "GPU-rich line: 20,000 H100e" and label.showarrow is False
    low, high = fig.layout.yaxis.range
    assert label.y == pytest.approx(np.log10(20_000)) and low < label.y < high  # log axis: y in log10 units
    assert fig.layout.shapes[0].y0 == 20_000


def test_the_log_axes_carry_major_ticks_only_labelled_as_numbers():
    # plotly's own log ticks labelled each minor step with a bare "2", "3" … "9"
    fig = per_head_scatter(heads(("xAI", 500_000, 300), ("Meta", 2_300_000, 3400), ("Mistral AI", 4000, 350)),
                           "t", 20_000)
    for axis in (fig.layout.xaxis, fig.layout.yaxis):
        assert axis.type == "log" and len(axis.tickvals) >= 3
        mantissas = {round(v / 10 ** np.floor(np.log10(v)), 6) for v in axis.tickvals}
        assert mantissas <= {1, 2, 5}
        assert all(t[-1] in "0kM" for t in axis.ticktext)
    assert list(fig.layout.xaxis.ticktext) == ["200", "500", "1k", "2k", "5k"]
    assert fig.layout.xaxis.title.text.startswith("Headcount (people")
    assert fig.layout.yaxis.title.text == "H100e (8bit basis), log scale"


def test_over_a_long_span_the_log_ticks_are_the_powers_of_ten():
    fig = per_head_scatter(heads(("big", 5_000_000, 30), ("small", 5, 20_000)), "t", 20_000)
    assert list(fig.layout.yaxis.ticktext) == ["10", "100", "1k", "10k", "100k", "1M"]

