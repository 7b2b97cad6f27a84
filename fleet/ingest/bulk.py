"""Insert a DataFrame into a table fast, inside the caller's transaction.

A million-row import cannot afford the ORM, nor even Core's per-row parameter
processing: this module converts numbers and text column-wise, and other types once per
*distinct* value through the column type's own bind processor (so dates and timestamps
are stored exactly as SQLAlchemy would store them), then hands rows to the driver in
chunks. On SQLite the rows go as Arrow batches into private staging files through ADBC,
whose driver binds every value in C, and then one ``INSERT ... SELECT`` per file
(attached to the caller's connection, so the write stays in the caller's transaction)
copies them in, the next file written while the last is copied; the table's indexes are
rebuilt after a load bigger than the table, and constant columns such as the batch id are
written once into the statement as literals.
Binding a million rows' values from Python had cost twice what SQLite itself spends on
them. On Postgres, ``COPY ... FROM STDIN``. Small frames go through Core ``insert`` like
any other write. It never commits.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy import Connection, Table, insert
from sqlalchemy.orm import Session
from sqlalchemy.types import Boolean, Date, DateTime, Float, Integer, String

from fleet import sqlite_reader
from fleet.db import attach_scratch

SMALL = 5_000  # below this, Core insert: simpler, and the speed makes no difference
REBUILD_INDEXES_ABOVE = 100_000
CHUNK = 100_000
PART_ROWS = 250_000  # rows per staging file (SQLite): the next part is written while this one is copied in
BULK_CACHE_KIB = 256 * 1024


def _python(value: object, sqltype) -> object:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(sqltype, Date) and isinstance(value, datetime | pd.Timestamp):
        return value.date()
    if isinstance(sqltype, DateTime) and isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(sqltype, Date) and isinstance(value, str):
        return date.fromisoformat(value)
    return value


def column_values(series: pd.Series, sqltype, dialect=None) -> np.ndarray:
    """The column as Python values (None for missing); driver-ready when ``dialect`` is given.

    Numbers and text convert in one vectorised step; other types (dates, timestamps)
    convert once per distinct value through the type's own bind processor.
    """
    kind = series.dtype.kind if isinstance(series.dtype, np.dtype) else None
    if pd.api.types.is_string_dtype(series.dtype) and not isinstance(sqltype, Date | DateTime):
        return series.to_numpy(dtype=object, na_value=None)
    if pd.api.types.is_integer_dtype(series.dtype) or kind == "f":
        values = np.array(series.to_numpy(dtype=object, na_value=None), dtype=object, copy=True)
        if kind == "f":
            values[series.isna().to_numpy()] = None
        return values
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    process = sqltype.dialect_impl(dialect).bind_processor(dialect) if dialect is not None else None
    converted = [_python(u, sqltype) for u in uniques]
    if process is not None:
        converted = [process(v) if v is not None else None for v in converted]
    table = np.empty(len(converted) + 1, dtype=object)
    table[:-1] = converted
    table[-1] = None
    return table[codes]


def _columns(table: Table, frame: pd.DataFrame, columns: list[str], dialect) -> tuple[list[str], list[np.ndarray]]:
    """Driver-ready value arrays, one per column."""
    names, arrays = [], []
    for column in columns:
        names.append(column)
        arrays.append(column_values(frame[column], table.c[column].type, dialect))
    return names, arrays


def _rows(table: Table, frame: pd.DataFrame, columns: list[str]) -> list[tuple]:
    lists = [column_values(frame[c] if c in frame else pd.Series(None, index=frame.index, dtype=object),
                           table.c[c].type).tolist() for c in columns]
    return list(zip(*lists))


def _literal(value: object, sqltype, dialect) -> str:
    """A constant as an SQL literal: the driver-ready value the column's bind processor makes."""
    value = column_values(pd.Series([value]), sqltype, dialect)[0]
    if value is None:
        return "NULL"
    if isinstance(value, bool | int | float | np.integer | np.floating):
        return repr(value.item() if isinstance(value, np.generic) else value)
    return "'" + str(value).replace("'", "''") + "'"


