"""The stacked chart (fleet.charts_detail.stacked): one trace per group, largest first, the
smallest folded into one "Other" trace beyond MAX_TRACES, values exactly the table's."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from fleet.charts_detail import MAX_TRACES, stacked

DATES = [date(2024, 3, 31), date(2024, 6, 30), date(2024, 9, 30)]


def table(groups: int, gap: int | None = None) -> pd.DataFrame:
    """Group g holds (g + 1) * 10 H100e at every date (group ``gap`` has no row at the first date)."""
    rows = [{"Date": d, "Chip": f"chip {g:02d}", "H100e (8bit basis)": float((g + 1) * 10)}
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
    assert len(names) == MAX_TRACES and names[-1] == "Other (5 more)"
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
