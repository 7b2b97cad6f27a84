"""The view registry and the ``Store`` the builders read through.

``Store`` is the read side a builder may use: frames from ``fleet.queries`` and the
combined ``FleetState``. The app backs it with ``fleet.ui.cached`` (keyed on the data
version); the CLI and tests back it with ``SessionStore`` (one engine, memoised per
instance). A builder never opens a session itself, so it cannot see a different cut of the
data from the one its caller chose.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Mapping, Protocol, Sequence

import pandas as pd
from sqlalchemy import Engine

from fleet import queries
from fleet.analytics.compute_series import SeriesOptions
from fleet.analytics.fleet import FleetState, fleet_state
from fleet.analytics.forecast import all_holders_series, crossings_by_holder
from fleet.chips import FlopFormat
from fleet.db import read_session
from fleet.view_state import SHARED, Filters, Param, default_values


class Store(Protocol):
    def estimates(self, known_at: datetime | None) -> pd.DataFrame: ...
    def organisations(self) -> pd.DataFrame: ...
    def chips(self) -> pd.DataFrame: ...
    def headcounts(self, known_at: datetime | None) -> pd.DataFrame: ...
    def model_runs(self, known_at: datetime | None) -> pd.DataFrame: ...
    def fleet(self, filters: Filters) -> FleetState: ...
    def series(self, filters: Filters) -> pd.DataFrame: ...
    def estimate_history(self, organisation_id: int, known_at: datetime | None) -> pd.DataFrame: ...


def series_options(filters: Filters, holders: tuple[int, ...] = (), fmt: FlopFormat | str = FlopFormat.BF16
                   ) -> SeriesOptions:
    """The shared controls as options of a series over time (``fleet.analytics.compute_series``)."""
    return SeriesOptions(basis=filters.basis, fmt=FlopFormat(fmt), include_planned=filters.include_planned,
                         min_certainty=filters.min_certainty, attribute_to=filters.attribute_to,
                         kinds=filters.kinds, countries=filters.countries, holders=holders)


def compute_series(store: Store, filters: Filters, fmt: FlopFormat | str = FlopFormat.BF16) -> pd.DataFrame:
    """Every holder at quarter ends up to the as-of date (and at it): the one series the pages share."""
    return all_holders_series(store.estimates(filters.known_at), store.chips(), store.organisations(),
                              as_of=filters.as_of, options=series_options(filters, fmt=fmt))


def compute_crossings(store: Store, filters: Filters, fmt: str, holders: tuple[int, ...], run, until) -> pd.DataFrame:
    """When each of ``holders`` crosses the GPT-4 lines (the Projections page's top-N table)."""
    return crossings_by_holder(store.estimates(filters.known_at), store.chips(), store.organisations(),
                               store.model_runs(filters.known_at), list(holders), as_of=filters.as_of, until=until,
                               options=series_options(filters, fmt=fmt), run=run)


def compute_fleet(store: Store, filters: Filters) -> FleetState:
    """The one place a ``FleetState`` is computed from a store's frames and the shared filters."""
    return fleet_state(
        store.estimates(filters.known_at), store.chips(), store.organisations(), as_of=filters.as_of,
        basis=filters.basis, include_planned=filters.include_planned, min_certainty=filters.min_certainty,
        attribute_to=filters.attribute_to, kinds=filters.kinds, countries=filters.countries,
    )


class SessionStore:
    """A ``Store`` reading straight from an engine; each frame is read once per instance."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._memo: dict[tuple, Any] = {}

    def _once(self, key: tuple, load: Callable[[], Any]) -> Any:
        if key not in self._memo:
            self._memo[key] = load()
        return self._memo[key]

    def _read(self, query: Callable, **kwargs) -> pd.DataFrame:
        with read_session(self.engine) as session:
            return query(session, **kwargs)

    def estimates(self, known_at: datetime | None) -> pd.DataFrame:
        return self._once(("estimates", known_at), lambda: self._read(queries.estimates_frame, known_at=known_at))

    def holding(self, known_at: datetime | None, estimates: pd.DataFrame) -> "SessionStore":
        """This store with the estimates at ``known_at`` already in hand (e.g. read from the frame cache)."""
        self._memo[("estimates", known_at)] = estimates
        return self

    def holding_fleet(self, filters: Filters, state: FleetState) -> "SessionStore":
        """This store with the fleet state for ``filters`` already in hand (e.g. the materialised one)."""
        self._memo[("fleet", filters)] = state
        return self

    def organisations(self) -> pd.DataFrame:
        return self._once(("organisations",), lambda: self._read(queries.organisations_frame))

    def chips(self) -> pd.DataFrame:
        return self._once(("chips",), lambda: self._read(queries.chips_frame))

    def headcounts(self, known_at: datetime | None) -> pd.DataFrame:
        return self._once(("headcounts", known_at), lambda: self._read(queries.headcounts_frame, known_at=known_at))

    def model_runs(self, known_at: datetime | None) -> pd.DataFrame:
        return self._once(("model_runs", known_at), lambda: self._read(queries.model_runs_frame, known_at=known_at))

    def fleet(self, filters: Filters) -> FleetState:
        return self._once(("fleet", filters), lambda: compute_fleet(self, filters))

    def series(self, filters: Filters) -> pd.DataFrame:
        return self._once(("series", filters), lambda: compute_series(self, filters))

    def estimate_history(self, organisation_id: int, known_at: datetime | None) -> pd.DataFrame:
        return self._once(("history", organisation_id, known_at), lambda: self._read(
            queries.estimate_history, organisation_id=organisation_id, known_at=known_at))


Builder = Callable[[Store, Filters, Mapping[str, Any]], dict[str, pd.DataFrame]]


@dataclass(frozen=True)
class ViewSpec:
    page_id: str
    title: str
    params: tuple[Param, ...]
    build: Builder

    def all_params(self) -> tuple[Param, ...]:
        return (*SHARED, *self.params)

    def default_values(self) -> dict[str, Any]:
        return default_values(self.all_params())


VIEWS: dict[str, ViewSpec] = {}


def register(page_id: str, title: str, params: Sequence[Param] = ()) -> Callable[[Builder], Builder]:
    def decorate(build: Builder) -> Builder:
        VIEWS[page_id] = ViewSpec(page_id, title, tuple(params), build)
        return build
    return decorate


def build_view(store: Store, page_id: str, values: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    """Run a registered page's builder on decoded view-state ``values`` (shared + own params)."""
    spec = VIEWS[page_id]
    filters = Filters.from_values(values)
    return spec.build(store, filters, values)
