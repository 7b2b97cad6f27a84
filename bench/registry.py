"""The benchmark registry, the shared run context, and the result rows' shape.

A benchmark is ``fn(ctx) -> list[row]`` registered with ``@benchmark("name")``; each
row is ``{"name", "value", "baseline", "ratio", "target", "met"}`` and its name starts
with ``"<benchmark name>: "`` (so a ``--only`` run replaces just its own rows in
results.json). A benchmark may add a markdown section to RESULTS.md with
``ctx.section(name, text)`` (query plans, per-page figures). ``ctx`` knows the size
(``--quick``), how many repeats to take the median of, and builds the cached stores.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import Callable

from bench import synthetic

Row = dict
BENCHMARKS: dict[str, Callable[["Context"], list[Row]]] = {}
NEEDS_BROWSER: set[str] = set()


def benchmark(name: str, *, needs_browser: bool = False):
    def register(fn: Callable[["Context"], list[Row]]):
        BENCHMARKS[name] = fn
        if needs_browser:
            NEEDS_BROWSER.add(name)
        return fn
    return register


@dataclass
class Context:
    quick: bool
    repeat: int
    sections: dict[str, str] = field(default_factory=dict)
    _urls: dict[str, str] = field(default_factory=dict)

    @property
    def spec(self) -> synthetic.Spec:
        return synthetic.spec_for(self.quick)

    def section(self, name: str, text: str) -> None:
        self.sections[name] = text

    def sqlite_url(self) -> str:
        if "sqlite" not in self._urls:
            from bench.synthstore import sqlite_store

            self._urls["sqlite"] = sqlite_store(self.spec)
        return self._urls["sqlite"]

    def postgres_url(self) -> str:
        if "postgres" not in self._urls:
            from bench.synthstore import postgres_store

            self._urls["postgres"] = postgres_store(self.spec)
        return self._urls["postgres"]

    def seeded_url(self) -> str:
        if "seeded" not in self._urls:
            from bench.synthstore import seeded_store

            self._urls["seeded"] = seeded_store()
        return self._urls["seeded"]


def median_seconds(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``repeat`` calls of ``fn``."""
    times = []
    for _ in range(max(1, repeat)):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def row(name: str, value: float, baseline: float | None, target: str, met: bool, digits: int = 3) -> Row:
    """One result; ``ratio`` is value / baseline (None without a baseline)."""
    ratio = round(value / baseline, 2) if baseline else None
    return {"name": name, "value": round(value, digits), "baseline": None if baseline is None else round(baseline, digits),
            "ratio": ratio, "target": target, "met": bool(met)}
