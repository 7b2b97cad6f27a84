"""The app's frame: navigation, the footer with attribution, and the error boundary.

A page that raises shows a short apology and the error is logged on the server; users
never see a stack trace. Streamlit's own control flow (``st.rerun``/``st.stop``) derives
from BaseException and passes through untouched.

Each page's module is imported when the page is first shown (``_page``). The Contribute
pages pull in the import, scraping and validation machinery (httpx, pandera, rich); a new
server's first visitor to the overview would otherwise wait for all of it, ~0.5 s.
"""

from __future__ import annotations

import importlib
import logging
from typing import Callable

import streamlit as st
from sqlalchemy.exc import OperationalError, ProgrammingError

from fleet.ui import cached, editor, nav, snapshot_ui

log = logging.getLogger("fleet.ui")

ATTRIBUTION = (
    "Data: Epoch AI, [Data on GPU Clusters](https://epoch.ai/data/gpu-clusters), "
    "[Data on Machine Learning Hardware](https://epoch.ai/data/machine-learning-hardware), "
    "[Data on AI Models](https://epoch.ai/data/ai-models) and "
    "[AI Companies](https://epoch.ai/data/ai-companies) — CC-BY 4.0; "
    "plus hand-gathered public sources linked on each estimate."
)


def _render(module: str, live: bool) -> Callable[[], None]:
    """The ``render`` of ``fleet.ui.pages.<module>``, imported on the first call.

    A ``live`` page draws the live estimates (unless it shows a snapshot or a past state of
    knowledge): their read starts first, to overlap the import (``cached.read_estimates_ahead``)."""
    def render() -> None:
        if live and not _frozen_or_past():
            cached.read_estimates_ahead()
        importlib.import_module(f"fleet.ui.pages.{module}").render()

    render.__name__ = render.__qualname__ = module
    return render


def _page(module: str, title: str, icon: str, url_path: str, *, live: bool = False, **options) -> st.Page:
    # Streamlit knows a page by its url path (its script hash), not by the callable
    return st.Page(_render(module, live), title=title, icon=icon, url_path=url_path, **options)


def pages() -> dict[str, list]:
    return {
        "Explore": [
            _page("overview", "Overview", "🏆", "overview", default=True, live=True),
            _page("rich_poor", "GPU-rich vs GPU-poor", "📊", "rich-poor", live=True),
            _page("organisation", "Organisation", "🏢", "organisation", live=True),
            _page("chips_page", "Chips", "🔲", "chips", live=True),
            _page("researchers", "Compute per researcher", "🧑‍🔬", "researchers", live=True),
            _page("countries", "Countries", "🌍", "countries", live=True),
            _page("projections", "Projections", "📈", "projections", live=True),
            _page("claims", "Claims", "⚖️", "claims"),
        ],
        "Contribute": [
            _page("import_page", "Import", "📥", "import"),
            _page("edit_page", "Edit", "✏️", "edit"),
            _page("audit_page", "Audit log", "📜", "audit"),
            _page("scrapers_page", "Scrapers", "🕸️", "scrapers"),
            _page("scrape_runs", "Scrape runs", "🧾", "scrapes"),
            _page("snapshots_page", "Snapshots", "📌", "snapshots"),
            st.Page(editor.render_login_page, title="Editor login", icon="🔑", url_path=editor.LOGIN_PATH),
        ],
    }


def _frozen_or_past() -> bool:
    """A snapshot (its frozen frames) or a past state of knowledge (``known_at``): not the live estimates."""
    return snapshot_ui.PARAM in st.query_params or "known_at" in st.query_params


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
