"""CLI commands for writing: ``import``, ``template``, ``revert``, ``audit`` and ``editors``.

Registered on the one Typer app by ``fleet.cli``. Thin: each calls the same functions as
the app's pages. Writes are recorded under ``--as USER`` (default: the OS user); the
command line is trusted because running it needs the database credentials anyway.
Exit codes: 0 success, 1 the file or data has errors, 2 usage errors.
"""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from fleet.auth import Actor, AuthError

err = Console(stderr=True, highlight=False)
out = Console(highlight=False)
editors_app = typer.Typer(help="Editor accounts (who may write).", no_args_is_help=True)
AsUser = Annotated[Optional[str], typer.Option("--as", help="Who is writing, for the audit log (default: OS user).")]


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in a bare container
        return "unknown"


def _actor(name: str | None) -> Actor:
    return Actor.cli(name or _os_user())


def _engine(ctx: typer.Context):
    from fleet.cli import engine_of

    return engine_of(ctx)


def _fail(message: str, code: int = 1):
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                    TimeElapsedColumn(), console=err, transient=True)


def _print_problems(plan, show: int) -> None:
    messages = plan.messages(limit=show)
    for line in messages:
        err.print(f"  {line}", markup=False)
    hidden = len(plan.problems) - len(messages)
    if hidden > 0:
        err.print(f"  … and {hidden:,} more problems (write them all with --partial --rejects FILE)")


def import_cmd(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV file of estimates.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and preview; write nothing.")] = False,
    partial: Annotated[bool, typer.Option("--partial", help="Import the valid rows even if others have errors.")] = False,
    rejects: Annotated[Optional[Path], typer.Option("--rejects", help="With --partial: write rejected rows here.")] = None,
    create_orgs: Annotated[bool, typer.Option("--create-orgs", help="Create organisations the store does not know.")] = False,
    as_user: AsUser = None,
    show: Annotated[int, typer.Option("--show", min=0, help="How many problems to print.")] = 50,
):
    """Import estimates from a CSV file (all or nothing unless --partial)."""
    from fleet.exports import write_csv
    from fleet.ingest.errors import IngestError
    from fleet.ingest.importer import commit_import, plan_import

    if rejects is not None and not partial:
        _fail("--rejects needs --partial (without it nothing is imported when a row is bad)", 2)
    engine = _engine(ctx)
    with _progress() as bar:
        task = bar.add_task("Reading", total=1.0)
        report = lambda fraction, message: bar.update(task, completed=fraction, description=message)  # noqa: E731
        try:
            plan = plan_import(engine, file.read_bytes(), file_name=file.name, create_orgs=create_orgs,
                               progress=report)
            for notice in plan.table.notices:
                err.print(f"[yellow]note:[/yellow] {notice}")
            err.print(f"{file.name}: {plan.summary()}")
            if plan.new_organisations:
                err.print("new organisations: " + ", ".join(plan.new_organisations[:20]), markup=False)
            _print_problems(plan, show)
            if dry_run:
                raise typer.Exit(1 if plan.rows_rejected else 0)
            if plan.rows_rejected and not partial:
                _fail("nothing was imported — fix the rows above, or use --partial to import the valid ones")
            result = commit_import(engine, plan, _actor(as_user), partial=partial, progress=report)
        except (IngestError, AuthError) as exc:
            _fail(str(exc))
    if rejects is not None and plan.rows_rejected:
        with rejects.open("w", encoding="utf-8", newline="") as fh:
            write_csv(plan.rejects_frame(), fh)
        err.print(f"wrote {plan.rows_rejected:,} rejected rows to {rejects}")
    typer.echo(json.dumps({"batch": result.batch_id, "added": result.added, "skipped": result.skipped,
                           "rejected": result.rejected, "organisations_created": result.organisations_created}))
    raise typer.Exit(1 if plan.rows_rejected else 0)


def template_cmd(out_file: Annotated[Optional[Path], typer.Option("--out", help="File to write (default: stdout).")] = None):
    """Write a CSV template of the import format, with one example row."""
    from fleet.ingest.template import template_csv

    text = template_csv()
    if out_file is None:
        sys.stdout.write(text)
    else:
        out_file.write_text(text, encoding="utf-8")
        err.print(f"wrote the template to {out_file}")


