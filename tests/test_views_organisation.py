"""The Organisation page data (``fleet.views.organisation``) on a seeded store, both backends:
an as-of view lists apart what is dated after its date, agrees with the figures it explains,
and its CSVs leave missing values empty."""

from __future__ import annotations

import io
from datetime import date

import pandas as pd
import pytest

from fleet.analytics import breakdown
from fleet.db import make_engine
from fleet.exports import to_csv_bytes
from fleet.view_state import Filters, decode
from fleet.views import SessionStore, build_view, load_all

AS_OF = date(2025, 6, 30)
XAI_PLAN_H100E = 50_025_265  # xAI's 5-year plan in the seed: valid on 2030-12-31


@pytest.fixture
def store(seeded_url):
    engine = make_engine(seeded_url)
    yield SessionStore(engine)
    engine.dispose()


def view(store, **query) -> tuple[dict, Filters]:
    values, warnings = decode(query, load_all()["organisation"].all_params())
    assert not warnings
    return build_view(store, "organisation", values), Filters.from_values(values)


def dates(column: pd.Series) -> pd.Series:
    return pd.to_datetime(column)


def csv_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """The cells of ``frame``'s CSV download as written, text for text."""
    return pd.read_csv(io.BytesIO(to_csv_bytes(frame)), dtype=str, keep_default_na=False)


def test_estimates_dated_after_the_as_of_date_are_listed_apart(store):
    tables, _ = view(store, org="xAI", as_of=AS_OF.isoformat())
    now, after = tables["estimates"], tables["estimates_after_as_of"]
    assert (dates(now["Date"]) <= pd.Timestamp(AS_OF)).all() and len(now)
    assert (dates(after["Date"]) > pd.Timestamp(AS_OF)).all()
    assert XAI_PLAN_H100E in after["H100e (8bit basis)"].tolist()


def test_the_split_loses_and_changes_no_estimate(store):
    """Together the two tables are the organisation's whole estimates table, row for row (conflict
    flags are still counted over every estimate)."""
    tables, filters = view(store, org="xAI", as_of=AS_OF.isoformat())
    holder = int(tables["organisation"]["id"].iloc[0])
    every = breakdown.estimates_table(store.estimate_history(holder, filters.known_at), store.chips(),
                                      store.organisations(), holder, filters.basis)
    both = pd.concat([tables["estimates"], tables["estimates_after_as_of"]])
    pd.testing.assert_frame_equal(both.sort_values("Estimate id", ignore_index=True),
                                  every.sort_values("Estimate id", ignore_index=True))


def test_model_runs_published_after_the_as_of_date_are_listed_apart(store):
    tables, _ = view(store, org="xAI", as_of=AS_OF.isoformat())
    runs, after = tables["model_runs"], tables["model_runs_after_as_of"]
    assert "Grok 3" in runs["Model"].tolist() and "Grok 4" not in runs["Model"].tolist()
    assert "Grok 4" in after["Model"].tolist()
    assert (dates(runs["Published"]).dropna() <= pd.Timestamp(AS_OF)).all()
    assert (dates(after["Published"]) > pd.Timestamp(AS_OF)).all()


def test_the_listed_estimates_hold_every_one_the_figures_rest_on(store):
    """The page explains the figures: each estimate ``fleet_state`` counts at the date is in its list,
    and the chart's estimate points are all on or before the date."""
    tables, filters = view(store, org="xAI", as_of=AS_OF.isoformat())
    holder = int(tables["organisation"]["id"].iloc[0])
    used = store.fleet(filters).contributions
    used = used.loc[(used["holder_id"] == holder) & used["counted"], "id"]
    assert len(used) and set(used) <= set(tables["estimates"]["Estimate id"])
    history = tables["history"]
    points = history.loc[history["Series"] == "estimate", "Date"]
    assert len(points) and (dates(points) <= pd.Timestamp(AS_OF)).all()


def test_an_as_of_date_after_every_estimate_lists_nothing_apart(store):
    """Nothing to list apart, no table for it: the view's tables are those it had before the split,
    so snapshots frozen then (hashed over every table) still reproduce."""
    tables, _ = view(store, org="xAI", as_of="2031-01-01")
    assert set(tables) == {"organisation", "history", "estimates", "combined", "headcounts", "model_runs"}
    assert XAI_PLAN_H100E in tables["estimates"]["H100e (8bit basis)"].tolist()


def chips_catalog(store) -> pd.DataFrame:
    values, _ = decode({}, load_all()["chips"].all_params())
    return build_view(store, "chips", values)["catalog"]


@pytest.mark.parametrize("name", ["estimates", "estimates_after_as_of", "combined", "model_runs", "catalog"])
def test_csv_leaves_missing_values_empty(store, name):
    frame = chips_catalog(store) if name == "catalog" else view(store, org="xAI", as_of=AS_OF.isoformat())[0][name]
    missing = frame.isna().to_numpy()
    assert missing.any(), f"{name}: the seed gives this table a missing value"
    cells = csv_cells(frame)
    assert (cells.to_numpy()[missing] == "").all()
    assert not cells.isin(["None", "nan", "NaN", "<NA>", "NaT"]).any().any()
