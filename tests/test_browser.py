"""The app in a real browser: every Explore page renders a chart and no error, a link with
parameters restores the widgets, and hostile organisation names stay text.

A real ``streamlit run`` on a free port serves a copy of the seeded SQLite store with one
extra organisation named like an XSS probe; Debian's Chromium loads each page. Screenshots
land in tests/artifacts/ (git-ignored) for a reviewer to look at.
"""

from __future__ import annotations

import re

from datetime import date
from urllib.parse import quote

import pytest

from fleet.db import make_engine
from tests.browser import ARTIFACTS, CHART, TIMEOUT, chromium, require_chromium, streamlit_server, wait_rendered
from tests.factories import add_estimates, add_org

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("browser")]

XSS = "<img src=x onerror=alert(1)>"
TABLE = '[data-testid="stDataFrame"]'
# Each Explore page and what it must show: a chart (the dashboard and projections) or, for the
# claims ledger, its table.
EXPLORE = {"": CHART,  # the Overview is the home page, served at /
           "rich-poor": CHART, "organisation": CHART, "chips": CHART, "researchers": CHART,
           "countries": CHART, "projections": CHART, "claims": TABLE}


@pytest.fixture(scope="module")
def server(templates, tmp_path_factory):
    require_chromium()
    url, drop = templates.clone("sqlite", "seeded")
    engine = make_engine(url)
    org = add_org(engine, XSS, kind="lab", country="USA")
    add_estimates(engine, [{"organisation_id": org, "chip_id": None, "h100e": 900_000.0, "scope": "fleet",
                            "valid_on": date(2024, 6, 30), "status": "operational",
                            "certainty": "likely", "access": "owned", "source_url": "https://example.org/xss"}])
    engine.dispose()
    with streamlit_server(url, tmp_path_factory.mktemp("st")) as base:
        yield base
    drop()


@pytest.fixture(scope="module")
def browser(server):
    with chromium() as b:
        yield b


@pytest.fixture
def tab(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    yield page
    context.close()


def assert_no_error(tab) -> None:
    assert tab.locator('[data-testid="stException"]').count() == 0
    assert tab.get_by_text("this page hit an error").count() == 0
    assert tab.get_by_text("Traceback").count() == 0


@pytest.mark.parametrize("path", list(EXPLORE))
def test_every_page_loads_with_a_visible_chart_and_no_error(server, tab, path):
    tab.goto(f"{server}/{path}")
    chart = tab.locator(EXPLORE[path]).first
    chart.wait_for(state="visible", timeout=TIMEOUT)
    wait_rendered(tab)
    assert_no_error(tab)
    if path == "countries":  # the map's outlines come from our own static folder, not a CDN
        tab.locator(".choroplethlocation").first.wait_for(state="attached", timeout=TIMEOUT)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"page-{path or 'overview'}.png"), full_page=True)
    assert tab.dialogs == []


CONTRIBUTE = {"import": "Import estimates", "edit": "Edit", "audit": "Audit log", "scrapers": "Scrapers",
              "scrapes": "Scrape runs", "snapshots": "Snapshots", "login": "Editor login"}


@pytest.mark.parametrize("path", list(CONTRIBUTE))
def test_every_contribute_page_loads_by_its_url(server, tab, path):
    # each page's module is imported when the page is first shown (fleet.ui.frame._page)
    tab.goto(f"{server}/{path}")
    tab.get_by_role("heading", name=CONTRIBUTE[path], exact=True).wait_for(state="visible", timeout=TIMEOUT)
    wait_rendered(tab)
    assert_no_error(tab)


def test_a_link_with_parameters_restores_the_widgets(server, tab):
    tab.goto(f"{server}/?basis=bf16&planned=true&as_of=2024-12-31")
    tab.locator(CHART).first.wait_for(state="visible", timeout=TIMEOUT)
    wait_rendered(tab)
    sidebar = tab.locator('[data-testid="stSidebar"]')
    assert sidebar.get_by_role("combobox", name="H100-equivalent basis").input_value().startswith("bf16")
    assert sidebar.locator('[data-testid="stDateInput"] input').first.input_value() == "2024-12-31"
    assert sidebar.locator('input[type="checkbox"]').first.is_checked()  # "Include planned capacity"
    # The URL keeps exactly the non-default state, so copying it reproduces the view.
    assert "basis=bf16" in tab.url and "planned=true" in tab.url and "as_of=2024-12-31" in tab.url
    assert_no_error(tab)


