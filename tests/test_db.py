"""Engines, pragmas and the store clock (write_session), on SQLite and Postgres."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select, text

from fleet.db import NothingToWrite, data_version, make_engine, read_session, write_session
from fleet.models import IngestBatch


def test_sqlite_connections_use_wal_foreign_keys_and_busy_timeout(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    engine.dispose()


def test_sqlite_creates_the_folder_of_its_file(tmp_path):
    path = tmp_path / "nested" / "deeper" / "fleet.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    engine.dispose()
    assert path.exists()


@pytest.mark.parametrize("url", ["postgresql+psycopg2://u@h/db", "postgresql+pg8000://u@h/db"])
def test_postgres_urls_must_use_psycopg3(url):
    with pytest.raises(ValueError, match=r"postgresql\+psycopg://"):
        make_engine(url)


def test_plain_postgresql_urls_get_psycopg3():
    engine = make_engine("postgresql://u@h/db")
    assert engine.dialect.driver == "psycopg"


def _batch(session, stamp, name="t"):
    session.add(IngestBatch(kind="manual", source_name=name, created_by="test", started_at=stamp.recorded_at))


def test_write_session_stamps_are_strictly_increasing_and_bump_the_version(engine):
    stamps = []
    for i in range(5):
        with write_session(engine) as (session, stamp):
            _batch(session, stamp, f"b{i}")
            stamps.append(stamp)
    times = [s.recorded_at for s in stamps]
    assert times == sorted(times) and len(set(times)) == 5
    assert [s.version for s in stamps] == [1, 2, 3, 4, 5]
    with read_session(engine) as session:
        version, high_water = data_version(session)
    assert (version, high_water) == (5, times[-1])
    assert isinstance(high_water, datetime) and high_water.tzinfo is None


def test_a_failed_write_leaves_nothing_and_keeps_the_version(engine):
    with pytest.raises(ZeroDivisionError):
        with write_session(engine) as (session, stamp):
            _batch(session, stamp)
            session.flush()
            1 / 0
    with pytest.raises(NothingToWrite):
        with write_session(engine) as (session, stamp):
            raise NothingToWrite
    with read_session(engine) as session:
        assert session.execute(select(IngestBatch)).all() == []
        assert data_version(session) == (0, None)


def test_write_session_refuses_an_unmigrated_store(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'bare.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE store_state (id INTEGER PRIMARY KEY, version INTEGER, last_write_at TIMESTAMP)"))
    with pytest.raises(RuntimeError, match="db upgrade"):
        with write_session(engine):
            pass
    engine.dispose()
