"""Editors on both databases: salted hashes, login, persisted rate limits, secrets and OIDC
editors, and rights re-checked at write time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from fleet.auth import (
    MAX_FAILURES_PER_NAME, MAX_FAILURES_PER_SESSION, Actor, AuthError, LoginFailed, LoginLocked, NotAnEditor,
    hash_password, login, oidc_actor, oidc_configured, require_editor,
)
from fleet.db import read_session
from fleet.editors import add_editor_account, editors_frame, remove_editor_account
from fleet.models import Editor, LoginAttempt
from sqlalchemy.orm import Session

PASSWORD = "correct horse battery"
ADMIN = Actor.cli("admin")


def test_accounts_store_salted_argon2_hashes_never_the_password(engine):
    add_editor_account(engine, ADMIN, "Alice", PASSWORD)
    add_editor_account(engine, ADMIN, "bob", PASSWORD)
    with read_session(engine) as session:
        hashes = dict(session.execute(select(Editor.name, Editor.password_hash)).all())
        frame = editors_frame(session)
    assert all(h.startswith("$argon2id$") and PASSWORD not in h for h in hashes.values())
    assert hashes["Alice"] != hashes["bob"]  # salted
    assert frame["name"].tolist() == ["Alice", "bob"] and set(frame["created_by"]) == {"admin (cli)"}
    with pytest.raises(AuthError, match="already exists"):
        add_editor_account(engine, ADMIN, "alice", PASSWORD)
    with pytest.raises(AuthError, match="at least 12 characters"):
        add_editor_account(engine, ADMIN, "carol", "short")


def test_login_succeeds_with_the_right_password_only(engine):
    add_editor_account(engine, ADMIN, "Alice", PASSWORD)
    actor = login(engine, {}, "alice", PASSWORD, "s1")
    assert actor == Actor("Alice", "password", "store") and actor.label == "Alice"
    with pytest.raises(LoginFailed, match="wrong editor name or password"):
        login(engine, {}, "alice", PASSWORD + "!", "s1")
    with pytest.raises(LoginFailed):
        login(engine, {}, "nobody", PASSWORD, "s1")


def test_failed_logins_lock_the_name_persistently_then_expire(engine):
    add_editor_account(engine, ADMIN, "alice", PASSWORD)
    for i in range(MAX_FAILURES_PER_NAME):
        with pytest.raises(LoginFailed):
            login(engine, {}, "alice", "wrong password!", f"session-{i}")  # a new session each time
    with pytest.raises(LoginLocked, match="try again in about 15 minute"):
        login(engine, {}, "alice", PASSWORD, "fresh-session")  # even the right password waits
    with Session(engine) as session, session.begin():  # the attempts age out of the window
        session.execute(update(LoginAttempt).values(at=LoginAttempt.at - timedelta(minutes=16)))
    assert login(engine, {}, "alice", PASSWORD, "fresh-session").name == "alice"


def test_one_session_guessing_many_names_is_locked_too(engine):
    for i in range(MAX_FAILURES_PER_SESSION):
        with pytest.raises(LoginFailed):
            login(engine, {}, f"user{i}", "wrong password!", "browser-1")
    with pytest.raises(LoginLocked):
        login(engine, {}, "someone-else", "wrong password!", "browser-1")


def test_secrets_editors_log_in_with_a_hash_and_there_is_no_default_password(engine):
    secrets = {"editors": {"dana": hash_password(PASSWORD)}}
    assert login(engine, secrets, "Dana", PASSWORD, "s") == Actor("dana", "password", "secrets")
    with pytest.raises(LoginFailed):
        login(engine, {}, "admin", "admin", "s")
    with pytest.raises(LoginFailed):
        login(engine, {}, "admin", "", "s")


def test_oidc_users_are_editors_only_when_listed(engine):
    add_editor_account(engine, ADMIN, "eve@example.org", None)
    secrets = {"auth": {"client_id": "x"}, "oidc_editors": ["Frank@Example.org"]}
    assert oidc_configured(secrets) and not oidc_configured({})
    with read_session(engine) as session:
        assert oidc_actor(session, secrets, "eve@example.org") == Actor("eve@example.org", "oidc", "store")
        assert oidc_actor(session, secrets, "frank@example.org").method == "oidc"
        assert oidc_actor(session, secrets, "mallory@example.org") is None
    with pytest.raises(LoginFailed):  # an OIDC-only account has no password to guess
        login(engine, {}, "eve@example.org", "", "s")


def test_a_removed_editor_can_no_longer_write(engine):
    add_editor_account(engine, ADMIN, "alice", PASSWORD)
    actor = login(engine, {}, "alice", PASSWORD, "s")
    with read_session(engine) as session:
        assert require_editor(session, actor) is actor
    remove_editor_account(engine, ADMIN, "alice")
    with read_session(engine) as session:
        with pytest.raises(NotAnEditor, match="no longer an editor"):
            require_editor(session, actor)
        with pytest.raises(NotAnEditor, match="log in"):
            require_editor(session, "alice")
    with pytest.raises(AuthError, match="no editor named"):
        remove_editor_account(engine, ADMIN, "alice")
