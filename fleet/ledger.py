"""The claims ledger in the store: validate and add claims, read them, evaluate them all.

Adding a claim is an editor's write: ``add_claim(engine, claim, actor=...)`` opens an ingest
batch (kind ``manual``), which checks the actor is an editor (``fleet.auth.require_editor``),
then writes the claim and an audit-log entry in the same ``write_session``. The seed loader adds claims through ``add_claims``,
skipping keys already present, so seeding twice adds nothing.

``evaluate_ledger`` reads each claim twice -- with the store as known at the end of its
target date and as known now (or at the sidebar's *known at*) -- through the pure
evaluator in ``fleet.analytics.claims``.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Mapping

import pandas as pd
from pydantic import BaseModel, Field, ValidationError, field_validator
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from fleet import queries
from fleet.analytics.claim_metrics import StoreView
from fleet.analytics.claims import ClaimStatus, Evaluation, evaluate, number
from fleet.auth import Actor
from fleet.db import WriteStamp, write_session
from fleet.ingest import audit, load
from fleet.models import Claim, IngestBatch
from fleet.vocab import BatchKind, Comparator

CLAIM_FIELDS = ("claim_key", "text", "author", "made_on", "subject", "metric", "comparator", "value", "unit",
                "target_date", "source_name", "source_url", "note")


class ClaimError(ValueError):
    """A claim that cannot be added; the message names the field (and row)."""


class ClaimInput(BaseModel):
    """One claim as an editor or the seed gives it; validation names the field."""

    model_config = {"str_strip_whitespace": True, "extra": "forbid"}

    claim_key: str | None = Field(default=None, max_length=120, pattern=r"^[a-z0-9][a-z0-9._-]*$")
    text: str = Field(min_length=1, max_length=5000)
    author: str = Field(min_length=1, max_length=300)
    made_on: date
    subject: str = Field(min_length=1, max_length=500)
    metric: str = Field(min_length=1, max_length=120, pattern=r"^[a-z0-9_]+$")
    comparator: Comparator
    value: float
    unit: str = Field(min_length=1, max_length=120)
    target_date: date
    source_name: str | None = Field(default=None, max_length=500)
    source_url: str = Field(max_length=2000, pattern=r"^https?://\S+$")
    note: str | None = None

    @field_validator("value")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value

    def key(self) -> str:
        if self.claim_key:
            return self.claim_key
        digest = hashlib.blake2b(f"{self.author}|{self.made_on}|{self.text}".encode(), digest_size=4).hexdigest()
        author = re.sub(r"[^a-z0-9]+", "-", self.author.casefold()).strip("-")[:30] or "claim"
        return f"{author}-{self.made_on.year}-{self.metric[:40]}-{digest}"


def parse_claim(raw: Mapping[str, Any], where: str = "claim") -> ClaimInput:
    """Validate; a bad field raises ``ClaimError`` naming it: ``row 3, column "value": ...``."""
    clean = {k: (None if v is None or (isinstance(v, float) and math.isnan(v)) or v == "" else v)
             for k, v in raw.items()}
    try:
        return ClaimInput(**clean)
    except ValidationError as exc:
        first = exc.errors()[0]
        column = ".".join(str(p) for p in first["loc"]) or "?"
        raise ClaimError(f"{where}, column {column!r}: {first['msg']}") from None


def _row(claim: ClaimInput, stamp: WriteStamp, batch: IngestBatch, who: str) -> Claim:
    values = claim.model_dump(exclude={"claim_key"})
    values["comparator"] = claim.comparator.value
    return Claim(claim_key=claim.key(), batch_id=batch.id, recorded_at=stamp.recorded_at, created_by=who, **values)


def add_claims(session: Session, stamp: WriteStamp, batch: IngestBatch, claims: list[ClaimInput],
               who: str) -> tuple[int, int]:
    """Insert claims whose key is new; returns (added, skipped)."""
    keys = [c.key() for c in claims]
    existing = set(session.execute(select(Claim.claim_key).where(Claim.claim_key.in_(keys))).scalars())
    added = 0
    for claim, key in zip(claims, keys):
        if key in existing:
            continue
        session.add(_row(claim, stamp, batch, who))
        existing.add(key)
        added += 1
    session.flush()
    return added, len(claims) - added


def add_claim(engine: Engine, claim: ClaimInput | Mapping[str, Any], *, actor: Actor) -> int:
    """Add one claim as ``actor`` (an editor: ``new_batch`` checks); returns its id.

    A duplicate key is refused. The addition is one batch and one audit-log entry.
    """
    claim = claim if isinstance(claim, ClaimInput) else parse_claim(claim)
    with write_session(engine) as (session, stamp):
        batch = load.new_batch(session, stamp, kind=BatchKind.MANUAL, source_name="claim", actor=actor,
                               location=claim.source_url)
        if session.execute(select(Claim.id).where(Claim.claim_key == claim.key())).first():
            raise ClaimError(f"claim {claim.key()!r} already exists")
        row = _row(claim, stamp, batch, actor.label)
        session.add(row)
        session.flush()
        audit.record(session, stamp, actor, "claim.add", entity="claim", entity_id=row.id, batch_id=batch.id,
                     summary=f"added claim {claim.key()!r} by {claim.author}", after=claim.model_dump(mode="json"))
        load.finish_batch(batch, stamp, rows_in=1, added=1, skipped=0)
        return row.id


def claims_frame(session: Session, *, known_at: datetime | None = None) -> pd.DataFrame:
    """Every claim in the store (recorded by ``known_at``, if given), oldest first."""
    columns = [Claim.id, *(getattr(Claim, f) for f in CLAIM_FIELDS), Claim.recorded_at, Claim.created_by]
    stmt = select(*columns).order_by(Claim.made_on, Claim.id)
    if known_at is not None:
        stmt = stmt.where(Claim.recorded_at <= known_at)
    frame = pd.read_sql_query(stmt, session.connection())
    for column in ("made_on", "target_date"):
        frame[column] = pd.to_datetime(frame[column]).dt.date
    return frame


def load_view(session: Session, known_at: datetime | None) -> StoreView:
    return StoreView(estimates=queries.estimates_frame(session, known_at=known_at),
                     chips=queries.chips_frame(session), organisations=queries.organisations_frame(session),
                     model_runs=queries.model_runs_frame(session, known_at=known_at), known_at=known_at)


@dataclass
class LedgerEntry:
    claim: dict
    then: Evaluation  # as known at the end of the target date
    now: Evaluation  # as known now (or at ``known_at``)


def end_of(day: date) -> datetime:
    return datetime.combine(day, time.max)


def evaluate_ledger(session: Session, *, today: date | None = None, known_at: datetime | None = None,
                    now_view: StoreView | None = None) -> list[LedgerEntry]:
    """Every claim evaluated as known at its target date and as known now (``known_at``).

    ``now_view`` is the store as known now, if the caller holds it already (the app's cached
    frames). The store as known at each past target date is read once per distinct date and
    let go before the next, so at most two full views are in memory at a time.
    """
    today = known_at.date() if known_at else (today or date.today())
    claims = claims_frame(session, known_at=known_at).to_dict("records")
    now_view = now_view if now_view is not None else load_view(session, known_at)
    cuts: dict[datetime, list[int]] = {}
    then: dict[int, Evaluation] = {}
    for i, claim in enumerate(claims):
        target = claim["target_date"]
        if target > today:
            then[i] = Evaluation(ClaimStatus.PENDING, f"target date {target.isoformat()} is ahead")
        else:
            cut = end_of(target) if known_at is None else min(end_of(target), known_at)
            cuts.setdefault(cut, []).append(i)
    for cut, indices in sorted(cuts.items()):
        view = load_view(session, cut)
        for i in indices:
            then[i] = evaluate(claims[i], view, today=today)
        del view
    return [LedgerEntry(claim, then[i], evaluate(claim, now_view, today=today)) for i, claim in enumerate(claims)]


def ledger_frame(entries: list[LedgerEntry]) -> pd.DataFrame:
    """One row per claim: the claim, both statuses, the figure compared and its sources."""
    rows = []
    for e in entries:
        c = e.claim
        rows.append({
            "claim_key": c["claim_key"], "claim": c["text"], "author": c["author"], "made_on": c["made_on"],
            "subject": c["subject"], "metric": c["metric"],
            "line": f"{c['comparator']} {c['value']:g} {c['unit']}", "target_date": c["target_date"],
            "status_as_known_at_target": e.then.status.value, "status_as_known_now": e.now.status.value,
            "value_now": e.now.value, "reason_now": e.now.reason, "reason_at_target": e.then.reason,
            "figures_now": " | ".join(_figure_text(f) for f in e.now.figures),
            "estimate_ids_now": " ".join(map(str, e.now.estimate_ids())),
            "model_run_ids_now": " ".join(map(str, e.now.model_run_ids())),
            "source_url": c["source_url"],
        })
    return pd.DataFrame(rows)


def _figure_text(figure) -> str:
    value = "—" if figure.value is None else number(figure.value)
    return f"{figure.label}: {value} {figure.unit}" + (f" ({figure.note})" if figure.note else "")


def figures_frame(evaluation: Evaluation) -> pd.DataFrame:
    """The figures one evaluation used, each with the estimate and model-run ids it came from."""
    return pd.DataFrame([{"Figure": f.label, "Value": f.value, "Unit": f.unit, "As of": f.as_of,
                          "Estimate ids": " ".join(map(str, f.estimate_ids)),
                          "Model run ids": " ".join(map(str, f.model_run_ids)), "Note": f.note}
                         for f in evaluation.figures],
                        columns=["Figure", "Value", "Unit", "As of", "Estimate ids", "Model run ids", "Note"])
