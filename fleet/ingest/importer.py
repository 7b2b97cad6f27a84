"""A CSV import as the user sees it: plan (the preview), then commit (one batch).

``plan_import`` reads and checks a file without writing: how many rows, which would be
added, which are already in the store (skipped), which organisations would be created,
and every problem as ``row N, column C: value V — reason``. ``commit_import`` writes the
plan's rows as one ingest batch inside ``fleet.db.write_session``: all or nothing by
default; ``partial=True`` writes the valid rows and the caller hands the rejected ones
back as a CSV (``ImportPlan.rejects_frame``). Under the write lock the commit re-checks
the store, so two imports of the same file at once add its rows exactly once.

The CLI (``python -m fleet import``) and the app's Import page both call these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from fleet.auth import Actor
from fleet.db import NothingToWrite, read_session, write_session
from fleet.ingest import load, organisations
from fleet.ingest.csv_import import RawTable, read_csv_bytes
from fleet.ingest.errors import IngestError
from fleet.ingest.rows import Resolved, check_rows, describe
from fleet.models import Estimate
from fleet.resolve import Resolver
from fleet.vocab import BatchKind

Progress = Callable[[float, str], None]


class ImportRefused(IngestError):
    """The plan has problems and the import is all-or-nothing, or nothing is valid."""


@dataclass
class ImportPlan:
    file_name: str
    table: RawTable
    resolved: Resolved
    in_store: np.ndarray  # per row: already in the store (would be skipped)
    checked_store: bool = True

    @property
    def rows_in(self) -> int:
        return len(self.table.frame) + len(self.table.bad_rows)

    @property
    def problems(self) -> pd.DataFrame:
        problems = self.resolved.problems
        if self.table.bad_rows:
            bad = pd.DataFrame({"row": [r for r, _ in self.table.bad_rows], "column": "", "value": "",
                                "reason": [why for _, why in self.table.bad_rows]})
            problems = pd.concat([problems, bad], ignore_index=True).sort_values("row", kind="stable")
        return problems.reset_index(drop=True)

    @property
    def ok(self) -> np.ndarray:
        return self.resolved.ok

    @property
    def rows_rejected(self) -> int:
        return int((~self.ok).sum()) + len(self.table.bad_rows)

    @property
    def rows_duplicate(self) -> int:
        return int((self.ok & self.in_store).sum())

    @property
    def rows_to_add(self) -> int:
        return int((self.ok & ~self.in_store).sum())

    @property
    def new_organisations(self) -> list[str]:
        used = set(self.resolved.frame.loc[self.ok, "organisation_id"].dropna()) | \
            set(self.resolved.frame.loc[self.ok, "user_organisation_id"].dropna())
        return sorted(name for ident, name in self.resolved.new_organisations.items() if ident in used)

    def messages(self, limit: int | None = None) -> list[str]:
        problems = self.problems if limit is None else self.problems.head(limit)
        return [describe(p, self.table.header) for p in problems.to_dict("records")]

    def summary(self) -> str:
        parts = [f"{self.rows_in:,} rows", f"{self.rows_to_add:,} to add",
                 f"{self.rows_duplicate:,} already in the store (skipped)", f"{self.rows_rejected:,} with problems"]
        if self.new_organisations:
            parts.append(f"{len(self.new_organisations):,} new organisations")
        return ", ".join(parts)

    def outcomes(self) -> pd.DataFrame:
        """Every parsed row as in the file, after its spreadsheet row number and what the import
        would do with it: ``add``, ``skip`` (already in the store) or ``problem``."""
        outcome = np.where(~self.ok, "problem", np.where(self.in_store, "skip", "add"))
        out = self.table.original.reset_index(drop=True)
        return pd.concat([pd.DataFrame({"row": self.table.rows, "outcome": outcome}), out], axis=1)

    def rejects_frame(self) -> pd.DataFrame:
        """Rejected rows with their original columns, their row number and an ``error`` column."""
        problems = self.problems
        errors = problems.assign(text=[describe(p, self.table.header) for p in problems.to_dict("records")])
        by_row = errors.groupby("row")["text"].agg("; ".join)
        positions = np.flatnonzero(~self.ok)
        out = self.table.original.iloc[positions].copy()
        out.insert(0, "row", self.table.rows[positions])
        unparsed = pd.DataFrame({"row": [r for r, _ in self.table.bad_rows]})
        out = pd.concat([out, unparsed], ignore_index=True).sort_values("row", kind="stable")
        out["row"] = out["row"].astype("int64")
        out["error"] = out["row"].map(by_row).fillna("")
        return out.reset_index(drop=True)


@dataclass
class ImportResult:
    batch_id: int | None
    added: int
    skipped: int
    rejected: int
    organisations_created: list[str] = field(default_factory=list)


def _step(progress: Progress | None, fraction: float, message: str) -> None:
    if progress is not None:
        progress(fraction, message)


def plan_import(engine: Engine, data: bytes, *, file_name: str, create_orgs: bool = False,
                check_store: bool = True, progress: Progress | None = None,
                max_bytes: int | None = None) -> ImportPlan:
    """Read and check ``data`` against the store; writes nothing. Raises ``CsvError``."""
    _step(progress, 0.05, "Reading the file")
    table = read_csv_bytes(data, max_bytes=max_bytes)
    _step(progress, 0.25, f"Checking {len(table.frame):,} rows")
    with read_session(engine) as session:
        resolver = Resolver.load(session)
        resolved = check_rows(table.frame, table.rows, resolver, create_orgs=create_orgs)
        in_store = np.zeros(len(resolved.frame), dtype=bool)
        if check_store:
            _step(progress, 0.5, "Looking for rows already in the store")
            # only rows without problems have a fingerprint (the others are never written)
            in_store = load.in_store(session, Estimate, resolved.frame["fingerprint"])
    _step(progress, 0.6, "Checked")
    return ImportPlan(file_name=file_name, table=table, resolved=resolved, in_store=in_store,
                      checked_store=check_store)


def commit_import(engine: Engine, plan: ImportPlan, actor: Actor, *, partial: bool = False,
                  progress: Progress | None = None) -> ImportResult:
    """Write the plan's valid rows as one batch; raises ``ImportRefused`` or ``NotAnEditor``."""
    if plan.rows_rejected and not partial:
        raise ImportRefused(f"{plan.rows_rejected:,} of {plan.rows_in:,} rows have problems; nothing was imported "
                            "(fix them, or import the valid rows only)")
    rows = plan.resolved.valid_rows()
    if rows.empty:
        raise ImportRefused("no row of the file is valid; nothing was imported")
    result = ImportResult(None, 0, 0, plan.rows_rejected)
    try:
        with write_session(engine) as (session, stamp):
            _step(progress, 0.65, "Writing")
            batch = load.new_batch(session, stamp, kind=BatchKind.CSV, source_name=plan.file_name, actor=actor,
                                   location=plan.file_name, sha256=plan.table.sha256)
            rows, created = organisations.create_pending(session, stamp, actor, batch, rows,
                                                         plan.resolved.new_organisations)
            result.added, result.skipped = load.add_estimates(session, stamp, batch, rows)
            result.organisations_created = created
            if not result.added and not created:
                raise NothingToWrite
            load.finish_batch(batch, stamp, rows_in=plan.rows_in, added=result.added, skipped=result.skipped,
                              rejected=plan.rows_rejected, details={
                                  "file_name": plan.file_name, "mode": "partial" if partial else "all",
                                  "encoding": plan.table.encoding, "organisations_created": created})
            result.batch_id = batch.id
    except NothingToWrite:
        result.skipped = len(rows)
    _step(progress, 1.0, "Done")
    return result
