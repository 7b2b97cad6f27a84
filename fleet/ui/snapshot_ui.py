"""Snapshot links in the app: the Share button on every page, and opening ``?snapshot=ID``.

``fleet.ui.page`` calls in here, so no page has snapshot code of its own:

- ``route`` (from the frame, before a page runs): a bad link gets the friendly
  "no longer available" page; a good one on the wrong url path switches to its page.
- ``enter`` / ``leave``: while a snapshot is open the page's widgets hold its frozen view
  state (``known_at`` = the cut-off). Changing any control leaves the snapshot for the
  live view with that change; navigating away drops the cut-off.
- ``header``: the banner, the hash check, the bundle download and "What changed since";
  or, on a live page, the Share button.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import streamlit as st

from fleet.models import Snapshot
from fleet.snapshot_files import bundle_of, estimate_changes, moved
from fleet.snapshots import (
    MISMATCH, UNAVAILABLE, VISITOR, Opened, SnapshotError, SnapshotUnavailable, content_hash, create, link, live_state,
    open_view, prepare, resolve, thaw, view_state,
)
from fleet.ui import cached, editor, nav, widgets
from fleet.ui.state import UrlState
from fleet.views import VIEWS

PARAM = "snapshot"
LOADED = "fleet.snapshot.loaded"     # (token, page) whose view state the widgets hold
CREATED = "fleet.snapshot.created"   # (page, link) of the snapshot this session just made
LEFT = "fleet.snapshot.left"


def md(text: object) -> str:
    """User text (titles, names) as literal Markdown: every markup character escaped."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$:])", r"\\\1", str(text))


def token() -> str | None:
    return st.query_params.get(PARAM)


def unavailable_page() -> None:
    st.title("Snapshot not available")
    st.info(UNAVAILABLE, icon="🔗")
    nav.link("overview", "Go to the live overview →")


def lookup(value: str) -> Snapshot | None:
    try:
        return resolve(cached.current_engine(), value)
    except SnapshotUnavailable:
        return None


def route(current) -> bool:
    """Before the page runs: False when this run showed the friendly page instead."""
    value = token()
    if value is None:
        return True
    snapshot = lookup(value)
    target = nav.PAGES.get(snapshot.page_id) if snapshot is not None else None
    if target is None:
        unavailable_page()
        return False
    if target is not current:
        st.switch_page(target, query_params={PARAM: value})
    return True


def enter(state: UrlState) -> Snapshot | None:
    """Put an open snapshot's view state in the widgets; None when there is none (or it was left)."""
    value = token()
    if value is None:
        leave(state)
        return None
    snapshot = lookup(value)
    if snapshot is None or snapshot.page_id != state.page:
        unavailable_page()
        st.stop()
    frozen = thaw(view_state(snapshot), [p for p, _ in state.scoped])
    if st.session_state.get(LOADED) != (snapshot.id, state.page):
        state.apply(frozen)
        st.session_state[LOADED] = (snapshot.id, state.page)
    elif moved_known_at(state, snapshot) or _others_changed(state, frozen):  # a control changed: go live
        leave(state, keep_known_at=moved_known_at(state, snapshot))
        del st.query_params[PARAM]
        st.session_state[LEFT] = True
        return None
    state.pinned = {"known_at": snapshot.cutoff}
    return snapshot


def _minute(when):
    return None if when is None else when.replace(second=0, microsecond=0, tzinfo=None)


def moved_known_at(state: UrlState, snapshot: Snapshot) -> bool:
    """Did the user change the "Known at" widget? It shows minutes, so compare minutes."""
    return _minute(st.session_state.get(state.key("known_at"))) != _minute(snapshot.cutoff)


def _others_changed(state: UrlState, frozen: dict) -> bool:
    current = state.values()
    return any(current[k] != frozen[k] for k in frozen if k != "known_at")


def leave(state: UrlState, keep_known_at: bool = False) -> None:
    if st.session_state.pop(LOADED, None) is not None and not keep_known_at:
        st.session_state[state.key("known_at")] = None


# --- the header: a live page's Share button, or an open snapshot's banner -----------------------

