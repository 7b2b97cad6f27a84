"""CLI commands for scrapers: ``scrape``, ``scrapers``, ``scrape-runs`` and ``chips`` (catalog proposals).

Registered on the one Typer app by ``fleet.cli``. Thin: the runner and the proposal
functions are the ones the app's pages call. ``scrape`` shows one progress bar per
source, then a line per source; ``--dry-run`` adds the per-organisation diff and the
rejected rows. Exit codes: 0 every source succeeded (or was not modified), 1 a source
failed (the others still ran), 2 usage errors (an unknown scraper, --url with all).
"""

from __future__ import annotations

import getpass
import json
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from fleet.cli_ingest import AsUser

err = Console(stderr=True, highlight=False)
out = Console(highlight=False)
chips_app = typer.Typer(help="Chip catalog proposals from the epoch-hardware scraper.", no_args_is_help=True)
COUNT_COLUMNS = ("new", "changed", "conflict", "unchanged", "rejected", "gone")


def _actor(name: str | None):
    from fleet.auth import Actor

    return Actor.cli(name or getpass.getuser())  # the command line is trusted: it holds the DB credentials


def _fail(message: str, code: int = 1):
    err.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code)


def _chosen(name: str, url: str | None):
    from fleet.ingest.scrapers import REGISTRY, ScraperError, get

    if name == "all":
        if url:
            _fail("--url replaces one scraper's URL; name the scraper instead of all", 2)
        return list(REGISTRY.values())
    try:
        return [get(name)]
    except ScraperError as exc:
        _fail(str(exc), 2)


def _outcome_row(outcome) -> dict:
    counts = outcome.plan.counts() if outcome.plan is not None else {}
    row = {"source": outcome.source, "status": outcome.status, "seconds": round(outcome.seconds, 2),
           "batch_id": outcome.result.batch_id if outcome.result else None, "message": outcome.message}
    return {**row, **{c: counts.get(c, 0) for c in COUNT_COLUMNS}}


def _print_outcomes(outcomes) -> None:
    table = Table(title="Scrape results")
    table.add_column("source", no_wrap=True, min_width=18)
    table.add_column("status", no_wrap=True)
    for column in (*COUNT_COLUMNS, "batch", "s"):
        table.add_column(column, justify="right")
    colour = {"ok": "green", "dry-run": "cyan", "not-modified": "dim", "skipped": "yellow", "failed": "red"}
    for o in outcomes:
        row = _outcome_row(o)
        table.add_row(o.source, f"[{colour[o.status]}]{o.status}[/]", *(f"{row[c]:,}" for c in COUNT_COLUMNS),
                      str(row["batch_id"] or ""), f"{o.seconds:.1f}")
    out.print(table)
    for o in outcomes:
        if o.status in ("failed", "skipped"):
            err.print(f"[{'red' if o.failed else 'yellow'}]{o.status}:[/] {escape(o.message)}", soft_wrap=True)


def _print_plan(plan, show: int) -> None:
    if plan.produces.value == "chips":
        for p in plan.proposals[:show]:
            out.print(f"  {p.action} {p.chip_name}: {p.describe()} ({p.state})", markup=False, soft_wrap=True)
        return
    changes = plan.by_organisation()
    changes = changes[changes[["new", "changed", "conflict", "rejected", "gone"]].sum(axis=1) > 0]
    if len(changes):
        table = Table(title=f"{plan.source}: organisations with changes")
        for column in changes.columns:
            table.add_column(column)
        for row in changes.head(show).itertuples(index=False):
            table.add_row(*(str(v) for v in row))
        out.print(table)
    for state in ("changed", "conflict", "new"):
        for row in plan.rows[plan.rows["state"] == state].head(show).to_dict("records"):
            before = f"  (was: {row['before']})" if row.get("before") else ""
            out.print(f"  {state:9s} {row['organisation']}: {row['label']}{before}", markup=False, soft_wrap=True)
    for line in plan.messages(show):
        out.print(f"  rejected  {line}", markup=False, soft_wrap=True)
    if plan.created_organisations():
        out.print(f"  new organisations: {', '.join(plan.created_organisations())}", markup=False, soft_wrap=True)


