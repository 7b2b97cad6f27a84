"""Every st.cache_* in the app lives here: bounded, and keyed on the store's data version.

The estimates frame and fleet states are also kept on disk between server runs (``fleet.materialised``),
under the same key.

``data_version()`` is one cheap query per rerun; every loader takes the version as an
argument, so an import or edit (which bumps the version) invalidates the caches
without any explicit clearing.

The three big results -- the estimates frame, the combined fleet state and the series
over time -- are ``st.cache_resource``: one object per key, shared by every session,
handed out as shallow copies. ``st.cache_data`` would pickle a million-row frame to store
it and unpickle a new copy on every hit (a second per rerun and a copy per caller at 1M
estimates). Sharing is safe because pandas copy-on-write means a change made through a
shallow copy never reaches the cached frame.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Callable

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from sqlalchemy import Engine
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

from fleet import materialised, queries
from fleet.analytics.fleet import FleetState
from fleet.config import Settings, get_settings
from fleet.db import data_version as store_version
from fleet.db import make_engine, read_session
from fleet.view_state import Filters
from fleet.views import build_view, load_all
from fleet.views.base import compute_crossings, compute_fleet, compute_series, series_options

TTL = "1h"
log = logging.getLogger(__name__)


def settings() -> Settings:
    # Not cached: reading the environment and secrets file is cheap, and a cached copy
    # would outlive a changed FLEET_DATABASE_URL within one server process.
    return get_settings()


@st.cache_resource(max_entries=4)
def engine(database_url: str) -> Engine:
    return make_engine(database_url)


def current_engine() -> Engine:
    return engine(settings().database_url)


def version() -> tuple[str, int, datetime | None]:
    """The cache key of the data: (database URL, data version, high-water mark)."""
    url = settings().database_url
    with read_session(engine(url)) as session:
        return (url, *store_version(session))


def _shared(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.copy(deep=False)  # copy-on-write: the caller cannot change the cached frame


@st.cache_resource(ttl=TTL, max_entries=4, show_spinner=False)
def _estimates(data_version: tuple, known_at: datetime | None) -> pd.DataFrame:
    # Also kept on disk (fleet.materialised): a restarted server reads a million estimates
    # from Parquet in a fraction of a second instead of through the driver.
    return materialised.estimates(settings().frame_cache_dir, data_version, known_at, engine(data_version[0]))


def estimates(data_version: tuple, known_at: datetime | None) -> pd.DataFrame:
    return _shared(_estimates(data_version, known_at))


_read_ahead: set[tuple] = set()  # data versions whose live estimates a thread of this process started loading


def read_estimates_ahead() -> None:
    """Start loading the live estimates now, on a thread of their own, when a page will need them
    and neither this process nor the disk holds them for the current data version.

    A new server's first page otherwise imports its modules and reads the small frames first,
    then waits for the million-row read (child processes, ~1.3 s at 1M estimates); this way the
    two overlap. The page's own call then waits for the same cache entry, which
    ``st.cache_resource`` computes once per key. Where the estimates are kept on disk nothing
    starts: a page drawn from the materialised state may not read them at all.
    """
    data_version = version()
    if data_version in _read_ahead or materialised.estimates_kept(settings().frame_cache_dir, data_version, None):
        return
    if len(_read_ahead) >= 64:  # a version per write: a long-running server forgets the old ones
        _read_ahead.clear()
    _read_ahead.add(data_version)
    thread = threading.Thread(target=_load_ahead, args=(data_version,), name="fleet-read-ahead", daemon=True)
    add_script_run_ctx(thread, get_script_run_ctx())  # Streamlit's caches look for the session's context
    thread.start()


def _load_ahead(data_version: tuple) -> None:
    try:
        _estimates(data_version, None)
    except Exception:  # not cached: the page's own call reads again and shows the error its way
        log.warning("reading the estimates ahead of the page failed", exc_info=True)


@st.cache_data(ttl=TTL, max_entries=4, show_spinner=False)
def organisations(data_version: tuple) -> pd.DataFrame:
    with read_session(engine(data_version[0])) as session:
        return queries.organisations_frame(session)


@st.cache_data(ttl=TTL, max_entries=4, show_spinner=False)
def chips(data_version: tuple) -> pd.DataFrame:
    with read_session(engine(data_version[0])) as session:
        return queries.chips_frame(session)


@st.cache_data(ttl=TTL, max_entries=8, show_spinner=False)
def headcounts(data_version: tuple, known_at: datetime | None) -> pd.DataFrame:
    with read_session(engine(data_version[0])) as session:
        return queries.headcounts_frame(session, known_at=known_at)


@st.cache_data(ttl=TTL, max_entries=32, show_spinner=False)
def estimate_history(data_version: tuple, organisation_id: int, known_at: datetime | None) -> pd.DataFrame:
    """One organisation's estimates, live, superseded and retracted (``queries.estimate_history``)."""
    with read_session(engine(data_version[0])) as session:
        return queries.estimate_history(session, organisation_id, known_at=known_at)


