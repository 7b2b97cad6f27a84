"""``python -m fleet snapshot ...``: create, export, list and delete snapshot links.

Registered on the one Typer app by ``fleet.cli``. Thin: the work is ``fleet.snapshots``
(freeze, resolve, rebuild), ``fleet.snapshot_files`` (export) and ``fleet.snapshot_admin``.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer

from fleet.cli_ingest import AsUser, _actor

snapshot_app = typer.Typer(help="Snapshot links: a view frozen with its data cut-off.", no_args_is_help=True)


def _params(page: str, pairs: list[str]) -> dict:
    """``key=value`` pairs -> the page's decoded values; any junk is an error naming the parameter."""
    from fleet.snapshots import page_params
    from fleet.view_state import decode

    params = page_params(page)
    known = {p.key for p in params}
    query = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or key.strip() not in known:
            raise typer.BadParameter(f"--param {pair!r}: expected KEY=VALUE with KEY one of {', '.join(sorted(known))}")
        query[key.strip()] = value
    values, warnings = decode(query, params)
    if warnings:
        raise typer.BadParameter("; ".join(w.replace("Ignored URL parameter", "--param").replace(
            "; using the default.", "") for w in warnings))
    return values


def _expiry(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        raise typer.BadParameter(f"--expires {text!r} is not an ISO date (YYYY-MM-DD)") from None


@snapshot_app.command("create")
def create_cmd(
    ctx: typer.Context,
    page: Annotated[str, typer.Option("--page", help="Page id, e.g. overview.")],
    param: Annotated[Optional[list[str]], typer.Option("--param", help="KEY=VALUE view parameter (repeatable).")]
    = None,
    title: Annotated[Optional[str], typer.Option("--title", help="A title shown on the snapshot.")] = None,
    note: Annotated[Optional[str], typer.Option("--note", help="A note shown on the snapshot.")] = None,
    expires: Annotated[Optional[str], typer.Option("--expires", help="Unavailable from this date (UTC).")] = None,
    as_user: AsUser = None,
):
    """Freeze PAGE's view at the store's current cut-off; prints the ID and the link."""
    from fleet.cli import engine_of, fail, settings_of
    from fleet.snapshots import SnapshotError, create, link

    try:
        values = _params(page, param or [])
        row = create(engine_of(ctx), page, values, created_by=_actor(as_user).label, title=title, note=note,
                     expires=_expiry(expires))
    except SnapshotError as exc:
        fail(str(exc))
    typer.echo(row.id)
    typer.echo(link(settings_of(ctx).base_url, row.id))


@snapshot_app.command("export")
def export_cmd(ctx: typer.Context, token: Annotated[str, typer.Argument(metavar="ID", help="The snapshot's ID.")],
               out: Annotated[Optional[Path], typer.Option("--out", help="File to write (default: stdout).")] = None,
               bundle: Annotated[bool, typer.Option("--bundle", help="A zip of CSVs + snapshot.json (needs --out).")]
               = False):
    """The snapshot's data as CSV (same bytes however the store changed since), or its zip bundle."""
    from fleet.cli import engine_of, fail, settings_of
    from fleet.snapshot_files import bundle_of, export_csv
    from fleet.snapshots import MISMATCH, SnapshotError, SnapshotUnavailable, open_token

    if bundle and out is None:
        raise typer.BadParameter("--bundle writes a zip file: give --out FILE.zip")
    try:
        opened = open_token(engine_of(ctx), token)
        data = bundle_of(opened, settings_of(ctx).base_url) if bundle else export_csv(opened)
    except (SnapshotUnavailable, SnapshotError) as exc:
        fail(str(exc))
    if bundle and not opened.reproducible:
        fail(MISMATCH)
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        out.write_bytes(data)
        typer.echo(f"wrote {len(data):,} bytes to {out}", err=True)


@snapshot_app.command("list")
def list_cmd(ctx: typer.Context,
             deleted: Annotated[bool, typer.Option("--deleted", help="Include deleted snapshots.")] = False):
    """Snapshots, newest first, one JSON object per line (id, page, title, who, when, cut-off, status, link)."""
    from fleet.cli import engine_of, settings_of
    from fleet.db import read_session
    from fleet.snapshot_admin import list_frame

    with read_session(engine_of(ctx)) as session:
        frame = list_frame(session, settings_of(ctx).base_url, include_deleted=deleted)
    for record in frame.to_dict("records"):
        typer.echo(json.dumps({k: _plain(v) for k, v in record.items()}, ensure_ascii=False))


def _plain(value):
    import pandas as pd

    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    return value.isoformat() if hasattr(value, "isoformat") else value


@snapshot_app.command("delete")
def delete_cmd(ctx: typer.Context, token: Annotated[str, typer.Argument(metavar="ID", help="The snapshot's ID.")],
               as_user: AsUser = None):
    """Delete a snapshot (a tombstone: its link shows "no longer available"); audited."""
    from fleet.auth import AuthError
    from fleet.cli import engine_of, fail
    from fleet.snapshot_admin import delete
    from fleet.snapshots import SnapshotError

    try:
        delete(engine_of(ctx), _actor(as_user), token)
    except (SnapshotError, AuthError) as exc:
        fail(str(exc))
    typer.echo(f"deleted snapshot {token}")


def register(app: typer.Typer) -> None:
    app.add_typer(snapshot_app, name="snapshot")
