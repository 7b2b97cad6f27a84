"""Alembic on both databases: upgrade, downgrade to base and back, and no drift from the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select
from sqlalchemy.pool import NullPool

from fleet import migrate
from fleet.db import make_engine
from fleet.models import Base, StoreState

TABLES = {"organisation", "organisation_alias", "chip", "chip_alias", "ingest_batch", "estimate", "headcount",
          "model_run", "store_state", "audit_log", "editor", "login_attempt", "raw_document", "chip_proposal",
          "claim", "snapshot"}


def _tables(url: str) -> set[str]:
    engine = make_engine(url, poolclass=NullPool)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _drift(url: str) -> list:
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def test_upgrade_creates_schema_and_store_clock(empty_url):
    migrate.upgrade(empty_url)
    assert TABLES <= _tables(empty_url)
    engine = make_engine(empty_url, poolclass=NullPool)
    with engine.connect() as conn:
        state = conn.execute(select(StoreState.id, StoreState.version)).all()
        assert migrate.current_revision(engine) == migrate.head_revision()
    engine.dispose()
    assert [tuple(r) for r in state] == [(1, 0)]


def test_downgrade_to_base_and_upgrade_again(empty_url):
    migrate.upgrade(empty_url)
    migrate.downgrade(empty_url, "base")
    assert not (TABLES & _tables(empty_url))
    migrate.upgrade(empty_url)
    assert TABLES <= _tables(empty_url)


def test_models_and_migrated_schema_do_not_differ(empty_url):
    migrate.upgrade(empty_url)
    assert _drift(empty_url) == []


def test_a_failing_migration_leaves_the_schema_as_it_was(empty_url, monkeypatch):
    """A migration that raises half-way rolls back its DDL (transactional DDL on both)."""
    migrate.upgrade(empty_url)
    migrate.downgrade(empty_url, "base")
    from alembic.operations import Operations

    real_create_table = Operations.create_table
    calls = {"n": 0}

    def flaky_create_table(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:
            raise RuntimeError("simulated failure in the middle of a migration")
        return real_create_table(self, *args, **kwargs)

    monkeypatch.setattr(Operations, "create_table", flaky_create_table)
    with pytest.raises(RuntimeError, match="simulated failure"):
        migrate.upgrade(empty_url)
    assert not (TABLES & _tables(empty_url))


def test_snapshot_migration_goes_down_to_0005_and_up_again(empty_url):
    migrate.upgrade(empty_url)
    assert "snapshot" in _tables(empty_url)
    migrate.downgrade(empty_url, "0005")
    assert "snapshot" not in _tables(empty_url) and "claim" in _tables(empty_url)
    migrate.upgrade(empty_url)
    assert "snapshot" in _tables(empty_url)
    assert _drift(empty_url) == []
