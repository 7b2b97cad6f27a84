"""Write the synthetic data (``bench.synthetic``) into a store, fast, and cache it.

One transaction: the seed catalog's chips (through ``fleet.ingest.catalog``, as seeding
does), then organisations, one ingest batch per recorded month (plus a headcount, a
model-run and a revert batch), the estimates with their batch ids, ``recorded_at`` stamps,
fingerprints, supersedes links and tombstones, headcounts and model runs -- all through
``fleet.ingest.bulk.bulk_insert`` (multi-row INSERT with indexes rebuilt after on SQLite,
COPY on Postgres) -- and finally the store clock (version, high-water mark).

    sqlite_store(spec) -> URL of bench/.cache/store_<key>.db (built if missing)
    postgres_store(spec) -> URL of the bench_synth database (rebuilt if its marker differs)
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from bench.synthetic import CACHE, FULL, NOW, SEED_DIR, Spec, Synthetic, generate, stamp_for

PG_ADMIN_URL = os.environ.get("FLEET_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PG_DATABASE = "bench_synth"
ESTIMATE_COLUMNS = (
    "id", "organisation_id", "chip_id", "count", "count_low", "count_high", "h100e", "scope", "cluster", "valid_on",
    "status", "certainty", "access", "user_organisation_id", "country", "source_url", "source_title", "note",
    "batch_id", "supersedes_id", "recorded_at", "retracted_at", "retraction_batch_id", "retraction_reason",
    "fingerprint",
)


def _chips(session: Session) -> dict[str, int]:
    from fleet.ingest.catalog import CatalogReport, upsert_chips
    from fleet.models import Chip
    from fleet.resolve import Resolver

    frame = pd.read_csv(SEED_DIR / "chips.csv", dtype=str, keep_default_na=False, na_values=[""]).astype(object)
    upsert_chips(session, Resolver.load(session), frame, CatalogReport())
    return dict(session.execute(select(Chip.name, Chip.id)).all())


def _batches(data: Synthetic) -> pd.DataFrame:
    """One CSV batch per recorded month, then the headcount, model-run and revert batches."""
    months = pd.PeriodIndex(sorted(data.estimates["month"].unique()))
    n = len(months)
    stamps = [stamp_for(m, i + 1) for i, m in enumerate(months)]
    last = pd.Period(NOW, "M")
    stamps += [stamp_for(last, n + 1), stamp_for(last, n + 2), stamp_for(last, n + 3)]
    kinds = ["csv"] * n + ["seed", "seed", "revert"]
    names = [f"synthetic {m}" for m in months] + ["synthetic headcounts", "synthetic model runs", "synthetic revert"]
    counts = data.estimates.groupby("month").size().reindex(months).tolist()
    counts += [len(data.headcounts), len(data.model_runs), int(data.estimates["retracted"].sum())]
    return pd.DataFrame({
        "id": np.arange(1, n + 4), "kind": kinds, "source_name": names, "started_at": stamps, "finished_at": stamps,
        "rows_in": counts, "rows_added": counts, "rows_skipped": 0, "rows_rejected": 0, "created_by": "bench",
        "month": list(months) + [None, None, None],
    })


def _estimate_rows(data: Synthetic, chip_ids: dict[str, int], batches: pd.DataFrame) -> pd.DataFrame:
    from fleet.ingest.load import fingerprints

    est = data.estimates
    org_ids = pd.Series(data.organisations["id"].to_numpy(), index=data.organisations["name"])
    monthly = batches.dropna(subset=["month"])
    by_month = pd.Series(monthly["id"].to_numpy(), index=pd.PeriodIndex(monthly["month"]))
    stamp_of = pd.Series(batches["started_at"].to_numpy(), index=batches["id"])
    revert = batches.iloc[-1]
    out = est.drop(columns=["organisation", "chip", "user_organisation", "month", "retracted"])
    out["organisation_id"] = est["organisation"].map(org_ids).to_numpy()
    out["user_organisation_id"] = est["user_organisation"].map(org_ids).astype("Int64")
    out["chip_id"] = est["chip"].map(chip_ids).astype("Int64")
    out["batch_id"] = by_month.reindex(pd.PeriodIndex(est["month"])).to_numpy()
    out["recorded_at"] = stamp_of.reindex(out["batch_id"]).to_numpy()
    retracted = est["retracted"].to_numpy()
    out["retracted_at"] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[us]").mask(retracted,
                                                                                          revert["started_at"])
    out["retraction_batch_id"] = pd.Series(np.where(retracted, revert["id"], 0), dtype="Int64").where(retracted)
    out["retraction_reason"] = np.where(retracted, "synthetic retraction", None)
    out["fingerprint"] = fingerprints(out)
    return out


def _facts(data: Synthetic, chip_ids: dict[str, int], batches: pd.DataFrame, kind: str) -> pd.DataFrame:
    from fleet.ingest.load import fingerprints

    batch = batches.iloc[-3 if kind == "headcounts" else -2]
    frame = (data.headcounts if kind == "headcounts" else data.model_runs).copy()
    frame["batch_id"], frame["recorded_at"] = batch["id"], batch["started_at"]
    if kind == "model_runs":
        frame["chip_id"] = frame.pop("chip").map(chip_ids).astype("Int64")
        keys = ("name", "published_on", "training_flop", "source_url")
    else:
        keys = ("organisation_id", "count", "kind", "valid_on", "source_url")
    frame["fingerprint"] = fingerprints(frame, keys)
    return frame


def write_store(engine, data: Synthetic) -> None:
    """Everything in one transaction on a freshly migrated store."""
    from fleet.ingest.bulk import bulk_insert
    from fleet.models import Estimate, Headcount, IngestBatch, ModelRun, Organisation, StoreState
    from fleet.names import name_key

    with Session(engine) as session, session.begin():
        chip_ids = _chips(session)
        batches = _batches(data)
        created = batches["started_at"].iloc[0]
        orgs = data.organisations.assign(name_key=data.organisations["name"].map(name_key), created_at=created)
        bulk_insert(session, Organisation.__table__, orgs, ("id", "name", "name_key", "kind", "country", "created_at"))
        bulk_insert(session, IngestBatch.__table__, batches, [c for c in batches if c != "month"])
        bulk_insert(session, Estimate.__table__, _estimate_rows(data, chip_ids, batches), ESTIMATE_COLUMNS)
        for kind, model in (("headcounts", Headcount), ("model_runs", ModelRun)):
            frame = _facts(data, chip_ids, batches, kind)
            bulk_insert(session, model.__table__, frame, list(frame.columns))
        session.execute(update(StoreState).where(StoreState.id == 1).values(
            version=len(batches), last_write_at=batches["started_at"].max()))
        if engine.dialect.name == "postgresql":
            for table in ("organisation", "ingest_batch", "estimate"):
                session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                     f"(SELECT max(id) FROM {table}))"))


def sqlite_store(spec: Spec, *, data: Synthetic | None = None) -> str:
    """The cached SQLite synthetic store's URL (built on first use)."""
    from fleet import migrate
    from fleet.db import make_engine

    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"store_{spec.key}_{migrate.head_revision()}.db"
    url = f"sqlite:///{path}"
    if path.is_file():
        return url
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    for stale in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        stale.unlink(missing_ok=True)
    migrate.upgrade(f"sqlite:///{tmp}")
    engine = make_engine(f"sqlite:///{tmp}", sqlite_foreign_keys=False)
    write_store(engine, data or generate(spec))
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    tmp.replace(path)
    return url


