"""Small helpers that put rows in a real store through Fleet's own write path."""

from __future__ import annotations

from datetime import date

import pandas as pd

from fleet.auth import Actor
from fleet.db import write_session
from fleet.ingest import load
from fleet.models import Chip, Organisation
from fleet.names import name_key
from fleet.vocab import BatchKind

H100_SPEC = dict(peak_ops_8bit=1.979e15, peak_flops_bf16=9.894e14, peak_flops_fp32=6.7e13, price_usd=33600.0,
                 tdp_w=700.0)


def add_org(engine, name: str, kind: str = "lab", country: str | None = "USA") -> int:
    with write_session(engine) as (session, stamp):
        org = Organisation(name=name, name_key=name_key(name), kind=kind, country=country,
                           created_at=stamp.recorded_at)
        session.add(org)
        session.flush()
        return org.id


def add_chip(engine, name: str = "NVIDIA H100 SXM5 80GB", **spec) -> int:
    with write_session(engine) as (session, _):
        chip = Chip(name=name, name_key=name_key(name), **(spec or H100_SPEC))
        session.add(chip)
        session.flush()
        return chip.id


def estimate_row(org_id: int, chip_id: int | None, count=None, valid_on: str = "2024-01-01", **extra) -> dict:
    row = {"organisation_id": org_id, "chip_id": chip_id, "count": count, "scope": "fleet",
           "valid_on": date.fromisoformat(valid_on), "status": "operational", "certainty": "likely",
           "access": "owned", "source_url": "https://example.org/source"}
    row.update(extra)
    return row


def add_estimates(engine, rows: list[dict], *, kind: str = BatchKind.MANUAL, who: str = "test"):
    """Write rows in one batch; returns (batch_id, [ids of the added estimates], stamp)."""
    from sqlalchemy import select

    from fleet.models import Estimate

    with write_session(engine) as (session, stamp):
        batch = load.new_batch(session, stamp, kind=kind, source_name="test", actor=Actor.system(who))
        added, skipped = load.add_estimates(session, stamp, batch, pd.DataFrame(rows))
        load.finish_batch(batch, stamp, rows_in=len(rows), added=added, skipped=skipped)
        ids = session.execute(select(Estimate.id).where(Estimate.batch_id == batch.id).order_by(Estimate.id))
        return batch.id, list(ids.scalars()), stamp


def retract(engine, ids: list[int], reason: str = "wrong"):
    from fleet.models import Estimate

    with write_session(engine) as (session, stamp):
        batch = load.new_batch(session, stamp, kind=BatchKind.REVERT, source_name="test", actor=Actor.system("test"))
        load.retract(session, stamp, Estimate, ids, batch=batch, reason=reason)
        return stamp


def add_catalog(engine) -> None:
    """A few organisations and chips with aliases, through the catalog's own upserts."""
    from fleet.ingest.catalog import CatalogReport, upsert_chips, upsert_organisations
    from fleet.resolve import Resolver

    with write_session(engine) as (session, stamp):
        resolver = Resolver.load(session)
        report = CatalogReport()
        upsert_chips(session, resolver, pd.DataFrame([
            {"name": "NVIDIA H100 SXM5 80GB", "aliases": "H100|NVIDIA H100 SXM", **H100_SPEC},
            {"name": "NVIDIA A100 SXM4 80GB", "aliases": "A100", "peak_ops_8bit": 6.24e14},
        ]), report)
        upsert_organisations(session, resolver, pd.DataFrame([
            {"name": "Meta", "kind": "lab", "country": "USA", "aliases": "Facebook|Meta AI"},
            {"name": "OpenAI", "kind": "lab", "country": "USA", "aliases": ""},
            {"name": "Microsoft", "kind": "hyperscaler", "country": "USA", "aliases": ""},
        ]), stamp, report)


EDITOR = Actor("alice", "password", "secrets")  # as if logged in with a secrets-configured account
