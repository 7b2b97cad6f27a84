"""Reads: ``fn(session, *, known_at=..., ...) -> DataFrame``. Never commits.

``known_at`` is the bitemporal axis: a row counts when it was recorded at or before
``known_at``, had not been retracted by then, and had not been superseded by a
correction that was itself recorded (and not retracted) by then. ``known_at=None``
means "everything the store knows now".
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import and_, exists, func, not_, or_, select
from sqlalchemy.orm import Session, aliased

from fleet.models import Chip, ChipAlias, Estimate, Headcount, IngestBatch, ModelRun, Organisation, OrganisationAlias

ESTIMATE_FRAME_COLUMNS = (
    "id", "organisation_id", "chip_id", "count", "count_low", "count_high", "h100e", "h100e_low", "h100e_high",
    "scope", "cluster", "valid_on", "status", "certainty", "access", "user_organisation_id", "country",
    "power_mw", "source_url", "extra_source_urls", "source_title", "quote", "note", "batch_id",
    "supersedes_id", "recorded_at",
)


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


def _dates(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    for column in columns:
        frame[column] = pd.to_datetime(frame[column])
    return frame


ESTIMATE_NUMBERS = ("count", "count_low", "count_high", "h100e", "h100e_low", "h100e_high", "power_mw")


def estimates_frame(session: Session, *, known_at: datetime | None = None,
                    organisation_ids: list[int] | None = None) -> pd.DataFrame:
    """Live estimates at ``known_at``, one row each, ids not names; ``valid_on`` as datetime64."""
    stmt = select(*(getattr(Estimate, c) for c in ESTIMATE_FRAME_COLUMNS)).where(live_estimate_condition(known_at))
    if organisation_ids is not None:
        stmt = stmt.where(Estimate.organisation_id.in_(organisation_ids))
    frame = _frame(session, stmt.order_by(Estimate.id))
    # a column that is NULL in every row comes back as Python objects: numbers stay numbers
    frame = frame.astype({c: "float64" for c in ESTIMATE_NUMBERS if c in frame})
    return _dates(frame, "valid_on", "recorded_at")


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
    frame = estimates_frame(session, known_at=known_at)
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