def header(ctx, snapshot: Snapshot | None) -> None:
    if snapshot is None:
        if st.session_state.pop(LEFT, False):
            st.info("You changed the view, so this is the **live** data again (not the snapshot).", icon="🔄")
        share(ctx)
        return
    opened = check(ctx, snapshot)
    banner(snapshot)
    if not opened.reproducible:
        st.error(MISMATCH, icon="⚠️")
    else:
        st.download_button("Download this snapshot (CSV + JSON, zip)", data=bundle_of(opened, base_url()),
                           file_name=f"fleet-snapshot-{snapshot.id[:8]}.zip", mime="application/zip",
                           key="fleet.snapshot.bundle", on_click="ignore")
    changes(ctx, snapshot, opened.values)


def base_url() -> str:
    return cached.settings().base_url


def check(ctx, snapshot: Snapshot) -> Opened:
    """Recompute the content hash: from the page's data view (``open_view`` over this run's cached
    frames, the same function the benchmark times), or from the tables the page showed."""
    if snapshot.hash_basis == "view" and snapshot.page_id in VIEWS:
        return open_view(cached.CachedStore(ctx.version), snapshot)
    values = thaw(view_state(snapshot), [p for p, _ in ctx.state.scoped])
    tables = dict(ctx.shown)
    return Opened(snapshot, values, tables, content_hash(tables) == snapshot.data_hash)


def banner(snapshot: Snapshot) -> None:
    with st.container(border=True):
        st.markdown(f"📌 **Snapshot of {snapshot.created_at:%Y-%m-%d %H:%M} UTC by {md(snapshot.created_by)}** — "
                    f"data as known then (cut-off {snapshot.cutoff:%Y-%m-%d %H:%M:%S} UTC).")
        if snapshot.title:
            st.markdown(f"**{md(snapshot.title)}**")
        if snapshot.note:
            st.text(snapshot.note)
        nav.link(snapshot.page_id, "View live →", query=live_state(snapshot))


def changes(ctx, snapshot: Snapshot, values: dict) -> None:
    with st.expander("What changed since"):
        st.caption("Compares this view at the snapshot's cut-off with the same view on today's data.")
        if not st.toggle("Compare with the live data", key="fleet.snapshot.compare"):
            return
        movers = moved(cached.CachedStore(ctx.version), values)
        st.markdown(f"**Organisations whose H100e or rank moved:** {len(movers):,}")
        if not movers.empty:
            widgets.frame(movers)
        frame, total = estimate_changes(cached.current_engine(), snapshot.cutoff)
        st.markdown(f"**Estimates added or retracted since the cut-off** (whole store): {total:,}"
                    + (f", newest {len(frame):,} shown" if total > len(frame) else ""))
        if not frame.empty:
            widgets.frame(frame,
                          column_config={"source_url": st.column_config.LinkColumn("source")})


# --- sharing ---------------------------------------------------------------------------------------

def author() -> str:
    actor = editor.current_actor()
    return actor.name if actor is not None else VISITOR


def share(ctx) -> None:
    with st.popover("🔗 Share snapshot"):
        st.caption("Freezes this view with today's data: the link keeps showing these numbers.")
        with st.form("fleet.share", border=False):
            title = st.text_input("Title (optional)", max_chars=200, key="fleet.share.title")
            note = st.text_area("Note (optional)", max_chars=2000, key="fleet.share.note")
            expires = st.date_input("Expires on (optional)", value=None, min_value=date.today() + timedelta(days=1),
                                    key="fleet.share.expires")
            pressed = st.form_submit_button("Create snapshot link", type="primary")
        # in the popover, which stays open after the form's rerun: below it, the link was hidden under it
        if pressed:
            made = make(ctx, title, note, expires)
            if made is not None:
                st.session_state[CREATED] = (ctx.state.page, link(base_url(), made.id))
        created = st.session_state.get(CREATED)
        if created and created[0] == ctx.state.page:
            st.success("Snapshot saved. Anyone with this link sees these numbers, whatever changes later:", icon="📌")
            st.code(created[1], language=None)


def make(ctx, title: str, note: str, expires) -> Snapshot | None:
    page_id, engine = ctx.state.page, cached.current_engine()
    params = [p for p, _ in ctx.state.scoped]
    try:
        if page_id in VIEWS:
            frozen = prepare(engine, page_id, ctx.values(), params=params, high_water=ctx.version[2])
            tables, basis = cached.view(ctx.version, page_id, frozen.values), "view"
        else:
            tables, basis = dict(ctx.shown), "screen"
        return create(engine, page_id, ctx.values(), created_by=author(), title=title, note=note, expires=expires,
                      params=params, high_water=ctx.version[2], tables=tables, hash_basis=basis)
    except SnapshotError as exc:
        st.error(str(exc))
        return None
