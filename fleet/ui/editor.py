"""Who is using the app: the logged-in editor (if any), the login form, the sidebar status.

Browsing needs no login. With an ``[auth]`` section in secrets, logins go through the
identity provider (``st.login``) and the user is an editor when ``fleet.auth.oidc_actor``
says so; otherwise editors log in with a local account (``fleet.auth.login``, rate
limited per name and per browser session). The ``Actor`` returned here is what pages
pass to the write functions, which check it again themselves.
"""

from __future__ import annotations

import uuid

import streamlit as st

from fleet.auth import Actor, LoginFailed, LoginLocked, login, oidc_actor, oidc_configured
from fleet.db import read_session
from fleet.ui import cached

ACTOR = "fleet.actor"
SESSION = "fleet.session_key"
LOGIN_PATH = "login"


def session_key() -> str:
    if SESSION not in st.session_state:
        st.session_state[SESSION] = uuid.uuid4().hex
    return st.session_state[SESSION]


def uses_oidc() -> bool:
    return oidc_configured(cached.settings().secrets)


def current_actor() -> Actor | None:
    """The editor using this session, or None for a viewer."""
    if uses_oidc():
        if not st.user.is_logged_in:
            return None
        with read_session(cached.current_engine()) as session:
            return oidc_actor(session, cached.settings().secrets, st.user.get("email"))
    return st.session_state.get(ACTOR)


def need_editor(action: str) -> Actor | None:
    """The actor, or None after telling a viewer how to become one."""
    actor = current_actor()
    if actor is None:
        st.info(f"Anyone can browse; to {action}, [log in as an editor](/{LOGIN_PATH}).")
    return actor


def _local_login_form() -> None:
    with st.form("login"):
        name = st.text_input("Editor name", key="login.name")
        password = st.text_input("Password", type="password", key="login.password")
        submitted = st.form_submit_button("Log in")
    if not submitted:
        return
    try:
        st.session_state[ACTOR] = login(cached.current_engine(), cached.settings().secrets, name, password,
                                        session_key())
    except (LoginFailed, LoginLocked) as exc:
        st.error(str(exc).capitalize())
        return
    st.success(f"Logged in as {st.session_state[ACTOR].name}.")


def render_login_page() -> None:
    st.title("Editor login")
    st.caption("Anyone may browse. Importing, editing and reverting need an editor account "
               "(`python -m fleet editors add NAME`, or an identity provider configured in secrets).")
    actor = current_actor()
    if uses_oidc():
        if not st.user.is_logged_in:
            st.button("Log in with the identity provider", on_click=st.login, type="primary")
            return
        who = st.user.get("email") or st.user.get("name") or "unknown"
        st.write(f"Signed in as **{who}**" + (" — an editor." if actor else " — not an editor; you can browse. "
                                                   "Ask an editor to add your e-mail."))
        st.button("Log out", on_click=st.logout)
        return
    if actor is not None:
        st.success(f"Logged in as {actor.name}.")
        if st.button("Log out"):
            st.session_state.pop(ACTOR, None)
            st.rerun()
        return
    _local_login_form()


def sidebar_status() -> None:
    actor = current_actor()
    if actor is not None:
        st.sidebar.caption(f"Editor: **{actor.name}**")
