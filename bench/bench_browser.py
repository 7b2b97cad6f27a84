"""Benchmark ``browser``: from navigation to the first visible chart on the overview, in Chromium.

What a visitor waits for, end to end (server script run, websocket, React, plotly drawing),
which the AppTest figures of ``pages`` leave out. Per store -- the seeded data (baseline),
then the synthetic store (value) -- a real ``streamlit run app.py`` on a free localhost port
with an empty frame cache of its own, driven by Debian's Chromium through Playwright (the
helpers and the chart selector of tests/browser.py, which the browser tests use):

- *cold*: the first navigation after the server starts; it computes and caches the
  overview's data (at 1M that is 20-60 s here), and is reported on its own row;
- *warm*: then the median of ``max(3, repeat)`` navigations to ``/``, each in a fresh
  browser context (a new visitor: no HTTP cache, a new streamlit session).

Each figure is the wall time from ``page.goto`` until the first plotly chart's SVG is
visible. After each, the page is left to finish its script run (untimed), so the tail of
one navigation never slows the next; a page that shows an exception fails the benchmark.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from bench.registry import benchmark, row

COLD_TIMEOUT_MS = 900_000  # the 1M store's first render reads and combines a million estimates
WARM_TIMEOUT_MS = 300_000
MIN_WARM = 3


def _navigate(browser, url: str, timeout_ms: int) -> tuple[float, float]:
    """Seconds from ``goto`` to the load event (the static shell) and to the first visible chart,
    in a fresh context; then wait out the script run."""
    from tests.browser import CHART, wait_rendered

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        started = time.perf_counter()
        page.goto(url, timeout=timeout_ms)
        shell = time.perf_counter() - started
        page.locator(CHART).first.wait_for(state="visible", timeout=timeout_ms)
        chart = time.perf_counter() - started
        wait_rendered(page, timeout_ms)
        error = page.locator('[data-testid="stException"]')
        if error.count():
            raise RuntimeError(f"{url} showed an exception, so its timing means nothing:\n"
                               f"{error.first.inner_text()[:2000]}")
        return shell, chart
    finally:
        context.close()


def store_figures(browser, database_url: str, warm_runs: int) -> dict:
    """The cold first navigation and the warm navigations on a new server over ``database_url``."""
    from playwright.sync_api import Error as PlaywrightError

    from tests.browser import streamlit_server

    with tempfile.TemporaryDirectory(prefix="bench-browser-") as tmp:
        workdir = Path(tmp)
        with streamlit_server(database_url, workdir, FLEET_FRAME_CACHE_DIR=str(workdir / "frames")) as base:
            try:
                _, cold = _navigate(browser, f"{base}/", COLD_TIMEOUT_MS)
                warm = [_navigate(browser, f"{base}/", WARM_TIMEOUT_MS) for _ in range(warm_runs)]
            except PlaywrightError as exc:
                logs = "".join(p.read_text()[-3000:] for p in workdir.glob("streamlit-*.log"))
                raise RuntimeError(f"browser benchmark on {database_url} failed: {exc}\nserver log:\n{logs}") from exc
    return {"cold": cold, "warm": statistics.median(c for _, c in warm), "runs": [c for _, c in warm],
            "shell": statistics.median(s for s, _ in warm)}


def _require_chromium() -> None:
    from tests.browser import CHROMIUM

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"the browser benchmark needs {CHROMIUM} (make browser installs Debian's chromium); "
                           "python -m bench --no-browser leaves it out")


@benchmark("browser", needs_browser=True)
def bench_browser(ctx) -> list[dict]:
    from tests.browser import chromium

    _require_chromium()
    warm_runs = max(MIN_WARM, ctx.repeat)
    with chromium() as browser:
        seeded = store_figures(browser, ctx.seeded_url(), warm_runs)
        big = store_figures(browser, ctx.sqlite_url(), warm_runs)
    label = ctx.spec.label
    ctx.section("browser", "Warm navigations to the first visible chart (s), each in a fresh browser context: "
                f"seeded {', '.join(f'{s:.2f}' for s in seeded['runs'])}; "
                f"{label} {', '.join(f'{s:.2f}' for s in big['runs'])}. Of which the static shell (the load "
                f"event, median): seeded {seeded['shell']:.2f} s, {label} {big['shell']:.2f} s; the rest is the "
                "websocket session, the script run and drawing the chart.\n")
    return [
        row(f"browser: warm navigation to the first visible chart on the overview (/) at {label} vs seeded "
            f"(s; Chromium, streamlit run, median of {warm_runs})", big["warm"], seeded["warm"], "report", True),
        row(f"browser: cold first navigation to the first visible chart on the overview at {label}, new server, "
            "frame cache empty, vs seeded (s)", big["cold"], seeded["cold"], "report", True),
    ]
