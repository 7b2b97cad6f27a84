"""Editors' snapshot actions: list, retitle, expire and delete (a tombstone), each audited.

Anyone may create a snapshot (``fleet.snapshots.create``); changing one needs an editor.
Changes go through ``fleet.db.write_session`` so they are checked (``require_editor``)
and recorded in the audit log like every other write. No streamlit here.
"""

from __future__ import annotations

from datetime import date, datetime, time

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from fleet.auth import Actor, require_editor
from fleet.db import now_utc, write_session
from fleet.ingest import audit
from fleet.models import Snapshot
from fleet.snapshots import MAX_TITLE, SnapshotError, link

LIST_COLUMNS = ["id", "page", "title", "created_by", "created_at", "cutoff", "expires_at", "status", "link"]


def status(row: Snapshot, now: datetime) -> str:
    if row.deleted_at is not None:
        return "deleted"
    if row.expires_at is not None and row.expires_at <= now:
        return "expired"
    return "live"


def list_frame(session: Session, base_url: str, *, include_deleted: bool = False,
               now: datetime | None = None) -> pd.DataFrame:
    """Every snapshot, newest first, with its status and link."""
    now = now or now_utc()
    stmt = select(Snapshot).order_by(Snapshot.created_at.desc())
    if not include_deleted:
        stmt = stmt.where(Snapshot.deleted_at.is_(None))
    rows = session.execute(stmt).scalars().all()
    return pd.DataFrame([[r.id, r.page_id, r.title or "", r.created_by, r.created_at, r.cutoff, r.expires_at,
                          status(r, now), link(base_url, r.id)] for r in rows], columns=LIST_COLUMNS)


def _change(engine, actor: Actor, token: str, action: str, apply) -> None:
    with write_session(engine) as (session, stamp):
        require_editor(session, actor)
        row = session.get(Snapshot, token) if isinstance(token, str) else None
        if row is None or row.deleted_at is not None:
            raise SnapshotError(f"no snapshot {token!r} (see `python -m fleet snapshot list`)")
        before = {"title": row.title, "expires_at": row.expires_at, "deleted_at": row.deleted_at}
        summary = apply(row, stamp.recorded_at)
        after = {"title": row.title, "expires_at": row.expires_at, "deleted_at": row.deleted_at}
        audit.record(session, stamp, actor, action, entity="snapshot", summary=f"snapshot {token}: {summary}",
                     before=before, after=after)


def retitle(engine, actor: Actor, token: str, title: str) -> None:
    title = " ".join((title or "").split())
    if len(title) > MAX_TITLE:
        raise SnapshotError(f"the title is longer than {MAX_TITLE} characters")

    def apply(row: Snapshot, _now: datetime) -> str:
        row.title = title or None
        return f"retitled {title!r}"
    _change(engine, actor, token, "snapshot.retitle", apply)


def expire(engine, actor: Actor, token: str, when: date | datetime | None = None) -> None:
    """Set the expiry (default: now, i.e. expire it at once); a date means its midnight UTC."""

    def apply(row: Snapshot, now: datetime) -> str:
        at = now if when is None else when if isinstance(when, datetime) else datetime.combine(when, time())
        row.expires_at = at
        return f"expires {at:%Y-%m-%d %H:%M} UTC"
    _change(engine, actor, token, "snapshot.expire", apply)


def delete(engine, actor: Actor, token: str) -> None:
    """Tombstone the snapshot: its link shows "no longer available" from now on."""

    def apply(row: Snapshot, now: datetime) -> str:
        row.deleted_at = now
        return "deleted"
    _change(engine, actor, token, "snapshot.delete", apply)
