"""Run scrapers: fetch, parse, plan, and (unless a dry run) commit -- each source failing alone.

``Runner.run(jobs)`` runs sources concurrently (threads: the work is waiting on servers),
and every source's outcome is reported whatever happened to the others: ``ok`` (a batch
was written), ``not-modified`` (every document answered 304 or hashed as before: nothing
written), ``dry-run`` (the plan, nothing written), ``skipped`` (an unconfigured
scraper in a run of all) or ``failed`` (the message names the
source and the reason; nothing written for it). Writes are serialised by the store's
write lock, so concurrent sources commit one after another, each all or nothing.

A document the server says is unchanged while another of the same source changed is
re-read from the store's kept copy, so the parse sees the full set.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, TypeVar

import pandas as pd
from sqlalchemy import Engine

from fleet.auth import Actor, AuthError
from fleet.config import Settings
from fleet.db import read_session
from fleet.ingest.errors import IngestError
from fleet.ingest.scrapers import provenance
from fleet.ingest.scrapers.base import NotConfigured, ParseContext, Request, Scraper, ScraperError
from fleet.ingest.scrapers.fetch import Fetcher
from fleet.ingest.scrapers.loading import CommitResult, commit
from fleet.ingest.scrapers.plan import ScrapePlan, make_plan
from fleet.ingest.scrapers.raw import RawDocument
from fleet.ingest.tabular import Parsed
from fleet.queries import organisations_frame

log = logging.getLogger("fleet.scrape")
Progress = Callable[[str, str, float], None]  # (source, stage, fraction done)
T, R = TypeVar("T"), TypeVar("R")


@dataclass
class Job:
    scraper: Scraper
    url: str | None = None  # replaces the scraper's configured main URL
    optional: bool = False  # part of "all": an unconfigured scraper is skipped, not failed
    from_run: int | None = None  # re-parse the documents this earlier run kept, instead of fetching


@dataclass
class Collected:
    """Fetched and parsed, not yet checked against the store."""

    requests: list[Request]
    docs: dict[str, RawDocument]
    parsed: Parsed | None  # None: nothing changed since the last stored fetch
    context: ParseContext = field(default_factory=ParseContext)


@dataclass
class Outcome:
    source: str
    status: str  # ok | not-modified | dry-run | skipped | failed
    message: str
    plan: ScrapePlan | None = None
    result: CommitResult | None = None
    docs: dict[str, RawDocument] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return self.status == "failed"


def run_concurrently(items: list[T], fn: Callable[[T], R], max_workers: int) -> list[R]:
    """``fn`` over ``items`` on a thread pool; results in the items' order."""
    if not items:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(items))), thread_name_prefix="scrape") as pool:
        return list(pool.map(fn, items))


def read_curation(settings: Settings) -> ParseContext:
    """The seed's curation (``<seed_dir>/curation``) that scrapes share, so a scrape and the
    seed agree: co-owner rules, milestone runs, curated model names. Missing files: none."""
    folder = Path(settings.seed_dir) / "curation"
    co_owners = folder / "co_owners.csv"
    rules = pd.read_csv(co_owners, dtype=str, keep_default_na=False) if co_owners.is_file() else None
    milestones, names = set(), {}
    runs = folder / "model_runs.csv"
    if runs.is_file():
        for row in pd.read_csv(runs, dtype=str, keep_default_na=False).to_dict("records"):
            labels = {n.strip().casefold() for n in (row["model"], row.get("epoch_model", "")) if n.strip()}
            if row["milestone"].strip().lower() == "true":
                milestones |= labels
            if row.get("epoch_model", "").strip():
                names[row["epoch_model"].strip().casefold()] = row["model"].strip()
    return ParseContext(co_owners=rules, milestones=frozenset(milestones), model_names=names)