@st.cache_resource(ttl=TTL, max_entries=16, show_spinner="Combining estimates…")
def _fleet_state(data_version: tuple, filters: Filters) -> FleetState:
    # Also kept on disk beside the estimates frame (fleet.materialised), keyed on the same
    # data version: a new server process draws the overview without combining again.
    return materialised.fleet_state(settings().frame_cache_dir, data_version, filters,
                                    lambda: compute_fleet(CachedStore(data_version), filters))


def fleet_state(data_version: tuple, filters: Filters) -> FleetState:
    """The combined fleet state for the shared controls; cached per data version and filters."""
    state = _fleet_state(data_version, filters)
    return FleetState(by_chip=lambda: _shared(state.by_chip), holders=_shared(state.holders),
                      totals=_shared(state.totals),
                      contributions=lambda: _shared(state.contributions),  # built when read (FleetState)
                      excluded_unknown_spec=state.excluded_unknown_spec)


class CachedStore:
    """``fleet.views.Store`` over this module's caches, for one data version."""

    def __init__(self, data_version: tuple) -> None:
        self.data_version = data_version

    def estimates(self, known_at: datetime | None) -> pd.DataFrame:
        return estimates(self.data_version, known_at)

    def organisations(self) -> pd.DataFrame:
        return organisations(self.data_version)

    def chips(self) -> pd.DataFrame:
        return chips(self.data_version)

    def headcounts(self, known_at: datetime | None) -> pd.DataFrame:
        return headcounts(self.data_version, known_at)

    def model_runs(self, known_at: datetime | None) -> pd.DataFrame:
        return model_runs(self.data_version, known_at)

    def fleet(self, filters: Filters) -> FleetState:
        return fleet_state(self.data_version, filters)

    def series(self, filters: Filters) -> pd.DataFrame:
        return projection_series(self.data_version, filters, "bf16")

    def estimate_history(self, organisation_id: int, known_at: datetime | None) -> pd.DataFrame:
        return estimate_history(self.data_version, organisation_id, known_at)


@st.cache_resource(ttl=TTL, max_entries=64, show_spinner="Computing the view…")
def _view(data_version: tuple, page_id: str, values: dict) -> dict[str, pd.DataFrame]:
    load_all()
    return materialised.view(settings().frame_cache_dir, data_version, page_id, values,
                             lambda: build_view(CachedStore(data_version), page_id, values))


def view(data_version: tuple, page_id: str, values: dict) -> dict[str, pd.DataFrame]:
    """A page's tables (``fleet.views``) for its full view state; cached per data version."""
    return {name: _shared(table) for name, table in _view(data_version, page_id, values).items()}


@st.cache_resource(ttl=TTL, max_entries=32, show_spinner=False)
def figure(data_version: tuple, page_id: str, values: dict, draw_name: str, args: tuple, kwargs: tuple,
           _draw: Callable, _table: pd.DataFrame) -> go.Figure:
    """``_draw(_table, *args, **dict(kwargs))`` for a table fixed by (data version, page, view state) -- one of the
    page's view tables, or one built from cached frames by them -- which with the drawing's name
    and arguments is the key
    (building a figure of a big fleet's 2,500 dates and 18,000 estimates took a third of a rerun).
    Shared, not copied: ``st.plotly_chart`` reads a figure through ``to_dict`` and never changes it,
    and unpickling a figure re-validates every trace (as slow as drawing it again)."""
    return _draw(_table, *args, **dict(kwargs))


# --- Projections and Claims pages (issue 4) ------------------------------------------------------

@st.cache_data(ttl=TTL, max_entries=8, show_spinner=False)
def model_runs(data_version: tuple, known_at: datetime | None) -> pd.DataFrame:
    with read_session(engine(data_version[0])) as session:
        return queries.model_runs_frame(session, known_at=known_at)


@st.cache_data(ttl=TTL, max_entries=8, show_spinner=False)
def milestones(data_version: tuple, known_at: datetime | None) -> tuple[pd.DataFrame, float | None]:
    """The Projections page's milestone lines (GPT-4 x5, x20, x100 ...) and GPT-4's training FLOP
    (None if the store has no GPT-4 run): names are matched over every model run, once per version."""
    from fleet.analytics.projection import find_model_run, milestone_lines

    runs = model_runs(data_version, known_at)
    gpt4 = find_model_run(runs, "GPT-4")
    return milestone_lines(runs), float(gpt4["training_flop"]) if gpt4 is not None else None


def _series_options(filters: Filters, fmt: str):
    return series_options(filters, fmt=fmt)


