"""Benchmarks ``postgres`` and ``explain``: the store's hot reads on both databases.

- ``postgres``: each read the pages make (``fleet.queries``: live estimates now and as
  known at a past time, organisations, headcounts, model runs) on the synthetic store in
  Postgres (database ``bench_synth``), beside the same read on the SQLite copy of it.
  Reported both ways; no target.
- ``explain``: the query plans of ``estimates_frame`` with and without ``known_at`` on
  both databases (SQLite ``EXPLAIN QUERY PLAN``, Postgres ``EXPLAIN``), into RESULTS.md.
"""

from __future__ import annotations

from datetime import datetime

from bench.registry import benchmark, median_seconds, row

KNOWN_AT = datetime(2024, 1, 1)


def reads():
    from fleet import queries

    return {
        "estimates_frame (now)": lambda s: queries.estimates_frame(s),
        f"estimates_frame (known_at {KNOWN_AT:%Y-%m-%d})": lambda s: queries.estimates_frame(s, known_at=KNOWN_AT),
        "organisations_frame": queries.organisations_frame,
        "headcounts_frame": lambda s: queries.headcounts_frame(s),
        "model_runs_frame": lambda s: queries.model_runs_frame(s),
    }


def _timed(url: str, read, repeat: int) -> float:
    from fleet.db import make_engine, read_session

    engine = make_engine(url)
    try:
        def once():
            with read_session(engine) as session:
                read(session)
        return median_seconds(once, repeat)
    finally:
        engine.dispose()


@benchmark("postgres")
def bench_postgres(ctx) -> list[dict]:
    rows = []
    repeat = max(1, ctx.repeat // 2)
    for name, read in reads().items():
        pg = _timed(ctx.postgres_url(), read, repeat)
        lite = _timed(ctx.sqlite_url(), read, repeat)
        rows.append(row(f"postgres: {name} at {ctx.spec.label}, Postgres vs SQLite (s)", pg, lite, "report both",
                        True))
    return rows


def _statement(known_at):
    from sqlalchemy import select

    from fleet.models import Estimate
    from fleet.queries import ESTIMATE_FRAME_COLUMNS, live_estimate_condition

    columns = (getattr(Estimate, c) for c in ESTIMATE_FRAME_COLUMNS)
    return select(*columns).where(live_estimate_condition(known_at)).order_by(Estimate.id)


def plan(url: str, known_at) -> str:
    from fleet.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            compiled = _statement(known_at).compile(conn, compile_kwargs={"literal_binds": True})
            if engine.dialect.name == "sqlite":
                lines = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").all()
                return "\n".join(f"{'  ' * _depth(lines, r)}{r[3]}" for r in lines)
            return "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {compiled}").all())
    finally:
        engine.dispose()


def _depth(lines, line) -> int:
    parents = {r[0]: r[1] for r in lines}
    depth, parent = 0, line[1]
    while parent in parents:
        depth, parent = depth + 1, parents[parent]
    return depth


@benchmark("explain")
def bench_explain(ctx) -> list[dict]:
    parts = []
    for known_at in (None, KNOWN_AT):
        for label, url in (("SQLite", ctx.sqlite_url()), ("Postgres", ctx.postgres_url())):
            parts.append(f"**{label}, estimates_frame(known_at={known_at})**\n\n```\n{plan(url, known_at)}\n```\n")
    ctx.section("explain", "\n".join(parts))
    return []
