"""Series over many dates (fleet.analytics.date_stack): only the rows that can count at a date are stacked,
in bounded chunks, and the figures equal the combining rule evaluated at each date on its own."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
import time
from datetime import date

import numpy as np
import pandas as pd
import pytest

from fleet.analytics import candidates, date_stack
from fleet.analytics.combine import CombineOptions
from fleet.analytics.compute_series import SeriesOptions, chip_series, chip_totals, fleet_series, series_dates
from fleet.analytics.date_stack import date_stacks, decode, until
from fleet.views import SessionStore
from fleet.views.base import compute_fleet
from fleet.view_state import Filters
from tests.test_combine import A100, est, frame

NEVER = np.iinfo("int64").max

UNTIL_CASES = [
    ("one group, rising dates", [0, 0, 0], [1, 2, 3], [2, 3, NEVER]),
    ("same-day rows share their end", [0, 0, 0], [1, 1, 2], [2, 2, NEVER]),
    ("groups do not see each other", [0, 1, 0, 1], [1, 5, 3, 2], [3, NEVER, NEVER, 5]),
    ("input order does not matter", [0, 0, 0], [3, 1, 2], [NEVER, 2, 3]),
    ("a single row counts for ever", [7], [4], [NEVER]),
]


@pytest.mark.parametrize("groups, valid, expected", [c[1:] for c in UNTIL_CASES], ids=[c[0] for c in UNTIL_CASES])
def test_until_is_the_next_later_date_of_the_group(groups, valid, expected):
    assert until(np.array(groups), np.array(valid)).tolist() == expected


DATES = [date(2022, 12, 31), date(2023, 12, 31), date(2024, 12, 31)]


def stacked_ids(*rows, **options) -> dict[date, list[int]]:
    """Which estimate ids are stacked at each of ``DATES``."""
    parts = list(date_stacks(frame(*rows), DATES, CombineOptions(as_of=DATES[-1], **options)))
    out: dict[date, list[int]] = {d: [] for d in DATES}
    for part in parts:
        when, _ = decode(part["organisation_id"], DATES)
        for stamp, ident in zip(pd.to_datetime(when).date, part["id"]):
            out[stamp].append(int(ident))
    return {d: sorted(ids) for d, ids in out.items()}


STACK_CASES = [
    ("a newer fleet figure replaces the older one from its date on",
     [est(1, "2022-06-01", 100), est(2, "2023-06-01", 200)], {},
     {DATES[0]: [1], DATES[1]: [2], DATES[2]: [2]}),
    ("same-day conflicts are stacked together",
     [est(1, "2023-06-01", 100), est(2, "2023-06-01", 300)], {},
     {DATES[0]: [], DATES[1]: [1, 2], DATES[2]: [1, 2]}),
    ("each chip is its own group",
     [est(1, "2022-06-01", 100), est(2, "2023-06-01", 50, chip=A100)], {},
     {DATES[0]: [1], DATES[1]: [1, 2], DATES[2]: [1, 2]}),
    ("a cluster's later phase replaces all of its earlier chips",
     [est(1, "2022-06-01", 100, scope="cluster", cluster="X"), est(2, "2022-06-01", 10, chip=A100, scope="cluster",
                                                                    cluster="X"),
      est(3, "2024-06-01", 500, scope="cluster", cluster=" x ")], {},
     {DATES[0]: [1, 2], DATES[1]: [1, 2], DATES[2]: [3]}),
    ("a planned row filtered out does not end the row before it",
     [est(1, "2022-06-01", 100), est(2, "2023-06-01", 900, status="planned")], {},
     {DATES[0]: [1], DATES[1]: [1], DATES[2]: [1]}),
    ("... but does when planned capacity is included",
     [est(1, "2022-06-01", 100), est(2, "2023-06-01", 900, status="planned")], {"include_planned": True},
     {DATES[0]: [1], DATES[1]: [2], DATES[2]: [2]}),
    ("a lease attributed to its user is a group of the user's, apart from the user's own fleet",
     [est(1, "2022-06-01", 100, org=2, user=1), est(2, "2023-06-01", 40, org=1)], {"attribute_to": "user"},
     {DATES[0]: [1], DATES[1]: [1, 2], DATES[2]: [1, 2]}),
    ("rows after the last date are never stacked", [est(1, "2025-06-01", 100)], {},
     {DATES[0]: [], DATES[1]: [], DATES[2]: []}),
]


@pytest.mark.parametrize("rows, options, expected", [c[1:] for c in STACK_CASES], ids=[c[0] for c in STACK_CASES])
def test_only_rows_that_can_count_are_stacked(rows, options, expected):
    assert stacked_ids(*rows, **options) == expected


def test_chunks_cover_every_date_once_and_respect_the_limit():
    # 40 clusters of 4 holders: each its own group, so all 40 rows count at every date
    rows = [est(i, f"2022-0{1 + i % 9}-01", 10 * i, org=1 + i % 4, scope="cluster", cluster=f"c{i}")
            for i in range(1, 41)]
    options = CombineOptions(as_of=DATES[-1])
    whole = list(date_stacks(frame(*rows), DATES, options))
    assert len(whole) == 1 and len(whole[0]) == 3 * 40
    key = ["organisation_id", "id"]
    for limit in (45, 12, 1):
        small = list(date_stacks(frame(*rows), DATES, options, limit=limit))
        together = pd.concat(small).sort_values(key, ignore_index=True)[key]
        pd.testing.assert_frame_equal(together, whole[0].sort_values(key, ignore_index=True)[key])
        # a date with more rows than the limit is cut by holder: each (date, holder) in one part
        holders = [set(part["organisation_id"]) for part in small]
        assert sum(len(h) for h in holders) == len(set().union(*holders))
        assert all(len(set(decode(part["organisation_id"], DATES)[0])) == 1 for part in small)
        # parts start at a holder's first row: at most the limit before it, plus that holder's rows
        assert all(len(part) < limit + 10 for part in small)
        assert len(small) == {45: 3, 12: 3 * 3, 1: 3 * 4}[limit]


def test_groups_numbered_by_arithmetic_or_by_sorting_are_the_same(monkeypatch):
    """The two ways ``group_codes`` numbers groups (the second for id spaces too wide for one int64)."""
    rows = [est(i, f"2023-0{1 + i % 9}-01", i, org=1 + i % 5, user=1 + i % 3 if i % 7 == 0 else None,
                chip=A100 if i % 3 else None, scope="cluster" if i % 4 == 0 else "fleet", cluster=f"c{i % 3}")
            for i in range(1, 80)]
    r = candidates.rows(frame(*rows), CombineOptions(as_of=DATES[-1], attribute_to="user"))
    numbered = date_stack.group_codes(r)
    monkeypatch.setattr(date_stack, "_ROOM", 1)
    by_sorting = date_stack.group_codes(r)
    assert 5 < len(set(numbered)) < len(r.row)  # some rows share a group, not all
    assert pd.factorize(numbered)[0].tolist() == pd.factorize(by_sorting)[0].tolist()


OPTIONS = [SeriesOptions(), SeriesOptions(attribute_to="user", include_planned=True),
           SeriesOptions(min_certainty="likely", basis="bf16")]


@pytest.mark.parametrize("options", OPTIONS, ids=["default", "user+planned", "likely+bf16"])
def test_the_series_equals_the_rule_at_each_date_on_its_own(seeded_engine, monkeypatch, options):
    """The quarter-end series of the seeded store against one fleet state per date; chunking changes nothing."""
    store = SessionStore(seeded_engine)
    estimates, chips, orgs = store.estimates(None), store.chips(), store.organisations()
    dates = series_dates(estimates, date(2025, 6, 30))[-12:]
    series = fleet_series(estimates, chips, orgs, dates, options)
    by_chip = chip_series(estimates, chips, orgs, dates, options)
    sums = chip_totals(estimates, chips, orgs, dates, options)
    monkeypatch.setattr(date_stack, "CHUNK_ROWS", 50)  # every date cut by holder
    pd.testing.assert_frame_equal(fleet_series(estimates, chips, orgs, dates, options), series)
    pd.testing.assert_frame_equal(chip_series(estimates, chips, orgs, dates, options), by_chip)
    pd.testing.assert_frame_equal(chip_totals(estimates, chips, orgs, dates, options), sums)
    assert len(sums) == len(by_chip.groupby(["date", "chip_key"]))
    checked = 0
    for when in dates[::3]:
        filters = Filters(as_of=when, basis=options.basis, include_planned=options.include_planned,
                          min_certainty=options.min_certainty, attribute_to=options.attribute_to)
        state = compute_fleet(store, filters).totals.set_index("holder_id")["h100e"]
        at = series.loc[series["date"] == pd.Timestamp(when)].set_index("holder_id")["h100e"].fillna(0.0)
        state, at = state.loc[state > 0], at.loc[at > 0]
        assert sorted(at.index) == sorted(state.index)
        assert at.reindex(state.index).to_numpy() == pytest.approx(state.to_numpy())
        per_holder = by_chip.loc[by_chip["date"] == pd.Timestamp(when)].groupby("holder_id")["h100e"].sum()
        assert per_holder.reindex(state.index).fillna(0.0).to_numpy() == pytest.approx(state.to_numpy())
        checked += len(state)
    assert checked > 100  # the seeded store has well over a hundred holders with a fleet


def test_ahead_makes_the_next_item_on_a_helper_thread_one_at_a_time():
    made: list[tuple[int, str]] = []
    held: list[int] = []

    def items():
        for i in range(5):
            made.append((i, threading.current_thread().name))
            yield i

    for item in date_stack.ahead(items()):
        held.append(item)
        time.sleep(0.02)  # the next item is made meanwhile, and no more than that
        assert max(i for i, _ in made) <= item + 1
    assert held == [0, 1, 2, 3, 4]
    assert all(name.startswith("fleet-stack") for _, name in made)


def test_ahead_hands_on_an_error_of_the_helper_thread():
    def items():
        yield 1
        raise ValueError("stack 2 failed")

    out = date_stack.ahead(items())
    assert next(out) == 1
    with pytest.raises(ValueError, match="stack 2 failed"):
        next(out)


def test_ahead_makes_items_itself_when_no_thread_can_be_started(monkeypatch):
    class Closed(ThreadPoolExecutor):
        def submit(self, *args, **kwargs):
            raise RuntimeError("cannot schedule new futures after interpreter shutdown")

    monkeypatch.setattr(date_stack, "ThreadPoolExecutor", Closed)
    assert list(date_stack.ahead(iter([1, 2, 3]))) == [1, 2, 3]
