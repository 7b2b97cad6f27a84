"""Alembic environment: the same settings and engine factory as the app.

The URL comes from ``config.attributes["database_url"]`` (set by ``fleet.migrate``) or
else from ``fleet.config.get_settings()``. ``render_as_batch`` makes ALTERs work on
SQLite. On SQLite, foreign keys are off during the run (batch mode rebuilds tables) and
``PRAGMA foreign_key_check`` must come back empty before the transaction commits.
"""

from alembic import context
from sqlalchemy import text

from fleet.config import get_settings
from fleet.db import is_sqlite
from fleet.migrate import migration_engine
from fleet.models import Base

config = context.config
database_url = config.attributes.get("database_url") or get_settings().database_url


def _check_foreign_keys(connection) -> None:
    problems = connection.execute(text("PRAGMA foreign_key_check")).fetchall()
    if problems:
        raise RuntimeError(f"migration would break foreign keys: {problems[:5]}")


def run_migrations_offline() -> None:
    context.configure(url=database_url, target_metadata=Base.metadata, render_as_batch=True,
                      literal_binds=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = migration_engine(database_url)
    with engine.begin() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                          compare_type=True, transaction_per_migration=False)
        context.run_migrations()
        if is_sqlite(engine):
            _check_foreign_keys(connection)
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