def test_the_organisation_chart_shows_dates_on_its_axis_and_in_its_hover(server, tab):
    # the chart's dates go to the browser as milliseconds on a date axis (charts_detail.epoch_ms)
    tab.goto(f"{server}/organisation?org=Meta")
    tab.locator(CHART).first.wait_for(state="visible", timeout=TIMEOUT)
    wait_rendered(tab)
    marker = tab.locator('[data-testid="stPlotlyChart"] .scatterlayer .trace').last.locator("path.point").last
    marker.hover(force=True)
    label = tab.locator('[data-testid="stPlotlyChart"] .hoverlayer .hovertext').first
    label.wait_for(state="visible", timeout=TIMEOUT)
    text = label.text_content()
    assert re.search(r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)( \d{1,2},)? 20\d\d", text), text
    assert not re.search(r"\d{12}|e\+1\d", text), text  # a date, never milliseconds
    ticks = [t.text_content() for t in tab.locator('[data-testid="stPlotlyChart"] .xtick text').all()]
    assert ticks and all(re.fullmatch(r"(\w{3} )?20\d\d", t) for t in ticks), ticks


def test_an_organisation_link_restores_the_selected_organisation(server, tab):
    tab.goto(f"{server}/organisation?org=Meta")
    tab.locator(CHART).first.wait_for(state="visible", timeout=TIMEOUT)
    wait_rendered(tab)
    assert tab.locator('[data-testid="stMain"] input[role="combobox"]').first.input_value() == "Meta"
    assert_no_error(tab)


def test_a_hostile_organisation_name_is_literal_text_and_no_dialog_fires(server, tab):
    tab.goto(f"{server}/organisation?org={quote(XSS)}")
    tab.locator(CHART).first.wait_for(state="visible", timeout=TIMEOUT)
    wait_rendered(tab)
    assert tab.get_by_text(XSS, exact=False).first.is_visible()
    assert tab.locator('img[src="x"]').count() == 0
    tab.goto(f"{server}/")
    tab.locator(CHART).first.wait_for(state="visible", timeout=TIMEOUT)
    wait_rendered(tab)
    assert tab.locator('img[src="x"]').count() == 0
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / "xss-overview.png"), full_page=True)
    assert tab.dialogs == []
    assert_no_error(tab)


def test_a_download_is_the_table_on_screen_with_its_provenance(server, tab):
    """The CSV is written when the button is pressed (Streamlit calls the page's function then)."""
    import io

    import pandas as pd

    tab.goto(f"{server}/?basis=bf16")
    tab.locator(CHART).first.wait_for(state="visible", timeout=TIMEOUT)
    wait_rendered(tab)
    buttons = tab.locator('[data-testid="stMain"] [data-testid="stDownloadButton"] button')
    texts = []
    for i in range(buttons.count()):
        if not buttons.nth(i).is_visible():  # e.g. inside a closed popover
            continue
        with tab.expect_download(timeout=TIMEOUT) as pressed:
            buttons.nth(i).click()
        download = pressed.value
        assert download.suggested_filename.startswith("fleet-") and download.suggested_filename.endswith(".csv")
        texts.append(open(download.path(), encoding="utf-8").read())
    [text] = [t for t in texts if "leaderboard" in t.splitlines()[0].lower() or "Organisation page" in t]
    provenance = [line for line in text.splitlines() if line.startswith("# ")]
    assert any("bf16" in line for line in provenance) and any("CC-BY 4.0" in line for line in provenance)
    board = pd.read_csv(io.StringIO(text), comment="#")
    assert len(board) > 100 and "H100e (bf16 basis)" in board.columns
    assert "Meta" in set(board["Organisation"])
    assert_no_error(tab)
