"""Scrapers page (editors): run a scraper, read its dry-run diff, commit it; decide chip proposals.

"Fetch and preview" fetches the source and shows what committing would do -- per
organisation new / changed / conflicting / unchanged / rejected / gone, each changed or
conflicting row beside the stored one, each rejected row with its place and reason --
and keeps the fetched documents in the session, so "Commit" writes exactly what was
previewed (re-checked under the write lock). Viewers see the sources and how to log in;
the write functions check the editor again themselves.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from fleet.auth import Actor, AuthError
from fleet.db import read_session
from fleet.ingest.errors import IngestError
from fleet.ingest.scrapers import REGISTRY, ScraperError, get, proposals
from fleet.ingest.scrapers.fetch import DEFAULT_USER_AGENT, Fetcher, FetchPolicy, make_client
from fleet.ingest.scrapers.runner import Job, Runner
from fleet.ui import cached, widgets
from fleet.ui.editor import need_editor
from fleet.ui.page import page

PREVIEW = "scrapers.preview"
DONE = "scrapers.done"


def sources_table() -> pd.DataFrame:
    rows = []
    for scraper in REGISTRY.values():
        try:
            info = scraper.describe(cached.settings())
        except ScraperError as exc:
            info = {"name": scraper.name, "produces": scraper.produces.value, "urls": str(exc),
                    "licence": scraper.licence, "homepage": scraper.homepage}
        rows.append({"scraper": info["name"], "produces": info["produces"], "fetches": info["urls"],
                     "licence": info["licence"], "about": info["homepage"]})
    return pd.DataFrame(rows)


def _runner(actor: Actor | None, dry_run: bool) -> tuple[Runner, object]:
    settings = cached.settings()
    policy = FetchPolicy(user_agent=settings.scrape_user_agent or DEFAULT_USER_AGENT)
    client = make_client(policy)
    return Runner(cached.current_engine(), settings, Fetcher(client, policy), actor=actor, dry_run=dry_run), client


def _preview(name: str, url: str) -> None:
    runner, client = _runner(None, True)
    try:
        with st.spinner(f"Fetching {name}…"):
            collected = runner.collect(Job(get(name), url or None))
            plan = runner.preview(get(name), collected) if collected.parsed is not None else None
    except (IngestError, AuthError, ValueError) as exc:
        st.session_state.pop(PREVIEW, None)
        st.error(f"{name}: {exc}" if not str(exc).startswith(name) else str(exc))
        return
    finally:
        client.close()
    st.session_state[PREVIEW] = (name, url, collected, plan)


def _show_plan(plan) -> None:
    counts = plan.counts()
    cols = st.columns(len(counts))
    for col, (label, value) in zip(cols, counts.items()):
        col.metric(label, f"{value:,}")
    if plan.produces.value == "chips":
        table = pd.DataFrame([{"chip": p.chip_name, "action": p.action, "changes": p.describe(), "state": p.state}
                              for p in plan.proposals])
        widgets.frame(table)
        return
    st.subheader("By organisation")
    widgets.frame(plan.by_organisation())
    changes = plan.rows[plan.rows["state"] != "unchanged"] if len(plan.rows) else plan.rows
    if len(changes):
        st.subheader("Rows that would be written")
        widgets.frame(changes[["state", "organisation", "label", "before"]].rename(
            columns={"label": "scraped", "before": "stored (source)"}))
    if len(plan.problems):
        st.subheader("Rejected rows (never written)")
        widgets.frame(plan.problems[["row", "column", "value", "reason", "organisation"]])
    if len(plan.gone):
        st.subheader("No longer in the source (kept; retract by hand if wrong)")
        widgets.frame(plan.gone[["organisation", "label", "id"]])
    if plan.created_organisations():
        st.info("New organisations would be created: " + ", ".join(plan.created_organisations()))


def _commit(actor: Actor) -> None:
    name, url, collected, plan = st.session_state[PREVIEW]
    if plan is None:
        st.info(f"{name}: not modified since the last run (HTTP 304 or the same sha256) — nothing to commit.")
        return
    _show_plan(plan)
    strict = st.checkbox("Write nothing if any row is rejected", key="scrapers.strict")
    if not st.button(f"Commit {name}", type="primary"):
        return
    runner, client = _runner(actor, False)
    runner.strict = strict
    try:
        result = runner.commit(get(name), collected)
    except (IngestError, AuthError) as exc:
        st.error(str(exc))
        return
    finally:
        client.close()
    st.session_state.pop(PREVIEW, None)
    st.session_state[DONE] = (f"{name}: committed as batch {result.batch_id} — {result.added:,} added, "
                              f"{result.superseded:,} superseding earlier rows of this source, {result.conflicts:,} "
                              f"conflicting with other sources (both kept).", result.batch_id)
    st.rerun()


def _proposals(actor: Actor) -> None:
    with read_session(cached.current_engine()) as session:
        pending = proposals.pending_frame(session)
    st.subheader("Chip catalog proposals")
    if pending.empty:
        st.caption("None pending. `epoch-hardware` proposes catalog changes here; the catalog never changes "
                   "without an editor's decision.")
        return
    pending["changes"] = pending["changes"].map(lambda c: ", ".join(f"{k}: {v[0]} → {v[1]}" for k, v in c.items()))
    widgets.frame(pending[["id", "chip_name", "action", "changes", "batch_id"]])
    chosen = st.selectbox("Proposal", pending["id"].tolist(), key="scrapers.proposal",
                          format_func=lambda i: f"{i}: {pending.set_index('id').at[i, 'chip_name']}")
    note = st.text_input("Note (why)", key="scrapers.note")
    accept, reject = st.columns(2)
    for column, label, verdict in ((accept, "Accept", True), (reject, "Reject", False)):
        if column.button(label, key=f"scrapers.{label.lower()}"):
            try:
                proposals.decide(cached.current_engine(), actor, int(chosen), accept=verdict, note=note or None)
            except (IngestError, AuthError) as exc:
                st.error(str(exc))
                return
            st.session_state[DONE] = (f"Proposal {chosen} {'accepted' if verdict else 'rejected'}.", None)
            st.rerun()


def render() -> None:
    with page("scrapers"):
        st.title("Scrapers")
        st.caption("Each source is fetched, checked with the CSV import's rules and compared with the store; "
                   "scraped rows never overwrite another source's. Past runs: the Scrape runs page.")
        widgets.frame(sources_table(),
                      column_config={"about": st.column_config.LinkColumn()})
        actor = need_editor("run a scraper or decide chip proposals")
        if actor is None:
            return
        done = st.session_state.pop(DONE, None)
        if done is not None:
            st.success(done[0] + (f" See the [run](/scrapes?run={done[1]})." if done[1] else ""))
        name = st.selectbox("Scraper", list(REGISTRY), key="scrapers.name")
        url = st.text_input("URL (empty: the configured one)", key="scrapers.url").strip()
        if st.button("Fetch and preview"):
            _preview(name, url)
        saved = st.session_state.get(PREVIEW)
        if saved is not None and saved[:2] == (name, url):
            _commit(actor)
        _proposals(actor)
