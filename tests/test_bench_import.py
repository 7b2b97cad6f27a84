"""Smoke test of the import benchmark: it runs end to end on the quick synthetic file and
reports its figures in the bench registry's shape (speed itself is judged in bench/, not here)."""

from __future__ import annotations

from bench import bench_import, synthetic


def test_quick_import_benchmark_reports_three_figures():
    results = bench_import.run(quick=True)
    assert [r["name"].split(",")[0] for r in results] == ["import: 10k rows"] * 3
    for row in results:
        assert set(row) == {"name", "value", "baseline", "ratio", "target", "met"}
        assert row["value"] > 0 and row["baseline"] > 0 and row["ratio"] > 0
        assert isinstance(row["met"], bool)
    assert "| import: 10k rows, fleet peak RSS vs csv+executemany (MB) |" in bench_import.table(results)


def test_the_import_file_is_the_synthetic_store_in_the_import_format():
    path = bench_import.cached_csv(synthetic.QUICK)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].split(",") == list(synthetic.CSV_COLUMNS)
    assert len(lines) == 1 + synthetic.QUICK.estimates
