"""Bind typed view state (``fleet.view_state``) to widgets and ``st.query_params``.

The URL is the state. On every run: if the query string differs from what this session
last wrote (a pasted link, a page switch with parameters), decode the parameters it
carries into the widgets' session-state keys, warning about junk; then the page draws its
widgets with those keys (never with ``value=``, so Streamlit does not fight us); finally
``sync_url`` writes the current values back, defaults left out.
"""

from __future__ import annotations

from typing import Any, Sequence

import streamlit as st

from fleet.view_state import SHARED, Param, decode, encode

_LAST = "_fleet_last_query"


def widget_key(param: Param, page: str | None) -> str:
    return f"v.{param.key}" if page is None else f"v.{page}.{param.key}"


class UrlState:
    """The params of one page (its own plus the shared sidebar ones)."""

    def __init__(self, page: str, params: Sequence[Param] = ()) -> None:
        self.page = page
        self.own = tuple(params)
        self.scoped = [(p, None) for p in SHARED] + [(p, page) for p in self.own]
        # values that override the widgets': an open snapshot pins known_at to its exact cut-off
        # (the datetime widget keeps only minutes)
        self.pinned: dict[str, Any] = {}

    def key(self, name: str) -> str:
        for param, page in self.scoped:
            if param.key == name:
                return widget_key(param, page)
        raise KeyError(name)

    def load(self) -> list[str]:
        """Apply URL parameters that changed from outside; returns warnings about junk.

        A parameter present in a changed URL wins; a widget seen for the first time takes
        the URL's value or its default; everything else keeps its session state, so a
        link carrying only ``org=`` does not reset the sidebar.
        """
        query = {k: st.query_params.get_all(k) for k in st.query_params.keys()}
        flat = {k: v[-1] if v else "" for k, v in query.items()}
        changed = flat != st.session_state.get(_LAST)
        values, warnings = decode(query, [p for p, _ in self.scoped])
        for param, page in self.scoped:
            key = widget_key(param, page)
            if (changed and param.key in query) or key not in st.session_state:
                value = values[param.key]
                st.session_state[key] = list(value) if param.multi else value
        return warnings if changed else []

    def apply(self, values: dict[str, Any]) -> None:
        """Set every widget to ``values`` (an opened snapshot's frozen view state)."""
        for param, page in self.scoped:
            value = values.get(param.key, param.default_value())
            st.session_state[widget_key(param, page)] = list(value) if param.multi else value

    def values(self) -> dict[str, Any]:
        out = {}
        for param, page in self.scoped:
            value = st.session_state.get(widget_key(param, page), param.default_value())
            out[param.key] = tuple(value) if param.multi else value
        return {**out, **self.pinned}

    def sync_url(self) -> None:
        wanted = encode(self.values(), [p for p, _ in self.scoped])
        current = {k: st.query_params.get(k) for k in st.query_params.keys()}
        if current != wanted:
            st.query_params.from_dict(wanted)
        st.session_state[_LAST] = wanted


def show_warnings(warnings: list[str]) -> None:
    for message in warnings:
        st.warning(message, icon="⚠️")