@st.cache_resource(ttl=TTL, max_entries=8, show_spinner="Computing fleets over time…")
def _projection_series(data_version: tuple, filters: Filters, fmt: str) -> pd.DataFrame:
    return materialised.series(settings().frame_cache_dir, data_version, filters, fmt,
                               lambda: compute_series(CachedStore(data_version), filters, fmt))


def projection_series(data_version: tuple, filters: Filters, fmt: str) -> pd.DataFrame:
    """Every holder at quarter ends up to the as-of date (FLOP/s in ``fmt``, H100e on the basis)."""
    return _shared(_projection_series(data_version, filters, fmt))


@st.cache_data(ttl=TTL, max_entries=16, show_spinner=False)
def compute_over_time(data_version: tuple, filters: Filters, fmt: str) -> pd.DataFrame:
    """The Projections page's fleet-compute table (all organisations and the leading countries)."""
    from fleet.projection_views import compute_over_time as build

    return build(projection_series(data_version, filters, fmt), organisations(data_version), fmt, filters.basis.value)


@st.cache_data(ttl=TTL, max_entries=8, show_spinner=False)
def holders_with_estimates(data_version: tuple, known_at: datetime | None) -> tuple[list[str], dict[str, int]]:
    from fleet.projection_views import holders_with_estimates as build

    def compute() -> pd.DataFrame:
        names, ids = build(estimates(data_version, known_at), organisations(data_version))
        return pd.DataFrame({"name": names, "id": [ids[n] for n in names]}, dtype=object)

    frame = materialised.frame(settings().frame_cache_dir, ("holders", *data_version, known_at), compute)
    names = [str(n) for n in frame["name"]]
    return names, dict(zip(names, (int(i) for i in frame["id"])))


@st.cache_data(ttl=TTL, max_entries=32, show_spinner="Projecting…")
def holder_outlook(data_version: tuple, filters: Filters, holder_id: int, fmt: str, run, until, scenarios: str):
    """One organisation's observed series, fits, projection and crossings (see forecast.project_holder)."""
    from fleet.analytics.forecast import project_holder
    from fleet.analytics.scenarios import parse_scenarios, resolve_scenarios

    resolved, problems = resolve_scenarios(parse_scenarios(scenarios), organisations(data_version),
                                           chips(data_version), fmt=fmt, basis=filters.basis)
    outlook = project_holder(estimates(data_version, filters.known_at), chips(data_version),
                             organisations(data_version), model_runs(data_version, filters.known_at), holder_id,
                             as_of=filters.as_of, until=until, options=_series_options(filters, fmt), run=run,
                             resolved=resolved)
    return outlook, problems


@st.cache_data(ttl=TTL, max_entries=16, show_spinner="Projecting…")
def total_outlook(data_version: tuple, filters: Filters, fmt: str, top: int, until, scenarios: str):
    """The top-N organisations' summed figures, fitted and projected, with Epoch's trend."""
    from fleet.analytics.forecast import project_total, top_holders
    from fleet.analytics.scenarios import parse_scenarios, resolve_scenarios

    series = projection_series(data_version, filters, fmt)
    holders = top_holders(series, organisations(data_version), filters.as_of, top)
    resolved, problems = resolve_scenarios(parse_scenarios(scenarios), organisations(data_version),
                                           chips(data_version), fmt=fmt, basis=filters.basis)
    outlook = project_total(series, holders, subject=f"Top {top}", as_of=filters.as_of, until=until,
                            resolved=resolved)
    return outlook, holders, problems


@st.cache_data(ttl=TTL, max_entries=8, show_spinner="Checking the claims…")
def ledger(data_version: tuple, known_at: datetime | None, today) -> list:
    from fleet.analytics.claim_metrics import CLAIMS_ATTRIBUTE_TO, CLAIMS_BASIS, StoreView
    from fleet.ledger import evaluate_ledger

    def state(as_of) -> FleetState:  # the states the other pages use (and keep on disk), not a second read
        return fleet_state(data_version, Filters(as_of=as_of, known_at=known_at, basis=CLAIMS_BASIS,
                                                 attribute_to=CLAIMS_ATTRIBUTE_TO))

    now = StoreView(estimates=None, chips=chips(data_version), organisations=organisations(data_version),
                    model_runs=model_runs(data_version, known_at), known_at=known_at, states=state)
    with read_session(engine(data_version[0])) as session:
        return evaluate_ledger(session, today=today, known_at=known_at, now_view=now)


@st.cache_data(ttl=TTL, max_entries=16, show_spinner="Finding crossing dates…")
def top_crossings(data_version: tuple, filters: Filters, fmt: str, holders: tuple[int, ...], run, until):
    return materialised.crossings(settings().frame_cache_dir, data_version, filters, fmt, holders, run, until,
                                  lambda: compute_crossings(CachedStore(data_version), filters, fmt, holders, run, until))
