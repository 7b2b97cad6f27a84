"""The app's pages by url path, so a page can link to another inside the same session.

A plain Markdown link reloads the browser tab, which starts a new Streamlit session and
would log a local editor out; ``st.page_link`` switches pages in place. ``fleet.ui.frame``
registers the pages; a page rendered on its own (AppTest) falls back to a Markdown link.
"""

from __future__ import annotations

import streamlit as st

PAGES: dict[str, object] = {}


def register(pages: dict[str, list], default_id: str = "overview") -> None:
    """Index the pages by url path; the default page (whose url path is "") also by its id."""
    for group in pages.values():
        for page in group:
            PAGES[page.url_path] = page
            if page.url_path == "":
                PAGES[default_id] = page


def link(url_path: str, label: str, *, query: dict[str, str] | None = None, where=st) -> None:
    page = PAGES.get(url_path)
    if page is not None:
        where.page_link(page, label=label, query_params=query)
        return
    suffix = "?" + "&".join(f"{k}={v}" for k, v in (query or {}).items()) if query else ""
    where.markdown(f"[{label}](/{url_path}{suffix})")
