"""On a big SQLite store the whole estimates read goes through a child process that reads with
ADBC straight into Arrow (``fleet.sqlite_reader``): it gives exactly the frame the driver
gives, now and as known at a time; it is used only for whole reads in read-only sessions on a
SQLite file, only at the session's own data version, and a failing child falls back to the
driver with a warning. Postgres never uses it (connectorx reads there)."""

from __future__ import annotations

import gc
import json
import os
import logging
import sqlite3
import subprocess
import sys

import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from fleet import queries, sqlite_reader
from fleet.db import data_version, read_session, write_session
from fleet.ingest.manual import add_estimate, retract_estimate
from fleet.models import StoreState
from tests.factories import EDITOR
from tests.test_queries_arrow import ODD


@pytest.fixture
def child_reads(monkeypatch) -> list[tuple]:
    """Every store size takes the child path; each child read's (path, version) is recorded."""
    monkeypatch.setattr(queries, "CHILD_READ_MIN", 0)
    calls, real = [], sqlite_reader.read

    def counted(path, *parts, **options):
        got = real(path, *parts, **options)
        calls.append((path, len(parts), None if got is None else got[0]))
        return got

    monkeypatch.setattr(sqlite_reader, "read", counted)
    return calls


def read_only(engine, **kwargs) -> pd.DataFrame:
    with read_session(engine) as session:
        return queries.estimates_frame(session, **kwargs)


def through_driver(engine, **kwargs) -> pd.DataFrame:
    with Session(engine) as session:  # not read-only: always the driver
        assert queries.sqlite_file(session) is None
        return queries.estimates_frame(session, **kwargs)


@pytest.mark.parametrize("cores", [1, 3])
def test_the_child_read_equals_the_driver_read(seeded_engine, child_reads, monkeypatch, cores):
    monkeypatch.setattr(queries.os, "cpu_count", lambda: cores)  # the read is split in one part per core
    first = add_estimate(seeded_engine, EDITOR, ODD)
    with read_session(seeded_engine) as session:
        known_at = data_version(session)[1]
    add_estimate(seeded_engine, EDITOR, {**ODD, "count": "340000", "count_low": ""},
                 supersedes_id=first)
    retract_estimate(seeded_engine, EDITOR, first + 1, "withdrawn")
    sqlite = seeded_engine.url.get_backend_name() == "sqlite"
    every = {"columns": queries.ESTIMATE_FRAME_COLUMNS}  # each kind of column (the details are text and numbers)
    now = read_only(seeded_engine, **every)
    assert len(now) > 100 and (now["id"] == first).any()
    pd.testing.assert_frame_equal(now, through_driver(seeded_engine, **every))
    pd.testing.assert_frame_equal(read_only(seeded_engine, known_at=known_at),
                                  through_driver(seeded_engine, known_at=known_at))
    pd.testing.assert_frame_equal(read_only(seeded_engine),  # the app's frame: the same rows, no details
                                  now[list(queries.ESTIMATE_ANALYSIS_COLUMNS)])
    assert [n for _, n, _ in child_reads] == ([cores, cores, cores] if sqlite else [])  # Postgres: connectorx
    some = now["organisation_id"].drop_duplicates().head(3).astype(int).tolist()
    pd.testing.assert_frame_equal(read_only(seeded_engine, organisation_ids=some),
                                  through_driver(seeded_engine, organisation_ids=some))
    assert len(child_reads) == (3 if sqlite else 0)  # a part of the store: the driver
    row = now.set_index("id").loc[first]
    assert (row["cluster"], row["quote"], row["source_url"]) == (ODD["cluster"], ODD["quote"], ODD["source_url"])


@pytest.fixture
def sqlite_seeded(seeded_engine):
    if seeded_engine.url.get_backend_name() != "sqlite":
        pytest.skip("the child reads SQLite files")
    return seeded_engine


