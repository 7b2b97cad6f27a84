"""The app's frame: navigation, the footer with attribution, and the error boundary.

A page that raises shows a short apology and the error is logged on the server; users
never see a stack trace. Streamlit's own control flow (``st.rerun``/``st.stop``) derives
from BaseException and passes through untouched.
"""

from __future__ import annotations

import logging

import streamlit as st
from sqlalchemy.exc import OperationalError, ProgrammingError

from fleet.ui import editor, nav, snapshot_ui
from fleet.ui.pages import (
    audit_page, claims, edit_page, import_page, overview, projections, rich_poor, scrape_runs, scrapers_page,
)
from fleet.ui.pages import chips_page, countries, organisation, researchers, snapshots_page

log = logging.getLogger("fleet.ui")

ATTRIBUTION = (
    "Data: Epoch AI, [Data on GPU Clusters](https://epoch.ai/data/gpu-clusters), "
    "[Data on Machine Learning Hardware](https://epoch.ai/data/machine-learning-hardware), "
    "[Data on AI Models](https://epoch.ai/data/ai-models) and "
    "[AI Companies](https://epoch.ai/data/ai-companies) — CC-BY 4.0; "
    "plus hand-gathered public sources linked on each estimate."
)


def pages() -> dict[str, list]:
    return {
        "Explore": [
            st.Page(overview.render, title="Overview", icon="🏆", url_path="overview", default=True),
            st.Page(rich_poor.render, title="GPU-rich vs GPU-poor", icon="📊", url_path="rich-poor"),
            st.Page(organisation.render, title="Organisation", icon="🏢", url_path="organisation"),
            st.Page(chips_page.render, title="Chips", icon="🔲", url_path="chips"),
            st.Page(researchers.render, title="Compute per researcher", icon="🧑‍🔬", url_path="researchers"),
            st.Page(countries.render, title="Countries", icon="🌍", url_path="countries"),
            st.Page(projections.render, title="Projections", icon="📈", url_path="projections"),
            st.Page(claims.render, title="Claims", icon="⚖️", url_path="claims"),
        ],
        "Contribute": [
            st.Page(import_page.render, title="Import", icon="📥", url_path="import"),
            st.Page(edit_page.render, title="Edit", icon="✏️", url_path="edit"),
            st.Page(audit_page.render, title="Audit log", icon="📜", url_path="audit"),
            st.Page(scrapers_page.render, title="Scrapers", icon="🕸️", url_path="scrapers"),
            st.Page(scrape_runs.render, title="Scrape runs", icon="🧾", url_path="scrapes"),
            st.Page(snapshots_page.render, title="Snapshots", icon="📌", url_path="snapshots"),
            st.Page(editor.render_login_page, title="Editor login", icon="🔑", url_path=editor.LOGIN_PATH),
        ],
    }


def footer() -> None:
    st.divider()
    st.caption(ATTRIBUTION)


def run() -> None:
    listed = pages()
    nav.register(listed)
    navigation = st.navigation(listed)
    try:
        editor.sidebar_status()
        if snapshot_ui.route(navigation):  # ?snapshot=ID: its page, or the friendly "not available"
            navigation.run()
    except (OperationalError, ProgrammingError):
        log.exception("database error while rendering %s", navigation.title)
        st.error("The database is not ready (not migrated, or unreachable). "
                 "Run `make run`, or `python -m fleet db upgrade && python -m fleet seed`.")
    except Exception:
        log.exception("error while rendering %s", navigation.title)
        st.error("Sorry — this page hit an error. It has been logged; try other settings or reload.")
    footer()
