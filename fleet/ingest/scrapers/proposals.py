"""Chip catalog proposals: what ``epoch-hardware`` would change, kept for an editor to decide.

The catalog is curated, so a scrape never edits it. ``propose`` compares the scraped
hardware with the catalog (names and aliases resolve as everywhere): a chip the catalog
lacks is an *add*; a known chip whose figure differs by more than 1% (or is missing in
the catalog) is an *update* listing each field as ``[current, proposed]``. A figure the
source leaves empty never proposes clearing one. The same proposal (same chip, same
proposed values) is never stored twice, so a rejected one does not come back until the
source changes. ``decide`` applies an accepted proposal -- after checking the catalog
still holds the values it was proposed against -- with an audit entry before/after.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from fleet.auth import Actor, require_editor
from fleet.db import WriteStamp, write_session
from fleet.ingest import audit, load
from fleet.ingest.errors import IngestError
from fleet.ingest.tabular import plain_rows
from fleet.models import Chip, ChipProposal, IngestBatch
from fleet.names import clean_name, name_key
from fleet.resolve import Resolver
from fleet.vocab import BatchKind, ProposalAction, ProposalStatus

FIGURES = ("peak_flops_fp32", "peak_flops_bf16", "peak_ops_8bit", "memory_gb", "memory_bw_gb_s", "tdp_w",
           "price_usd")
FIELDS = ("vendor", "release_date", *FIGURES)
TOLERANCE = 0.01  # differences under 1% are rounding, not news


def _plain(value: object) -> object:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, (date, pd.Timestamp)):
        return pd.Timestamp(value).date().isoformat()
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)


def _differs(current: object, proposed: object) -> bool:
    if proposed is None:
        return False  # never propose clearing a figure
    if current is None:
        return True
    if isinstance(proposed, float) and isinstance(current, float):
        return abs(current - proposed) > TOLERANCE * max(abs(current), abs(proposed))
    return str(current).strip() != str(proposed).strip()


def _same(a: object, b: object) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return not _differs(a, b)


def fingerprint(name: str, changes: dict) -> str:
    proposed = {k: v[1] for k, v in sorted(changes.items())}
    text = name_key(name) + json.dumps(proposed, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


@dataclass
class Proposal:
    chip_name: str
    chip_id: int | None
    action: str
    changes: dict  # field -> [current, proposed]
    source_url: str | None
    fingerprint: str
    state: str = "new"  # new | already proposed

    def describe(self) -> str:
        def show(value: object) -> str:
            return "none" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)
        parts = [f"{k} {show(v[0])} → {show(v[1])}" if self.action == ProposalAction.UPDATE else f"{k} {show(v[1])}"
                 for k, v in self.changes.items()]
        return ", ".join(parts)


def _catalog(session: Session) -> dict[int, dict]:
    rows = session.execute(select(Chip.id, *(getattr(Chip, f) for f in FIELDS))).all()
    return {r.id: {f: _plain(getattr(r, f)) for f in FIELDS} for r in rows}


def propose(session: Session, hardware: pd.DataFrame) -> tuple[list[Proposal], int]:
    """Proposals for the scraped hardware, and how many chips already match the catalog."""
    resolver, catalog = Resolver.load(session), _catalog(session)
    known = set(session.execute(select(ChipProposal.fingerprint)).scalars())
    out, unchanged = [], 0
    for row in plain_rows(hardware):
        name = clean_name(row["name"])
        chip_id = resolver.chips.get(name)
        current = catalog.get(chip_id, {f: None for f in FIELDS})
        changes = {f: [current[f], _plain(row.get(f))] for f in FIELDS if _differs(current[f], _plain(row.get(f)))}
        if not changes:
            unchanged += 1
            continue
        action = ProposalAction.UPDATE if chip_id is not None else ProposalAction.ADD
        fp = fingerprint(name, changes)
        out.append(Proposal(name, chip_id, action.value, changes, row.get("source_url"), fp,
                            "already proposed" if fp in known else "new"))
    return out, unchanged


def keep(session: Session, stamp: WriteStamp, batch: IngestBatch, proposals: list[Proposal]) -> int:
    """Store the new proposals as pending (inside the scrape's write session); returns how many."""
    fresh = [p for p in proposals if p.state == "new"]
    for p in fresh:
        session.add(ChipProposal(batch_id=batch.id, chip_id=p.chip_id, chip_name=p.chip_name, action=p.action,
                                 changes=p.changes, fingerprint=p.fingerprint, status=ProposalStatus.PENDING.value,
                                 created_at=stamp.recorded_at))
    session.flush()
    return len(fresh)


def pending_frame(session: Session) -> pd.DataFrame:
    stmt = (select(ChipProposal.id, ChipProposal.chip_name, ChipProposal.chip_id, ChipProposal.action,
                   ChipProposal.changes, ChipProposal.batch_id, ChipProposal.created_at)
            .where(ChipProposal.status == ProposalStatus.PENDING.value).order_by(ChipProposal.chip_name))
    return pd.DataFrame(session.execute(stmt).all(),
                        columns=["id", "chip_name", "chip_id", "action", "changes", "batch_id", "created_at"])


def _apply(session: Session, proposal: ChipProposal) -> tuple[Chip, dict | None, dict]:
    values = {f: v[1] for f, v in proposal.changes.items()}
    if "release_date" in values and values["release_date"]:
        values["release_date"] = date.fromisoformat(values["release_date"])
    if proposal.action == ProposalAction.ADD.value:
        if Resolver.load(session).chips.get(proposal.chip_name) is not None:
            raise IngestError(f"chip {proposal.chip_name!r} is already in the catalog; reject this proposal")
        chip = Chip(name=proposal.chip_name, name_key=name_key(proposal.chip_name), family="Other", **values)
        session.add(chip)
        session.flush()
        return chip, None, {f: _plain(getattr(chip, f)) for f in FIELDS}
    chip = session.get(Chip, proposal.chip_id)
    before = {f: _plain(getattr(chip, f)) for f in FIELDS}
    stale = [f for f, (current, _) in proposal.changes.items() if not _same(before[f], current)]
    if stale:
        raise IngestError(f"chip {chip.name!r}: the catalog's {', '.join(stale)} changed since this was "
                          "proposed; re-run the scraper for a fresh proposal")
    for field, value in values.items():
        setattr(chip, field, value)
    session.flush()
    return chip, before, {f: _plain(getattr(chip, f)) for f in FIELDS}


def decide(engine: Engine, actor: Actor, proposal_id: int, *, accept: bool, note: str | None = None) -> int:
    """Accept (apply to the catalog) or reject a pending proposal; returns the decision's batch id."""
    with write_session(engine) as (session, stamp):
        require_editor(session, actor)
        proposal = session.get(ChipProposal, proposal_id)
        if proposal is None or proposal.status != ProposalStatus.PENDING.value:
            raise IngestError(f"chip proposal {proposal_id} is not pending (already decided, or unknown)")
        batch = load.new_batch(session, stamp, kind=BatchKind.MANUAL, source_name="chip-proposal", actor=actor,
                               note=note)
        verb = "accepted" if accept else "rejected"
        if accept:
            chip, before, after = _apply(session, proposal)
            audit.record(session, stamp, actor, f"chip.{proposal.action}", entity="chip", entity_id=chip.id,
                         batch_id=batch.id, summary=f"{verb} proposal {proposal.id}: {proposal.action} chip "
                         f"{chip.name!r}", before=before, after=after)
        proposal.status = ProposalStatus.ACCEPTED.value if accept else ProposalStatus.REJECTED.value
        proposal.decided_at, proposal.decided_by = stamp.recorded_at, actor.label
        proposal.decision_batch_id, proposal.decision_note = batch.id, note
        load.finish_batch(batch, stamp, rows_in=1, added=int(accept), skipped=int(not accept),
                          summary=f"{verb} chip proposal {proposal.id} ({proposal.chip_name})")
        return batch.id
