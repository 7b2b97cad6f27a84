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
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fleet.auth import Actor, require_editor
from fleet.db import WriteStamp, now_utc
from fleet.ingest import audit
from fleet.ingest.bulk import bulk_insert
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
_FINGERPRINT_CHUNK = 100_000


def new_batch(session: Session, stamp: WriteStamp, *, kind: str, source_name: str, actor: Actor,
              location: str | None = None, sha256: str | None = None, note: str | None = None,
              reverts_batch_id: int | None = None) -> IngestBatch:
    """Open a batch for ``actor``'s write; raises ``fleet.auth.NotAnEditor`` if they may not write.

    Every write path opens a batch first, so this is where editor rights are enforced.
    """
    require_editor(session, actor)
    batch = IngestBatch(kind=kind, source_name=source_name[:200], created_by=actor.label, location=location,
                        sha256=sha256, note=note, started_at=stamp.recorded_at, reverts_batch_id=reverts_batch_id)
    session.add(batch)
    session.flush()
    return batch


def _canonical_value(value: object, column: str) -> str:
    """The text a value contributes to a fingerprint (unchanged since the first seed)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if column == "cluster":
        return name_key(value) if isinstance(value, str) else ""
    if column in {"h100e", "h100e_low", "h100e_high"}:
        return f"{float(value):.6g}"
    if column in {"organisation_id", "chip_id", "count", "count_low", "count_high"}:
        return str(int(value))
    if column == "valid_on":
        return pd.Timestamp(value).date().isoformat()
    return str(value).strip()


_INT_COLUMNS = {"organisation_id", "chip_id", "count", "count_low", "count_high"}
_FLOAT_COLUMNS = {"h100e", "h100e_low", "h100e_high"}
_TEXT_COLUMNS = {"scope", "status", "source_url"}


def _canonical(series: pd.Series, column: str) -> pa.Array:
    """The column's fingerprint text, vectorised where the dtype allows (same text as
    ``_canonical_value``, which stays the definition and handles every other case)."""
    series = series.reset_index(drop=True)
    if column in _INT_COLUMNS and pd.api.types.is_integer_dtype(series.dtype):
        return pc.fill_null(pa.array(series.astype("Int64"), type=pa.int64()).cast(pa.string()), "")
    if column in _FLOAT_COLUMNS and series.dtype.kind == "f":  # most rows hold none: format only those given
        values = series.to_numpy(dtype="float64")
        present = ~np.isnan(values)
        at = pa.array(np.cumsum(present) - 1, mask=~present)  # each given value's place among them, else null
        return pc.fill_null(pa.array(np.char.mod("%.6g", values[present]), type=pa.string()).take(at), "")
    if column == "valid_on" and pd.api.types.is_datetime64_any_dtype(series.dtype):
        # the day as ISO text: a cast to date32 (dropping any time of day, as ``date()``), then to text
        return pc.fill_null(pc.cast(pa.array(series), pa.date32(), safe=False).cast(pa.string()), "")
    if column in _TEXT_COLUMNS and (series.dtype == object or pd.api.types.is_string_dtype(series.dtype)):
        try:  # str or object-of-str columns: Arrow trims (Unicode whitespace, like str.strip)
            text = pa.array(series, type=pa.string(), from_pandas=True)
            return pc.fill_null(pc.utf8_trim_whitespace(text), "")
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass  # not all strings: the general path below
    # Any other dtype: canonicalise each distinct value once, then broadcast by code.
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    table = np.array([_canonical_value(u, column) for u in uniques] + [""], dtype=object)
    return pa.array(table[codes], type=pa.string())


def fingerprints(frame: pd.DataFrame, columns: Iterable[str] = FINGERPRINT_COLUMNS) -> pd.Series:
    """A stable hash of the identifying columns, one per row (blake2b, 32 hex chars)."""
    columns = tuple(columns)
    digests: list[str] = []
    for start in range(0, len(frame), _FINGERPRINT_CHUNK):  # bounded memory for big imports
        digests += _digests(frame.iloc[start:start + _FINGERPRINT_CHUNK], columns)
    return pd.Series(digests, index=frame.index, dtype="object")


def _digests(frame: pd.DataFrame, columns: tuple[str, ...]) -> list[str]:
    empty = pc.fill_null(pa.nulls(len(frame), pa.string()), "")
    parts = [_canonical(frame[c], c) if c in frame else empty for c in columns]
    joined = pc.binary_join_element_wise(*parts, "\x1f").cast(pa.binary()).to_pylist()
    blake = hashlib.blake2b
    return [blake(text, digest_size=16).hexdigest() for text in joined]


# Above this many candidates, one scan of the live fingerprints beats thousands of IN lookups.
_SCAN_ABOVE = 20_000


def in_store(session: Session, model, fingerprints: pd.Series) -> np.ndarray:
    """Per fingerprint (None = not computed): is a live (not retracted) row with it in the store?

    A big import against the whole store is one scan of its live fingerprints and a hash
    join in pandas -- never a Python set of a million candidates (which a re-check under
    the write lock would build a second time).
    """
    present = fingerprints.notna().to_numpy()
    if not present.any():
        return np.zeros(len(fingerprints), dtype=bool)
    live = model.retracted_at.is_(None)
    if present.sum() > _SCAN_ABOVE:
        stored = session.execute(select(model.fingerprint).where(live)).scalars().all()
        return fingerprints.isin(stored).to_numpy() & present
    pending = sorted(set(fingerprints[present]))
    found: list[str] = []
    for start in range(0, len(pending), _CHUNK):
        chunk = pending[start:start + _CHUNK]
        found += session.execute(select(model.fingerprint).where(model.fingerprint.in_(chunk), live)).scalars().all()
    return fingerprints.isin(found).to_numpy() & present


def _dedupe(session: Session, model, frame: pd.DataFrame, columns) -> tuple[pd.DataFrame, int]:
    if "fingerprint" not in frame or frame["fingerprint"].isna().any():  # callers may have computed them
        frame = frame.assign(fingerprint=fingerprints(frame, columns))
    within = frame["fingerprint"].duplicated().to_numpy()
    keep = ~(within | in_store(session, model, frame["fingerprint"]))
    skipped = int((~keep).sum())
    return (frame[keep] if skipped else frame), skipped


def _insert(session: Session, model, frame: pd.DataFrame, columns, stamp: WriteStamp, batch_id: int) -> None:
    bulk_insert(session, model.__table__, frame, (*columns, "fingerprint"),
                constants={"recorded_at": stamp.recorded_at, "batch_id": batch_id})


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
                 rejected: int = 0, summary: str | None = None, details: dict | None = None) -> None:
    """Close the batch with its counts and write its audit entry (in the same transaction)."""
    batch.rows_in, batch.rows_added, batch.rows_skipped, batch.rows_rejected = rows_in, added, skipped, rejected
    batch.finished_at = max(now_utc(), stamp.recorded_at)
    session = Session.object_session(batch)
    counts = {"rows_in": rows_in, "added": added, "skipped": skipped, "rejected": rejected}
    text = summary or (f"{batch.kind} batch {batch.id} ({batch.source_name}): {added} added, {skipped} skipped"
                       + (f", {rejected} rejected" if rejected else ""))
    audit.record(session, stamp, batch.created_by, f"batch.{batch.kind}", entity="batch", entity_id=batch.id,
                 batch_id=batch.id, summary=text,
                 after={"location": batch.location, "sha256": batch.sha256, **counts, **(details or {})})


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
