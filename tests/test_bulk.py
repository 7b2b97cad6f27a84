"""fleet.ingest.bulk on both databases: a big frame stores exactly what a Core insert of the
same rows stores (values and, on SQLite, storage classes), whichever path carries it; the
SQLite staging file is part of the caller's transaction, detached and removed afterwards."""

from __future__ import annotations

import sqlite3
import tempfile
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import (BigInteger, Boolean, Column, Date, DateTime, Float, Index, Integer, LargeBinary, MetaData,
                        String, Table, Text, insert, select, text)

from fleet.db import write_session
from fleet.ingest import bulk

ROWS = bulk.SMALL + 1_234  # above the Core-insert cut-off: the bulk path

metadata = MetaData()
PAIR = [Table(name, metadata, Column("id", Integer, primary_key=True), Column("n", BigInteger),
              Column("x", Float), Column("flag", Boolean), Column("code", String(20)), Column("body", Text),
              Column("on", Date), Column("at", DateTime), Column("batch", Integer), Column("stamp", DateTime))
        for name in ("bulk_rows", "core_rows")]
Index("ix_bulk_rows_code_on", PAIR[0].c.code, PAIR[0].c.on)
Index("ix_bulk_rows_batch", PAIR[0].c.batch, PAIR[0].c.x)  # led by a column the load sets to one value
Index("ix_bulk_rows_flagged", PAIR[0].c.n, sqlite_where=PAIR[0].c.flag, postgresql_where=PAIR[0].c.flag)
WITH_BLOB = Table("bulk_blob", metadata, Column("id", Integer, primary_key=True), Column("doc", LargeBinary),
                  Column("code", String(20)))
CONSTANTS = {"batch": 7, "stamp": datetime(2026, 11, 29, 12, 0, 0, 123456)}


def frame(rows: int = ROWS) -> pd.DataFrame:
    """Every kind of column, with gaps, awkward text (quotes, '=' cells, non-ASCII) and a whole
    chunk of one column missing."""
    rng = np.random.default_rng(5)
    idx = np.arange(rows)
    n = pd.array(rng.integers(-2**62, 2**62, rows), dtype="Int64")
    n[idx % 7 == 0] = pd.NA
    x = pd.Series(rng.normal(size=rows))
    x[idx % 5 == 0] = np.nan
    code = pd.Series([["plain", "it's", '=SUM(A1)', "Zürich", "  spaced "][i % 5] for i in idx], dtype="str")
    code[idx % 11 == 0] = None
    # with CHUNK = SMALL, the first chunk's rows are all None: its Arrow column has no type of its own
    body = pd.Series([f"line {i}\nsecond" if i >= bulk.SMALL else None for i in idx], dtype=object)
    return pd.DataFrame({
        "id": idx + 1,
        "n": n, "x": x, "flag": idx % 3 == 0, "code": code, "body": body,
        "on": pd.Series(pd.to_datetime("2020-01-01") + pd.to_timedelta(idx % 900, unit="D")).dt.date,
        "at": pd.Series(pd.to_datetime("2021-06-01 08:30:00.5") + pd.to_timedelta(idx, unit="s")),
    })


COLUMNS = ["id", "n", "x", "flag", "code", "body", "on", "at"]


@pytest.fixture
def tables(engine):
    metadata.create_all(engine)
    return engine


def stored(engine, table: Table) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(table).order_by(table.c.id))]


def storage_classes(engine, table: Table) -> list[tuple]:
    cols = ", ".join(f'typeof("{c.name}")' for c in table.columns)
    with engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(f'SELECT {cols} FROM "{table.name}" ORDER BY id')]


def attached(conn) -> list[str]:
    return [r[1] for r in conn.exec_driver_sql("PRAGMA database_list") if r[1] not in ("main", "temp")]