def test_rows_of_a_later_version_are_not_used(sqlite_seeded, child_reads, monkeypatch):
    """A write committed between the session's first read and the child's: the session reads
    through the driver, in its own snapshot, so the frame is the one it would have read."""
    before = through_driver(sqlite_seeded)
    counted, added = sqlite_reader.read, []

    def after_a_write(path, *parts, **options):
        if not added:  # once: the last read below takes the child path again
            added.append(add_estimate(sqlite_seeded, EDITOR, ODD))
        return counted(path, *parts, **options)

    monkeypatch.setattr(sqlite_reader, "read", after_a_write)
    with read_session(sqlite_seeded) as session:
        version = session.execute(select(StoreState.version)).scalar()
        frame = queries.estimates_frame(session)
    assert child_reads[0][2] == version + 1  # the children did read, at the later version
    pd.testing.assert_frame_equal(frame, before)
    assert added[0] not in set(frame["id"])
    assert added[0] in set(read_only(sqlite_seeded)["id"])


def test_a_failing_child_falls_back_to_the_driver_with_a_warning(sqlite_seeded, child_reads, tmp_path, caplog):
    broken = tmp_path / "not-a-store.db"
    broken.write_bytes(b"this is not a database" * 100)
    with caplog.at_level(logging.WARNING, logger="fleet.sqlite_reader"):
        assert sqlite_reader.read(broken, "SELECT 1") is None
    assert "not-a-store.db" in caplog.text and "file is not a database" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="fleet.sqlite_reader"):
        assert sqlite_reader.read(tmp_path / "missing.db", "SELECT 1") is None  # never created
    assert "missing.db" in caplog.text and not (tmp_path / "missing.db").exists()
    path = sqlite_seeded.url.database
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="fleet.sqlite_reader"):
        assert sqlite_reader.read(path, "SELECT no_such_column FROM estimate") is None
    assert "no_such_column" in caplog.text
    version, [table] = sqlite_reader.read(path, "SELECT id FROM estimate ORDER BY id")
    with Session(sqlite_seeded) as session:
        assert version == session.execute(select(StoreState.version)).scalar()
    assert table.num_rows > 100 and table.column_names == ["id"]
    odd = tmp_path / "a store?mode=ro#1 %20 ü" / "fleet.db"  # the path goes into a file: URI
    odd.parent.mkdir()
    copy = sqlite3.connect(path, isolation_level=None)
    copy.execute("VACUUM INTO ?", (str(odd),))
    copy.close()
    assert sqlite_reader.read(odd, "SELECT id FROM estimate ORDER BY id")[1][0].equals(table)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="fleet.sqlite_reader"):  # one part of several fails: no rows
        assert sqlite_reader.read(path, "SELECT id FROM estimate", "SELECT nothing FROM estimate") is None
    assert "nothing" in caplog.text


def test_write_sessions_and_small_stores_read_through_the_driver(sqlite_seeded, monkeypatch):
    calls = []
    monkeypatch.setattr(sqlite_reader, "read", lambda *args, **options: calls.append(args))
    with write_session(sqlite_seeded) as (session, _):
        assert queries.sqlite_file(session) is None  # it could not see the session's own rows
        queries.estimates_frame(session)
    read_only(sqlite_seeded)  # the seeded store is far below CHILD_READ_MIN
    assert calls == []


def test_the_child_loads_no_other_sqlite_library(sqlite_seeded):
    """Two SQLite libraries in one process break its POSIX locks: the child must load ADBC's only.
    Nor numpy: pyarrow runs without it, and importing it was a third of the child's start."""
    dump = "import json; sys.stderr.write(json.dumps(sorted(k for k, v in sys.modules.items() if v is not None)))"
    script = sqlite_reader._CHILD.replace("os._exit(0)", dump)
    assert script != sqlite_reader._CHILD
    sink = os.open(os.devnull, os.O_WRONLY)
    try:
        request = json.dumps({"path": sqlite_seeded.url.database, "sql": "SELECT id, valid_on FROM estimate",
                              "types": {"valid_on": "timestamp[s]"}, "fds": [sink, sink]})
        done = subprocess.run([sys.executable, "-c", script], input=request, capture_output=True, text=True,
                              check=True, pass_fds=[sink])
    finally:
        os.close(sink)
    loaded = json.loads(done.stderr)
    assert {"adbc_driver_sqlite", "pyarrow"} <= set(loaded)
    assert not {"sqlite3", "_sqlite3", "sqlalchemy"} & set(loaded)
    assert not any(name == "numpy" or name.startswith("numpy.") for name in loaded)


