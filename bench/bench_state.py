"""Benchmark ``state``: "fleet state as of D" over the synthetic store's estimates.

The value: ``fleet.analytics.fleet.fleet_state`` (the full combining rule: fleet vs
cluster figures, conflicting same-day estimates as ranges, decommissioned groups,
organisation-wide H100e, per-holder H100e totals and ranges) on frames already loaded
from the store, then the GPU-rich/poor split -- what the GPU-rich vs GPU-poor page
reads. The baseline: DuckDB on the same pandas frame -- ``arg_max(count, valid_on)`` per
organisation x chip, priced in H100e, summed per organisation, split at
``GPU_RICH_H100E``. Target: <= 2x. A second row (reported, no target) also builds the
Overview leaderboard's columns (chip mix, distinct sources, lowest certainty, latest
source), which ``fleet_state`` builds only when a page reads them.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from bench.registry import benchmark, median_seconds, row

AS_OF = date(2025, 6, 30)
TARGET = 2.0
DUCK_SQL = """
WITH live AS (
    SELECT organisation_id, chip_id, "count", valid_on FROM est
    WHERE valid_on <= $as_of AND status <> 'planned' AND scope = 'fleet' AND chip_id IS NOT NULL),
latest AS (SELECT organisation_id, chip_id, arg_max("count", valid_on) AS qty FROM live GROUP BY ALL),
per_org AS (
    SELECT l.organisation_id, sum(l.qty * f.factor) AS h100e
    FROM latest l JOIN factors f ON f.id = l.chip_id WHERE f.factor IS NOT NULL GROUP BY 1)
SELECT count(*) FILTER (WHERE h100e >= $rich) AS rich, count(*) FILTER (WHERE h100e < $rich) AS poor,
       sum(h100e) FILTER (WHERE h100e >= $rich) AS rich_h100e, sum(h100e) AS total_h100e
FROM per_org
"""


def frames(url: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    from fleet.db import make_engine
    from fleet.views import SessionStore

    store = SessionStore(make_engine(url))
    return store.estimates(None), store.chips(), store.organisations()


def fleet_split(estimates: pd.DataFrame, chips: pd.DataFrame, orgs: pd.DataFrame) -> dict:
    from fleet.analytics.fleet import fleet_state
    from fleet.vocab import GPU_RICH_H100E

    totals = fleet_state(estimates, chips, orgs, as_of=AS_OF).holders
    rich = totals["h100e"] >= GPU_RICH_H100E
    return {"rich": int(rich.sum()), "poor": int((~rich).sum()), "rich_h100e": float(totals.loc[rich, "h100e"].sum()),
            "total_h100e": float(totals["h100e"].sum())}


def fleet_leaderboard(estimates: pd.DataFrame, chips: pd.DataFrame, orgs: pd.DataFrame) -> int:
    from fleet.analytics.fleet import fleet_state

    return len(fleet_state(estimates, chips, orgs, as_of=AS_OF).totals)


def duck_split(con, chips: pd.DataFrame) -> dict:
    from fleet.chips import factor_series
    from fleet.vocab import GPU_RICH_H100E

    factors = pd.DataFrame({"id": chips["id"], "factor": factor_series(chips).to_numpy()})  # noqa: F841 (scanned by DuckDB)
    con.register("factors", factors)
    out = con.execute(DUCK_SQL, {"as_of": pd.Timestamp(AS_OF), "rich": GPU_RICH_H100E}).fetchdf()
    return {k: (float(v) if "h100e" in k else int(v)) for k, v in out.iloc[0].items()}


@benchmark("state")
def bench(ctx) -> list[dict]:
    import duckdb

    estimates, chips, orgs = frames(ctx.sqlite_url())
    con = duckdb.connect()
    con.register("est", estimates)
    duck_split(con, chips)  # warm: DuckDB's first scan of a frame pays for its type sniffing
    fleet = median_seconds(lambda: fleet_split(estimates, chips, orgs), ctx.repeat)
    duck = median_seconds(lambda: duck_split(con, chips), ctx.repeat)
    board = median_seconds(lambda: fleet_leaderboard(estimates, chips, orgs), ctx.repeat)
    ours, theirs = fleet_split(estimates, chips, orgs), duck_split(con, chips)
    ctx.section("state", (
        f"As of {AS_OF}, {len(estimates):,} live estimates. Fleet (full rule): {ours['rich']:,} GPU-rich, "
        f"{ours['poor']:,} GPU-poor, {ours['total_h100e']:,.0f} H100e in all. DuckDB (latest fleet-scope row per "
        f"organisation x chip only): {theirs['rich']:,} rich, {theirs['poor']:,} poor, "
        f"{theirs['total_h100e']:,.0f} H100e. The figures differ because the baseline does less (no clusters, "
        "no conflict ranges, no decommissioning, no organisation-wide figures), which makes it a strict baseline.\n"))
    return [row(f"state: fleet state as of D over {ctx.spec.label} estimates, fleet_state vs DuckDB arg_max (s)",
                fleet, duck, f"<= {TARGET:g}x", fleet / duck <= TARGET),
            row("state: the same with the leaderboard's columns (chip mix, sources, certainty, latest source), "
                "vs DuckDB (s)", board, duck, "report", True)]
