"""Editors: who may write, how they prove it, and the check every write makes.

Anyone may browse; every write needs an ``Actor``. The write functions themselves
(``fleet.ingest.load.new_batch`` and everything built on it) call ``require_editor``,
so hiding a button is never the only guard. Actors come from:

- ``login`` — a local editor account: an argon2id hash (salted, argon2-cffi) kept in the
  store (``python -m fleet editors add NAME``) or in secrets (``[editors]`` table of
  name = hash, made with ``python -m fleet editors hash``). No default password exists.
- ``oidc_actor`` — a user the identity provider vouched for (``st.login``), who is an
  editor when their e-mail is an OIDC-only account in the store or is listed in the
  ``oidc_editors`` secret.
- ``Actor.cli`` / ``Actor.system`` — the command line and the seed loader: whoever can
  run them already holds the database credentials; the name is recorded in the audit log.

Failed logins are rate-limited per user name and per browser session, persisted in the
store (``login_attempt``) so limits hold across restarts and server processes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from fleet.db import now_utc
from fleet.models import Editor, LoginAttempt
from fleet.names import clean_name, name_key

MIN_PASSWORD_LENGTH = 12
MAX_FAILURES_PER_NAME = 5
MAX_FAILURES_PER_SESSION = 10
LOCKOUT_WINDOW = timedelta(minutes=15)
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the name is unknown, so a wrong name costs as long as a wrong password.

    Made on first use: hashing is slow by design (~0.1 s), and every process that imports
    this module -- each app page, each CLI command -- would pay it at import."""
    return _hasher.hash("not a password of anyone")


class AuthError(Exception):
    """Base of the errors below; the message is safe to show to the user."""


class NotAnEditor(AuthError):
    """A write was attempted without an editor's rights."""


class LoginFailed(AuthError):
    pass


class LoginLocked(AuthError):
    pass


@dataclass(frozen=True)
class Actor:
    """Who is writing. ``method``: password, oidc, cli or system; ``source``: where the
    account lives (store or secrets), so ``require_editor`` can re-check store accounts."""

    name: str
    method: str
    source: str = "store"

    @classmethod
    def cli(cls, name: str) -> "Actor":
        return cls(clean_name(name) or "unknown", "cli", "os")

    @classmethod
    def system(cls, name: str) -> "Actor":
        return cls(name, "system", "fleet")

    @property
    def label(self) -> str:
        """What the audit log and batches record: the name, and how it got in if not the app."""
        return self.name if self.method in ("password", "oidc") else f"{self.name} ({self.method})"


def hash_password(password: str) -> str:
    check_password_strength(password)
    return _hasher.hash(password)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters long")
    if password.strip() != password or not password.strip():
        raise AuthError("the password must not start or end with spaces")


def require_editor(session: Session, actor: object) -> Actor:
    """Raise ``NotAnEditor`` unless ``actor`` may write now. Called by every write."""
    if not isinstance(actor, Actor):
        raise NotAnEditor("writing needs a logged-in editor — log in first")
    if actor.method in ("cli", "system"):
        return actor
    if actor.method in ("password", "oidc") and actor.source == "store":
        found = session.execute(select(Editor.id).where(Editor.name_key == name_key(actor.name))).first()
        if found is None:
            raise NotAnEditor(f"{actor.name!r} is no longer an editor — ask an editor to add the account again")
        return actor
    if actor.method in ("password", "oidc") and actor.source == "secrets":
        return actor
    raise NotAnEditor(f"unknown way of writing: {actor.method!r}")


# -- accounts -----------------------------------------------------------------------------

def add_editor(session: Session, name: str, password: str | None, *, by: str, now: datetime) -> Editor:
    """Add an account; ``password=None`` makes an OIDC-only account (name = e-mail)."""
    name = clean_name(name)
    if not name or len(name) > 200:
        raise AuthError("an editor name must be 1-200 characters")
    if session.execute(select(Editor.id).where(Editor.name_key == name_key(name))).first():
        raise AuthError(f"editor {name!r} already exists")
    editor = Editor(name=name, name_key=name_key(name), created_at=now, created_by=by,
                    password_hash=hash_password(password) if password is not None else None)
    session.add(editor)
    session.flush()
    return editor


