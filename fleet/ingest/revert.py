"""Undo a batch as a whole -- with tombstones and new rows, never deletes of history.

Reverting batch B writes a new ``revert`` batch R (``R.reverts_batch_id = B``) that:
- retracts every row B added that is still live (``retracted_at`` = R's stamp), so any
  view "as known at" a time before R still shows them;
- restores, as fresh copies, the rows B retracted (undoing a retraction or a revert);
- puts back organisations B edited (from the audit log's "before" values) and deletes
  organisations B created if nothing refers to them (else keeps them, and says so).
A batch is reverted at most once; reverting R itself re-does B.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Engine, exists, or_, select
from sqlalchemy.orm import Session

from fleet.auth import Actor, require_editor
from fleet.db import WriteStamp, write_session
from fleet.ingest import load
from fleet.ingest.errors import IngestError
from fleet.ingest.organisations import OrganisationFields, save_organisation
from fleet.models import AuditEntry, Estimate, Headcount, IngestBatch, ModelRun, Organisation, OrganisationAlias
from fleet.vocab import BatchKind

_FACTS = ((Estimate, load.ESTIMATE_COLUMNS, load.add_estimates),
          (Headcount, load.HEADCOUNT_COLUMNS, load.add_headcounts),
          (ModelRun, load.MODEL_RUN_COLUMNS, load.add_model_runs))


@dataclass
class RevertResult:
    batch_id: int
    reverted_batch_id: int
    retracted: int = 0
    restored: int = 0
    organisations_restored: list[str] = field(default_factory=list)
    organisations_removed: list[str] = field(default_factory=list)
    organisations_kept: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"reverted batch {self.reverted_batch_id}: {self.retracted} rows retracted",
                 f"{self.restored} restored"]
        if self.organisations_restored:
            parts.append(f"organisations put back: {', '.join(self.organisations_restored)}")
        if self.organisations_removed:
            parts.append(f"organisations removed: {', '.join(self.organisations_removed)}")
        if self.organisations_kept:
            parts.append(f"kept (still referred to): {', '.join(self.organisations_kept)}")
        return "; ".join(parts)


def _target(session: Session, batch_id: int) -> IngestBatch:
    batch = session.get(IngestBatch, batch_id)
    if batch is None:
        raise IngestError(f"batch {batch_id} does not exist")
    by = session.execute(select(IngestBatch.id).where(IngestBatch.reverts_batch_id == batch_id)).scalar()
    if by is not None:
        raise IngestError(f"batch {batch_id} was already reverted by batch {by}")
    return batch


def _facts(session: Session, stamp: WriteStamp, target: IngestBatch, revert: IngestBatch,
           result: RevertResult) -> None:
    for model, columns, add in _FACTS:
        live = session.execute(select(model.id).where(model.batch_id == target.id, model.retracted_at.is_(None)))
        result.retracted += load.retract(session, stamp, model, list(live.scalars()), batch=revert,
                                         reason=f"revert of batch {target.id}")
        gone = session.execute(select(*(getattr(model, c) for c in columns))
                               .where(model.retraction_batch_id == target.id)).all()
        if gone:
            added, _ = add(session, stamp, revert, pd.DataFrame(gone, columns=list(columns)))
            result.restored += added


def _referenced(session: Session, org_id: int) -> bool:
    checks = (
        exists().where(or_(Estimate.organisation_id == org_id, Estimate.user_organisation_id == org_id)),
        exists().where(Headcount.organisation_id == org_id),
        exists().where(ModelRun.organisation_id == org_id),
        exists().where(Organisation.parent_id == org_id),
    )
    return any(session.execute(select(check)).scalar() for check in checks)


def _organisations(session: Session, stamp: WriteStamp, actor: Actor, target: IngestBatch, revert: IngestBatch,
                   result: RevertResult) -> None:
    entries = session.execute(select(AuditEntry).where(AuditEntry.batch_id == target.id,
                                                       AuditEntry.entity == "organisation")
                              .order_by(AuditEntry.id.desc())).scalars().all()
    for entry in entries:
        org = session.get(Organisation, entry.entity_id)
        if org is None:
            continue
        if entry.before is not None:  # an edit: put the old values back (audited as an edit)
            before = entry.before
            save_organisation(session, stamp, actor, revert, OrganisationFields(
                name=before["name"], kind=before["kind"], country=before["country"], parent=before["parent"],
                aliases=tuple(before["aliases"]), note=before["note"]), organisation_id=org.id)
            result.organisations_restored.append(before["name"])
        elif _referenced(session, org.id):
            result.organisations_kept.append(org.name)
        else:
            session.execute(OrganisationAlias.__table__.delete().where(OrganisationAlias.organisation_id == org.id))
            session.delete(org)
            session.flush()
            result.organisations_removed.append(org.name)


def revert_batch(engine: Engine, batch_id: int, actor: Actor, *, reason: str | None = None) -> RevertResult:
    """Undo ``batch_id`` in one new batch; raises ``IngestError`` or ``NotAnEditor``."""
    with write_session(engine) as (session, stamp):
        require_editor(session, actor)
        target = _target(session, batch_id)
        revert = load.new_batch(session, stamp, kind=BatchKind.REVERT, source_name=f"revert of batch {batch_id}",
                                actor=actor, reverts_batch_id=batch_id, note=reason)
        result = RevertResult(revert.id, batch_id)
        _facts(session, stamp, target, revert, result)
        _organisations(session, stamp, actor, target, revert, result)
        load.finish_batch(revert, stamp, rows_in=result.retracted + result.restored, added=result.restored,
                          skipped=0, summary=result.summary() + (f" — {reason}" if reason else ""),
                          details={"reverts_batch": batch_id, "retracted": result.retracted,
                                   "organisations_removed": result.organisations_removed,
                                   "organisations_kept": result.organisations_kept})
    return result
