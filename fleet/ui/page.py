"""The scaffolding every page runs inside: URL state, the shared sidebar, warnings, data.

    with page("overview", PARAMS) as ctx:
        state = ctx.fleet()          # cached FleetState for the sidebar's filters
        top_n = ctx.value("top")     # a page parameter, typed

On exit the URL is rewritten from the widgets' values (defaults left out), so every
view is a link.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import pandas as pd

from fleet.analytics.fleet import FleetState
from fleet.ui import cached, sidebar
from fleet.ui.state import UrlState, show_warnings
from fleet.view_state import Filters, Param


@dataclass
class PageContext:
    state: UrlState
    filters: Filters
    version: tuple

    def value(self, name: str) -> Any:
        return self.state.values()[name]

    def key(self, name: str) -> str:
        return self.state.key(name)

    def fleet(self, filters: Filters | None = None) -> FleetState:
        return cached.fleet_state(self.version, filters or self.filters)

    def organisations(self) -> pd.DataFrame:
        return cached.organisations(self.version)

    def chips(self) -> pd.DataFrame:
        return cached.chips(self.version)

    def estimates(self) -> pd.DataFrame:
        return cached.estimates(self.version, self.filters.known_at)


@contextmanager
def page(page_id: str, params: Sequence[Param] = ()) -> Iterator[PageContext]:
    state = UrlState(page_id, params)
    warnings = state.load()
    version = cached.version()
    filters = sidebar.render(state, cached.organisations(version))
    show_warnings(warnings)
    yield PageContext(state=state, filters=filters, version=version)
    state.sync_url()