def find_editor(session: Session, name: str) -> Editor | None:
    return session.execute(select(Editor).where(Editor.name_key == name_key(name))).scalar_one_or_none()


def secret_editors(secrets: Mapping) -> dict[str, tuple[str, str]]:
    """``[editors]`` in secrets (name = argon2 hash, never a plain password): key -> (name, hash)."""
    table = secrets.get("editors") or {}
    if not isinstance(table, Mapping):
        return {}
    return {name_key(str(k)): (str(k), str(v)) for k, v in table.items() if isinstance(v, str)}


def oidc_editors(secrets: Mapping) -> set[str]:
    listed = secrets.get("oidc_editors") or []
    return {str(e).strip().casefold() for e in listed} if isinstance(listed, list | tuple) else set()


def oidc_configured(secrets: Mapping) -> bool:
    return isinstance(secrets.get("auth"), Mapping) and bool(secrets["auth"])


# -- logging in -----------------------------------------------------------------------------

def _failures(session: Session, column, value: str, since: datetime) -> int:
    return int(session.execute(
        select(func.count()).select_from(LoginAttempt)
        .where(column == value, LoginAttempt.at >= since, LoginAttempt.succeeded.is_(False))
    ).scalar_one())


def lockout_remaining(session: Session, name: str, session_key: str, now: datetime) -> timedelta | None:
    """How long this name or browser session must wait, or None when it may try."""
    since = now - LOCKOUT_WINDOW
    by_name = _failures(session, LoginAttempt.name_key, name_key(name), since) >= MAX_FAILURES_PER_NAME
    by_session = _failures(session, LoginAttempt.session_key, session_key, since) >= MAX_FAILURES_PER_SESSION
    if not (by_name or by_session):
        return None
    column, value = (LoginAttempt.name_key, name_key(name)) if by_name else (LoginAttempt.session_key, session_key)
    oldest = session.execute(
        select(func.min(LoginAttempt.at)).where(column == value, LoginAttempt.at >= since,
                                                LoginAttempt.succeeded.is_(False))
    ).scalar_one()
    return max(timedelta(seconds=1), oldest + LOCKOUT_WINDOW - now)


def _verify(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def login(engine: Engine, secrets: Mapping, name: str, password: str, session_key: str) -> Actor:
    """Check a local editor's password; raises ``LoginFailed`` or ``LoginLocked``.

    Attempts are recorded in their own small transaction (not ``write_session``: a login
    is not a change to the data, and must not invalidate every cached view).
    """
    name = clean_name(name or "")
    now = now_utc()
    with Session(engine) as session, session.begin():
        wait = lockout_remaining(session, name, session_key, now)
        if wait is not None:
            minutes = max(1, round(wait.total_seconds() / 60))
            raise LoginLocked(f"too many failed logins — try again in about {minutes} minute(s)")
        account = find_editor(session, name) if name else None
        if account is not None:
            found = (account.name, account.password_hash, "store")
        else:
            configured = secret_editors(secrets).get(name_key(name))
            found = (configured[0], configured[1], "secrets") if configured else (name, None, "store")
        ok = bool(name) and _verify(found[1], password or "")
        session.add(LoginAttempt(at=now, name_key=name_key(name)[:200], session_key=session_key[:64], succeeded=ok))
        if ok:  # a success clears this name's failures
            session.execute(delete(LoginAttempt).where(LoginAttempt.name_key == name_key(name),
                                                       LoginAttempt.succeeded.is_(False)))
    if not ok:
        raise LoginFailed("wrong editor name or password")
    return Actor(found[0], "password", found[2])


def oidc_actor(session: Session, secrets: Mapping, email: str | None) -> Actor | None:
    """The editor behind an identity-provider login, or None if that person may only browse."""
    if not email:
        return None
    account = find_editor(session, email)
    if account is not None and account.password_hash is None:
        return Actor(account.name, "oidc", "store")
    if email.strip().casefold() in oidc_editors(secrets):
        return Actor(email.strip(), "oidc", "secrets")
    return None
