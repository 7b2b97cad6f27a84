"""The Projections page's figures: every milestone line is named where it is (annotations on a
log axis take log10 of the value), close lines' names do not overlap, no line sits on the
x-axis, and the axes say their units. Plain figures, no browser."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest

from fleet import charts_projection as charts
from fleet.projection_views import MILESTONE_FLOP, PROJECTION, RUN, RUN_HIGH, RUN_LOW

# The seed's lines: three within 20 % of each other (Grok 3, GPT-4.5, GPT-4 × 20), and GPT-2 far below.
MILESTONES = pd.DataFrame({
    "Milestone": ["GPT-2 (1.5B)", "GPT-4", "Llama 3.1-405B", "Gemini 1.0 Ultra", "GPT-4 × 5", "Grok 3", "GPT-4.5",
                  "GPT-4 × 20", "GPT-4 × 100"],
    MILESTONE_FLOP: [1.92e21, 2.1e25, 3.8e25, 5e25, 1.05e26, 3.5e26, 3.8e26, 4.2e26, 2.1e27],
    "Kind": ["model run", "model run", "model run", "model run", "article line", "model run", "model run",
             "article line", "article line"],
})
RUNS_NOW = pd.DataFrame({"Organisation": ["Microsoft", "Tesla"], RUN: [3.1e26, 1.5e26],
                         "Run uses": ["largest cluster", "largest cluster"]})
RUN_TABLE = pd.DataFrame({"Date": [date(2024, 1, 1), date(2026, 11, 29), date(2026, 11, 29), date(2029, 11, 29)],
                          "Line": ["from the estimates", "from the estimates", PROJECTION, PROJECTION],
                          RUN: [1e26, 3.1e26, 3.1e26, 2e27], RUN_LOW: [1e26, 3.1e26, 3.1e26, 8e26],
                          RUN_HIGH: [1e26, 3.1e26, 3.1e26, 5e27]})


def drawn():
    return [charts.runs_bar(RUNS_NOW, MILESTONES, "now"), charts.run_chart(RUN_TABLE, MILESTONES, "over time")]


@pytest.mark.parametrize("fig", drawn(), ids=["runs_bar", "run_chart"])
def test_every_milestone_line_is_named_at_its_own_height(fig):
    labels = {a.text: a for a in fig.layout.annotations}
    assert set(labels) == set(MILESTONES["Milestone"])
    for name, flop in zip(MILESTONES["Milestone"], MILESTONES[MILESTONE_FLOP]):
        assert labels[name].y == pytest.approx(math.log10(flop))  # the leader's tip: on the line
        assert labels[name].showarrow and labels[name].xref == "x domain" and labels[name].x == 1
    lines = sorted(s.y0 for s in fig.layout.shapes)
    assert lines == sorted(MILESTONES[MILESTONE_FLOP])


@pytest.mark.parametrize("fig", drawn(), ids=["runs_bar", "run_chart"])
def test_close_lines_names_are_spread_apart_and_none_sits_on_the_axis(fig):
    low, high = fig.layout.yaxis.range
    assert low < math.log10(MILESTONES[MILESTONE_FLOP].min()) and high > math.log10(2e27)
    plot_px = {height: px for height, px in (charts.RUN_CHART_PX, charts.RUNS_BAR_PX)}[fig.layout.height]
    # each name's height in pixels up the plot: its line's, less its offset below the line's end (ay)
    spots = sorted((a.y - low) / (high - low) * plot_px - a.ay for a in fig.layout.annotations)
    assert min(b - a for a, b in zip(spots, spots[1:])) >= charts.LABEL_GAP_PX - 1e-6
    assert fig.layout.margin.r >= 6 * len("Gemini 1.0 Ultra")  # the names fit in the right margin


@pytest.mark.parametrize("fig, x_title", list(zip(drawn(), ["Organisation", "Date"])), ids=["runs_bar", "run_chart"])
def test_the_axes_say_their_units(fig, x_title):
    assert fig.layout.yaxis.title.text == "Trainable run (FLOP)" and fig.layout.yaxis.type == "log"
    assert fig.layout.xaxis.title.text == x_title


@pytest.mark.parametrize("targets, expected", [
    ([0, 100, 200], [0, 100, 200]),  # far apart: where they are
    ([100, 101, 102], [88, 101, 114]),  # a run of three: centred on its lines
    ([0, 5, 100, 104], [-4, 9, 95.5, 108.5]),  # two runs, each centred
    ([0, 10, 20, 30], [-4.5, 8.5, 21.5, 34.5]),  # runs that meet merge
    ([], []),
])
def test_spread_keeps_labels_apart_around_their_lines(targets, expected):
    assert charts._spread(targets, 13) == pytest.approx(expected)


def test_without_milestones_there_are_no_lines_and_the_axis_ranges_itself():
    fig = charts.runs_bar(RUNS_NOW, MILESTONES.head(0), "now")
    assert not fig.layout.annotations and not fig.layout.shapes and fig.layout.yaxis.range is None
