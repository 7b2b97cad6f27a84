"""Benchmark: import a synthetic 1M-row estimates CSV into an empty SQLite store.

Measured in the same run, each in its own fresh Python process (so timings and peak
memory do not leak between them), on the same file:

- ``plain``: ``csv.reader`` + ``sqlite3.executemany`` of the rows into one flat table;
- ``to_sql``: ``pandas.read_csv`` + ``DataFrame.to_sql`` into one flat table;
- ``fleet``: ``fleet.ingest.importer`` with full validation, name resolution,
  fingerprints, duplicate check and the batch/audit records, into a migrated store
  holding the synthetic organisations and the seed catalog's chips (added before the
  clock starts);
- ``floor`` (reported, no target): what SQLite alone costs to store the same rows in
  Fleet's schema -- typed rows copied by one ``INSERT ... SELECT`` from another file,
  the indexes rebuilt, the WAL commit -- the part of the gap no Python change can close.

Targets (issue 5): fleet <= 1.5x plain, >= 3x faster than to_sql, peak RSS <= 1.5 GB.
``run(quick, repeat)`` returns rows of {"name", "value", "baseline", "ratio", "target",
"met"} (medians of ``repeat`` rounds of all four; wall and CPU seconds); registered as the ``import`` benchmark. The CSV
is the synthetic store's estimates (``bench.synthetic.import_csv``: 1M rows, 10k with
``--quick``), cached under bench/.cache/ (git-ignored).

    python -m bench --only import [--quick]      (or: python -m bench.bench_import [--quick])
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import statistics
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import synthetic
from bench.registry import benchmark, row

ROOT = Path(__file__).resolve().parent.parent
MAX_RSS_MB = 1536.0


def cached_csv(spec: synthetic.Spec) -> Path:
    """The synthetic store's estimates in the import format (``bench.synthetic``), cached."""
    return synthetic.import_csv(spec)


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


def prepare_store(db_path: Path, spec: synthetic.Spec) -> str:
    """A migrated store with the seed catalog's chips and the synthetic organisations (not timed)."""
    from sqlalchemy import insert

    from bench.synthstore import _chips
    from fleet import migrate
    from fleet.db import make_engine, write_session
    from fleet.models import Organisation
    from fleet.names import name_key

    url = f"sqlite:///{db_path}"
    migrate.upgrade(url)
    engine = make_engine(url)
    names = [synthetic.org_name(i) for i in range(1, spec.organisations + 1)]
    with write_session(engine) as (session, stamp):
        _chips(session)
        session.execute(insert(Organisation), [
            {"name": n, "name_key": name_key(n), "kind": "company", "created_at": stamp.recorded_at} for n in names])
    engine.dispose()
    return url


def run_fleet(csv_path: Path, db_path: Path) -> dict:
    from fleet import allocator
    from fleet.auth import Actor
    from fleet.db import make_engine
    from fleet.ingest.importer import commit_import, plan_import

    allocator.tune()  # as ``python -m fleet import`` does
    url = f"sqlite:///{db_path}"
    engine = make_engine(url)
    started, cpu = time.perf_counter(), time.process_time()
    plan = plan_import(engine, csv_path.read_bytes(), file_name=csv_path.name)
    result = commit_import(engine, plan, Actor.system("bench"))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    if plan.rows_rejected or result.added != plan.rows_in:
        raise SystemExit(f"bench import did not add every row: {plan.summary()} {plan.messages(5)}")
    return {"seconds": seconds, "cpu_seconds": cpu, "added": result.added}


def run_floor(csv_path: Path, db_path: Path) -> dict:
    """What SQLite alone costs to store these rows in Fleet's schema: the rows already typed,
    resolved and fingerprinted in a table of another file (a Fleet import made them, not
    timed), then timed: one ``INSERT INTO estimate SELECT`` (CHECKs and foreign keys
    enforced), the indexes Fleet's bulk path drops rebuilt as it does, the WAL commit -- the
    bulk path with no Python in it."""
    from fleet.ingest.bulk import _sqlite_bulk_mode

    source = db_path.with_name("typed.db")
    spec = next(s for s in (synthetic.QUICK, synthetic.FULL) if synthetic.import_csv(s) == csv_path)
    prepare_store(source, spec)  # the same organisations and chips, so the same ids
    run_fleet(csv_path, source)
    conn = sqlite3.connect(db_path, isolation_level=None)
    for pragma in ("journal_mode = WAL", "synchronous = NORMAL", "foreign_keys = ON", "cache_size = -262144"):
        conn.execute(f"PRAGMA {pragma}")
    conn.execute("ATTACH ? AS typed", (str(source),))
    conn.execute("INSERT INTO ingest_batch SELECT * FROM typed.ingest_batch")
    adding = conn.execute("SELECT count(*) FROM typed.estimate").fetchone()[0]
    started, cpu = time.perf_counter(), time.process_time()
    conn.execute("BEGIN IMMEDIATE")
    # the indexes dropped and rebuilt as Fleet's bulk path does for an import (one batch id, one stamp)
    with _sqlite_bulk_mode(conn, "estimate", adding, ("batch_id", "recorded_at")):
        conn.execute("INSERT INTO estimate SELECT * FROM typed.estimate")
    conn.execute("COMMIT")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    counts = [conn.execute(f"SELECT count(*) FROM {db}.estimate").fetchone()[0] for db in ("main", "typed")]
    if counts[0] != counts[1] or conn.execute("PRAGMA foreign_key_check(estimate)").fetchone() is not None:
        raise SystemExit(f"bench floor copied {counts[0]:,} of {counts[1]:,} rows, or broke a foreign key")
    return {"seconds": seconds, "cpu_seconds": cpu}


