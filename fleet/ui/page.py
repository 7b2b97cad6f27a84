"""The scaffolding every page runs inside: URL state, the shared sidebar, warnings, data.

    with page("overview", PARAMS) as ctx:
        tables = ctx.view()                      # the page's registered builder, cached
        ctx.chart(fig, tables["top"], "Top 20")  # chart + CSV download of exactly that table

On exit the URL is rewritten from the widgets' values (defaults left out), so every
view is a link. Pages reach data only through ``ctx`` (``view``, ``fleet``, the frames),
so a snapshot can pin the data a page shows by pinning ``ctx``: every page gets snapshot
links (``fleet.ui.snapshot_ui``) -- a Share snapshot button, and with ``?snapshot=ID`` the
frozen view, its banner and its hash check.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from fleet.analytics.fleet import FleetState
from fleet.models import Snapshot
from fleet.snapshots import evaluated_on
from fleet.ui import cached, sidebar, snapshot_ui, widgets
from fleet.ui.state import UrlState, show_warnings
from fleet.view_state import Filters, Param


@dataclass
class PageContext:
    state: UrlState
    filters: Filters
    version: tuple
    shown: dict[str, pd.DataFrame] = field(default_factory=dict)  # view name -> the table put on screen
    snapshot: Snapshot | None = None  # the open snapshot link, if the page shows one

    def value(self, name: str) -> Any:
        return self.state.values()[name]

    def key(self, name: str) -> str:
        return self.state.key(name)

    def values(self) -> dict[str, Any]:
        return self.state.values()

    def view(self) -> dict[str, pd.DataFrame]:
        """This page's tables from its registered builder (``fleet.views``), cached per data version."""
        return cached.view(self.version, self.state.page, self.values())

    def drawn(self, draw: Callable[..., go.Figure], table: pd.DataFrame, *args, **kwargs) -> go.Figure:
        """``draw(table, *args, **kwargs)`` cached like the view: ``table`` must be fixed by the data version
        and this page's view state (one of ``view()``'s tables, or built from cached frames by them)."""
        return cached.figure(self.version, self.state.page, self.values(), f"{draw.__module__}.{draw.__qualname__}",
                             args, tuple(sorted(kwargs.items())), _draw=draw, _table=table)

    def chart(self, fig: go.Figure, table: pd.DataFrame, view: str, *, extra: list[str] | None = None) -> None:
        self.shown[view] = table
        widgets.chart(self, fig, table, view, extra=extra)

    def table(self, frame: pd.DataFrame, view: str, *, extra: list[str] | None = None, **kwargs) -> None:
        self.shown[view] = frame
        widgets.table(self, frame, view, extra=extra, **kwargs)

    def nothing_found(self, message: str, **info_kwargs) -> None:
        """Say that nothing matches; a view travelling back with *Known at* says that too, as the
        store may not have held the estimates yet -- the usual cause when the filters look wide."""
        known = self.filters.known_at
        if known is not None:
            message += (f" This view shows the store as it was known at {known:%Y-%m-%d %H:%M} UTC (Known at, "
                        "in the sidebar): clear it to include everything recorded since.")
        st.info(message, **info_kwargs)

    def today(self) -> date:
        """The day "now" means on this page: today; the day a time-travelling view went to; in a
        snapshot, the day frozen with it (so "pending" stays pending in the link)."""
        if self.snapshot is not None:
            return evaluated_on(self.snapshot)
        return self.filters.known_at.date() if self.filters.known_at else date.today()

    def fleet(self, filters: Filters | None = None) -> FleetState:
        return cached.fleet_state(self.version, filters or self.filters)

    def organisations(self) -> pd.DataFrame:
        return cached.organisations(self.version)

    def chips(self) -> pd.DataFrame:
        return cached.chips(self.version)

    def estimates(self) -> pd.DataFrame:
        return cached.estimates(self.version, self.filters.known_at)

    def headcounts(self) -> pd.DataFrame:
        return cached.headcounts(self.version, self.filters.known_at)


@contextmanager
def page(page_id: str, params: Sequence[Param] = ()) -> Iterator[PageContext]:
    """Every page's frame. With ``?snapshot=ID`` the widgets hold the snapshot's frozen view
    state and the URL is left alone; otherwise the page gets the Share snapshot button."""
    state = UrlState(page_id, params)
    snapshot = snapshot_ui.enter(state)
    warnings = [] if snapshot is not None else state.load()
    version = cached.version()
    top = st.container()  # filled after the page ran: the banner and hash check need what it showed
    filters = sidebar.render(state, cached.organisations(version))
    show_warnings(warnings)
    ctx = PageContext(state=state, filters=filters, version=version, snapshot=snapshot)
    yield ctx
    with top:
        snapshot_ui.header(ctx, snapshot)
    if snapshot is None:
        state.sync_url()
