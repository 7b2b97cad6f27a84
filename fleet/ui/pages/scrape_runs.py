"""Scrape runs page (anyone): every scrape batch with its provenance, and one run's documents.

For each run: the URL fetched, HTTP status, ETag / Last-Modified, when, sha256 and size of
what was read, and how many rows it added, skipped and rejected; for a chosen run, every
document it kept (compressed, so its parse can be re-run) and the audit entry's account
of it (rejected rows with their place and reason). The source and run are in the URL.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from fleet.db import read_session
from fleet.ingest.audit import audit_frame
from fleet.ingest.scrapers import REGISTRY
from fleet.ingest.scrapers.provenance import documents_frame, runs_frame
from fleet.ui import cached, widgets
from fleet.ui.page import page
from fleet.view_state import Param, choice, number_in

PARAMS = (
    Param("source", choice(["", *REGISTRY]), str, "", "Source"),
    Param("run", number_in(0, 2**31, int), str, 0, "Run (batch)"),
)


def _runs(source: str) -> pd.DataFrame:
    with read_session(cached.current_engine()) as session:
        return runs_frame(session, source=source or None, limit=1000)


def runs_table(runs: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "batch": runs["id"], "source": runs["source_name"], "fetched (UTC)": runs["fetched_at"],
        "URL": runs["location"], "HTTP": runs["http_status"], "ETag": runs["etag"],
        "Last-Modified": runs["last_modified"], "sha256": runs["sha256"].str.slice(0, 12),
        "size (bytes)": runs["size_bytes"], "documents": runs["documents"], "rows in": runs["rows_in"],
        "added": runs["rows_added"], "skipped": runs["rows_skipped"], "rejected": runs["rows_rejected"],
        "by": runs["created_by"],
    })


def _details(batch_id: int) -> None:
    with read_session(cached.current_engine()) as session:
        documents = documents_frame(session, batch_id)
        audit = audit_frame(session, batch_id=batch_id, action="batch.scraper", limit=1)
    st.subheader(f"Run {batch_id}: documents")
    widgets.frame(documents.rename(columns={"size_bytes": "size (bytes)", "stored_bytes": "kept (bytes, gzip)"}),
                  column_config={"url": st.column_config.LinkColumn()})
    if audit.empty:
        return
    after = audit.iloc[0]["after"] or {}
    counts = after.get("counts", {})
    if counts:
        st.write(", ".join(f"{v:,} {k}" for k, v in counts.items()))
    rejected = after.get("rejected") or []
    if rejected:
        st.markdown("**Rejected rows** (not written):\n" + "\n".join(f"- {line}" for line in rejected[:50]))
    st.markdown(f"Revert or inspect this run in the [audit log](/audit?batch={batch_id}).")


def render() -> None:
    with page("scrapes", PARAMS) as ctx:
        st.title("Scrape runs")
        st.caption("Every number a scraper added traces back to one of these runs: the document it read, when, "
                   "its HTTP answer and its sha256. Runs whose sources had not changed wrote nothing and are "
                   "not listed.")
        st.selectbox("Source", ["", *REGISTRY], key=ctx.key("source"), format_func=lambda s: s or "all sources")
        runs = _runs(ctx.value("source"))
        if runs.empty:
            st.info("No scrape has been committed yet. Editors run scrapers on the Scrapers page or with "
                    "`python -m fleet scrape NAME`.")
            return
        widgets.frame(runs_table(runs),
                      column_config={"URL": st.column_config.LinkColumn()})
        options = [0, *runs["id"].tolist()]
        if ctx.value("run") not in options:
            st.warning(f"Run {ctx.value('run')} is not a scrape run{' of this source' if ctx.value('source') else ''}.")
            st.session_state[ctx.key("run")] = 0
        st.selectbox("Show the documents of run", options, key=ctx.key("run"),
                     format_func=lambda b: "—" if not b else f"batch {b}")
        if ctx.value("run"):
            _details(int(ctx.value("run")))
