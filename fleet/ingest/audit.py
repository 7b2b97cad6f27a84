"""The audit log: record every write (who, when, what, before/after) and read it back.

``record`` is called inside the write's own transaction, so an entry exists exactly
when its change does. A bulk write (CSV import, scrape, seed, revert) records one entry
for its batch -- the rows carry the batch id -- while manual edits record one entry per
changed row with its values before and after.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from fleet.auth import Actor
from fleet.db import WriteStamp
from fleet.models import AuditEntry, IngestBatch


def jsonable(values: dict[str, Any] | None) -> dict[str, Any] | None:
    """Dates, numpy and pandas scalars -> plain JSON values; NA -> None."""
    if values is None:
        return None
    out = {}
    for key, value in values.items():
        if isinstance(value, np.generic):
            value = value.item()
        if value is None or (not isinstance(value, str | list | dict) and pd.isna(value)):
            out[key] = None
        elif isinstance(value, datetime | pd.Timestamp):
            out[key] = value.isoformat()
        elif isinstance(value, date):
            out[key] = value.isoformat()
        else:
            out[key] = value
    json.dumps(out)  # fail here, inside the write, rather than at commit
    return out


def record(session: Session, stamp: WriteStamp, actor: Actor | str, action: str, *, entity: str, summary: str,
           entity_id: int | None = None, batch_id: int | None = None, before: dict | None = None,
           after: dict | None = None) -> AuditEntry:
    label = actor.label if isinstance(actor, Actor) else actor
    entry = AuditEntry(at=stamp.recorded_at, actor=label, action=action, entity=entity, entity_id=entity_id,
                       batch_id=batch_id, summary=summary[:2000], before=jsonable(before), after=jsonable(after))
    session.add(entry)
    return entry


def audit_frame(session: Session, *, actor: str | None = None, action: str | None = None,
                batch_id: int | None = None, since: datetime | None = None, until: datetime | None = None,
                text: str | None = None, limit: int = 1000) -> pd.DataFrame:
    """Audit entries, newest first, filtered; with each batch's kind and revert state."""
    stmt = select(AuditEntry.id, AuditEntry.at, AuditEntry.actor, AuditEntry.action, AuditEntry.entity,
                  AuditEntry.entity_id, AuditEntry.batch_id, AuditEntry.summary, AuditEntry.before,
                  AuditEntry.after).order_by(AuditEntry.id.desc())
    if actor:
        stmt = stmt.where(AuditEntry.actor.ilike(f"%{actor}%"))
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if batch_id is not None:
        stmt = stmt.where(AuditEntry.batch_id == batch_id)
    if since is not None:
        stmt = stmt.where(AuditEntry.at >= since)
    if until is not None:
        stmt = stmt.where(AuditEntry.at <= until)
    if text:
        stmt = stmt.where(AuditEntry.summary.ilike(f"%{text}%"))
    rows = session.execute(stmt.limit(limit)).all()
    frame = pd.DataFrame(rows, columns=["id", "at", "actor", "action", "entity", "entity_id", "batch_id", "summary",
                                        "before", "after"])
    frame["batch_id"] = frame["batch_id"].astype("Int64")
    frame["entity_id"] = frame["entity_id"].astype("Int64")
    return frame.join(_batch_states(session, frame["batch_id"].dropna().unique().tolist()), on="batch_id")


def _batch_states(session: Session, ids: list[int]) -> pd.DataFrame:
    """For each batch: its kind, the batch that reverted it (if any), what it reverts."""
    columns = ["batch_kind", "reverted_by", "reverts"]
    if not ids:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="batch_id", dtype="Int64"))
    kinds = dict(session.execute(select(IngestBatch.id, IngestBatch.kind).where(IngestBatch.id.in_(ids))).all())
    reverts = dict(session.execute(select(IngestBatch.id, IngestBatch.reverts_batch_id)
                                   .where(IngestBatch.id.in_(ids))).all())
    reverted_by = dict(session.execute(
        select(IngestBatch.reverts_batch_id, IngestBatch.id).where(IngestBatch.reverts_batch_id.in_(ids))).all())
    frame = pd.DataFrame({"batch_kind": [kinds.get(i) for i in ids],
                          "reverted_by": pd.array([reverted_by.get(i) for i in ids], dtype="Int64"),
                          "reverts": pd.array([reverts.get(i) for i in ids], dtype="Int64")},
                         index=pd.Index(ids, name="batch_id", dtype="Int64"))
    return frame
