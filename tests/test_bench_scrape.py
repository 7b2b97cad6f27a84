"""Smoke test of the scrape benchmark: it runs end to end and reports its figure in the bench
registry's shape (the speed itself is judged in bench/, not here)."""

from __future__ import annotations

from bench import bench_scrape


def test_quick_scrape_benchmark_reports_concurrent_beside_sequential():
    [row] = bench_scrape.run(quick=True)
    assert set(row) == {"name", "value", "baseline", "ratio", "target", "met"}
    assert row["name"].startswith("scrape: 20 sources x 100 ms")
    assert row["baseline"] >= 20 * 0.1  # the sequential run really waited for every source
    assert 0 < row["value"] < row["baseline"] and isinstance(row["met"], bool)
    assert "| scrape: 20 sources" in bench_scrape.table([row])