def _sqlite_insert(driver, table: Table, names: list[str], arrays: list[np.ndarray],
                   literals: dict[str, str] | None = None) -> None:
    # Many rows per INSERT statement: a fifth less time than executemany, which pays
    # Python's per-row statement reset; SQLite accepts up to 32766 parameters. Constants
    # (the batch id, the recorded_at stamp) are written into the statement once instead
    # of being bound on every row.
    literals = literals or {}
    width = len(names)
    per = max(1, min(2_000, 32_000 // max(1, width)))
    one = "(" + ", ".join(["?"] * width + list(literals.values())) + ")"
    columns = [*names, *literals]
    head = f'INSERT INTO "{table.name}" ({", ".join(chr(34) + n + chr(34) for n in columns)}) VALUES '
    stacked = np.empty((len(arrays[0]), width), dtype=object)
    for i, array in enumerate(arrays):
        stacked[:, i] = array
    flat = stacked.ravel()
    cursor = driver.cursor()
    full = len(stacked) // per * per
    sql = head + ", ".join([one] * per)
    for start in range(0, full, per):
        cursor.execute(sql, flat[start * width:(start + per) * width].tolist())
    if full < len(stacked):
        cursor.execute(head + ", ".join([one] * (len(stacked) - full)), flat[full * width:].tolist())
    cursor.close()


def _arrow_type(sqltype) -> pa.DataType | None:
    """How a column travels through the staging file (None: a type the staged path does not carry)."""
    if isinstance(sqltype, Boolean | Integer):
        return pa.int64()
    if isinstance(sqltype, Float):
        return pa.float64()
    if isinstance(sqltype, String | Date | DateTime):  # String covers Text; dates as the bind processor writes them
        return pa.string()
    return None


def _arrow_column(series: pd.Series, sqltype, kind: pa.DataType, dialect) -> pa.Array:
    """The column as the driver would store it: numbers and text as they are (SQLite's column
    affinity then converts them exactly as it does a bound value), dates and timestamps
    through the column type's bind processor, once per distinct value."""
    if isinstance(sqltype, Date | DateTime) or not (
            pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_string_dtype(series.dtype)):
        return pa.array(column_values(series, sqltype, dialect), from_pandas=True).cast(kind)
    return pa.array(series, from_pandas=True).cast(kind)


def _stage(path: Path, reader: pa.RecordBatchReader) -> None:
    """Write the batches into a new SQLite file through ADBC, whose driver binds the values in C."""
    import adbc_driver_sqlite.dbapi as adbc_sqlite

    with adbc_sqlite.connect(str(path), autocommit=True) as connection, connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode = OFF")  # a scratch file, read once: nothing to recover
        cursor.execute("PRAGMA synchronous = OFF")
        cursor.adbc_ingest("rows", reader, mode="create")


def _staged_parts(connection: Connection, table: Table, frame: pd.DataFrame, columns: list[str],
                  parts: int) -> list[Callable[[], Path]]:
    """Per part of the frame, a function that writes its rows into a staging file of its own
    (in a new folder) and returns the folder."""
    dialect = connection.dialect
    types = [_arrow_type(table.c[c].type) for c in columns]
    schema = pa.schema([(f"c{i}", kind) for i, kind in enumerate(types)])

    def batches(low: int, high: int) -> Iterator[pa.RecordBatch]:  # a chunk's Arrow columns at a time
        for start in range(low, high, CHUNK):
            chunk = frame.iloc[start:min(start + CHUNK, high)]
            yield pa.RecordBatch.from_arrays(
                [_arrow_column(chunk[c], table.c[c].type, k, dialect) for c, k in zip(columns, types)], schema=schema)

    def stage(low: int, high: int) -> Path:
        folder = Path(tempfile.mkdtemp(prefix="fleet-stage-"))
        try:
            _stage(folder / "rows.db", pa.RecordBatchReader.from_batches(schema, batches(low, high)))
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)  # the error that got here is the one to report
            raise
        return folder

    bounds = [len(frame) * i // parts for i in range(parts + 1)]
    return [partial(stage, low, high) for low, high in zip(bounds, bounds[1:])]


def _sqlite_staged(connection: Connection, table: Table, frame: pd.DataFrame, columns: list[str],
                   literals: dict[str, str], parts: int) -> None:
    """Insert through staging files attached to the caller's connection, one ``INSERT ... SELECT``
    each. A worker thread writes the next file (ADBC holds no GIL) while SQLite copies the last
    one in (nor does ``sqlite3``): the two steps overlap on two cores."""
    targets = ", ".join(f'"{c}"' for c in [*columns, *literals])
    sources = ", ".join([*(f"c{i}" for i in range(len(columns))), *literals.values()])
    attached: set[Path] = set()
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fleet-stage")
    pending = [pool.submit(part) for part in _staged_parts(connection, table, frame, columns, parts)]
    try:
        for future in pending:
            folder = future.result()
            staged = attach_scratch(connection, folder / "rows.db", folder)
            attached.add(folder)
            connection.exec_driver_sql(f'INSERT INTO "{table.name}" ({targets}) SELECT {sources} FROM {staged}.rows')
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        for future in pending:  # after an error: files written but never attached
            if future.done() and not future.cancelled() and future.exception() is None \
                    and future.result() not in attached:
                shutil.rmtree(future.result(), ignore_errors=True)


def _staging_slots(connection: Connection, table: Table, columns: list[str]) -> int:
    """How many staging files the connection can attach now (0 without ADBC's SQLite driver,
    or when a column is of a kind they do not carry)."""
    if not sqlite_reader.available() or any(_arrow_type(table.c[c].type) is None for c in columns):
        return 0
    driver = connection.connection.driver_connection
    attached = sum(1 for row in driver.execute("PRAGMA database_list") if row[1] not in ("main", "temp"))
    return max(0, driver.getlimit(sqlite3.SQLITE_LIMIT_ATTACHED) - attached)


@contextmanager
def _sqlite_bulk_mode(driver, table_name: str, adding: int, constant: Iterable[str] = ()) -> Iterator[None]:
    """For a load bigger than the table: drop its indexes, insert, rebuild them (a sort
    beats a million random index inserts; SQLite's sorter may use every core meanwhile),
    with a larger page cache. Two kinds of index stay, as each rebuild reads the whole table
    again: partial ones, which hold a few rows by design (retracted ones, corrections), and
    those led by a ``constant`` column (the batch id, the recorded_at stamp), whose new
    entries all share one key and arrive in rowid order -- appended side by side, not
    scattered. All in the caller's transaction, so no reader ever sees the table without
    its indexes."""
    cursor = driver.cursor()
    cache, threads = (cursor.execute(f"PRAGMA {p}").fetchone()[0] for p in ("cache_size", "threads"))
    cursor.execute(f"PRAGMA cache_size = {-BULK_CACHE_KIB}")
    indexes: list[tuple[str, str]] = []
    if adding >= REBUILD_INDEXES_ABOVE:
        existing = cursor.execute(f'SELECT count(*) FROM "{table_name}"').fetchone()[0]
        if adding > existing:
            constant = list(constant)
            indexes = cursor.execute(
                "SELECT m.name, m.sql FROM sqlite_master AS m JOIN pragma_index_list(?1) AS i ON i.name = m.name "
                "WHERE m.type = 'index' AND m.sql IS NOT NULL AND NOT i.partial AND (SELECT c.name FROM "
                f"pragma_index_info(m.name) AS c WHERE c.seqno = 0) NOT IN ({', '.join(['?'] * len(constant))})",
                (table_name, *constant)).fetchall()
            for name, _ in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
            cursor.execute(f"PRAGMA threads = {os.cpu_count() or 1}")
    try:
        yield
    finally:
        for _, sql in indexes:
            cursor.execute(sql)
        cursor.execute(f"PRAGMA cache_size = {cache}")
        cursor.execute(f"PRAGMA threads = {threads}")
        cursor.close()


def _filled(frame: pd.DataFrame, columns: list[str]) -> list[str]:
    """The columns holding at least one value: each bind from Python costs, a NULL too."""
    return [c for c in columns if not frame[c].isna().all()]


def bulk_insert(session: Session, table: Table, frame: pd.DataFrame, columns: Iterable[str],
                constants: dict | None = None) -> int:
    """Insert ``frame[columns]`` plus ``constants`` (one value for every row) into ``table``."""
    columns, constants = list(columns), dict(constants or {})
    if frame.empty:
        return 0
    connection = session.connection()
    dialect = connection.dialect
    if len(frame) < SMALL:
        chunk = frame.assign(**constants)
        names = [*columns, *constants]
        records = [dict(zip(names, row)) for row in _rows(table, chunk, names)]
        connection.execute(insert(table), records)
        return len(records)
    given = [c for c in columns if c in frame]
    driver = connection.connection.driver_connection
    if dialect.name == "sqlite":
        literals = {name: _literal(value, table.c[name].type, dialect) for name, value in constants.items()}
        parts = min(-(-len(frame) // PART_ROWS), _staging_slots(connection, table, given))
        with _sqlite_bulk_mode(driver, table.name, len(frame), constants):
            if parts:  # NULLs cost nothing to bind in C: no need to look for empty columns
                _sqlite_staged(connection, table, frame, given, literals, parts)
                return len(frame)
            present = _filled(frame, given)
            for start in range(0, len(frame), CHUNK):  # Python values for one chunk at a time
                chunk = frame.iloc[start:start + CHUNK]
                _sqlite_insert(driver, table, *_columns(table, chunk, present, dialect), literals)
        return len(frame)
    present = _filled(frame, given) + list(constants)
    # Python values (and the constant columns) exist for one chunk at a time: memory stays
    # flat however big the file, and the caller's frame is never copied whole.
    chunks = (frame.iloc[start:start + CHUNK].assign(**constants) for start in range(0, len(frame), CHUNK))
    quoted = ", ".join(f'"{c}"' for c in present)
    with driver.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
        for chunk in chunks:
            _, arrays = _columns(table, chunk, present, dialect)
            for row in zip(*(a.tolist() for a in arrays)):
                copy.write_row(row)
    return len(frame)
