"""A scrape's plan: what committing it would do, computed without writing (the dry-run diff).

``make_plan`` checks the parsed records with the CSV import's rules (``checks``), compares
the valid ones with the store (``diff``) and returns a ``ScrapePlan``: every row with its
state (new / changed / conflict / unchanged), the rejected rows with the place and
reason, the organisations the commit would create, the rows the source no longer lists,
and per-organisation counts. ``epoch-hardware`` plans chip catalog proposals instead.
The commit (``loading``) recomputes the plan under the write lock, so what it writes is
judged against the store as it is at that moment.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from fleet.ingest import load, seed_catalog
from fleet.ingest.rows import Resolved, describe
from fleet.ingest.scrapers import checks, diff, proposals
from fleet.ingest.scrapers.base import ParseContext, Produces, Scraper
from fleet.ingest.tabular import Parsed
from fleet.models import Chip, Estimate, Headcount, IngestBatch, ModelRun, Organisation
from fleet.queries import known, live_estimate_condition
from fleet.resolve import Resolver

WRITTEN_STATES = ("new", "changed", "conflict")


@dataclass
class ScrapePlan:
    source: str
    produces: Produces
    rows_in: int
    rows: pd.DataFrame  # valid rows: ids, fingerprint, state, supersedes_id, organisation, label, before
    problems: pd.DataFrame  # row, column, value, reason, organisation
    skipped: list[tuple[int, str]] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    new_organisations: dict[int, str] = field(default_factory=dict)  # temporary id -> name
    organisation_details: dict[str, dict] = field(default_factory=dict)  # name -> kind, country, note
    gone: pd.DataFrame = field(default_factory=pd.DataFrame)
    proposals: list[proposals.Proposal] = field(default_factory=list)
    unchanged_chips: int = 0

    @property
    def rejected_rows(self) -> int:
        return int(self.problems["_pos"].nunique()) if len(self.problems) else 0

    def counts(self) -> dict[str, int]:
        states = self.rows["state"].value_counts() if len(self.rows) else pd.Series(dtype=int)
        out = {s: int(states.get(s, 0)) for s in diff.STATES}
        if self.produces is Produces.CHIPS:
            fresh = sum(p.state == "new" for p in self.proposals)
            out = {"new": fresh, "changed": 0, "conflict": 0, "unchanged": self.unchanged_chips,
                   "already proposed": len(self.proposals) - fresh}
        return {**out, "rejected": self.rejected_rows, "gone": len(self.gone),
                "new organisations": len(self.created_organisations())}

    def to_write(self) -> pd.DataFrame:
        return self.rows[self.rows["state"].isin(WRITTEN_STATES)] if len(self.rows) else self.rows

    def created_organisations_ids(self) -> set[int]:
        """Temporary ids of the new organisations that rows to be written use."""
        rows = self.to_write()
        used = set()
        for column in ("organisation_id", "user_organisation_id"):
            if column in rows:
                used |= {int(i) for i in rows[column].dropna()}
        return used & set(self.new_organisations)

    def created_organisations(self) -> list[str]:
        return sorted(self.new_organisations[t] for t in self.created_organisations_ids())

    def by_organisation(self) -> pd.DataFrame:
        if self.produces is Produces.CHIPS:
            frame = pd.DataFrame({"organisation": [p.chip_name for p in self.proposals],
                                  "state": [p.action if p.state == "new" else p.state for p in self.proposals]})
            return frame
        return diff.by_organisation(self.rows, self.problems, self.gone)

    def messages(self, limit: int | None = None) -> list[str]:
        problems = self.problems if limit is None else self.problems.head(limit)
        return [describe(p) for p in problems.to_dict("records")]

    def summary(self) -> str:
        c = self.counts()
        return ", ".join(f"{v:,} {k}" for k, v in c.items() if v or k in ("new", "unchanged"))


def _stored_estimates(session: Session) -> pd.DataFrame:
    stmt = (select(Estimate.id, Estimate.fingerprint, Estimate.organisation_id, Estimate.scope, Estimate.cluster,
                   Estimate.chip_id, Estimate.status, Estimate.valid_on, Estimate.count, Estimate.count_low,
                   Estimate.count_high, Estimate.h100e, Estimate.source_url, IngestBatch.source_name)
            .join(IngestBatch, IngestBatch.id == Estimate.batch_id).where(live_estimate_condition(None)))
    return pd.DataFrame(session.execute(stmt).all(), columns=[
        "id", "fingerprint", "organisation_id", "scope", "cluster", "chip_id", "status", "valid_on", "count",
        "count_low", "count_high", "h100e", "source_url", "source_name"])


def _stored(session: Session, model, columns: tuple[str, ...]) -> pd.DataFrame:
    stmt = (select(model.id, model.fingerprint, *(getattr(model, c) for c in columns), IngestBatch.source_name)
            .join(IngestBatch, IngestBatch.id == model.batch_id).where(known(model, None)))
    return pd.DataFrame(session.execute(stmt).all(), columns=["id", "fingerprint", *columns, "source_name"])


def _problems(resolved: Resolved, records: pd.DataFrame, name_column: str) -> pd.DataFrame:
    problems = resolved.problems.copy()
    names = records[name_column].reset_index(drop=True) if name_column in records else pd.Series(dtype=object)
    problems["organisation"] = problems["_pos"].map(names) if len(problems) else pd.Series(dtype=object)
    return problems


def _names(session: Session, new: dict[int, str]) -> dict[int, str]:
    return {**dict(session.execute(select(Organisation.id, Organisation.name)).all()), **new}


def _estimate_rows(session: Session, source: str, resolved: Resolved) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = resolved.valid_rows().reset_index(drop=True)
    stored = _stored_estimates(session)
    rows, gone = diff.classify(rows, stored, diff.ESTIMATE_KEY, source=source, can_supersede=True)
    chips = dict(session.execute(select(Chip.id, Chip.name)).all())
    names = _names(session, resolved.new_organisations)
    by_id = stored.set_index("id")
    rows["organisation"] = rows["organisation_id"].map(lambda i: names.get(int(i)))
    rows["label"] = [diff.describe_estimate(r, chips) for r in rows.to_dict("records")]
    rows["before"] = [diff.describe_estimate(by_id.loc[int(b)].to_dict(), chips) + f" ({by_id.at[int(b), 'source_name']})"
                      if state in ("changed", "conflict") else "" for b, state in zip(rows["before_id"], rows["state"])]
    gone = gone.assign(organisation=gone["organisation_id"].map(lambda i: names.get(int(i))),
                       label=[diff.describe_estimate(r, chips) for r in gone.to_dict("records")])
    return rows, gone


def _new_organisation_details(parsed: Parsed) -> dict[str, dict]:
    """Kind and country for owners a scrape creates, derived the way the seed derives them."""
    owners = parsed.organisations
    if owners is None or owners.empty or "role" not in owners:
        return {}
    details = seed_catalog.derived_organisations(owners[owners["role"] == "owner"], seed_catalog.NameIndex("organisation"))
    return {d["name"]: d for d in details}


def plan_estimates(session: Session, scraper: Scraper, parsed: Parsed) -> ScrapePlan:
    resolved = checks.check_estimates(parsed.records, Resolver.load(session),
                                      create_orgs=scraper.creates_organisations)
    rows, gone = _estimate_rows(session, scraper.name, resolved)
    return ScrapePlan(scraper.name, scraper.produces, len(parsed.records), rows,
                      _problems(resolved, parsed.records, "organisation"), parsed.skipped, parsed.unknown_columns,
                      resolved.new_organisations, _new_organisation_details(parsed), gone)


def _plan_facts(session: Session, scraper: Scraper, parsed: Parsed, resolved: Resolved, model, fp_columns,
                key, shown: tuple[str, ...], name_column: str) -> ScrapePlan:
    rows = resolved.valid_rows().reset_index(drop=True)
    rows["fingerprint"] = load.fingerprints(rows, fp_columns) if len(rows) else pd.Series(dtype=object)
    rows = rows[~rows["fingerprint"].duplicated()] if len(rows) else rows  # load would skip them too
    stored = _stored(session, model, tuple(dict.fromkeys((*key, *shown, "organisation_id"))))
    rows, gone = diff.classify(rows, stored, key, source=scraper.name, can_supersede=False)
    names = _names(session, {})
    text = lambda r: " · ".join(checks.as_text(r.get(c)) for c in shown)  # noqa: E731
    by_id = stored.set_index("id")
    named = rows[name_column].astype(object) if name_column in rows else pd.Series(None, index=rows.index,
                                                                                    dtype=object)
    known_names = rows["organisation_id"].map(lambda i: names.get(int(i)) if pd.notna(i) else None).astype(object)
    rows["organisation"] = named.where(named.notna(), known_names)
    rows["label"] = [text(r) for r in rows.to_dict("records")]
    rows["before"] = [text(by_id.loc[int(b)].to_dict()) + f" ({by_id.at[int(b), 'source_name']})"
                      if state == "conflict" else "" for b, state in zip(rows["before_id"], rows["state"])]
    gone = gone.assign(organisation=gone["organisation_id"].map(lambda i: names.get(int(i)) if pd.notna(i) else None),
                       label=[text(r) for r in gone.to_dict("records")])
    return ScrapePlan(scraper.name, scraper.produces, len(parsed.records), rows,
                      _problems(resolved, parsed.records, name_column), parsed.skipped, parsed.unknown_columns,
                      gone=gone)


def make_plan(session: Session, scraper: Scraper, parsed: Parsed, context: ParseContext = ParseContext()) -> ScrapePlan:
    """What committing ``parsed`` would do to the store now (reads only)."""
    resolver = Resolver.load(session) if scraper.produces in (Produces.HEADCOUNTS, Produces.MODEL_RUNS) else None
    if scraper.produces is Produces.ESTIMATES:
        return plan_estimates(session, scraper, parsed)
    if scraper.produces is Produces.HEADCOUNTS:
        resolved = checks.check_headcounts(parsed.records, resolver)
        return _plan_facts(session, scraper, parsed, resolved, Headcount, checks.HEADCOUNT_KEY, diff.HEADCOUNT_KEY,
                           ("kind", "count", "valid_on", "scope_note", "source_url"), "organisation")
    if scraper.produces is Produces.MODEL_RUNS:
        resolved = checks.check_model_runs(parsed.records, resolver, context.milestones, context.model_names)
        return _plan_facts(session, scraper, parsed, resolved, ModelRun, checks.MODEL_RUN_KEY, diff.MODEL_RUN_KEY,
                           ("name", "published_on", "training_flop", "source_url"), "developer")
    found, unchanged = proposals.propose(session, parsed.records)
    empty = pd.DataFrame(columns=["state"])
    return ScrapePlan(scraper.name, scraper.produces, len(parsed.records), empty, _no_problems(), parsed.skipped,
                      parsed.unknown_columns, proposals=found, unchanged_chips=unchanged)


def _no_problems() -> pd.DataFrame:
    return pd.DataFrame(columns=["_pos", "row", "column", "value", "reason", "organisation"])