def child(which: str, csv_path: Path, db_path: Path) -> dict:
    """Run one contender in this process; report wall time and peak RSS."""
    extra = {}
    if which in ("fleet", "floor"):
        extra = (run_fleet if which == "fleet" else run_floor)(csv_path, db_path)
        seconds = extra.pop("seconds")
    else:
        started, cpu = time.perf_counter(), time.process_time()
        (run_plain if which == "plain" else run_to_sql)(csv_path, db_path)
        seconds, extra["cpu_seconds"] = time.perf_counter() - started, time.process_time() - cpu
    return {"seconds": seconds, "peak_rss_mb": own_peak_mb(), **extra}


def own_peak_mb() -> float:
    """This process's peak RSS. Linux carries ``ru_maxrss`` over from the parent through fork and
    exec (a child of a 1.5 GB parent reports at least 1.5 GB); ``VmHWM`` belongs to the address
    space, which exec replaces. ``ru_maxrss`` where there is no /proc (it is right there)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(which: str, csv_path: Path, spec: synthetic.Spec) -> dict:
    with tempfile.TemporaryDirectory(prefix="fleet-bench-") as tmp:
        db_path = Path(tmp) / f"{which}.db"
        if which in ("fleet", "floor"):
            prepare_store(db_path, spec)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        out = subprocess.run([sys.executable, "-m", "bench.bench_import", "--child", which, str(csv_path),
                              str(db_path)], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise RuntimeError(f"bench child {which} failed:\n{out.stderr[-3000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])


CONTENDERS = ("plain", "to_sql", "fleet", "floor")


def _medians(csv_path: Path, spec: synthetic.Spec, repeat: int) -> dict[str, dict]:
    """Per contender: median seconds (and the largest peak RSS) of ``repeat`` fresh-process
    runs, taken in rounds (each round runs every contender once), so that a burst of load
    from other jobs on the shared machine falls on all of them rather than on one."""
    runs: dict[str, list[dict]] = {w: [] for w in CONTENDERS}
    for _ in range(max(1, repeat)):
        for which in CONTENDERS:
            runs[which].append(measure(which, csv_path, spec))
    return {w: {"seconds": statistics.median(r["seconds"] for r in rs),
                "cpu_seconds": statistics.median(r["cpu_seconds"] for r in rs),
                "peak_rss_mb": max(r["peak_rss_mb"] for r in rs)} for w, rs in runs.items()}


def run(quick: bool, repeat: int = 1) -> list[dict]:
    spec = synthetic.spec_for(quick)
    csv_path = cached_csv(spec)
    medians = _medians(csv_path, spec, repeat)
    plain, to_sql, fleet, floor = (medians[w] for w in CONTENDERS)
    label = f"import: {spec.label} rows"
    vs_plain = fleet["seconds"] / plain["seconds"]
    speedup = to_sql["seconds"] / fleet["seconds"]
    return [
        row(f"{label}, SQLite floor (typed rows: INSERT ... SELECT + index builds + WAL commit) vs "
            "csv+executemany (s)", floor["seconds"], plain["seconds"], "report", True),
        row(f"{label}, fleet vs csv+executemany (s)", fleet["seconds"], plain["seconds"], "<= 1.5x", vs_plain <= 1.5),
        # CPU seconds (all threads) of the same runs: the wall ratio moves with other jobs' load
        row(f"{label}, fleet vs csv+executemany, CPU time (s)", fleet["cpu_seconds"], plain["cpu_seconds"],
            "report", True),
        row(f"{label}, SQLite floor vs csv+executemany, CPU time (s)", floor["cpu_seconds"], plain["cpu_seconds"],
            "report", True),
        {**row(f"{label}, fleet vs pandas read_csv+to_sql (s; ratio = speed-up)", fleet["seconds"],
               to_sql["seconds"], ">= 3x faster", speedup >= 3.0), "ratio": round(speedup, 2)},
        row(f"{label}, fleet peak RSS vs csv+executemany (MB)", fleet["peak_rss_mb"], plain["peak_rss_mb"],
            f"<= {MAX_RSS_MB:.0f} MB", fleet["peak_rss_mb"] <= MAX_RSS_MB, digits=1),
    ]


@benchmark("import")
def bench(ctx) -> list[dict]:
    return run(ctx.quick, repeat=1 if ctx.quick else 3)


def table(results: list[dict]) -> str:
    from bench.report import table as render

    return render(results)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10k rows instead of 1M")
    parser.add_argument("--child", nargs=3, metavar=("WHICH", "CSV", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]), Path(args.child[2]))))
        return
    print(table(run(args.quick)))


if __name__ == "__main__":
    main()
