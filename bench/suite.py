"""The modules that register benchmarks, in the order ``python -m bench`` runs them."""

from __future__ import annotations

import importlib

MODULES = ("bench.bench_import", "bench.bench_state", "bench.bench_views", "bench.bench_browser", "bench.bench_snapshot",
           "bench.bench_stores", "bench.bench_scrape")


def load() -> None:
    for name in MODULES:
        importlib.import_module(name)
