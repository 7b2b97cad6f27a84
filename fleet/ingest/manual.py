"""Manual entry: add, correct or retract one estimate; add or edit an organisation; add a
headcount. Each is one ``manual`` batch with audit entries holding before/after values.

Form values arrive as text, exactly like CSV cells, and go through the same checks
(``fleet.ingest.rows.check_rows``), so a value refused in a file is refused in a form.
Failures raise ``EntryError`` carrying one message per bad field.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd
from sqlalchemy import Engine, select

from fleet.auth import Actor, require_editor
from fleet.db import write_session
from fleet.ingest import audit, column_parsers, load, validate
from fleet.ingest.errors import IngestError
from fleet.ingest.organisations import OrganisationFields, save_organisation
from fleet.ingest.rows import check_rows, describe
from fleet.models import Estimate, Headcount, Organisation
from fleet.queries import live_estimate_condition
from fleet.resolve import Resolver
from fleet.vocab import BatchKind, HeadcountKind, values


class EntryError(IngestError):
    """A form's values are not valid; ``problems`` has one message per field."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def _messages(problems: pd.DataFrame) -> list[str]:
    return [describe(p).removeprefix("row 0, ").removeprefix("row 0: ") for p in problems.to_dict("records")]


def estimate_values(session, estimate_id: int) -> dict:
    row = session.execute(select(*(getattr(Estimate, c) for c in ("id", *load.ESTIMATE_COLUMNS)),
                                 Estimate.retracted_at).where(Estimate.id == estimate_id)).mappings().first()
    if row is None:
        raise EntryError([f"estimate {estimate_id} does not exist"])
    return dict(row)


def _live(session, estimate_id: int) -> dict:
    before = estimate_values(session, estimate_id)
    live = session.execute(select(Estimate.id).where(Estimate.id == estimate_id, live_estimate_condition(None)))
    if live.first() is None:
        raise EntryError([f"estimate {estimate_id} is not live (already retracted or corrected)"])
    return before


def _checked_row(session, fields: Mapping[str, object]) -> pd.DataFrame:
    raw = pd.DataFrame({k: pd.Series(["" if v is None else str(v)], dtype="str") for k, v in fields.items()})
    resolved = check_rows(raw, np.array([0]), Resolver.load(session))
    if len(resolved.problems):
        raise EntryError(_messages(resolved.problems))
    return resolved.frame


def add_estimate(engine: Engine, actor: Actor, fields: Mapping[str, object], *,
                 supersedes_id: int | None = None, note: str | None = None) -> int:
    """Add one estimate (a correction when ``supersedes_id`` is given); returns its id."""
    with write_session(engine) as (session, stamp):
        require_editor(session, actor)
        before = _live(session, supersedes_id) if supersedes_id is not None else None
        frame = _checked_row(session, fields).assign(supersedes_id=supersedes_id)
        batch = load.new_batch(session, stamp, kind=BatchKind.MANUAL, actor=actor, note=note,
                               source_name="correction" if before else "manual entry")
        added, _ = load.add_estimates(session, stamp, batch, frame)
        if not added:
            raise EntryError(["an identical estimate is already in the store"])
        new_id = session.execute(select(Estimate.id).where(Estimate.batch_id == batch.id)).scalar_one()
        after = estimate_values(session, new_id)
        action = "estimate.correct" if before else "estimate.add"
        what = f"corrected estimate {supersedes_id} with {new_id}" if before else f"added estimate {new_id}"
        audit.record(session, stamp, actor, action, entity="estimate", entity_id=new_id, batch_id=batch.id,
                     summary=f"{what}: {fields.get('organisation')}, {fields.get('chip') or 'H100e'}",
                     before=before, after=after)
        load.finish_batch(batch, stamp, rows_in=1, added=1, skipped=0, summary=what)
        return new_id


