"""Benchmark: import a synthetic 1M-row estimates CSV into an empty SQLite store.

Measured in the same run, each in its own fresh Python process (so timings and peak
memory do not leak between them), on the same file:

- ``plain``: ``csv.reader`` + ``sqlite3.executemany`` of the rows into one flat table;
- ``to_sql``: ``pandas.read_csv`` + ``DataFrame.to_sql`` into one flat table;
- ``fleet``: ``fleet.ingest.importer`` with full validation, name resolution,
  fingerprints, duplicate check and the batch/audit records, into a migrated store
  holding the 10k organisations and 7 chips (added before the clock starts).

Targets (issue 5): fleet <= 1.5x plain, >= 3x faster than to_sql, peak RSS <= 1.5 GB.
``run(quick)`` returns rows of {"name", "value", "baseline", "ratio", "target", "met"}.
The CSV is generated with a fixed seed and cached under bench/.cache/ (git-ignored).

    python -m bench.bench_import [--quick] [--rows N]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(__file__).resolve().parent / ".cache"
FULL_ROWS, QUICK_ROWS = 1_000_000, 5_000
ORGS = 10_000
CHIPS = ("NVIDIA H100 SXM5 80GB", "NVIDIA A100 SXM4 80GB", "NVIDIA H200 SXM", "NVIDIA B200",
         "AMD Instinct MI300X", "Google TPU v5p", "NVIDIA V100 SXM2 32GB")
COLUMNS = ("organisation", "chip", "count", "count_low", "count_high", "scope", "cluster", "valid_on", "status",
           "certainty", "access", "country", "source_url", "source_title", "note")
MAX_RSS_MB = 1536.0


def org_name(i: int) -> str:
    return f"Org {i:05d}"


def generate(path: Path, rows: int, seed: int = 20231128) -> Path:
    """A valid, duplicate-free estimates CSV: organisation x chip x date combinations."""
    rng = np.random.default_rng(seed)
    i = np.arange(rows)
    orgs = i % ORGS
    chips = (i // ORGS) % len(CHIPS)
    days = np.datetime64("2020-01-01") + (i // (ORGS * len(CHIPS))).astype("timedelta64[D]") * 7
    counts = rng.integers(8, 200_000, rows)
    ranged = rng.random(rows) < 0.3
    clustered = rng.random(rows) < 0.2
    statuses = np.where(rng.random(rows) < 0.9, "operational", "decommissioned")
    certainty = rng.choice(["confirmed", "likely", "speculative"], rows)
    countries = rng.choice(["USA", "CHN", "GBR", "FRA", "JPN", ""], rows)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        for k in range(rows):
            count = int(counts[k])
            writer.writerow((
                org_name(int(orgs[k])), CHIPS[chips[k]], count,
                int(count * 0.8) if ranged[k] else "", int(count * 1.25) if ranged[k] else "",
                "cluster" if clustered[k] else "fleet", f"Site {k % 97}" if clustered[k] else "",
                str(days[k]), statuses[k], certainty[k], "owned", countries[k],
                f"https://example.org/reports/{k % 50_000}", f"Report {k % 50_000}",
                "" if k % 10 else "synthetic row",
            ))
    tmp.replace(path)
    return path


def cached_csv(rows: int) -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"estimates_{rows}.csv"
    return path if path.is_file() else generate(path, rows)


# -- the three contenders, each run in a child process -------------------------------------

def run_plain(csv_path: Path, db_path: Path) -> None:
    with sqlite3.connect(db_path) as conn, csv_path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        conn.execute(f"CREATE TABLE flat ({', '.join(header)})")
        conn.executemany(f"INSERT INTO flat VALUES ({', '.join('?' * len(header))})", reader)


def run_to_sql(csv_path: Path, db_path: Path) -> None:
    import pandas as pd

    frame = pd.read_csv(csv_path)
    with sqlite3.connect(db_path) as conn:
        frame.to_sql("flat", conn, index=False)


def prepare_store(db_path: Path) -> str:
    """A migrated store with the organisations and chips the CSV names (not timed)."""
    from sqlalchemy import insert

    from fleet import migrate
    from fleet.db import make_engine, write_session
    from fleet.models import Chip, Organisation
    from fleet.names import name_key

    url = f"sqlite:///{db_path}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with write_session(engine) as (session, stamp):
        session.execute(insert(Chip), [{"name": c, "name_key": name_key(c), "peak_ops_8bit": 1e15} for c in CHIPS])
        session.execute(insert(Organisation), [
            {"name": org_name(i), "name_key": name_key(org_name(i)), "kind": "company", "created_at": stamp.recorded_at}
            for i in range(ORGS)])
    engine.dispose()
    return url


def run_fleet(csv_path: Path, db_path: Path) -> dict:
    from fleet.auth import Actor
    from fleet.db import make_engine
    from fleet.ingest.importer import commit_import, plan_import

    url = f"sqlite:///{db_path}"
    engine = make_engine(url)
    started = time.perf_counter()
    plan = plan_import(engine, csv_path.read_bytes(), file_name=csv_path.name)
    result = commit_import(engine, plan, Actor.system("bench"))
    seconds = time.perf_counter() - started
    if plan.rows_rejected or result.added != plan.rows_in:
        raise SystemExit(f"bench import did not add every row: {plan.summary()} {plan.messages(5)}")
    return {"seconds": seconds, "added": result.added}


def child(which: str, csv_path: Path, db_path: Path) -> dict:
    """Run one contender in this process; report wall time and peak RSS."""
    extra = {}
    if which == "fleet":
        extra = run_fleet(csv_path, db_path)
        seconds = extra.pop("seconds")
    else:
        started = time.perf_counter()
        (run_plain if which == "plain" else run_to_sql)(csv_path, db_path)
        seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "peak_rss_mb": peak_mb, **extra}


def measure(which: str, csv_path: Path) -> dict:
    with tempfile.TemporaryDirectory(prefix="fleet-bench-") as tmp:
        db_path = Path(tmp) / f"{which}.db"
        if which == "fleet":
            prepare_store(db_path)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        out = subprocess.run([sys.executable, "-m", "bench.bench_import", "--child", which, str(csv_path),
                              str(db_path)], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise RuntimeError(f"bench child {which} failed:\n{out.stderr[-3000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])


def run(quick: bool, rows: int | None = None) -> list[dict]:
    rows = rows or (QUICK_ROWS if quick else FULL_ROWS)
    csv_path = cached_csv(rows)
    plain, to_sql, fleet = (measure(w, csv_path) for w in ("plain", "to_sql", "fleet"))
    label = f"{rows // 1000}k" if rows < 1_000_000 else f"{rows // 1_000_000}M"
    vs_plain = fleet["seconds"] / plain["seconds"]
    speedup = to_sql["seconds"] / fleet["seconds"]
    return [
        {"name": f"import {label} rows: fleet vs csv+executemany (s)", "value": round(fleet["seconds"], 3),
         "baseline": round(plain["seconds"], 3), "ratio": round(vs_plain, 2), "target": "<= 1.5x",
         "met": vs_plain <= 1.5},
        {"name": f"import {label} rows: pandas read_csv+to_sql vs fleet (s)", "value": round(fleet["seconds"], 3),
         "baseline": round(to_sql["seconds"], 3), "ratio": round(speedup, 2), "target": ">= 3x faster",
         "met": speedup >= 3.0},
        {"name": f"import {label} rows: peak RSS (MB)", "value": round(fleet["peak_rss_mb"], 1),
         "baseline": round(plain["peak_rss_mb"], 1), "ratio": round(fleet["peak_rss_mb"] / MAX_RSS_MB, 2),
         "target": f"<= {MAX_RSS_MB:.0f} MB", "met": fleet["peak_rss_mb"] <= MAX_RSS_MB},
    ]


def table(results: list[dict]) -> str:
    lines = ["| benchmark | value | baseline | ratio | target | met |", "|---|---|---|---|---|---|"]
    lines += [f"| {r['name']} | {r['value']} | {r['baseline']} | {r['ratio']} | {r['target']} | "
              f"{'yes' if r['met'] else 'NO'} |" for r in results]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ROWS:,} rows instead of {FULL_ROWS:,}")
    parser.add_argument("--rows", type=int, help="rows to generate (overrides --quick)")
    parser.add_argument("--child", nargs=3, metavar=("WHICH", "CSV", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]), Path(args.child[2]))))
        return
    print(table(run(args.quick, args.rows)))


if __name__ == "__main__":
    main()
