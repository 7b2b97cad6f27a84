"""Run Alembic migrations programmatically, against any URL (the CLI, tests, `make run`).

The Alembic config is built here (script location ``migrations/``) rather than read from
an ini file, and the target URL travels in ``config.attributes`` so that
``migrations/env.py`` needs no environment tricks. Each migration runs in one
transaction (SQLite and Postgres both have transactional DDL): a failure leaves the
schema exactly as it was.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.pool import NullPool

from fleet.config import PROJECT_ROOT
from fleet.db import make_engine

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migration_engine(database_url: str) -> Engine:
    return make_engine(database_url, sqlite_foreign_keys=False, poolclass=NullPool)
