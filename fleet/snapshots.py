"""Snapshots: freeze a page's view with its data cut-off, resolve a link, rebuild and verify it.

A snapshot stores the page, its full view state (``as_of`` made explicit, ``known_at`` set
to the cut-off), the cut-off itself (the store's recorded_at high-water mark) and the
sha256 of the canonical CSV of the page's tables. Because the store is bitemporal and
deletes are tombstones, rebuilding the page at ``known_at = cutoff`` gives the same
tables; ``open_view`` rebuilds them and compares the hash, so a hard delete or a bug is
reported instead of silently showing other numbers.

Every way a link can fail -- malformed, unknown, expired, deleted -- raises the one
``SnapshotUnavailable`` with the same message, so a visitor learns nothing about which
tokens exist. Exports, bundles, "what changed since" and the editors' actions live in
``fleet.snapshot_files`` and ``fleet.snapshot_admin``. No streamlit here.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Mapping, Sequence

import pandas as pd
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from fleet.db import data_version, now_utc, read_session
from fleet.exports import to_csv_bytes
from fleet.models import Snapshot
from fleet.view_state import Param, decode, encode
from fleet.views import VIEWS, SessionStore, Store, build_view, load_all

TOKEN_BYTES = 24  # 192 bits drawn; 32 URL-safe characters (~191.98 bits once a leading "-" is redrawn)
TOKEN_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{31}")
TODAY_KEY = "_today"
MAX_TITLE = 200
MAX_NOTE = 2000
VISITOR = "a visitor"  # the author of a snapshot made without logging in
# Anyone may press "Share snapshot", so visitors' snapshots are capped store-wide (each is a
# row and a rebuild of the page); editors are not limited.
VISITOR_SNAPSHOTS_PER_HOUR = 60
UNAVAILABLE = ("This snapshot is no longer available. It may have expired or been removed, or the link may be "
               "incomplete.")
MISMATCH = ("This snapshot can no longer be reproduced exactly: the data rebuilt at its cut-off differs from what "
            "was frozen (a record was hard-deleted from the store, or a bug). The numbers below are today's "
            "rebuild at the cut-off, not necessarily what was shared.")


class SnapshotUnavailable(Exception):
    """Malformed, unknown, expired or deleted: one outcome, one message."""

    def __init__(self) -> None:
        super().__init__(UNAVAILABLE)


class SnapshotError(ValueError):
    """A snapshot cannot be created or changed as asked; the message names the problem."""


def new_token() -> str:
    """32 URL-safe characters, never starting with "-" (a command line would take it for an option)."""
    while True:
        token = secrets.token_urlsafe(TOKEN_BYTES)
        if not token.startswith("-"):
            return token


def link(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/?snapshot={token}"


# --- content hash ---------------------------------------------------------------------------------

def canonical_bytes(tables: Mapping[str, pd.DataFrame]) -> bytes:
    """The tables as one byte string: sorted by name, each as neutralised CSV under a name line."""
    parts = [f"# table: {name}\n".encode() + to_csv_bytes(tables[name]) for name in sorted(tables)]
    return b"\n".join(parts)


def content_hash(tables: Mapping[str, pd.DataFrame]) -> str:
    return hashlib.sha256(canonical_bytes(tables)).hexdigest()


# --- freezing -------------------------------------------------------------------------------------

def page_params(page_id: str, params: Sequence[Param] | None = None) -> tuple[Param, ...]:
    """The page's params: given (a page without a registered view), or its view's (shared + own)."""
    if params is not None:
        return tuple(params)
    spec = load_all().get(page_id)
    if spec is None:
        raise SnapshotError(f"unknown page {page_id!r}; pages with data views: {', '.join(sorted(VIEWS))}")
    return spec.all_params()


def freeze(values: Mapping[str, Any], params: Sequence[Param], high_water: datetime | None,
           today: date | None = None) -> tuple[dict[str, str], datetime]:
    """(encoded view state with as_of and known_at explicit, cut-off).

    The cut-off is the store's high-water mark -- or an earlier ``known_at`` the view
    already had: a view that time-travels is frozen where it travelled to.
    """
    cutoff = high_water or now_utc()
    known_at = values.get("known_at")
    if known_at is not None and known_at < cutoff:
        cutoff = known_at
    today = today or date.today()
    frozen = {**values, "as_of": values.get("as_of") or today, "known_at": cutoff}
    # The day the page was evaluated on (a claim's "pending" depends on it): today, or the day
    # the view time-travelled to. Not a URL parameter, so the live link leaves it out.
    evaluated = today if known_at is None else known_at.date()
    return {**encode(frozen, params), TODAY_KEY: evaluated.isoformat()}, cutoff


def thaw(view_state: Mapping[str, str], params: Sequence[Param]) -> dict[str, Any]:
    """The decoded values of a stored view state (the same decode as a pasted URL)."""
    values, _ = decode(view_state, params)
    return values


def _expiry(expires: date | datetime | None, now: datetime) -> datetime | None:
    if expires is None:
        return None
    when = expires if isinstance(expires, datetime) else datetime.combine(expires, time())
    if when <= now:
        raise SnapshotError(f"the expiry {when:%Y-%m-%d %H:%M} UTC is not in the future")
    return when


def _text(value: str | None, limit: int, what: str) -> str | None:
    value = (value or "").strip()
    if len(value) > limit:
        raise SnapshotError(f"the {what} is longer than {limit} characters")
    return value or None


@dataclass(frozen=True)
class Frozen:
    """A view about to be stored: what ``create`` needs beyond the request."""

    view_state: dict[str, str]
    cutoff: datetime
    values: dict[str, Any]


def prepare(engine: Engine, page_id: str, values: Mapping[str, Any], *, params: Sequence[Param] | None = None,
            high_water: datetime | None = None, today: date | None = None) -> Frozen:
    """Freeze ``values`` at ``high_water`` (default: the store's current mark)."""
    params = page_params(page_id, params)
    if high_water is None:
        with read_session(engine) as session:
            high_water = data_version(session)[1]
    view_state, cutoff = freeze(values, params, high_water, today)
    return Frozen(view_state, cutoff, thaw(view_state, params))


def create(engine: Engine, page_id: str, values: Mapping[str, Any], *, created_by: str, title: str | None = None,
           note: str | None = None, expires: date | datetime | None = None, params: Sequence[Param] | None = None,
           high_water: datetime | None = None, tables: Mapping[str, pd.DataFrame] | None = None,
           hash_basis: str = "view", today: date | None = None) -> Snapshot:
    """Store a snapshot of ``page_id`` at ``values``; returns the row (its ``id`` is the link token).

    ``tables`` are the page's tables at the frozen view state; by default they are rebuilt
    here from the page's registered view. A page without one passes what it showed
    (``hash_basis="screen"``).
    """
    now = now_utc()
    if created_by == VISITOR:
        _check_visitor_quota(engine, now)
    frozen = prepare(engine, page_id, values, params=params, high_water=high_water, today=today)
    if tables is None:
        if page_id not in VIEWS:
            raise SnapshotError(f"page {page_id!r} has no registered data view; snapshot it from the app")
        tables = build_view(SessionStore(engine), page_id, frozen.values)
    row = Snapshot(id=new_token(), page_id=page_id, view_state=json.dumps(frozen.view_state, sort_keys=True),
                   cutoff=frozen.cutoff, data_hash=content_hash(tables), hash_basis=hash_basis,
                   created_by=_text(created_by, 200, "author") or "anonymous", created_at=now,
                   title=_text(title, MAX_TITLE, "title"), note=_text(note, MAX_NOTE, "note"),
                   expires_at=_expiry(expires, now))
    with Session(engine, expire_on_commit=False) as session, session.begin():
        session.add(row)
    return row


def _check_visitor_quota(engine: Engine, now: datetime) -> None:
    since = now - timedelta(hours=1)
    with read_session(engine) as session:
        recent = session.scalar(select(func.count()).select_from(Snapshot).where(
            Snapshot.created_by == VISITOR, Snapshot.created_at > since))
    if recent >= VISITOR_SNAPSHOTS_PER_HOUR:
        raise SnapshotError(f"Visitors have created {recent} snapshots in the last hour, the most allowed "
                            f"({VISITOR_SNAPSHOTS_PER_HOUR}); try again later, or log in as an editor.")


# --- resolving and opening ------------------------------------------------------------------------

def resolve(engine: Engine, token: object, now: datetime | None = None) -> Snapshot:
    """The live snapshot behind ``token``, or ``SnapshotUnavailable`` (whatever the reason)."""
    if not isinstance(token, str) or not TOKEN_RE.fullmatch(token):
        raise SnapshotUnavailable()
    with read_session(engine) as session:
        row = session.get(Snapshot, token)
    now = now or now_utc()
    if row is None or row.deleted_at is not None or (row.expires_at is not None and row.expires_at <= now):
        raise SnapshotUnavailable()
    return row


def view_state(snapshot: Snapshot) -> dict[str, str]:
    return json.loads(snapshot.view_state)


def values_of(snapshot: Snapshot, params: Sequence[Param] | None = None) -> dict[str, Any]:
    return thaw(view_state(snapshot), page_params(snapshot.page_id, params))


def live_state(snapshot: Snapshot) -> dict[str, str]:
    """The live view's URL parameters: the snapshot's, minus the cut-off."""
    return {k: v for k, v in view_state(snapshot).items() if k not in ("known_at", TODAY_KEY)}


def evaluated_on(snapshot: Snapshot) -> date:
    """The "today" the page was drawn with (older rows without it: the cut-off's day)."""
    text = view_state(snapshot).get(TODAY_KEY)
    return date.fromisoformat(text) if text else snapshot.cutoff.date()


@dataclass(frozen=True)
class Opened:
    snapshot: Snapshot
    values: dict[str, Any]
    tables: dict[str, pd.DataFrame]
    reproducible: bool


def verify(snapshot: Snapshot, tables: Mapping[str, pd.DataFrame]) -> bool:
    return content_hash(tables) == snapshot.data_hash


def open_view(store: Store, snapshot: Snapshot) -> Opened:
    """Rebuild a registered page's tables at the snapshot's view state and check the hash.

    This is what opening a snapshot costs beyond drawing the page (the app runs it through
    its cached store; ``bench/`` times it against ``build_view`` of the live view).
    """
    if snapshot.page_id not in load_all():
        raise SnapshotError(f"page {snapshot.page_id!r} has no registered data view; open the snapshot in the app")
    values = values_of(snapshot)
    tables = build_view(store, snapshot.page_id, values)
    return Opened(snapshot, values, tables, verify(snapshot, tables))


def open_token(engine: Engine, token: str) -> Opened:
    """Resolve and rebuild from the engine (the CLI and the benchmark)."""
    return open_view(SessionStore(engine), resolve(engine, token))
