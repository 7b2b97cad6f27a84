"""Benchmark ``snapshot``: opening a snapshot link vs drawing the same page live (target <= 1.1x).

On a copy of the synthetic store (a snapshot is a write), a snapshot of the overview is
created; then, each on a fresh ``SessionStore`` (frames loaded from the database, as a cold
server would): *live* = ``build_view`` at the default view state, *snapshot* = ``resolve``
+ ``open_view`` (rebuild at the frozen state and cut-off, and verify the content hash).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from sqlalchemy.engine import make_url

from bench.registry import benchmark, median_seconds, row

TARGET = 1.1


@benchmark("snapshot")
def bench_snapshot(ctx) -> list[dict]:
    from fleet import snapshots
    from fleet.db import make_engine
    from fleet.view_state import SHARED
    from fleet.views import SessionStore, build_view, load_all

    load_all()
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "snapshot-bench.db"
        shutil.copyfile(make_url(ctx.sqlite_url()).database, copy)
        engine = make_engine(f"sqlite:///{copy}")
        try:
            token = snapshots.create(engine, "overview", {}, created_by="bench").id
            live_values = {p.key: p.default_value() for p in SHARED}
            live = median_seconds(lambda: build_view(SessionStore(engine), "overview", live_values), ctx.repeat)
            frozen = median_seconds(
                lambda: snapshots.open_view(SessionStore(engine), snapshots.resolve(engine, token)), ctx.repeat)
        finally:
            engine.dispose()
    ratio = frozen / live
    return [row(f"snapshot: open the overview's snapshot vs the live overview at {ctx.spec.label} (s)",
                frozen, live, f"<= {TARGET}x", ratio <= TARGET)]
