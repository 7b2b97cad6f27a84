"""Commit a scrape: one ingest batch, through the same batch, editor check and audit as CSV import.

Inside one ``write_session`` (all or nothing): re-plan against the store as it is under
the lock, refuse if ``strict`` and any row was rejected, open the batch with
``load.new_batch`` (which checks the acting user is an editor), keep every fetched
document compressed with its provenance, create the organisations the plan needs
(audited, via ``fleet.ingest.organisations``), write the new, changed (superseding the
same source's earlier estimate) and conflicting rows with ``load``'s fingerprint dedupe,
and close the batch with ``load.finish_batch`` (its audit entry lists what happened).
Rows rejected by the checks are reported, never written; nothing at all is written for a
source whose fetch or parse failed, because this is only called with parsed documents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from fleet.auth import Actor
from fleet.db import WriteStamp, write_session
from fleet.ingest import load
from fleet.ingest.errors import IngestError
from fleet.ingest.organisations import OrganisationFields, save_organisation
from fleet.ingest.scrapers import proposals, provenance
from fleet.ingest.scrapers.base import ParseContext, Produces, Scraper
from fleet.ingest.scrapers.plan import ScrapePlan, make_plan
from fleet.ingest.scrapers.raw import RawDocument
from fleet.ingest.tabular import Parsed
from fleet.models import IngestBatch
from fleet.resolve import Resolver
from fleet.vocab import BatchKind, OrgKind

MAX_AUDITED_PROBLEMS = 200


class ScrapeRefused(IngestError):
    """A strict scrape had rejected rows: nothing was written."""


@dataclass
class CommitResult:
    batch_id: int
    plan: ScrapePlan
    added: int = 0
    skipped: int = 0
    superseded: int = 0
    conflicts: int = 0
    organisations_created: list[str] = field(default_factory=list)


def _create_organisations(session: Session, stamp: WriteStamp, actor: Actor, batch: IngestBatch, plan: ScrapePlan,
                          rows: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Temporary ids -> new organisations (or ones another writer created meanwhile)."""
    wanted = {t: n for t, n in plan.new_organisations.items() if t in set(plan.created_organisations_ids())}
    if not wanted:
        return rows, []
    index, mapping, created = Resolver.load(session).organisations, {}, []
    for temp, name in sorted(wanted.items(), key=lambda item: item[1]):
        ident = index.get(name)
        if ident is None:
            details = plan.organisation_details.get(name, {})
            note = details.get("note") or f"Created by the {plan.source} scrape"
            org = save_organisation(session, stamp, actor, batch, OrganisationFields(
                name=name, kind=details.get("kind") or OrgKind.OTHER.value, country=details.get("country"),
                note=f"{note} (batch {batch.id})"))
            ident = org.id
            created.append(org.name)
        mapping[temp] = ident
    rows = rows.copy()
    touched = rows["organisation_id"].isin(list(mapping)) | rows["user_organisation_id"].isin(list(mapping))
    for column in ("organisation_id", "user_organisation_id"):
        rows[column] = rows[column].replace(mapping).astype("Int64")
    rows.loc[touched, "fingerprint"] = load.fingerprints(rows.loc[touched]).to_numpy()
    return rows, created


def _with_conflict_notes(rows: pd.DataFrame) -> pd.DataFrame:
    rows = rows.copy()
    conflict = rows["state"] == "conflict"
    notes = rows.loc[conflict, "note"].fillna("")
    flagged = [f"{n}; " if n else "" for n in notes]
    rows.loc[conflict, "note"] = [f"{prefix}Differs from estimate {int(b)} from another source (both kept)"
                                  for prefix, b in zip(flagged, rows.loc[conflict, "before_id"])]
    return rows


def _write(session: Session, stamp: WriteStamp, actor: Actor, batch: IngestBatch, plan: ScrapePlan,
           result: CommitResult) -> None:
    rows = plan.to_write()
    if plan.produces is Produces.CHIPS:
        result.added = proposals.keep(session, stamp, batch, plan.proposals)
        result.skipped = plan.unchanged_chips + len(plan.proposals) - result.added
        return
    if plan.produces is Produces.ESTIMATES:
        rows, result.organisations_created = _create_organisations(session, stamp, actor, batch, plan, rows)
        rows = _with_conflict_notes(rows)
        write = load.add_estimates
    else:
        write = load.add_headcounts if plan.produces is Produces.HEADCOUNTS else load.add_model_runs
    added, skipped = write(session, stamp, batch, rows) if len(rows) else (0, 0)
    result.added, result.skipped = added, skipped + int((plan.rows["state"] == "unchanged").sum())
    result.superseded = int(rows["supersedes_id"].notna().sum()) if "supersedes_id" in rows else 0
    result.conflicts = int((rows["state"] == "conflict").sum()) if len(rows) else 0


def commit(engine: Engine, scraper: Scraper, docs: Mapping[str, RawDocument], parsed: Parsed, actor: Actor, *,
           main: str = "main", strict: bool = False, context: ParseContext = ParseContext()) -> CommitResult:
    """Write one scrape as one batch; raises ``ScrapeRefused`` (strict) or ``NotAnEditor``."""
    with write_session(engine) as (session, stamp):
        plan = make_plan(session, scraper, parsed, context)
        if strict and plan.rejected_rows:
            raise ScrapeRefused(f"{scraper.name}: {plan.rejected_rows:,} rows were rejected and the run is strict; "
                                f"nothing was written. First: {plan.messages(1)[0]}")
        first = docs[main]
        batch = load.new_batch(session, stamp, kind=BatchKind.SCRAPER, source_name=scraper.name, actor=actor,
                               location=first.url, sha256=first.sha256, note=plan.summary())
        provenance.keep(session, batch, scraper.name, docs, main)
        result = CommitResult(batch.id, plan)
        _write(session, stamp, actor, batch, plan, result)
        load.finish_batch(batch, stamp, rows_in=plan.rows_in, added=result.added, skipped=result.skipped,
                          rejected=plan.rejected_rows, summary=f"scrape {scraper.name} (batch {batch.id}): "
                          f"{plan.summary()}", details=_details(docs, plan, result))
        return result


def _details(docs: Mapping[str, RawDocument], plan: ScrapePlan, result: CommitResult) -> dict:
    return {
        "documents": {role: {"url": d.url, "final_url": d.final_url, "status": d.status, "etag": d.etag,
                             "last_modified": d.last_modified, "sha256": d.sha256, "size": d.size,
                             "reused_from_store": not d.fresh} for role, d in docs.items()},
        "counts": plan.counts(), "superseded": result.superseded, "conflicts": result.conflicts,
        "organisations_created": result.organisations_created,
        "rejected": plan.messages(MAX_AUDITED_PROBLEMS), "skipped_by_parser": len(plan.skipped),
        "unknown_columns": plan.unknown_columns,
    }