def retract_estimate(engine: Engine, actor: Actor, estimate_id: int, reason: str) -> None:
    if not reason or not reason.strip():
        raise EntryError(["reason: say why the estimate is retracted"])
    with write_session(engine) as (session, stamp):
        require_editor(session, actor)
        before = _live(session, estimate_id)
        batch = load.new_batch(session, stamp, kind=BatchKind.MANUAL, source_name="retraction", actor=actor,
                               note=reason.strip())
        load.retract(session, stamp, Estimate, [estimate_id], batch=batch, reason=reason.strip())
        audit.record(session, stamp, actor, "estimate.retract", entity="estimate", entity_id=estimate_id,
                     batch_id=batch.id, summary=f"retracted estimate {estimate_id}: {reason.strip()}",
                     before=before, after={"retracted_at": stamp.recorded_at, "reason": reason.strip()})
        load.finish_batch(batch, stamp, rows_in=1, added=0, skipped=0,
                          summary=f"retracted estimate {estimate_id}")


def save_organisation_entry(engine: Engine, actor: Actor, fields: OrganisationFields,
                            organisation_id: int | None = None) -> int:
    """Add or edit an organisation in its own batch; returns its id."""
    try:
        with write_session(engine) as (session, stamp):
            batch = load.new_batch(session, stamp, kind=BatchKind.MANUAL, actor=actor,
                                   source_name="organisation edit" if organisation_id else "new organisation")
            org = save_organisation(session, stamp, actor, batch, fields, organisation_id)
            load.finish_batch(batch, stamp, rows_in=1, added=0, skipped=0,
                              summary=f"{'edited' if organisation_id else 'added'} organisation {org.name!r}")
            return org.id
    except IngestError as exc:
        if isinstance(exc, EntryError):
            raise
        raise EntryError([str(exc)]) from None


def _headcount_frame(session, fields: Mapping[str, object]) -> pd.DataFrame:
    problems = []
    typed = {}
    for column, rule in (("count", validate.Rule(column_parsers.parse_whole, validate._COUNT_CHECKS[:1])),
                         ("valid_on", validate.rules()["valid_on"]), ("source_url", validate.rules()["source_url"])):
        text = str(fields.get(column) or "").strip()
        value, _, positions, reasons = validate.check_column(pd.Series([text], dtype="str"), rule)
        if not text:
            problems.append(f"column {column}: is required")
        elif len(positions):
            problems.append(f"column {column}: value {text!r} — {reasons[0]}")
        typed[column] = value.iloc[0]
    kind = str(fields.get("kind") or "").strip().casefold()
    if kind not in values(HeadcountKind):
        problems.append(f"column kind: value {kind!r} — is not one of {', '.join(values(HeadcountKind))}")
    org_id = Resolver.load(session).organisations.get(str(fields.get("organisation") or ""))
    if org_id is None:
        problems.append(f"column organisation: value {fields.get('organisation')!r} — unknown organisation")
    if problems:
        raise EntryError(problems)
    return pd.DataFrame([{"organisation_id": org_id, "count": int(typed["count"]), "kind": kind,
                          "valid_on": pd.Timestamp(typed["valid_on"]).date(), "source_url": typed["source_url"],
                          "scope_note": (str(fields.get("scope_note") or "").strip() or None),
                          "note": (str(fields.get("note") or "").strip() or None)}])


def add_headcount(engine: Engine, actor: Actor, fields: Mapping[str, object]) -> int:
    with write_session(engine) as (session, stamp):
        require_editor(session, actor)
        frame = _headcount_frame(session, fields)
        batch = load.new_batch(session, stamp, kind=BatchKind.MANUAL, source_name="headcount", actor=actor)
        added, _ = load.add_headcounts(session, stamp, batch, frame)
        if not added:
            raise EntryError(["an identical headcount is already in the store"])
        new_id = session.execute(select(Headcount.id).where(Headcount.batch_id == batch.id)).scalar_one()
        org = session.get(Organisation, int(frame.at[0, "organisation_id"]))
        audit.record(session, stamp, actor, "headcount.add", entity="headcount", entity_id=new_id, batch_id=batch.id,
                     summary=f"added headcount {new_id}: {org.name} {frame.at[0, 'kind']} {frame.at[0, 'count']}",
                     after=frame.iloc[0].to_dict())
        load.finish_batch(batch, stamp, rows_in=1, added=1, skipped=0, summary=f"added headcount {new_id}")
        return new_id
