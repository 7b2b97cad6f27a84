"""Smoke test of the import benchmark: it runs end to end on a small file and reports its
figures in the bench registry's shape (speed itself is judged in bench/, not here)."""

from __future__ import annotations

from bench import bench_import


def test_quick_import_benchmark_reports_three_figures():
    results = bench_import.run(quick=True)
    assert [r["name"].split(":")[0] for r in results] == ["import 5k rows"] * 3
    for row in results:
        assert set(row) == {"name", "value", "baseline", "ratio", "target", "met"}
        assert row["value"] > 0 and row["baseline"] > 0 and row["ratio"] > 0
        assert isinstance(row["met"], bool)
    assert "| import 5k rows: peak RSS (MB) |" in bench_import.table(results)
