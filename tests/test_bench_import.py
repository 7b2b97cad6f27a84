"""Smoke test of the import benchmark: it runs end to end on the quick synthetic file and
reports its figures in the bench registry's shape (speed itself is judged in bench/, not here)."""

from __future__ import annotations

import csv

from bench import bench_import, synthetic


def test_quick_import_benchmark_reports_its_figures_and_the_sqlite_floor():
    results = bench_import.run(quick=True)
    assert [r["name"].split(",")[0] for r in results] == ["import: 10k rows"] * 6
    assert "SQLite floor" in results[0]["name"] and results[0]["target"] == "report"
    for row in results:
        assert set(row) == {"name", "value", "baseline", "ratio", "target", "met"}
        assert row["value"] > 0 and row["baseline"] > 0 and row["ratio"] > 0
        assert isinstance(row["met"], bool)
    assert "| import: 10k rows, fleet peak RSS vs csv+executemany (MB) |" in bench_import.table(results)


def test_the_import_file_is_the_synthetic_store_in_the_import_format():
    path = bench_import.cached_csv(synthetic.QUICK)
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == list(synthetic.CSV_COLUMNS)
    assert len(rows) == 1 + synthetic.QUICK.estimates
    assert {r[0] for r in rows[1:]} <= {synthetic.org_name(i) for i in range(1, synthetic.QUICK.organisations + 1)}