def revert_cmd(ctx: typer.Context, batch: Annotated[int, typer.Argument(help="Id of the batch to undo.")],
               reason: Annotated[Optional[str], typer.Option(help="Why, for the audit log.")] = None,
               as_user: AsUser = None):
    """Undo a batch (import, edit, scrape, seed or revert) as a whole; history is kept."""
    from fleet.ingest.errors import IngestError
    from fleet.ingest.revert import revert_batch

    try:
        result = revert_batch(_engine(ctx), batch, _actor(as_user), reason=reason)
    except (IngestError, AuthError) as exc:
        _fail(str(exc))
    err.print(result.summary(), markup=False)
    typer.echo(json.dumps({"batch": result.batch_id, "reverted": batch, "retracted": result.retracted,
                           "restored": result.restored}))


def audit_cmd(ctx: typer.Context,
              actor: Annotated[Optional[str], typer.Option(help="Only entries by this user (substring).")] = None,
              action: Annotated[Optional[str], typer.Option(help="Only this action, e.g. batch.csv.")] = None,
              batch: Annotated[Optional[int], typer.Option(help="Only entries of this batch.")] = None,
              limit: Annotated[int, typer.Option(min=1, help="At most this many entries.")] = 50,
              as_json: Annotated[bool, typer.Option("--json", help="JSON lines with before/after values.")] = False):
    """List the audit log, newest first."""
    from fleet.db import read_session
    from fleet.ingest.audit import audit_frame

    with read_session(_engine(ctx)) as session:
        frame = audit_frame(session, actor=actor, action=action, batch_id=batch, limit=limit)
    frame = frame.astype(object).where(frame.notna(), None)
    if as_json:
        for record in frame.to_dict("records"):
            typer.echo(json.dumps(record, default=str))
        return
    table = Table("id", "at (UTC)", "who", "action", "summary")
    table.add_column("batch", no_wrap=True)
    for r in frame.itertuples():
        batch_text = "" if r.batch_id is None else str(r.batch_id)
        if r.reverted_by is not None:
            batch_text += f" (reverted by {r.reverted_by})"
        table.add_row(str(r.id), f"{r.at:%Y-%m-%d %H:%M:%S}", r.actor, r.action, r.summary, batch_text)
    out.print(table)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = typer.prompt("Password", hide_input=True)
    if typer.prompt("Repeat the password", hide_input=True) != first:
        _fail("the passwords differ", 1)
    return first


def editors_add(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Editor name (or e-mail for --oidc).")],
                password_stdin: Annotated[bool, typer.Option("--password-stdin",
                                                             help="Read the password from standard input.")] = False,
                oidc: Annotated[bool, typer.Option("--oidc", help="No password: logs in through the identity "
                                                                "provider, by this e-mail.")] = False,
                as_user: AsUser = None):
    """Add an editor account (prompts for the password twice)."""
    from fleet.editors import add_editor_account

    password = None if oidc else _read_password(password_stdin)
    try:
        add_editor_account(_engine(ctx), _actor(as_user), name, password)
    except AuthError as exc:
        _fail(str(exc))
    err.print(f"added editor {name!r}" + (" (OIDC login only)" if oidc else ""))


def editors_list(ctx: typer.Context):
    """List editor accounts (names, how they log in, when added and by whom)."""
    from fleet.db import read_session
    from fleet.editors import editors_frame

    with read_session(_engine(ctx)) as session:
        frame = editors_frame(session)
    table = Table("name", "login", "added (UTC)", "added by")
    for r in frame.itertuples():
        table.add_row(r.name, r.login, f"{r.created_at:%Y-%m-%d %H:%M}", r.created_by)
    out.print(table)


def editors_remove(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Editor name.")],
                   as_user: AsUser = None):
    """Remove an editor account (their past writes stay in the audit log)."""
    from fleet.editors import remove_editor_account

    try:
        remove_editor_account(_engine(ctx), _actor(as_user), name)
    except AuthError as exc:
        _fail(str(exc))
    err.print(f"removed editor {name!r}")


def editors_hash(password_stdin: Annotated[bool, typer.Option("--password-stdin",
                                                              help="Read the password from standard input.")] = False):
    """Print an argon2 hash for an [editors] entry in .streamlit/secrets.toml."""
    from fleet.auth import hash_password

    try:
        typer.echo(hash_password(_read_password(password_stdin)))
    except AuthError as exc:
        _fail(str(exc))


def register(app: typer.Typer) -> None:
    app.command("import")(import_cmd)
    app.command("template")(template_cmd)
    app.command("revert")(revert_cmd)
    app.command("audit")(audit_cmd)
    editors_app.command("add")(editors_add)
    editors_app.command("list")(editors_list)
    editors_app.command("remove")(editors_remove)
    editors_app.command("hash")(editors_hash)
    app.add_typer(editors_app, name="editors")
