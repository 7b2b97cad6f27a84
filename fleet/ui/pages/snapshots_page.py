"""Snapshots page (editors): every snapshot link with its status; retitle, expire or delete one.

Anyone may create a snapshot from any page; only editors change them. The write functions
(``fleet.snapshot_admin``) check the editor again and record each change in the audit log.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from fleet.auth import AuthError
from fleet.db import read_session
from fleet.snapshot_admin import delete, expire, list_frame, retitle
from fleet.snapshots import SnapshotError
from fleet.ui import cached, widgets
from fleet.ui.editor import need_editor


def _listed(include_deleted: bool) -> pd.DataFrame:
    with read_session(cached.current_engine()) as session:
        return list_frame(session, cached.settings().base_url, include_deleted=include_deleted)


def _act(action, *args, done: str) -> None:
    try:
        action(cached.current_engine(), *args)
    except (SnapshotError, AuthError) as exc:
        st.error(str(exc))
        return
    st.success(done)


def _actions(actor, frame: pd.DataFrame) -> None:
    live = frame.loc[frame["status"] != "deleted"]
    if live.empty:
        return
    labels = {r.id: f"{r.title or '(untitled)'} — {r.page}, {r.created_at:%Y-%m-%d %H:%M} by {r.created_by}"
              for r in live.itertuples()}
    token = st.selectbox("Snapshot", list(labels), format_func=labels.get, key="snapshots.pick")
    title, when, remove = st.tabs(["Retitle", "Expire", "Delete"])
    with title, st.form("snapshots.retitle"):
        new = st.text_input("New title (empty: none)", value=live.set_index("id").loc[token, "title"],
                            max_chars=200)
        if st.form_submit_button("Save title"):
            _act(retitle, actor, token, new, done="Title saved.")
    with when, st.form("snapshots.expire"):
        day = st.date_input("Unavailable from (UTC midnight)", value=date.today() + timedelta(days=30),
                            min_value=date.today())
        cols = st.columns(2)
        if cols[0].form_submit_button("Set expiry"):
            _act(expire, actor, token, day, done=f"The link stops working on {day:%Y-%m-%d}.")
        if cols[1].form_submit_button("Expire now"):
            _act(expire, actor, token, done="The link now shows “no longer available”.")
    with remove, st.form("snapshots.delete"):
        sure = st.checkbox("Yes, delete this snapshot (its link will show “no longer available”)")
        if st.form_submit_button("Delete", type="primary"):
            if sure:
                _act(delete, actor, token, done="Snapshot deleted.")
            else:
                st.warning("Tick the box to confirm the deletion.")


def render() -> None:
    st.title("Snapshots")
    st.caption("Snapshot links freeze a view with its data cut-off. Anyone can make one with **Share snapshot** "
               "on any page; editors can retitle, expire or delete them here (each change is in the audit log).")
    actor = need_editor("manage snapshots")
    if actor is None:
        return
    include_deleted = st.toggle("Show deleted snapshots", key="snapshots.deleted")
    frame = _listed(include_deleted)
    if frame.empty:
        st.info("No snapshots yet. Press **Share snapshot** on any page to make one.")
        return
    widgets.frame(frame,
                  column_config={"link": st.column_config.LinkColumn("link")})
    _actions(actor, frame)