def _bases(column) -> set[int]:
    """Where the memory behind a column's buffers starts (an IPC read slices one buffer per batch)."""
    return {(b.parent or b).address for chunk in column.chunks for b in chunk.buffers() if b is not None}


@pytest.mark.parametrize("sql, names", [
    ("SELECT id, source_url, valid_on, count, note FROM estimate ORDER BY id",
     ["id", "source_url", "valid_on", "count", "note"]),
    ("SELECT id, count FROM estimate ORDER BY id", ["id", "count"]),  # no text: one stream
    ("SELECT source_url, note FROM estimate ORDER BY id", ["source_url", "note"]),  # only text
])
def test_text_columns_come_in_buffers_of_their_own(sqlite_seeded, sql, names):
    """Text stays in Arrow in the frame: sharing a batch with the numeric columns, it would keep
    their bytes alive after ``to_pandas`` copied them into numpy."""
    path = sqlite_seeded.url.database
    version, [table] = sqlite_reader.read(path, sql, types={"valid_on": "timestamp[s]"})
    assert table.column_names == names and table.schema.metadata is None
    with Session(sqlite_seeded) as session:
        assert version == session.execute(select(StoreState.version)).scalar()
        rows = session.connection().exec_driver_sql(sql).all()
    assert table.num_rows == len(rows) > 100
    assert table.column(names[0]).to_pylist() == [row[0] for row in rows]
    assert table.column(names[-1]).to_pylist() == [row[-1] for row in rows]
    text = [n for n in names if n in ("source_url", "note")]
    other = set().union(*(_bases(table.column(n)) for n in names if n not in text))
    assert not other & set().union(*(_bases(table.column(n)) for n in text))


@pytest.mark.parametrize("child", [
    "import os; os._exit(0)",  # exits cleanly having written nothing
    "import os, sys, json; fd = json.loads(sys.stdin.read())['fds'][0]; os.write(fd, b'ARROW1 torn'); os._exit(0)",
])
def test_a_child_that_leaves_no_whole_stream_falls_back_with_a_warning(sqlite_seeded, monkeypatch, caplog, child):
    monkeypatch.setattr(sqlite_reader, "_CHILD", child)
    with caplog.at_level(logging.WARNING, logger="fleet.sqlite_reader"):
        assert sqlite_reader.read(sqlite_seeded.url.database, "SELECT id FROM estimate") is None
    assert "failed (exit 0)" in caplog.text


@pytest.mark.parametrize("memfd", ["refused", "missing"])
def test_without_memory_files_the_children_write_into_temporary_files(sqlite_seeded, monkeypatch, memfd):
    if memfd == "missing":
        monkeypatch.delattr(os, "memfd_create", raising=False)
    else:
        monkeypatch.setattr(os, "memfd_create", lambda *args: (_ for _ in ()).throw(OSError(38, "not allowed here")))
    sql = "SELECT id, source_url, count FROM estimate ORDER BY id"
    version, [table] = sqlite_reader.read(sqlite_seeded.url.database, sql)
    with Session(sqlite_seeded) as session:
        rows = session.connection().exec_driver_sql(sql).all()
    assert [tuple(r.values()) for r in table.to_pylist()] == [tuple(r) for r in rows] and len(rows) > 100


def test_the_rows_are_read_in_place_from_files_the_children_have_left(sqlite_seeded):
    """Each child writes its streams into files of its own and exits; the parent maps them (no copy,
    no child waiting for the parent to drain another's pipe), and the files go with the columns."""
    sql = "SELECT id, source_url FROM estimate WHERE id % 2 = {} ORDER BY id"
    with Session(sqlite_seeded) as session:
        expected = [[{"id": i, "source_url": u} for i, u in session.connection().exec_driver_sql(sql.format(part))]
                    for part in (0, 1)]
    before = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None
    version, tables = sqlite_reader.read(sqlite_seeded.url.database, sql.format(0), sql.format(1))
    assert [table.to_pylist() for table in tables] == expected and len(expected[0]) > 50
    if before is not None:
        del tables
        gc.collect()
        assert len(os.listdir("/proc/self/fd")) == before  # no file left open once the columns are gone
