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
from fleet.ui import cached
from fleet.ui.editor import need_editor

ACTIONS = ["", "batch.csv", "batch.manual", "batch.seed", "batch.scraper", "batch.revert", "estimate.add",
           "estimate.correct", "estimate.retract", "organisation.add", "organisation.edit", "headcount.add",
           "editor.add", "editor.remove"]


def _batch_filter() -> int | None:
    text = st.query_params.get("batch", "")
    if text and not text.isdigit():
        st.warning(f"Ignored the link's batch {text!r}: not a batch number.")
        return None
    return int(text) if text else None


def _entries(actor_filter: str, action: str, batch: int | None, text: str) -> pd.DataFrame:
    with read_session(cached.current_engine()) as session:
        return audit_frame(session, actor=actor_filter or None, action=action or None, batch_id=batch,
                           text=text or None, limit=2000)


def _shown(frame: pd.DataFrame) -> pd.DataFrame:
    state = [f"reverted by batch {r}" if pd.notna(r) else (f"reverts batch {v}" if pd.notna(v) else "")
             for r, v in zip(frame["reverted_by"], frame["reverts"])]
    compact = lambda v: "" if v is None else json.dumps(v, default=str, ensure_ascii=False)[:500]  # noqa: E731
    return pd.DataFrame({"when (UTC)": frame["at"], "who": frame["actor"], "action": frame["action"],
                         "what": frame["summary"], "batch": frame["batch_id"], "batch state": state,
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
    cols = st.columns(4)
    who = cols[0].text_input("Who", key="audit.actor")
    action = cols[1].selectbox("Action", ACTIONS, key="audit.action", format_func=lambda a: a or "any")
    batch = cols[2].number_input("Batch", min_value=1, step=1, value=_batch_filter(), key="audit.batch")
    text = cols[3].text_input("Text in the summary", key="audit.text")
    frame = _entries(who, action, int(batch) if batch else None, text)
    if frame.empty:
        st.info("No entries match.")
    else:
        st.dataframe(_shown(frame), hide_index=True, width="stretch")
    _revert(frame)