def test_bulk_stores_what_a_core_insert_stores(tables, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the staging folders go
    monkeypatch.setattr(bulk, "CHUNK", bulk.SMALL)  # two chunks
    data = frame()
    with write_session(tables) as (session, _):
        assert bulk.bulk_insert(session, PAIR[0], data, COLUMNS, constants=CONSTANTS) == ROWS
        records = [dict(zip([*COLUMNS, *CONSTANTS], row)) for row in bulk._rows(PAIR[1], data.assign(**CONSTANTS),
                                                                               [*COLUMNS, *CONSTANTS])]
        session.execute(insert(PAIR[1]), records)
    got, want = stored(tables, PAIR[0]), stored(tables, PAIR[1])
    assert len(got) == ROWS and got == want
    assert got[1][4] == "it's" and got[2][4] == "=SUM(A1)" and got[ROWS - 1][5] == f"line {ROWS - 1}\nsecond"
    assert got[0][8:] == (7, CONSTANTS["stamp"]) and got[3][6] == date(2020, 1, 4)
    if tables.dialect.name == "sqlite":
        assert storage_classes(tables, PAIR[0]) == storage_classes(tables, PAIR[1])
        with tables.connect() as conn:
            assert attached(conn) == []
        assert list(tmp_path.iterdir()) == []  # the staging folder went with the transaction


def test_sqlite_staging_is_rolled_back_with_the_write(tables, tmp_path, monkeypatch):
    if tables.dialect.name != "sqlite":
        pytest.skip("the staging file is SQLite's path")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(RuntimeError, match="after the insert"):
        with write_session(tables) as (session, _):
            bulk.bulk_insert(session, PAIR[0], frame(), COLUMNS, constants=CONSTANTS)
            assert attached(session.connection()) == ["fleet_scratch_0"]
            assert session.execute(select(PAIR[0].c.id).limit(1)).first() is not None  # visible inside
            raise RuntimeError("after the insert")
    assert stored(tables, PAIR[0]) == []
    with tables.connect() as conn:
        assert attached(conn) == []
    assert list(tmp_path.iterdir()) == []


def test_sqlite_without_a_free_attach_slot_or_for_bytes_uses_multirow_inserts(tables):
    if tables.dialect.name != "sqlite":
        pytest.skip("ATTACH limits are SQLite's")
    data = frame(2 * ROWS)  # two halves, each big enough for the bulk path
    docs = pd.DataFrame({"id": range(1, ROWS + 1), "doc": [b"\x00k%d" % i for i in range(ROWS)], "code": "c"})
    with write_session(tables) as (session, _):
        conn = session.connection()
        assert bulk._staging_slots(conn, WITH_BLOB, ["id", "doc", "code"]) == 0
        bulk.bulk_insert(session, WITH_BLOB, docs, ["id", "doc", "code"])
        driver = conn.connection.driver_connection
        limit = driver.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 1)
        try:
            bulk.bulk_insert(session, PAIR[0], data.iloc[:ROWS], COLUMNS, constants=CONSTANTS)  # staged
            assert attached(conn) == ["fleet_scratch_0"] and bulk._staging_slots(conn, PAIR[0], COLUMNS) == 0
            bulk.bulk_insert(session, PAIR[0], data.iloc[ROWS:], COLUMNS, constants=CONSTANTS)  # multi-row
        finally:
            driver.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, limit)
        records = [dict(zip([*COLUMNS, *CONSTANTS], row)) for row in bulk._rows(PAIR[1], data.assign(**CONSTANTS),
                                                                               [*COLUMNS, *CONSTANTS])]
        session.execute(insert(PAIR[1]), records)
    assert stored(tables, PAIR[0]) == stored(tables, PAIR[1])
    assert storage_classes(tables, PAIR[0]) == storage_classes(tables, PAIR[1])
    assert [r[1] for r in stored(tables, WITH_BLOB)][:2] == [b"\x00k0", b"\x00k1"]