def scrape_cmd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A scraper (see `python -m fleet scrapers`), or all.")],
    url: Annotated[Optional[str], typer.Option("--url", help="Fetch this URL instead of the configured one.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the diff per organisation; write nothing.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Write nothing for a source with any rejected row.")] = False,
    as_user: AsUser = None,
    show: Annotated[int, typer.Option("--show", min=0, help="How many rows of each diff to print.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcomes as JSON (for schedulers).")] = False,
    from_run: Annotated[Optional[int], typer.Option("--from-run", help="Re-parse the documents kept by this "
                                                    "earlier run (batch id) instead of fetching.")] = None,
):
    """Fetch sources and load them as ingest batches (rejected rows are reported, never written)."""
    from fleet.cli import engine_of, settings_of
    from fleet.ingest.scrapers.fetch import DEFAULT_USER_AGENT, Fetcher, FetchPolicy, make_client
    from fleet.ingest.scrapers.runner import Job, Runner

    chosen, settings = _chosen(name, url), settings_of(ctx)
    if from_run is not None and (name == "all" or url):
        _fail("--from-run re-parses one scraper's earlier run: name the scraper, without --url", 2)
    policy = FetchPolicy(user_agent=settings.scrape_user_agent or DEFAULT_USER_AGENT)
    bars = Progress(TextColumn("{task.description:40s}"), BarColumn(), TimeElapsedColumn(), console=err,
                    transient=True, disable=as_json)
    with make_client(policy) as client, bars:
        tasks = {s.name: bars.add_task(s.name, total=1.0) for s in chosen}
        report = lambda source, stage, fraction: bars.update(  # noqa: E731
            tasks[source], completed=fraction, description=f"{source}: {stage}")
        runner = Runner(engine_of(ctx), settings, Fetcher(client, policy), actor=None if dry_run else _actor(as_user),
                        dry_run=dry_run, strict=strict, progress=report)
        outcomes = runner.run([Job(s, url, optional=name == "all", from_run=from_run) for s in chosen])
    if as_json:
        typer.echo(json.dumps([_outcome_row(o) for o in outcomes], indent=2, default=str))
    else:
        _print_outcomes(outcomes)
        for o in outcomes:
            if o.plan is not None and (dry_run or o.plan.rejected_rows):
                _print_plan(o.plan, show)
    raise typer.Exit(1 if any(o.failed for o in outcomes) else 0)


def scrapers_cmd(ctx: typer.Context):
    """List the scrapers with their URLs, what they produce and their licences."""
    from fleet.cli import settings_of
    from fleet.ingest.scrapers import REGISTRY, ScraperError

    table = Table(title="Scrapers")
    for column in ("name", "produces", "urls", "licence"):
        table.add_column(column)
    for scraper in REGISTRY.values():
        try:
            info = scraper.describe(settings_of(ctx))
        except ScraperError as exc:
            info = {"name": scraper.name, "produces": scraper.produces.value, "urls": f"({exc})",
                    "licence": scraper.licence}
        table.add_row(info["name"], info["produces"], info["urls"], info["licence"])
    out.print(table)


def scrape_runs_cmd(ctx: typer.Context,
                    source: Annotated[Optional[str], typer.Option("--source", help="Only this scraper.")] = None,
                    limit: Annotated[int, typer.Option("--limit", min=1)] = 20):
    """Past scrape runs with their provenance (URL, status, ETag, sha256, size, counts), as JSON lines."""
    from fleet.cli import engine_of
    from fleet.db import read_session
    from fleet.ingest.scrapers.provenance import runs_frame

    with read_session(engine_of(ctx)) as session:
        frame = runs_frame(session, source=source, limit=limit)
    for record in frame.to_dict("records"):
        typer.echo(json.dumps(record, default=str))


def chips_proposals(ctx: typer.Context):
    """Pending chip catalog proposals (id, chip, action, changes)."""
    from fleet.cli import engine_of
    from fleet.db import read_session
    from fleet.ingest.scrapers.proposals import pending_frame

    with read_session(engine_of(ctx)) as session:
        frame = pending_frame(session)
    if frame.empty:
        err.print("no pending chip proposals")
    for record in frame.to_dict("records"):
        typer.echo(json.dumps(record, default=str))


def _decide(ctx: typer.Context, proposal_id: int, accept: bool, note: str | None, as_user: str | None) -> None:
    from fleet.auth import AuthError
    from fleet.cli import engine_of
    from fleet.ingest.errors import IngestError
    from fleet.ingest.scrapers.proposals import decide

    try:
        batch = decide(engine_of(ctx), _actor(as_user), proposal_id, accept=accept, note=note)
    except (IngestError, AuthError) as exc:
        _fail(str(exc))
    err.print(f"proposal {proposal_id} {'accepted' if accept else 'rejected'} (batch {batch})")


def chips_accept(ctx: typer.Context, proposal_id: Annotated[int, typer.Argument(help="Proposal id.")],
                 note: Annotated[Optional[str], typer.Option("--note")] = None, as_user: AsUser = None):
    """Accept a chip proposal: the catalog takes its values (audited)."""
    _decide(ctx, proposal_id, True, note, as_user)


def chips_reject(ctx: typer.Context, proposal_id: Annotated[int, typer.Argument(help="Proposal id.")],
                 note: Annotated[Optional[str], typer.Option("--note")] = None, as_user: AsUser = None):
    """Reject a chip proposal (it is not proposed again until the source changes)."""
    _decide(ctx, proposal_id, False, note, as_user)


def register(app: typer.Typer) -> None:
    app.command("scrape")(scrape_cmd)
    app.command("scrapers")(scrapers_cmd)
    app.command("scrape-runs")(scrape_runs_cmd)
    chips_app.command("proposals")(chips_proposals)
    chips_app.command("accept")(chips_accept)
    chips_app.command("reject")(chips_reject)
    app.add_typer(chips_app, name="chips")
