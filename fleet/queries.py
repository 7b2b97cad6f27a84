"""Reads: ``fn(session, *, known_at=..., ...) -> DataFrame``. Never commits.

``known_at`` is the bitemporal axis: a row counts when it was recorded at or before
``known_at``, had not been retracted by then, and had not been superseded by a
correction that was itself recorded (and not retracted) by then. ``known_at=None``
means "everything the store knows now".
"""

from __future__ import annotations

import os
from datetime import datetime

import pandas as pd
from sqlalchemy import and_, exists, func, not_, or_, select
from sqlalchemy.orm import Session, aliased

from fleet import sqlite_reader
from fleet.models import (Chip, ChipAlias, Estimate, Headcount, IngestBatch, ModelRun, Organisation, OrganisationAlias,
                          StoreState)

ESTIMATE_FRAME_COLUMNS = (
    "id", "organisation_id", "chip_id", "count", "count_low", "count_high", "h100e", "h100e_low", "h100e_high",
    "scope", "cluster", "valid_on", "status", "certainty", "access", "user_organisation_id", "country",
    "power_mw", "source_url", "extra_source_urls", "source_title", "quote", "note", "batch_id",
    "supersedes_id", "recorded_at",
)
# What no page, chart, claim or projection reads of the live estimates: free text, extra links,
# power, batch, the corrected row and access. Exports ask for them (``columns=``); the
# organisation page's list and the edit forms read their own rows (``estimate_history``).
ESTIMATE_DETAIL_COLUMNS = ("access", "power_mw", "extra_source_urls", "source_title", "quote", "note", "batch_id",
                           "supersedes_id")
# The frame the app keeps and computes on (``fleet.materialised``): leaving the details out takes
# over a third off the cold read of a million estimates (1.5 s -> 0.94 s here), and their bytes
# off the app's memory and its Parquet copy.
ESTIMATE_ANALYSIS_COLUMNS = tuple(c for c in ESTIMATE_FRAME_COLUMNS if c not in ESTIMATE_DETAIL_COLUMNS)


def known(model, known_at: datetime | None):
    """SQL condition: the row was in the store (recorded, not retracted) at ``known_at``."""
    if known_at is None:
        return model.retracted_at.is_(None)
    return and_(model.recorded_at <= known_at, or_(model.retracted_at.is_(None), model.retracted_at > known_at))


def live_estimate_condition(known_at: datetime | None):
    correction = aliased(Estimate)
    superseded = exists().where(correction.supersedes_id == Estimate.id, known(correction, known_at))
    return and_(known(Estimate, known_at), not_(superseded))


def _frame(session: Session, stmt) -> pd.DataFrame:
    return pd.read_sql_query(stmt, session.connection())


def arrow_url(session: Session) -> str | None:
    """The URL connectorx reads the session's database at, or None to read through the driver.

    Reading a million estimates through the driver builds a million Python rows; connectorx
    reads them straight into Arrow columns, typed by the columns' declared types. Only on
    Postgres (connectorx's SQLite reader served stale rows of a WAL-mode store and left the
    file unreadable to the next connection: never for SQLite), only in a read-only session
    (``fleet.db.read_session``: it reads on a connection of its own, so it could not see a
    write session's own rows), and only for a plain URL (no driver options to carry over).
    """
    if not session.info.get("read_only"):
        return None
    url = session.get_bind().url
    if url.get_backend_name() != "postgresql" or url.query or not url.database:
        return None
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _arrow_frame(session: Session, stmt) -> pd.DataFrame | None:
    target = arrow_url(session)
    if target is None:
        return None
    import connectorx  # only the big reads need it

    sql = str(stmt.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))  # ids and stamps only
    # dates as Python dates, as the driver gives them: _dates then converts both alike
    return connectorx.read_sql(target, sql, return_type="arrow").to_pandas(date_as_object=True)


CHILD_READ_MIN = 50_000  # estimates in the store from which a whole read on SQLite goes through child processes
CHILD_READ_PARTS = 4  # at most this many children (one per core) read parts of it at once


