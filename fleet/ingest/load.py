"""Write a batch: the one place rows enter the fact tables.

Callers (seed, CSV import, manual entry, scrapers) hand over *resolved* frames (ids,
not names) inside a ``fleet.db.write_session``; this module stamps ``recorded_at``,
attaches the ingest batch, computes fingerprints and skips rows already in the store.
It never commits: the write session does, all or nothing.
"""

from __future__ import annotations

import hashlib
from typing import Iterable

import numpy as np
import pandas as pd
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from fleet.db import WriteStamp, now_utc
from fleet.models import Estimate, Headcount, IngestBatch, ModelRun
from fleet.names import name_key

ESTIMATE_COLUMNS = (
    "organisation_id", "chip_id", "count", "count_low", "count_high", "h100e", "h100e_low", "h100e_high",
    "scope", "cluster", "valid_on", "status", "certainty", "access", "user_organisation_id", "country",
    "power_mw", "source_url", "extra_source_urls", "source_title", "quote", "note", "supersedes_id",
)
# What makes two estimates "the same row": organisation, chip, count and range, date and
# source -- plus scope, cluster and status, so that two equal clusters of one owner from
# one source (Meta's two 24,576-GPU clusters) are not mistaken for a duplicate.
FINGERPRINT_COLUMNS = (
    "organisation_id", "chip_id", "count", "count_low", "count_high", "h100e", "h100e_low", "h100e_high",
    "scope", "cluster", "valid_on", "status", "source_url",
)
HEADCOUNT_COLUMNS = ("organisation_id", "count", "kind", "valid_on", "scope_note", "source_url", "note")
MODEL_RUN_COLUMNS = (
    "name", "organisation_id", "developer", "published_on", "training_flop", "training_flop_low",
    "training_flop_high", "hardware", "chip_id", "hardware_quantity", "confidence", "milestone",
    "source_url", "note",
)
_CHUNK = 2_000


def new_batch(session: Session, stamp: WriteStamp, *, kind: str, source_name: str, created_by: str,
              location: str | None = None, sha256: str | None = None, note: str | None = None) -> IngestBatch:
    batch = IngestBatch(kind=kind, source_name=source_name, created_by=created_by, location=location,
                        sha256=sha256, note=note, started_at=stamp.recorded_at)
    session.add(batch)
    session.flush()
    return batch


