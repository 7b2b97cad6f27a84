"""Snapshot links in a real browser: press Share snapshot on the Overview, change the data, open
the link in a fresh browser context and see the banner and the same figures; the live page moved.

A real ``streamlit run`` serves a copy of the seeded SQLite store (``tests/browser.py``).
"""

from __future__ import annotations

from datetime import date

import pytest

from fleet.db import make_engine
from tests.browser import ARTIFACTS, CHART, TIMEOUT, chromium, require_chromium, streamlit_server, wait_rendered
from tests.factories import add_estimates, add_org
from tests.test_browser import assert_no_error

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("browser")]

METRICS = '[data-testid="stMetricValue"]'


@pytest.fixture
def served(templates, tmp_path):
    require_chromium()
    url, drop = templates.clone("sqlite", "seeded")
    engine = make_engine(url)
    with streamlit_server(url, tmp_path) as base, chromium() as browser:
        yield base, engine, browser
    engine.dispose()
    drop()


def open_page(browser, url: str):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.goto(url)
    tab.locator(CHART).first.wait_for(state="visible", timeout=TIMEOUT)
    wait_rendered(tab)
    assert_no_error(tab)
    return tab


def figures(tab) -> list[str]:
    return tab.locator(METRICS).all_inner_texts()


def test_share_then_open_the_link_elsewhere_shows_the_banner_and_the_same_figures(served):
    base, engine, browser = served
    tab = open_page(browser, f"{base}/?basis=bf16")
    before = figures(tab)
    assert before
    tab.get_by_text("Share snapshot").first.click()
    tab.get_by_label("Title (optional)").fill("Browser check")
    tab.get_by_role("button", name="Create snapshot link").click()
    # in the popover the button was pressed in, which stays open (a link below it was hidden under it)
    code = tab.locator('[data-testid="stPopoverBody"] [data-testid="stCode"] code').filter(has_text="?snapshot=")
    code.first.wait_for(state="visible", timeout=TIMEOUT)
    link = code.first.inner_text().strip()
    assert link.startswith(f"{base}/?snapshot=")
    org = add_org(engine, "Browser Test Lab", kind="lab", country="USA")
    add_estimates(engine, [{"organisation_id": org, "chip_id": None, "h100e": 5_000_000.0, "scope": "fleet",
                            "valid_on": date(2024, 6, 30), "status": "operational", "certainty": "likely",
                            "access": "owned", "source_url": "https://example.org/browser"}])
    shared = open_page(browser, link)  # a new context: another person opening the link
    shared.get_by_text("Snapshot of").first.wait_for(state="visible", timeout=TIMEOUT)
    assert shared.get_by_text("Browser check").first.is_visible()
    assert figures(shared) == before
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shared.screenshot(path=str(ARTIFACTS / "snapshot-overview.png"), full_page=True)
    live = open_page(browser, f"{base}/?basis=bf16")
    assert figures(live) != before
    bad = open_page_plain(browser, f"{base}/?snapshot=not-a-real-id")
    assert bad.get_by_text("Snapshot not available").first.is_visible()


def open_page_plain(browser, url: str):
    tab = browser.new_context().new_page()
    tab.goto(url)
    tab.get_by_text("no longer available").first.wait_for(state="visible", timeout=TIMEOUT)
    wait_rendered(tab)
    assert_no_error(tab)
    return tab
