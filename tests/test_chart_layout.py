"""Charts drawn by plotly.js in Chromium, measured: no legend covers an axis title, a tick label or
an annotation, at a narrow and a wide page, and the researchers chart's threshold label is inside
its plot.

Each figure is plotted on a bare page by the plotly.js that plotly.py ships, so no Streamlit
server is needed: the overlaps the UX review saw were plotly's layout, not Streamlit's.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pandas as pd
import pytest

from fleet.charts_detail import MAX_TRACES, per_head_scatter, stacked
from fleet.charts_overview import over_time_chart
from fleet.charts_projection import run_chart
from tests.browser import chromium, require_chromium
from tests.test_charts_projection import MILESTONES, RUN_TABLE

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

# Everything on the figure that must stay readable, and the plot area (plotly's drag layer).
BOXES = """() => {
  const boxes = s => [...document.querySelectorAll(s)].map(e => e.getBoundingClientRect())
    .filter(b => b.width > 0 && b.height > 0).map(b => [b.left, b.top, b.right, b.bottom]);
  return {legend: boxes('.legend .bg'), plot: boxes('.nsewdrag'), annotations: boxes('.annotation-text'),
          labels: boxes('.xtitle, .ytitle, .y2title, .xtick text, .ytick text, .y2tick text')};
}"""
FAMILIES = ["Unspecified (H100e only)", "H100", "A100", "V100", "Blackwell", "H200", "TPU v4", "MI300", "Trainium",
            "Maia", "TPU v5p", "MI250X", "Gaudi", "TPU v5e", "TPU v3", "Ascend", "Kepler", "P100", "Other", "MTIA"]


def _families() -> pd.DataFrame:
    dates = [date(2012, 3, 31) + timedelta(days=91 * q) for q in range(56)]
    return pd.DataFrame([{"Date": d, "Chip family": f, "H100e (8bit basis)": float(len(FAMILIES) - i)}
                         for d in dates for i, f in enumerate(FAMILIES)])


def _over_time() -> pd.DataFrame:
    dates = [date(2012, 3, 31) + timedelta(days=91 * q) for q in range(56)]
    return pd.DataFrame({"Quarter end": dates, "GPU-rich organisations": [q // 4 for q in range(56)],
                         "GPU-rich share of tracked H100e (%, 8bit basis)": [min(100.0, 2.0 * q) for q in range(56)]})


def _heads() -> pd.DataFrame:
    rows = [("xAI", 500_000, 300), ("Meta", 2_300_000, 3400)]
    return pd.DataFrame([{"Organisation": n, "H100e per head (8bit basis)": h / c, "H100e (8bit basis)": h,
                          "Headcount": c, "Headcount date": date(2025, 3, 12), "Group": "GPU-rich"}
                         for n, h, c in rows])


FIGURES = {
    "chip families, share": lambda: stacked(_families(), "Chip family", "H100e (8bit basis)", "t", percent=True),
    "split over time": lambda: over_time_chart(_over_time()),
    "H100e per head": lambda: per_head_scatter(_heads(), "t", 20_000),
    "largest trainable run over time": lambda: run_chart(RUN_TABLE, MILESTONES, "t"),
}


def _overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.fixture(scope="module")
def plotter(tmp_path_factory):
    """A Chromium page with plotly.js (as plotly.py ships it) loaded once; each test plots into it."""
    from plotly.offline import get_plotlyjs

    require_chromium()
    folder = tmp_path_factory.mktemp("figures")
    (folder / "plotly.js").write_text(get_plotlyjs())
    (folder / "page.html").write_text('<html><body style="margin:0"><div id="fig"></div>'
                                      '<script src="plotly.js"></script></body></html>')
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        page.goto((folder / "page.html").as_uri())
        page.wait_for_function("() => window.Plotly !== undefined")
        yield page


DRAW = """async ([spec, width]) => {
  const div = document.getElementById('fig');
  Plotly.purge(div);
  div.style.width = width + 'px';
  await Plotly.newPlot(div, spec.data, spec.layout);
}"""


@pytest.mark.parametrize("width", [700, 1100])
@pytest.mark.parametrize("name", list(FIGURES))
def test_no_legend_covers_an_axis_title_a_tick_label_or_an_annotation(plotter, name, width):
    fig = FIGURES[name]()
    plotter.evaluate(DRAW, [json.loads(fig.to_json()), width])
    boxes = plotter.evaluate(BOXES)
    assert len(boxes["legend"]) == 1, f"{name}: no legend"  # plotly shows none for a lone trace
    (legend,) = boxes["legend"]
    covered = [box for box in boxes["labels"] + boxes["annotations"] if _overlap(legend, box)]
    assert not covered, f"{name} at {width}px: the legend {legend} covers {covered}"
    assert len(boxes["labels"]) > 6  # the measurement saw the axes
    if name == "chip families, share":
        assert fig.data[-1].name == "Other families (5)" and len(fig.data) == MAX_TRACES
    if name == "H100e per head":
        (plot,), (label,) = boxes["plot"], boxes["annotations"]
        inside = plot[0] <= label[0] and label[2] <= plot[2] and plot[1] <= label[1] and label[3] <= plot[3]
        assert inside, f"the threshold label {label} is not inside the plot {plot}"
