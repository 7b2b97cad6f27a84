"""The materialised current state: what a page needs first, kept on disk per data version.

What is expensive at scale is the same for every visitor until the data changes: the
estimates frame (a million rows read through the driver), the combined fleet state for a
view's filters (the rule over every estimate), the series over time (the rule at every
quarter end) and each page's tables at a view state. All are kept as Parquet in
``Settings.frame_cache_dir`` (``fleet.framecache``), keyed on the data version and
high-water mark, so a write makes every old file unreachable.

The app fills them on first use (``fleet.ui.cached``); ``python -m fleet warm`` fills them
ahead of the first visitor -- ``make run`` calls it after seeding, and it is the step to
run after a bulk import on a big store. Both go through the functions here, so the keys
cannot drift apart. No streamlit here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Callable

import pandas as pd

from fleet import framecache, queries
from fleet.analytics.fleet import DETAIL_COLUMNS, FleetState
from fleet.db import read_session
from fleet.view_state import Filters

STATE_PARTS = ("by_chip", "totals", "contributions", "meta")
DEFERRED_PARTS = ("by_chip", "contributions")  # big, and read only by a few pages: from disk when asked


def estimates(directory: str | None, data_version: tuple, known_at: datetime | None, engine) -> pd.DataFrame:
    """The live estimates at ``known_at`` (``queries.estimates_frame``), from disk when kept.

    The estimates *now* of a new data version start from the newest such frame on disk
    and the rows written since its high-water mark (``queries.estimates_since``): after an
    edit, a few rows are read instead of the whole store.
    """
    url, version, mark = data_version
    key, latest = _estimates_key(data_version, known_at), ("estimates-now", url)

    def load() -> pd.DataFrame:
        with read_session(engine) as session:
            if known_at is None:
                refreshed = _refreshed(session, directory, latest, version)
                if refreshed is not None:
                    return refreshed
            return queries.estimates_frame(session, known_at=known_at)

    # the combining rule runs on it next and reuses the pages the read freed (returning them
    # first cost the cold overview ~0.2 s of page faults at 1M estimates)
    frame = framecache.cached_frame(directory, key, load, release=False)
    if known_at is None and mark is not None:
        framecache.remember(directory, latest, key, version, {"mark": mark.isoformat()})
    return frame


def estimates_kept(directory: str | None, data_version: tuple, known_at: datetime | None) -> bool:
    """Are the estimates at ``known_at`` for this data version kept on disk (``estimates`` reads the file)?"""
    return framecache.kept(directory, _estimates_key(data_version, known_at))


def _estimates_key(data_version: tuple, known_at: datetime | None) -> tuple:
    return ("estimates", *data_version, known_at)


def _refreshed(session, directory: str | None, latest: tuple, version: int) -> pd.DataFrame | None:
    held = framecache.recall(directory, latest)
    if held is None or held[0] >= version:  # nothing earlier to start from
        return None
    return queries.estimates_since(session, held[2], datetime.fromisoformat(held[1]["mark"]))


def fleet_state(directory: str | None, data_version: tuple, filters: Filters,
                compute: Callable[[], FleetState]) -> FleetState:
    """The combined fleet state for ``filters`` (``compute()`` when not kept on disk yet)."""
    def load() -> dict[str, pd.DataFrame]:
        state = compute()
        # the figures per chip and the estimates behind them (hundreds of thousands of rows at
        # scale) are built when a page reads them, or behind the page when their file is written
        return {"by_chip": lambda: state.by_chip, "totals": state.totals, "contributions": lambda: state.contributions,
                "meta": pd.DataFrame({"excluded_unknown_spec": [state.excluded_unknown_spec]})}

    parts = framecache.cached_frames(directory, ("fleet", *data_version, filters), STATE_PARTS, load,
                                     deferred=DEFERRED_PARTS)
    totals = parts["totals"]
    return FleetState(by_chip=parts["by_chip"], holders=totals.drop(columns=list(DETAIL_COLUMNS)), totals=totals,
                      contributions=parts["contributions"], excluded_unknown_spec=int(parts["meta"]["excluded_unknown_spec"].iloc[0]))


def series(directory: str | None, data_version: tuple, filters: Filters, fmt: str,
           compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """Every holder at quarter ends for ``filters`` (``fleet.views.base.compute_series``)."""
    return framecache.cached_frame(directory, ("series", *data_version, filters, fmt), compute)


def view(directory: str | None, data_version: tuple, page_id: str, values: dict,
         compute: Callable[[], dict[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    """A page's tables at a full view state (``fleet.views.build_view``).

    Today's date is part of the key: a view state that leaves *as of* out means today, so
    yesterday's tables must not be served for it.
    """
    state = tuple(sorted(values.items()))
    return framecache.cached_frame_set(directory, ("view", *data_version, page_id, state, date.today()), compute)


def crossings(directory: str | None, data_version: tuple, filters: Filters, fmt: str, holders: tuple[int, ...], run,
              until, compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """When each of the Projections page's top holders crosses the GPT-4 lines
    (``fleet.views.base.compute_crossings``); the projection model is part of the key."""
    from fleet.analytics.forecast import PROJECTION_MODEL

    key = ("crossings", PROJECTION_MODEL, *data_version, filters, fmt, holders, run, until)
    return framecache.cached_frame(directory, key, compute)


def warm(directory: str, url: str, engine) -> dict:
    """Compute into ``directory`` what each page first shows a visitor with no URL parameters of the
    store at ``url`` (as the app's settings spell it: it is part of every key):
    the estimates frame, the fleet state, every registered page's tables, and the Projections
    page's series over time and crossing dates (``python -m fleet warm``). A report of what
    was done; the files are on disk when it returns."""
    import time

    from fleet.analytics.forecast import top_holders
    from fleet.analytics.projection import horizon_date
    from fleet.chips import FlopFormat
    from fleet.db import data_version as store_version
    from fleet.projection_state import PROJECTION_PARAMS, run_settings
    from fleet.view_state import SHARED, default_values
    from fleet.views import SessionStore, build_view, load_all
    from fleet.views.base import compute_crossings, compute_fleet, compute_series

    started = time.perf_counter()
    with read_session(engine) as session:
        version = (url, *store_version(session))
    rows = estimates(directory, version, None, engine)
    store, filters = SessionStore(engine).holding(None, rows), Filters.from_values({})
    state = fleet_state(directory, version, filters, lambda: compute_fleet(store, filters))
    store.holding_fleet(filters, state)  # the pages' views combine the same state: not a second time
    bf16 = FlopFormat.BF16.value  # the series over time the pages share (``fleet.ui.cached.CachedStore.series``)
    began = time.perf_counter()
    shared = series(directory, version, filters, bf16, lambda: store.series(filters))
    seconds = {"(series over time)": round(time.perf_counter() - began, 2)}
    for page_id, spec in load_all().items():
        began, values = time.perf_counter(), spec.default_values()
        view(directory, version, page_id, values, lambda: build_view(store, page_id, values))  # noqa: B023
        seconds[page_id] = round(time.perf_counter() - began, 2)
    began, values = time.perf_counter(), default_values((*SHARED, *PROJECTION_PARAMS))
    fmt, run, until = values["format"], run_settings(values), horizon_date(filters.as_of, float(values["horizon"]))
    over_time = shared if fmt == bf16 else series(directory, version, filters, fmt,
                                                  lambda: compute_series(store, filters, fmt))
    holders = tuple(top_holders(over_time, store.organisations(), filters.as_of, int(values["top"])))
    crossings(directory, version, filters, fmt, holders, run, until,
              lambda: compute_crossings(store, filters, fmt, holders, run, until))
    seconds["projections"] = round(time.perf_counter() - began, 2)
    framecache.flush()
    return {"estimates": len(rows), "organisations": len(state.holders), "as_of": str(filters.as_of),
            "folder": directory, "pages": seconds, "seconds": round(time.perf_counter() - started, 2)}


def frame(directory: str | None, key: tuple, compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """Any other frame a page derives from the store; ``key`` must start with what it is and
    hold the data version and every input that changes it."""
    return framecache.cached_frame(directory, key, compute)
