"""Two imports and a manual edit at once, on SQLite (WAL, busy timeout) and Postgres: each
commits whole or fails with a clear message, no row is lost or doubled, and a reader
polling meanwhile only ever sees whole imports."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from fleet.db import read_session
from fleet.ingest.importer import commit_import, plan_import
from fleet.ingest.manual import add_estimate
from fleet.models import Estimate
from tests.factories import EDITOR, add_catalog

URL = "https://example.org/c"


def csv_of(counts: range) -> bytes:
    lines = ["organisation,chip,count,valid_on,source_url"]
    lines += [f"Meta,H100,{c},2024-01-01,{URL}" for c in counts]
    return ("\n".join(lines) + "\n").encode()


def live_count(engine) -> int:
    with read_session(engine) as session:
        return session.execute(select(func.count()).select_from(Estimate).where(Estimate.retracted_at.is_(None))
                                ).scalar_one()


def test_two_imports_and_a_manual_edit_at_once(engine):
    add_catalog(engine)
    a, b = range(1, 6001), range(5001, 11001)  # 1,000 rows in common; big enough for the bulk path
    plans = [plan_import(engine, csv_of(a), file_name="a.csv"), plan_import(engine, csv_of(b), file_name="b.csv"),
             plan_import(engine, csv_of(a), file_name="a-again.csv")]
    union = len(set(a) | set(b))
    possible = {n + m for n in (0, len(a), len(b), union) for m in (0, 1)}
    start, done = threading.Barrier(5), threading.Event()
    outcomes: dict[str, object] = {}
    seen: list[int] = []

    def run(name, job):
        start.wait()
        try:
            outcomes[name] = job()
        except Exception as exc:  # recorded and asserted on below: a failure must be a clear one
            outcomes[name] = exc

    def read():
        start.wait()
        while not done.is_set():
            seen.append(live_count(engine))

    jobs = {f"import{i}": (lambda p=p: commit_import(engine, p, EDITOR)) for i, p in enumerate(plans)}
    jobs["manual"] = lambda: add_estimate(engine, EDITOR, {"organisation": "OpenAI", "chip": "A100", "count": "5",
                                                           "valid_on": "2024-01-01", "source_url": URL})
    threads = [threading.Thread(target=run, args=item) for item in jobs.items()]
    threads.append(threading.Thread(target=read))
    for t in threads:
        t.start()
    for t in threads[:-1]:
        t.join(timeout=120)
    done.set()
    threads[-1].join(timeout=30)

    assert not [o for o in outcomes.values() if isinstance(o, Exception)], outcomes
    assert sum(o.added for k, o in outcomes.items() if k.startswith("import")) == union
    assert live_count(engine) == union + 1
    with read_session(engine) as session:
        fingerprints = session.execute(select(Estimate.fingerprint)).scalars().all()
    assert len(fingerprints) == len(set(fingerprints)) == union + 1
    assert seen and set(seen) <= possible, sorted(set(seen) - possible)