def _pg_admin():
    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)


def postgres_store(spec: Spec, *, data: Synthetic | None = None, database: str | None = None) -> str:
    """The synthetic store in Postgres database ``database`` (``bench_synth`` for the full
    size, ``bench_synth_<size>`` otherwise, so a smoke run never drops the big one), dropped
    and rebuilt when its marker comment does not name this spec and the schema head."""
    from fleet import migrate
    from fleet.db import make_engine

    database = database or (PG_DATABASE if spec == FULL else f"{PG_DATABASE}_{spec.label.lower()}")
    url = make_url(PG_ADMIN_URL).set(database=database).render_as_string(hide_password=False)
    marker = f"fleet synthetic {spec.key} {migrate.head_revision()}"
    with _pg_admin().connect() as conn:
        found = conn.execute(text("SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                                  "WHERE datname = :d"), {"d": database}).scalar()
        if found == marker:
            return url
        conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    migrate.upgrade(url)
    engine = make_engine(url, poolclass=NullPool)
    write_store(engine, data or generate(spec))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()
    with _pg_admin().connect() as conn:
        conn.execute(text(f"COMMENT ON DATABASE \"{database}\" IS '{marker}'"))
    return url


def seeded_store() -> str:
    """A cached SQLite store holding the real seed (data/seed), for the seeded-data figures."""
    from fleet import migrate
    from fleet.db import make_engine
    from fleet.seed import seed

    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"seeded_{migrate.head_revision()}.db"
    if not path.is_file():
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        migrate.upgrade(f"sqlite:///{tmp}")
        engine = make_engine(f"sqlite:///{tmp}")
        seed(engine, SEED_DIR)
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        tmp.replace(path)
    return f"sqlite:///{path}"