def _canonical(series: pd.Series, column: str) -> pd.Series:
    if column == "cluster":
        return series.map(lambda v: name_key(v) if isinstance(v, str) else "")
    if column in {"h100e", "h100e_low", "h100e_high"}:
        return series.map(lambda v: "" if v is None or pd.isna(v) else f"{float(v):.6g}")
    if column in {"organisation_id", "chip_id", "count", "count_low", "count_high"}:
        return series.map(lambda v: "" if v is None or pd.isna(v) else str(int(v)))
    if column == "valid_on":
        return series.map(lambda v: "" if v is None or pd.isna(v) else pd.Timestamp(v).date().isoformat())
    return series.map(lambda v: "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v).strip())


def fingerprints(frame: pd.DataFrame, columns: Iterable[str] = FINGERPRINT_COLUMNS) -> pd.Series:
    """A stable hash of the identifying columns, one per row (blake2b, 32 hex chars)."""
    if frame.empty:
        return pd.Series([], index=frame.index, dtype="object")
    parts = [_canonical(frame[c] if c in frame else pd.Series(None, index=frame.index), c) for c in columns]
    joined = parts[0].str.cat(parts[1:], sep="\x1f")
    return joined.map(lambda s: hashlib.blake2b(s.encode(), digest_size=16).hexdigest())


def existing_fingerprints(session: Session, model, candidates: Iterable[str]) -> set[str]:
    """Which of ``candidates`` are already in the store (not retracted)."""
    found: set[str] = set()
    pending = list(dict.fromkeys(candidates))
    for start in range(0, len(pending), _CHUNK):
        chunk = pending[start:start + _CHUNK]
        rows = session.execute(
            select(model.fingerprint).where(model.fingerprint.in_(chunk), model.retracted_at.is_(None))
        )
        found.update(rows.scalars())
    return found


def _records(frame: pd.DataFrame, columns: Iterable[str]) -> list[dict]:
    out = frame.reindex(columns=list(columns)).astype(object)
    out = out.where(pd.notna(out), None)
    return out.to_dict("records")


def _dedupe(session: Session, model, frame: pd.DataFrame, columns) -> tuple[pd.DataFrame, int]:
    frame = frame.copy()
    frame["fingerprint"] = fingerprints(frame, columns)
    within = frame.duplicated("fingerprint")
    known = frame["fingerprint"].isin(existing_fingerprints(session, model, frame["fingerprint"]))
    keep = ~(within | known)
    return frame[keep], int((~keep).sum())


def _insert(session: Session, model, frame: pd.DataFrame, columns, stamp: WriteStamp, batch_id: int) -> None:
    records = _records(frame, (*columns, "fingerprint"))
    for record in records:
        record["recorded_at"] = stamp.recorded_at
        record["batch_id"] = batch_id
    for start in range(0, len(records), _CHUNK):
        session.execute(insert(model), records[start:start + _CHUNK])


def add_estimates(session: Session, stamp: WriteStamp, batch: IngestBatch, frame: pd.DataFrame) -> tuple[int, int]:
    """Insert resolved estimate rows not already in the store; returns (added, skipped)."""
    fresh, skipped = _dedupe(session, Estimate, frame, FINGERPRINT_COLUMNS)
    _insert(session, Estimate, fresh, ESTIMATE_COLUMNS, stamp, batch.id)
    return len(fresh), skipped


def add_headcounts(session: Session, stamp: WriteStamp, batch: IngestBatch, frame: pd.DataFrame) -> tuple[int, int]:
    fresh, skipped = _dedupe(session, Headcount, frame, ("organisation_id", "count", "kind", "valid_on", "source_url"))
    _insert(session, Headcount, fresh, HEADCOUNT_COLUMNS, stamp, batch.id)
    return len(fresh), skipped


def add_model_runs(session: Session, stamp: WriteStamp, batch: IngestBatch, frame: pd.DataFrame) -> tuple[int, int]:
    fresh, skipped = _dedupe(session, ModelRun, frame, ("name", "published_on", "training_flop", "source_url"))
    _insert(session, ModelRun, fresh, MODEL_RUN_COLUMNS, stamp, batch.id)
    return len(fresh), skipped


def finish_batch(batch: IngestBatch, stamp: WriteStamp, *, rows_in: int, added: int, skipped: int,
                 rejected: int = 0) -> None:
    batch.rows_in, batch.rows_added, batch.rows_skipped, batch.rows_rejected = rows_in, added, skipped, rejected
    batch.finished_at = max(now_utc(), stamp.recorded_at)


def as_nullable_int(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="raise").astype("Int64")


def as_float(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="raise").astype("float64").replace({np.inf: np.nan})


def retract(session: Session, stamp: WriteStamp, model, ids: Iterable[int], *, batch: IngestBatch,
            reason: str) -> int:
    """Tombstone rows (set once, never cleared): they stop counting from ``stamp`` on.

    Returns how many rows were retracted now; rows already retracted are left alone so
    their original retraction time -- and every view "as known" before it -- stands.
    """
    ids = list(ids)
    total = 0
    for start in range(0, len(ids), _CHUNK):
        result = session.execute(
            update(model)
            .where(model.id.in_(ids[start:start + _CHUNK]), model.retracted_at.is_(None))
            .values(retracted_at=stamp.recorded_at, retraction_batch_id=batch.id, retraction_reason=reason)
        )
        total += result.rowcount
    return total
