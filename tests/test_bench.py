"""Smoke test of the benchmark harness: ``python -m bench --quick --no-browser`` runs every
registered benchmark but the Chromium ones on the 10k-estimate synthetic store and writes its
report (speed is judged in bench/RESULTS.md from full runs, not here). The browser benchmark
adds ~40 s and needs /usr/bin/chromium, so tests/test_bench_browser.py runs it on its own, under
the browser tests' rule (skip without Chromium, fail under CI=true)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_quick_run_measures_every_benchmark_and_writes_the_report(tmp_path, pg_server):
    from bench.registry import BENCHMARKS, NEEDS_BROWSER
    from bench.suite import load

    load()
    assert NEEDS_BROWSER == {"browser"}  # what --no-browser leaves out, and test_bench_browser runs
    done = subprocess.run([sys.executable, "-m", "bench", "--quick", "--no-browser", "--out", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = json.loads((tmp_path / "results.json").read_text())
    assert all(set(r) == {"name", "value", "baseline", "ratio", "target", "met"} for r in rows)
    owners = {r["name"].split(":")[0] for r in rows}
    assert owners == set(BENCHMARKS) - {"explain"} - NEEDS_BROWSER  # explain writes query plans, not figures
    assert all(r["value"] > 0 for r in rows)
    assert any("right after a write" in r["name"] for r in rows)  # the edited copy of the store was rendered
    report = (tmp_path / "RESULTS.md").read_text()
    assert "| benchmark | value | baseline | ratio | target | met |" in report
    assert "error shown" not in report  # every page rendered on the synthetic store without an error
    assert "QUERY PLAN" in report or "SCAN" in report or "SEARCH" in report  # the SQLite plan
    assert "Seq Scan" in report or "Index" in report  # the Postgres plan


def test_only_rejects_an_unknown_benchmark_by_name():
    done = subprocess.run([sys.executable, "-m", "bench", "--only", "nope"], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 2
    assert "--only: unknown benchmark nope" in done.stderr and "import" in done.stderr