class Runner:
    def __init__(self, engine: Engine | None, settings: Settings, fetcher: Fetcher, *, actor: Actor | None = None,
                 dry_run: bool = False, strict: bool = False, max_workers: int = 8,
                 progress: Progress | None = None) -> None:
        self.engine, self.settings, self.fetcher = engine, settings, fetcher
        self.actor, self.dry_run, self.strict, self.max_workers = actor, dry_run, strict, max_workers
        self.progress = progress or (lambda source, stage, fraction: None)
        self.curation = read_curation(settings)

    def run(self, jobs: Iterable[Job]) -> list[Outcome]:
        return run_concurrently(list(jobs), self.run_one, self.max_workers)

    def run_one(self, job: Job) -> Outcome:
        name, started = job.scraper.name, time.monotonic()
        try:
            outcome = self._run(job)
        except NotConfigured as exc:
            outcome = Outcome(name, "skipped" if job.optional else "failed", str(exc))
        except (IngestError, AuthError, LookupError, ValueError) as exc:
            outcome = Outcome(name, "failed", str(exc) if str(exc).startswith(name) else f"{name}: {exc}")
        except Exception as exc:  # a source failing must not take the others down; logged in full
            log.exception("scraper %s failed", name)
            outcome = Outcome(name, "failed", f"{name}: unexpected {exc.__class__.__name__}: {exc}")
        outcome.seconds = time.monotonic() - started
        self.progress(name, outcome.status, 1.0)
        return outcome

    def _run(self, job: Job) -> Outcome:
        scraper = job.scraper
        collected = self.collect_kept(job) if job.from_run else self.collect(job)
        if collected.parsed is None:
            return Outcome(scraper.name, "not-modified", f"{scraper.name}: not modified since the last run "
                           "(HTTP 304 or the same sha256); nothing written", docs=collected.docs)
        self.progress(scraper.name, "checking", 0.7)
        if self.dry_run:
            plan = self.preview(scraper, collected)
            return Outcome(scraper.name, "dry-run", f"{scraper.name}: {plan.summary()} (dry run: nothing written)",
                           plan=plan, docs=collected.docs)
        self.progress(scraper.name, "writing", 0.85)
        result = self.commit(scraper, collected)
        return Outcome(scraper.name, "ok", f"{scraper.name}: batch {result.batch_id}: {result.plan.summary()}",
                       plan=result.plan, result=result, docs=collected.docs)

    def preview(self, scraper: Scraper, collected: Collected) -> ScrapePlan:
        """The dry-run diff of collected documents against the store now (reads only)."""
        with read_session(self.engine) as session:
            return make_plan(session, scraper, collected.parsed, collected.context)

    def commit(self, scraper: Scraper, collected: Collected) -> CommitResult:
        """Write collected documents as one batch (re-planned under the write lock)."""
        if self.actor is None:
            raise AuthError(f"{scraper.name}: writing needs an editor (--as USER, or log in)")
        return commit(self.engine, scraper, collected.docs, collected.parsed, self.actor,
                      main=collected.requests[0].role, strict=self.strict, context=collected.context)

    def _context(self, scraper: Scraper, urls: list[str]) -> tuple[dict, ParseContext]:
        if self.engine is None:
            return {}, self.curation
        with read_session(self.engine) as session:
            previous = provenance.previous(session, scraper.name, urls)
            organisations = organisations_frame(session)[["name", "aliases"]]
        return previous, replace(self.curation, organisations=organisations)

    def collect(self, job: Job) -> Collected:
        """Fetch every document of the job and parse them (no write)."""
        scraper = job.scraper
        requests = scraper.requests(self.settings, job.url)
        previous, context = self._context(scraper, [r.url for r in requests])
        docs: dict[str, RawDocument] = {}
        for number, request in enumerate(requests):
            self.progress(scraper.name, f"fetching {request.role}", 0.1 + 0.4 * number / len(requests))
            validators = previous.get(request.url, (None, None))[1]
            docs[request.role] = self.fetcher.fetch(request.url, accept=request.accept, previous=validators)
        context = replace(context, requests=tuple(requests))
        if not any(doc.fresh for doc in docs.values()):
            return Collected(requests, docs, None, context)
        docs = self._reuse_stored(requests, docs, previous)
        self.progress(scraper.name, "parsing", 0.55)
        return Collected(requests, docs, scraper.parse(docs, context), context)

    def collect_kept(self, job: Job) -> Collected:
        """Re-parse the documents an earlier run kept -- no network: after a parser fix, or to audit it."""
        scraper = job.scraper
        with read_session(self.engine) as session:
            kept = provenance.kept_documents(session, job.from_run)
        sources = {source for source, _ in kept.values()}
        if sources != {scraper.name}:
            what = f"a run of {', '.join(sorted(sources))}" if sources else "not a scrape run that kept documents"
            raise ScraperError(f"{scraper.name}: batch {job.from_run} is {what}")
        docs = {role: doc for role, (_, doc) in kept.items()}
        configured = {r.role: r for r in scraper.requests(self.settings)}  # html-table's table specs
        missing = [role for role in docs if role not in configured]
        if missing:
            raise ScraperError(f"{scraper.name}: table(s) {', '.join(missing)} of batch {job.from_run} are no "
                               "longer configured")
        requests = [replace(configured.get(role) or Request(role, doc.url), url=doc.url) for role, doc in docs.items()]
        _, context = self._context(scraper, [])
        context = replace(context, requests=tuple(requests))
        self.progress(scraper.name, "parsing kept documents", 0.55)
        return Collected(requests, docs, scraper.parse(docs, context), context)

    def _reuse_stored(self, requests: list[Request], docs: dict[str, RawDocument], previous: dict) -> dict:
        stale = [r for r in requests if not docs[r.role].fresh]
        if not stale:
            return docs
        with read_session(self.engine) as session:
            for request in stale:
                kept = provenance.stored_document(session, previous[request.url][0])
                docs[request.role] = replace(kept, not_modified=docs[request.role].not_modified,
                                             unchanged=docs[request.role].unchanged)
        return docs
