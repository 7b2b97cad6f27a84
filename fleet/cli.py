"""``python -m fleet [--db URL] COMMAND``: the command line (Typer). Thin by design.

Each command resolves settings once, builds one engine, and calls the same functions
the app uses. Exit codes: 0 success, 1 the input or data is wrong, 2 usage error (Typer's
own). Later features register their commands in ``_register_subcommands``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from fleet import migrate
from fleet.config import Settings, get_settings
from fleet.db import make_engine, read_session

app = typer.Typer(help="Fleet: who holds the world's AI compute.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
export_app = typer.Typer(help="Export data as CSV.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(export_app, name="export")

err = Console(stderr=True)


def settings_of(ctx: typer.Context) -> Settings:
    return ctx.obj["settings"]


def engine_of(ctx: typer.Context):
    if "engine" not in ctx.obj:
        ctx.obj["engine"] = make_engine(settings_of(ctx).database_url)
    return ctx.obj["engine"]


def fail(message: str, code: int = 1) -> None:
    err.print(f"[red]error:[/red] {message}", highlight=False, markup=True)
    raise typer.Exit(code)


@app.callback()
def main(ctx: typer.Context,
         db: Annotated[Optional[str], typer.Option("--db", help="Database URL (overrides FLEET_DATABASE_URL).")] = None):
    ctx.ensure_object(dict)
    ctx.obj["settings"] = get_settings().with_database(db)


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context, revision: Annotated[str, typer.Argument(help="Target revision.")] = "head"):
    """Migrate the database up to REVISION (default: head)."""
    migrate.upgrade(settings_of(ctx).database_url, revision)
    typer.echo(f"database at {revision}")


@db_app.command("downgrade")
def db_downgrade(ctx: typer.Context, revision: Annotated[str, typer.Argument(help="Target revision, e.g. base.")]):
    """Migrate the database down to REVISION."""
    migrate.downgrade(settings_of(ctx).database_url, revision)
    typer.echo(f"database at {revision}")


@app.command("seed")
def seed_cmd(ctx: typer.Context,
             seed_dir: Annotated[Optional[Path], typer.Option(help="Folder of seed CSVs.")] = None):
    """Load the sourced seed data (idempotent: seeding twice adds nothing)."""
    from fleet.seed import seed

    report = seed(engine_of(ctx), seed_dir or settings_of(ctx).seed_dir)
    added = sum(report.added.values())
    typer.echo(json.dumps({"organisations_added": report.catalog.organisations_added,
                           "chips_added": report.catalog.chips_added, "rows_added": added,
                           "by_dataset": report.added}, sort_keys=True))


@app.command("stats")
def stats_cmd(ctx: typer.Context):
    """Print counts of live rows as JSON."""
    from fleet.queries import store_stats

    with read_session(engine_of(ctx)) as session:
        typer.echo(json.dumps(store_stats(session), sort_keys=True))


@app.command("warm")
def warm_cmd(ctx: typer.Context):
    """Compute what the app's pages first show into the frame cache: the estimates frame, the default
    fleet state, every page's tables at its default view and the Projections page's series (the
    materialised current state). Run after a bulk import on a big store, so that no visitor waits
    for it; ``make run`` runs it.
    """
    from fleet import materialised

    settings = settings_of(ctx)
    if not settings.frame_cache_dir or settings.frame_cache_dir == "off":
        fail("the frame cache is off (FLEET_FRAME_CACHE_DIR); there is nothing to warm")
    typer.echo(json.dumps(materialised.warm(settings.frame_cache_dir, settings.database_url, engine_of(ctx))))


@export_app.command("estimates")
def export_estimates(ctx: typer.Context,
                     out: Annotated[Optional[Path], typer.Option("--out", help="File to write (default: stdout).")] = None):
    """All live estimates with organisation and chip names, as CSV."""
    from fleet.exports import write_csv
    from fleet.queries import export_estimates_frame

    with read_session(engine_of(ctx)) as session:
        frame = export_estimates_frame(session)
    if out is None:
        write_csv(frame, sys.stdout)
    else:
        with out.open("w", encoding="utf-8", newline="") as fh:
            write_csv(frame, fh)
        err.print(f"wrote {len(frame)} estimates to {out}")


def _register_subcommands() -> None:
    from fleet import cli_ingest, cli_scrape

    cli_ingest.register(app)
    cli_scrape.register(app)


_register_subcommands()


def run() -> None:
    from fleet import allocator

    allocator.tune()
    app()


def _register_features() -> None:
    # Feature modules add their commands here, each in its own module (fewer merge clashes).
    from fleet import cli_projection, cli_snapshot

    cli_projection.register(app)
    cli_snapshot.register(app)


_register_features()
