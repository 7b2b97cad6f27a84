"""The browser benchmark at the smoke size: a real ``streamlit run`` over the seeded store and
the 10k synthetic store, Debian's Chromium timing the overview's first visible chart. Kept out
of the harness's smoke run (``--no-browser``, ~40 s); like the browser tests it skips without
/usr/bin/chromium, except under ``CI=true`` where that fails."""

from __future__ import annotations

import re

import pytest

from bench.bench_browser import COLD_TIMEOUT_MS, MIN_WARM, WARM_TIMEOUT_MS, bench_browser
from bench.registry import Context
from tests.browser import require_chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("browser")]


def test_quick_browser_benchmark_times_the_first_chart_cold_and_warm_beside_seeded():
    require_chromium()
    ctx = Context(quick=True, repeat=1)
    warm, cold = bench_browser(ctx)
    for r in (warm, cold):
        assert set(r) == {"name", "value", "baseline", "ratio", "target", "met"}
        assert r["name"].startswith("browser: ") and "10k" in r["name"] and r["target"] == "report"
        # the ratio is of the unrounded figures: recomputed from the rounded ones it may differ by 0.01
        assert r["baseline"] > 0 and r["ratio"] == pytest.approx(r["value"] / r["baseline"], abs=0.006)
    assert "warm navigation" in warm["name"] and f"median of {MIN_WARM}" in warm["name"]
    assert 0 < warm["value"] < WARM_TIMEOUT_MS / 1000
    assert "cold first navigation" in cold["name"] and 0 < cold["value"] < COLD_TIMEOUT_MS / 1000
    section = ctx.sections["browser"]
    each = rf"(\d+\.\d\d, ){{{MIN_WARM - 1}}}\d+\.\d\d"
    assert re.search(rf"seeded {each}; 10k {each}\. Of which the static shell", section), section


def test_without_chromium_the_benchmark_says_what_is_missing_and_how_to_leave_it_out(monkeypatch):
    import tests.browser

    monkeypatch.setattr(tests.browser, "CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(RuntimeError, match=r"needs /nonexistent/chromium .*--no-browser"):
        bench_browser(Context(quick=True, repeat=1))
