"""Insert a DataFrame into a table fast, inside the caller's transaction.

A million-row import cannot afford the ORM, nor even Core's per-row parameter
processing: this module turns each column into Python values once per *distinct*
value, using the column type's own bind processor (so dates and timestamps are stored
exactly as SQLAlchemy would store them), then hands whole rows to the driver:
``executemany`` on SQLite, ``COPY ... FROM STDIN`` on Postgres. Small frames go
through Core ``insert`` like any other write. It never commits.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Iterable

import numpy as np
import pandas as pd
from sqlalchemy import Table, insert
from sqlalchemy.orm import Session
from sqlalchemy.types import Date, DateTime

SMALL = 5_000  # below this, Core insert: simpler, and the speed makes no difference
_ROWS_PER_CALL = 50_000


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


def column_values(series: pd.Series, sqltype, dialect=None) -> list:
    """The column as Python values (None for missing); driver-ready when ``dialect`` is given."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    process = sqltype.bind_processor(dialect) if dialect is not None else None
    converted = [_python(u, sqltype) for u in uniques]
    if process is not None:
        converted = [process(v) if v is not None else None for v in converted]
    table = np.empty(len(converted) + 1, dtype=object)
    table[:-1] = converted
    table[-1] = None
    return table[codes].tolist()


def _rows(table: Table, frame: pd.DataFrame, columns: list[str], dialect) -> list[tuple]:
    lists = [column_values(frame[c] if c in frame else pd.Series(None, index=frame.index, dtype=object),
                           table.c[c].type, dialect) for c in columns]
    return list(zip(*lists))


def bulk_insert(session: Session, table: Table, frame: pd.DataFrame, columns: Iterable[str]) -> int:
    """Insert ``frame[columns]`` into ``table``; returns the number of rows."""
    columns = list(columns)
    if frame.empty:
        return 0
    connection = session.connection()
    dialect = connection.dialect
    if len(frame) < SMALL:
        records = [dict(zip(columns, row)) for row in _rows(table, frame, columns, None)]
        connection.execute(insert(table), records)
        return len(records)
    rows = _rows(table, frame, columns, dialect)
    driver = connection.connection.driver_connection
    names = ", ".join(f'"{c}"' for c in columns)
    if dialect.name == "sqlite":
        sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({", ".join("?" * len(columns))})'
        cursor = driver.cursor()
        for start in range(0, len(rows), _ROWS_PER_CALL):
            cursor.executemany(sql, rows[start:start + _ROWS_PER_CALL])
        cursor.close()
    else:
        with driver.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
    return len(rows)