def test_many_staged_writes_in_one_transaction_each_get_their_own_file(tables):
    if tables.dialect.name != "sqlite":
        pytest.skip("the staging file is SQLite's path")
    data = frame(bulk.SMALL * 3)
    parts = np.array_split(np.arange(len(data)), 3)
    with write_session(tables) as (session, _):
        for part in parts:
            bulk.bulk_insert(session, PAIR[0], data.iloc[part], COLUMNS, constants=CONSTANTS)
        assert attached(session.connection()) == ["fleet_scratch_0", "fleet_scratch_1", "fleet_scratch_2"]
        assert session.execute(text("SELECT count(*) FROM bulk_rows")).scalar_one() == len(data)
    with write_session(tables) as (session, _):  # the pooled connection starts clean again
        assert attached(session.connection()) == []


def test_sqlite_load_bigger_than_the_table_rebuilds_its_indexes_but_partial_and_constant_led_ones(tables, monkeypatch):
    if tables.dialect.name != "sqlite":
        pytest.skip("the index rebuild is SQLite's")
    monkeypatch.setattr(bulk, "REBUILD_INDEXES_ABOVE", bulk.SMALL)
    with tables.connect() as conn:
        schema = conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE tbl_name = 'bulk_rows' "
                                      "ORDER BY name").fetchall()
    statements: list[str] = []
    with write_session(tables) as (session, _):
        driver = session.connection().connection.driver_connection
        driver.set_trace_callback(statements.append)
        bulk.bulk_insert(session, PAIR[0], frame(), COLUMNS, constants=CONSTANTS)
        driver.set_trace_callback(None)
        assert driver.execute("PRAGMA threads").fetchone()[0] == 0  # put back
    assert [s for s in statements if s.startswith("DROP INDEX")] == ['DROP INDEX "ix_bulk_rows_code_on"']
    with tables.connect() as conn:
        assert conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE tbl_name = 'bulk_rows' "
                                    "ORDER BY name").fetchall() == schema
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
        by_batch = conn.exec_driver_sql("SELECT count(*) FROM bulk_rows INDEXED BY ix_bulk_rows_batch "
                                        "WHERE batch = 7").scalar_one()
        flagged = conn.exec_driver_sql("SELECT count(*) FROM bulk_rows INDEXED BY ix_bulk_rows_flagged "
                                       "WHERE flag AND n IS NOT NULL").scalar_one()
    assert flagged == sum(1 for row in stored(tables, PAIR[0]) if row[3] and row[1] is not None)
    assert by_batch == ROWS


def test_sqlite_staging_in_parts_and_an_error_in_a_later_part_leaves_nothing(tables, tmp_path, monkeypatch):
    if tables.dialect.name != "sqlite":
        pytest.skip("the staging files are SQLite's path")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(bulk, "PART_ROWS", 2_000)
    data = frame()
    with write_session(tables) as (session, _):
        bulk.bulk_insert(session, PAIR[0], data, COLUMNS, constants=CONSTANTS)
        assert attached(session.connection()) == [f"fleet_scratch_{i}" for i in range(4)]  # 6,234 rows: 4 parts
        records = [dict(zip([*COLUMNS, *CONSTANTS], row)) for row in bulk._rows(PAIR[1], data.assign(**CONSTANTS),
                                                                               [*COLUMNS, *CONSTANTS])]
        session.execute(insert(PAIR[1]), records)
    assert stored(tables, PAIR[0]) == stored(tables, PAIR[1])
    assert list(tmp_path.iterdir()) == []

    bad = frame().assign(id=lambda f: f["id"] + ROWS)
    bad["n"] = bad["n"].astype("Float64")
    bad.loc[ROWS - 10, "n"] = 0.5  # the last part's rows cannot be stored as integers
    with pytest.raises(Exception, match="0.5|truncat"):
        with write_session(tables) as (session, _):
            bulk.bulk_insert(session, PAIR[0], bad, COLUMNS, constants=CONSTANTS)
    assert len(stored(tables, PAIR[0])) == ROWS  # the first parts' rows went with the rollback
    with tables.connect() as conn:
        assert attached(conn) == []
    assert list(tmp_path.iterdir()) == []
