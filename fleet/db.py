"""Engines and sessions, and the store clock that makes writes bitemporal.

``make_engine(url)`` is the only place engines are built. SQLite connections get WAL,
foreign keys and a busy timeout; Postgres uses psycopg 3.

Every write goes through ``write_session``: it takes the store-wide write lock (SQLite
``BEGIN IMMEDIATE``; Postgres ``SELECT ... FOR UPDATE`` on the single ``store_state``
row), then issues a ``recorded_at`` stamp strictly later than any earlier write and
bumps the data version. Because stamps are issued under the lock, the store's
high-water mark (``store_state.last_write_at``) is a clean cut-off: everything recorded
at or before it is committed, and nothing committed later can carry an earlier stamp.
That is what lets a snapshot rebuild exactly the data it showed.
"""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Iterator

from sqlalchemy import Connection, Engine, create_engine, event, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

SQLITE_BUSY_TIMEOUT_MS = 30_000
_SCRATCH = "fleet_scratch"  # a pooled connection's info: [(schema, folder)] attached by attach_scratch


def now_utc() -> datetime:
    """Naive UTC with microseconds: the one timestamp format stored everywhere."""
    return datetime.now(UTC).replace(tzinfo=None)


def is_sqlite(engine_or_url: Engine | str) -> bool:
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else make_url(engine_or_url)
    return url.get_backend_name() == "sqlite"


def _install_sqlite_hooks(engine: Engine, foreign_keys: bool) -> None:
    # pysqlite's own transaction handling would BEGIN lazily and never IMMEDIATE; take
    # it over so a write transaction holds the write lock from its first statement.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # noqa: ANN001 - DBAPI types
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_conn, record):  # noqa: ANN001
        # After the pool's reset has ended any transaction: only then can SQLite detach a file.
        for schema, folder in record.info.pop(_SCRATCH, ()):
            if dbapi_conn is not None:
                dbapi_conn.execute(f"DETACH DATABASE {schema}")
            shutil.rmtree(folder)

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # noqa: ANN001
        immediate = conn.get_execution_options().get("fleet_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def attach_scratch(connection: Connection, path: Path, folder: Path) -> str:
    """Attach the SQLite file ``path`` to ``connection`` for the rest of its transaction; the
    schema name to read it by. SQLite cannot detach a file its open transaction has read, so
    the file is detached, and ``folder`` (holding it) removed, when the connection goes back
    to the pool, after the commit or rollback."""
    scratch = connection.info.setdefault(_SCRATCH, [])
    schema = f"fleet_scratch_{len(scratch)}"
    connection.exec_driver_sql(f"ATTACH DATABASE ? AS {schema}", (str(path),))
    scratch.append((schema, folder))
    return schema


def make_engine(url: str, *, sqlite_foreign_keys: bool = True, **kwargs) -> Engine:
    """Build an engine for ``url``; creates the folder of a SQLite file if needed.

    ``sqlite_foreign_keys=False`` is for migrations only: Alembic's batch mode rebuilds
    tables, which SQLite refuses (or cascades) while foreign keys are enforced; the
    migration runner checks integrity itself before committing.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)
        _install_sqlite_hooks(engine, sqlite_foreign_keys)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() != "psycopg":
        raise ValueError(
            f"Postgres URLs must use psycopg 3: postgresql+psycopg://... (got {parsed.drivername!r})"
        )
    return create_engine(url, pool_pre_ping=True, **kwargs)


def read_session(engine: Engine) -> Session:
    """A session for queries; the caller closes it (``with read_session(e) as s:``).

    Marked as read-only (``info["read_only"]``): a big read in it may go round the driver on
    a connection of its own (``fleet.queries``), as there are no writes of its own to see.
    """
    return Session(engine, expire_on_commit=False, info={"read_only": True})


class NothingToWrite(Exception):
    """Raise inside ``write_session`` to roll back quietly when there turned out to be
    nothing to write (so the data version and high-water mark do not move)."""


@dataclass(frozen=True)
class WriteStamp:
    """The time and data version a write transaction records its rows under."""

    recorded_at: datetime
    version: int


@contextmanager
def write_session(engine: Engine) -> Iterator[tuple[Session, WriteStamp]]:
    """Open a write transaction holding the store lock; commit on success.

    Yields ``(session, stamp)``. Every row the transaction writes carries
    ``stamp.recorded_at``. Any exception rolls the whole transaction back.
    """
    from fleet.models import StoreState  # local: models import nothing from here at import

    bound = engine.execution_options(fleet_write=True) if is_sqlite(engine) else engine
    with Session(bound, expire_on_commit=False) as session, session.begin():
        state = session.execute(
            select(StoreState).where(StoreState.id == 1).with_for_update()
        ).scalar_one_or_none()
        if state is None:
            raise RuntimeError("The store is not initialised: run `python -m fleet db upgrade` first.")
        stamp_time = now_utc()
        if state.last_write_at is not None and stamp_time <= state.last_write_at:
            stamp_time = state.last_write_at + timedelta(microseconds=1)
        stamp = WriteStamp(recorded_at=stamp_time, version=state.version + 1)
        session.execute(
            update(StoreState).where(StoreState.id == 1).values(version=stamp.version, last_write_at=stamp_time)
        )
        yield session, stamp


def data_version(session: Session) -> tuple[int, datetime | None]:
    """(version, high-water mark) of the store: the cache key and the snapshot cut-off."""
    from fleet.models import StoreState

    row = session.execute(select(StoreState.version, StoreState.last_write_at).where(StoreState.id == 1)).one()
    return int(row.version), row.last_write_at
