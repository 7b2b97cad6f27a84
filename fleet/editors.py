"""Editor accounts as a store change: add, remove and list them, with audit entries.

The password rules and hashing live in ``fleet.auth``; this module is the write path
(``fleet.db.write_session``, so account changes are audited like any other change).
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from fleet.auth import Actor, AuthError, add_editor, find_editor, require_editor
from fleet.db import write_session
from fleet.ingest import audit
from fleet.models import Editor


def add_editor_account(engine, actor: Actor, name: str, password: str | None) -> None:
    with write_session(engine) as (session, stamp):
        require_editor(session, actor)
        editor = add_editor(session, name, password, by=actor.label, now=stamp.recorded_at)
        audit.record(session, stamp, actor, "editor.add", entity="editor", entity_id=editor.id,
                     summary=f"added editor {editor.name!r}" + (" (OIDC login)" if password is None else ""),
                     after={"name": editor.name, "login": "oidc" if password is None else "password"})


def remove_editor_account(engine, actor: Actor, name: str) -> None:
    with write_session(engine) as (session, stamp):
        require_editor(session, actor)
        editor = find_editor(session, name)
        if editor is None:
            raise AuthError(f"no editor named {name!r} (see `python -m fleet editors list`)")
        audit.record(session, stamp, actor, "editor.remove", entity="editor", entity_id=editor.id,
                     summary=f"removed editor {editor.name!r}", before={"name": editor.name})
        session.delete(editor)


def editors_frame(session: Session) -> pd.DataFrame:
    rows = session.execute(select(Editor.name, Editor.password_hash.is_(None), Editor.created_at, Editor.created_by)
                           .order_by(Editor.name)).all()
    frame = pd.DataFrame(rows, columns=["name", "oidc", "created_at", "created_by"])
    frame["login"] = frame["oidc"].map({True: "identity provider (OIDC)", False: "password"})
    return frame.drop(columns="oidc")