def sqlite_file(session: Session) -> str | None:
    """The SQLite file a read-only session's whole-store reads may go round the driver for
    (``fleet.sqlite_reader``), or None: another database, a write session (a child could not
    see its rows), an in-memory or URI-configured database, or ADBC not installed."""
    url = session.get_bind().url
    if (not session.info.get("read_only") or url.get_backend_name() != "sqlite" or url.query
            or url.database in (None, "", ":memory:") or not sqlite_reader.available()):
        return None
    return url.database


def _child_frame(session: Session, condition, columns: tuple[str, ...]) -> pd.DataFrame | None:
    """The live estimates matching ``condition``, read by child processes (``fleet.sqlite_reader``)
    when the store is big enough to be worth them; None to read through the driver.

    The children read in transactions of their own, so their rows are kept only if they are at
    the data version this session sees: a write committed in between sends the read to the driver.
    The read is split by id into one part per core (at most ``CHILD_READ_PARTS``).
    """
    path = sqlite_file(session)
    if path is None:
        return None
    top = session.execute(select(func.max(Estimate.id))).scalar() or 0
    if top < CHILD_READ_MIN:
        return None
    version = session.execute(select(StoreState.version).where(StoreState.id == 1)).scalar()
    selected = [getattr(Estimate, c) for c in columns]
    n = max(1, min(os.cpu_count() or 1, CHILD_READ_PARTS))
    lows = [top * i // n for i in range(n)]  # part i: ids above lows[i], up to the next part's low
    parts = [select(*selected).where(condition, Estimate.id > low, *([] if high is None else [Estimate.id <= high]))
             .order_by(Estimate.id) for low, high in zip(lows, [*lows[1:], None])]
    compile_ = {"compile_kwargs": {"literal_binds": True}}
    got = sqlite_reader.read(path, *(str(part.compile(session.get_bind(), **compile_)) for part in parts),
                             types=_CHILD_TYPES)
    if got is None or got[0] != version:
        return None
    import pyarrow as pa

    return pa.concat_tables(got[1]).to_pandas()


def _dates(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    for column in columns:
        frame[column] = pd.to_datetime(frame[column])
    return frame


ESTIMATE_NUMBERS = ("count", "count_low", "count_high", "h100e", "h100e_low", "h100e_high", "power_mw",
                    "chip_id", "user_organisation_id", "supersedes_id")  # ids that may be NULL: float64, as pandas reads them
ESTIMATE_IDS = ("id", "organisation_id", "batch_id")  # never NULL (Postgres' INTEGER reads as int32 in Arrow)
ESTIMATE_TEXT = ("scope", "cluster", "status", "certainty", "access", "country", "source_url", "extra_source_urls",
                 "source_title", "quote", "note")
# What the child readers cast each column to in Arrow. ADBC types a column from the values it
# meets, and the columns' affinities keep those of one kind: integers in the id and count
# columns (a column where integers and reals meet comes as reals), reals in the float ones,
# text in the text ones. A column NULL in every row comes typed as integers; pandas' "str" is
# Arrow's large_string; days and stamps are stored as ISO 8601 text. Casting in SQL instead
# cost each child a tenth of its query.
_CHILD_TYPES = {**dict.fromkeys(ESTIMATE_IDS, "int64"), **dict.fromkeys(ESTIMATE_NUMBERS, "float64"),
                **dict.fromkeys(ESTIMATE_TEXT, "large_string"), "valid_on": "timestamp[s]",
                "recorded_at": "timestamp[us]"}


def estimates_frame(session: Session, *, known_at: datetime | None = None,
                    organisation_ids: list[int] | None = None,
                    columns: tuple[str, ...] = ESTIMATE_ANALYSIS_COLUMNS) -> pd.DataFrame:
    """Live estimates at ``known_at``, one row each, ids not names; ``valid_on`` as datetime64.

    ``columns``: those of ``ESTIMATE_FRAME_COLUMNS`` to read, in its order (by default all but
    the details no computation reads)."""
    condition = live_estimate_condition(known_at)
    if organisation_ids is not None:
        condition = and_(condition, Estimate.organisation_id.in_(organisation_ids))
    return _estimates(session, condition, columns, whole=organisation_ids is None)


def _estimates(session: Session, condition, columns: tuple[str, ...], *, whole: bool = False) -> pd.DataFrame:
    """Estimates matching ``condition`` (``whole``: a read of every live estimate, which may go
    through a child process on a big SQLite store)."""
    unknown = [c for c in columns if c not in ESTIMATE_FRAME_COLUMNS]
    if unknown or "id" not in columns or "recorded_at" not in columns:
        raise ValueError(f"estimate columns must include id and recorded_at and come from ESTIMATE_FRAME_COLUMNS, "
                         f"not {unknown or list(columns)}")
    columns = tuple(c for c in ESTIMATE_FRAME_COLUMNS if c in columns)
    stmt = select(*(getattr(Estimate, c) for c in columns)).where(condition).order_by(Estimate.id)
    frame = _arrow_frame(session, stmt)
    if frame is None and whole:
        frame = _child_frame(session, condition, columns)
    if frame is None:
        frame = _frame(session, stmt)
    # a column that is NULL in every row comes back as Python objects: numbers stay numbers
    # and text stays text, so a frame's dtypes never depend on which rows it holds
    kinds = {**{c: "int64" for c in ESTIMATE_IDS}, **{c: "float64" for c in ESTIMATE_NUMBERS},
             **{c: "str" for c in ESTIMATE_TEXT}}
    frame = frame.astype({c: kind for c, kind in kinds.items() if c in frame.columns})
    # days and microsecond stamps, whichever way they were read (an empty read has no unit of its own)
    return _dates(frame, "valid_on", "recorded_at").astype({"valid_on": "datetime64[s]",
                                                            "recorded_at": "datetime64[us]"})


REFRESH_SHARE = 0.25  # re-read more than this share of a frame's rows, and a whole read is as cheap
_IN_CHUNK = 5_000  # ids per IN (...) list: well under SQLite's and Postgres' parameter limits


def estimates_since(session: Session, frame: pd.DataFrame, since: datetime) -> pd.DataFrame | None:
    """The live estimates now (``estimates_frame(session)``), from ``frame`` -- the live
    estimates when the store's high-water mark was ``since`` -- and what was written after.

    The store only appends estimates and tombstones them (``fleet.ingest.load.retract``
    sets ``retracted_at`` once; nothing else updates or deletes one), and no write
    committed after the high-water mark carries an earlier stamp (``fleet.db``). So an
    estimate can have changed its liveness since ``since`` only if it was recorded or
    retracted after it, or is the target of a correction that was: those rows are dropped
    from ``frame`` and read again, the rest is kept as it is. A million-row store then
    reads a handful of rows after a manual edit instead of all of them.

    ``None`` when a whole read is the better way: more than ``REFRESH_SHARE`` of the
    frame's rows changed, ``frame``'s columns are not the ones this module reads, or its
    first and last rows are not in the store as they are in the frame (the frame was read
    from another store, e.g. one deleted and seeded again at the same path).
    """
    columns = tuple(frame.columns)
    if columns not in (ESTIMATE_ANALYSIS_COLUMNS, ESTIMATE_FRAME_COLUMNS) or not _same_store(session, frame):
        return None
    touched = session.execute(changed_since(since)).all()
    if len(touched) > REFRESH_SHARE * max(len(frame), 1):
        return None
    ids = {row.id for row in touched}
    targets = sorted({row.supersedes_id for row in touched if row.supersedes_id is not None} - ids)
    live = live_estimate_condition(None)
    parts = [_estimates(session, and_(live, Estimate.recorded_at > since), columns)]
    for start in range(0, len(targets), _IN_CHUNK):
        parts.append(_estimates(session, and_(live, Estimate.id.in_(targets[start:start + _IN_CHUNK])), columns))
    gone = frame["id"].isin(ids.union(targets)).to_numpy()
    kept = frame.loc[~gone] if gone.any() else frame  # after an addition, nothing to drop: no copy
    fresh = [_like(part, frame) for part in parts if len(part)]
    if not fresh:
        return kept.reset_index(drop=True)
    out = pd.concat([kept, *fresh], ignore_index=True)
    if not out["id"].is_monotonic_increasing:  # a revived estimate is older than the new ones
        out = out.sort_values("id", kind="stable", ignore_index=True)
    return out


def changed_since(since: datetime):
    """The estimates recorded or retracted after ``since`` (id, supersedes_id): each side of the
    OR has an index of its own (``ix_estimate_recorded_at``, the partial ``ix_estimate_retracted``)."""
    return select(Estimate.id, Estimate.supersedes_id).where(
        or_(Estimate.recorded_at > since, Estimate.retracted_at > since))


def _same_store(session: Session, frame: pd.DataFrame) -> bool:
    if frame.empty:
        return True
    ends = frame.iloc[[0, -1]]
    stored = dict(session.execute(select(Estimate.id, Estimate.recorded_at)
                                  .where(Estimate.id.in_([int(i) for i in ends["id"]]))).all())
    return all(i in stored and pd.Timestamp(stored[i]) == pd.Timestamp(at)
               for i, at in zip(ends["id"].astype(int), ends["recorded_at"]))


def _like(part: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """``part`` with ``frame``'s dtypes (a few rows read back may hold only NULLs in a column,
    and a frame kept on disk may carry another datetime unit)."""
    differ = {c: frame[c].dtype for c in frame if part[c].dtype != frame[c].dtype}
    return part.astype(differ) if differ else part


def estimate_history(session: Session, organisation_id: int, *, known_at: datetime | None = None) -> pd.DataFrame:
    """Every estimate of one organisation recorded by ``known_at``, live or not, with its state."""
    columns = [getattr(Estimate, c) for c in ESTIMATE_FRAME_COLUMNS]
    correction = aliased(Estimate)
    superseded_by = (
        select(func.min(correction.id)).where(correction.supersedes_id == Estimate.id, known(correction, known_at))
        .correlate(Estimate).scalar_subquery()
    )
    stmt = select(*columns, Estimate.retracted_at, Estimate.retraction_reason, superseded_by.label("superseded_by"))
    stmt = stmt.where(or_(Estimate.organisation_id == organisation_id, Estimate.user_organisation_id == organisation_id))
    if known_at is not None:
        stmt = stmt.where(Estimate.recorded_at <= known_at)
    frame = _dates(_frame(session, stmt.order_by(Estimate.valid_on, Estimate.id)), "valid_on", "recorded_at")
    retracted = frame["retracted_at"].notna()
    if known_at is not None:
        retracted &= pd.to_datetime(frame["retracted_at"]) <= known_at
    frame["state"] = "live"
    frame.loc[frame["superseded_by"].notna(), "state"] = "superseded"
    frame.loc[retracted, "state"] = "retracted"
    return frame


def organisations_frame(session: Session) -> pd.DataFrame:
    """Every organisation with its aliases ("|"-joined) and parent's name."""
    parent = aliased(Organisation)
    stmt = (
        select(Organisation.id, Organisation.name, Organisation.kind, Organisation.country,
               Organisation.parent_id, parent.name.label("parent"), Organisation.note)
        .outerjoin(parent, parent.id == Organisation.parent_id)
        .order_by(Organisation.name)
    )
    frame = _frame(session, stmt)
    aliases = _frame(session, select(OrganisationAlias.organisation_id, OrganisationAlias.alias))
    frame["aliases"] = _joined_aliases(frame["id"], aliases["organisation_id"], aliases["alias"])
    return frame


def _joined_aliases(ids: pd.Series, owner: pd.Series, alias: pd.Series) -> pd.Series:
    """Each id's aliases, sorted and "|"-joined; "" where it has none (an object column either way)."""
    joined = alias.groupby(owner).agg(lambda a: "|".join(sorted(a)))
    return ids.map(joined).astype(object).where(ids.isin(joined.index), "")


def chips_frame(session: Session) -> pd.DataFrame:
    stmt = select(Chip.id, Chip.name, Chip.vendor, Chip.family, Chip.release_date, Chip.peak_flops_fp32,
                  Chip.peak_flops_bf16, Chip.peak_ops_8bit, Chip.memory_gb, Chip.memory_bw_gb_s, Chip.tdp_w,
                  Chip.price_usd, Chip.source_url, Chip.note).order_by(Chip.name)
    frame = _frame(session, stmt)
    aliases = _frame(session, select(ChipAlias.chip_id, ChipAlias.alias))
    frame["aliases"] = _joined_aliases(frame["id"], aliases["chip_id"], aliases["alias"])
    return frame


def headcounts_frame(session: Session, *, known_at: datetime | None = None) -> pd.DataFrame:
    stmt = select(Headcount.id, Headcount.organisation_id, Headcount.count, Headcount.kind, Headcount.valid_on,
                  Headcount.scope_note, Headcount.source_url, Headcount.note).where(known(Headcount, known_at))
    return _dates(_frame(session, stmt.order_by(Headcount.valid_on)), "valid_on")


def model_runs_frame(session: Session, *, known_at: datetime | None = None) -> pd.DataFrame:
    stmt = select(ModelRun.id, ModelRun.name, ModelRun.organisation_id, ModelRun.developer, ModelRun.published_on,
                  ModelRun.training_flop, ModelRun.training_flop_low, ModelRun.training_flop_high,
                  ModelRun.hardware, ModelRun.chip_id, ModelRun.hardware_quantity, ModelRun.confidence,
                  ModelRun.milestone, ModelRun.source_url, ModelRun.note).where(known(ModelRun, known_at))
    return _dates(_frame(session, stmt.order_by(ModelRun.published_on)), "published_on")


def batches_frame(session: Session) -> pd.DataFrame:
    stmt = select(IngestBatch).order_by(IngestBatch.id.desc())
    return _frame(session, stmt)


def store_stats(session: Session) -> dict[str, int]:
    """Counts of live rows: what `fleet stats` prints."""
    count = lambda stmt: int(session.execute(stmt).scalar_one())  # noqa: E731
    return {
        "organisations": count(select(func.count()).select_from(Organisation)),
        "estimates": count(select(func.count()).select_from(Estimate).where(live_estimate_condition(None))),
        "chips": count(select(func.count()).select_from(Chip)),
        "batches": count(select(func.count()).select_from(IngestBatch)),
    }


def export_estimates_frame(session: Session, *, known_at: datetime | None = None) -> pd.DataFrame:
    """Live estimates with organisation and chip *names*, in the import format's column order."""
    frame = estimates_frame(session, known_at=known_at, columns=ESTIMATE_FRAME_COLUMNS)
    orgs = organisations_frame(session).set_index("id")["name"]
    chips = chips_frame(session).set_index("id")["name"]
    out = pd.DataFrame({
        "id": frame["id"],
        "organisation": frame["organisation_id"].map(orgs),
        "chip": frame["chip_id"].map(chips),
    })
    for column in ("count", "count_low", "count_high", "h100e", "h100e_low", "h100e_high", "scope", "cluster"):
        out[column] = frame[column]
    out["valid_on"] = frame["valid_on"].dt.date
    for column in ("status", "certainty", "access"):
        out[column] = frame[column]
    out["user_organisation"] = frame["user_organisation_id"].map(orgs)
    for column in ("country", "power_mw", "source_url", "extra_source_urls", "source_title", "quote", "note",
                   "batch_id", "recorded_at"):
        out[column] = frame[column]
    for column in ("count", "count_low", "count_high"):
        out[column] = out[column].astype("Int64")
    return out
