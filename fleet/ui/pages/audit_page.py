"""Audit page: every write (who, when, what, before/after), filtered; each batch with its
revert. Filters live in the URL (``?batch=12``), so a link can point at one batch."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from fleet.auth import AuthError
from fleet.db import read_session
from fleet.ingest.audit import audit_frame
from fleet.ingest.errors import IngestError
from fleet.ingest.revert import revert_batch
from fleet.ui import cached, widgets
from fleet.ui.editor import need_editor

ACTIONS = ["", "batch.csv", "batch.manual", "batch.seed", "batch.scraper", "batch.revert", "estimate.add",
           "estimate.correct", "estimate.retract", "organisation.add", "organisation.edit", "headcount.add",
           "editor.add", "editor.remove"]


URL_KEYS = {"who": "audit.actor", "action": "audit.action", "batch": "audit.batch", "text": "audit.text"}


def _load_url() -> None:
    """Filters come from the URL the first time a session sees them (a shared link)."""
    for param, key in URL_KEYS.items():
        if key in st.session_state:
            continue
        value = st.query_params.get(param, "")
        if param == "action" and value not in ACTIONS:
            value = ""
        st.session_state[key] = value


def _save_url() -> None:
    wanted = {p: str(st.session_state[k]) for p, k in URL_KEYS.items() if st.session_state.get(k) not in (None, "")}
    if dict(st.query_params) != wanted:
        st.query_params.from_dict(wanted)


def _entries(actor_filter: str, action: str, batch: int | None, text: str) -> pd.DataFrame:
    with read_session(cached.current_engine()) as session:
        return audit_frame(session, actor=actor_filter or None, action=action or None, batch_id=batch,
                           text=text or None, limit=2000)


def _shown(frame: pd.DataFrame) -> pd.DataFrame:
    state = [f"reverted by batch {r}" if pd.notna(r) else (f"reverts batch {v}" if pd.notna(v) else "")
             for r, v in zip(frame["reverted_by"], frame["reverts"])]
    compact = lambda v: "" if v is None else json.dumps(v, default=str, ensure_ascii=False)[:500]  # noqa: E731
    return pd.DataFrame({"when (UTC)": frame["at"], "who": frame["actor"], "action": frame["action"],
                         "what": frame["summary"],
                         "batch": frame["batch_id"].map(lambda b: "" if pd.isna(b) else str(b)), "batch state": state,
                         "before": frame["before"].map(compact), "after": frame["after"].map(compact)})


def _revert(frame: pd.DataFrame) -> None:
    st.subheader("Revert a batch")
    open_batches = sorted({int(b) for b, r in zip(frame["batch_id"], frame["reverted_by"])
                           if pd.notna(b) and pd.isna(r)}, reverse=True)
    if not open_batches:
        st.caption("No batch shown above can be reverted.")
        return
    actor = need_editor("revert a batch")
    if actor is None:
        return
    with st.form("revert"):
        batch = st.selectbox("Batch", open_batches, key="revert.batch")
        reason = st.text_input("Why", key="revert.reason")
        if st.form_submit_button("Revert this batch", type="primary"):
            try:
                result = revert_batch(cached.current_engine(), int(batch), actor, reason=reason or None)
            except (IngestError, AuthError) as exc:
                st.error(str(exc))
                return
            st.success(result.summary().capitalize() + f" (batch {result.batch_id}).")


def render() -> None:
    st.title("Audit log")
    st.caption("Every write to the store: who, when (UTC), what, and the values before and after. "
               "Imports and scrapes are one entry per batch; their rows carry the batch number.")
    _load_url()
    cols = st.columns(4)
    who = cols[0].text_input("Who", key="audit.actor")
    action = cols[1].selectbox("Action", ACTIONS, key="audit.action", format_func=lambda a: a or "any")
    batch = cols[2].text_input("Batch number", key="audit.batch").strip()
    text = cols[3].text_input("Text in the summary", key="audit.text")
    if batch and not batch.isdigit():
        st.warning(f"Ignored the batch filter {batch!r}: not a batch number.")
        batch = ""
    _save_url()
    frame = _entries(who, action, int(batch) if batch else None, text)
    if frame.empty:
        st.info("No entries match.")
    else:
        widgets.frame(_shown(frame))
    _revert(frame)
