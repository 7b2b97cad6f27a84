"""The rule on two threads, a half of the holders each, gives what one pass gives: the same figures,
organisation-wide figures and contributions, value for value and in the same order."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import numpy as np
import pandas as pd
import pytest

from fleet.analytics import candidates
from fleet.analytics import combine as rule
from fleet.analytics.combine import Combined, CombineOptions, combine
from fleet.analytics.fleet import fleet_state
from fleet.views import SessionStore
from tests.test_combine import A100, H100, est, frame

OPTIONS = [CombineOptions(as_of=date(2025, 6, 30)),
           CombineOptions(as_of=date(2025, 6, 30), attribute_to="user", include_planned=True),
           CombineOptions(as_of=date(2023, 12, 31), min_certainty="likely"),
           CombineOptions(as_of=date(2030, 1, 1), attribute_to="user")]


def one_pass(estimates: pd.DataFrame, options: CombineOptions, monkeypatch) -> Combined:
    with monkeypatch.context() as m:
        m.setattr(rule, "SPLIT_ROWS", 10**12)
        return combine(estimates, options)


def in_halves(estimates: pd.DataFrame, options: CombineOptions, monkeypatch) -> Combined:
    seen: list[str] = []
    real = rule._combine

    def spy(frame, r):
        seen.append(threading.current_thread().name)
        return real(frame, r)

    with monkeypatch.context() as m:
        m.setattr(rule, "SPLIT_ROWS", 0)
        m.setattr(rule, "_WORKERS", True)
        m.setattr(rule, "_combine", spy)
        out = combine(estimates, options)
    assert len(seen) == 2 and any(name.startswith("fleet-combine") for name in seen)  # both halves, one on the worker
    return out


def assert_same(left: Combined, right: Combined) -> None:
    assert list(left.figures) == list(right.figures)
    for name, values in left.figures.items():
        assert values.dtype == right.figures[name].dtype, name
        np.testing.assert_array_equal(values, right.figures[name], err_msg=name)  # NaN equals NaN here
    pd.testing.assert_frame_equal(left.whole, right.whole, check_exact=True)
    pd.testing.assert_frame_equal(left.contributions, right.contributions, check_exact=True)
    for side in (left, right):  # the cluster rows alone are the contributions' cluster rows
        contributions = side.contributions
        pd.testing.assert_frame_equal(side.clusters.frame(), contributions.loc[contributions["component"] == "cluster"]
                                      .reset_index(drop=True), check_exact=True)


@pytest.mark.parametrize("options", OPTIONS, ids=["default", "user+planned", "likely-2023", "user-2030"])
def test_halves_equal_one_pass_on_the_seeded_store(seeded_engine, monkeypatch, options):
    estimates = SessionStore(seeded_engine).estimates(None)
    whole = one_pass(estimates, options, monkeypatch)
    assert len(whole.figures["qty"]) > 100 and len(whole.contributions)
    if options.as_of.year == 2025:
        assert len(whole.whole)  # organisation-wide figures on both sides of the cut are joined too
    assert_same(in_halves(estimates, options, monkeypatch), whole)


def leased_rows() -> list[dict]:
    """Holders on both sides of the cut with leases (parts of several owners), clusters, organisation-wide
    H100e figures and same-day conflicts."""
    rows = []
    for i in range(1, 400):
        org = 1 + i % 12
        rows.append(est(i, f"202{i % 4}-0{1 + i % 9}-01", 10 * i, org=org, chip=A100 if (i // 12) % 3 else H100,
                        scope="cluster" if i % 5 == 0 else "fleet", cluster=f"c{i % 4}" if i % 5 == 0 else None,
                        user=1 + (i * 5) % 12 if i % 8 == 1 else None, low=5 * i if i % 8 == 0 else None,
                        status="decommissioned" if i % 37 == 0 else "operational"))
    rows += [est(1000 + org, "2023-03-01", h100e=5000.0 * org, org=org) for org in range(1, 13)]
    return rows


@pytest.mark.parametrize("options", OPTIONS, ids=["default", "user+planned", "likely-2023", "user-2030"])
def test_halves_equal_one_pass_with_leases_attributed_to_users(monkeypatch, options):
    estimates = frame(*leased_rows())
    whole = one_pass(estimates, options, monkeypatch)
    if options.attribute_to == "user":
        assert 0 < whole.single < len(whole.figures["qty"])  # some (holder, chip) figures add several owners' parts
    assert_same(in_halves(estimates, options, monkeypatch), whole)


def test_the_fleet_state_is_the_same_either_way(seeded_engine, monkeypatch):
    store = SessionStore(seeded_engine)
    estimates, chips, orgs = store.estimates(None), store.chips(), store.organisations()
    with monkeypatch.context() as m:
        m.setattr(rule, "SPLIT_ROWS", 10**12)
        expected = fleet_state(estimates, chips, orgs, as_of=date(2025, 6, 30))
    monkeypatch.setattr(rule, "SPLIT_ROWS", 0)
    monkeypatch.setattr(rule, "_WORKERS", True)
    got = fleet_state(estimates, chips, orgs, as_of=date(2025, 6, 30))
    pd.testing.assert_frame_equal(got.totals, expected.totals, check_exact=True)
    pd.testing.assert_frame_equal(got.by_chip, expected.by_chip, check_exact=True)


@pytest.mark.parametrize(("holders", "low_side"), [
    ([1] * 10 + [2] * 10, {1}),
    ([5, 1, 9, 1, 9, 5, 3], {1, 3}),  # 3 of 7 rows below the cut
    ([7] * 50 + [8], {7}),  # the median holder is the largest but one: cut above it
    ([1] + [8] * 50, {1}),  # the median holder is the largest: cut below it
    ([10**15 + 3, 4, 10**15 + 3, 4, 10**12], {4, 10**12}),  # a range too wide to count (date-stacked ids)
])
def test_halves_put_each_holder_on_one_side_lower_ids_first(holders, low_side):
    holder = np.array(holders, dtype="int64")
    found = candidates.Found(at=np.arange(len(holder)), owner=holder, holder=holder, dead=np.array([]),
                             rank=np.array([]), fleet=np.array([]), cluster=np.array([]), cluster_keys=np.array([]))
    low, high = found.halves()
    assert set(holder[low]) == low_side
    assert sorted([*low, *high]) == list(range(len(holder)))  # every row on one side, once
    assert holder[low].max() < holder[high].min()


def test_one_holder_is_not_split():
    holder = np.full(30, 4, dtype="int64")
    found = candidates.Found(at=np.arange(30), owner=holder, holder=holder, dead=np.array([]), rank=np.array([]),
                             fleet=np.array([]), cluster=np.array([]), cluster_keys=np.array([]))
    assert found.halves() is None


def test_one_pass_when_no_thread_can_be_started(monkeypatch):
    """At interpreter exit (the frame cache's writer finishing) an executor takes no new work."""
    estimates = frame(*leased_rows())
    options = OPTIONS[1]
    expected = one_pass(estimates, options, monkeypatch)
    closed = ThreadPoolExecutor(max_workers=1)
    closed.shutdown()
    monkeypatch.setattr(rule, "SPLIT_ROWS", 0)
    monkeypatch.setattr(rule, "_WORKERS", True)
    monkeypatch.setattr(rule, "_pool", lambda: closed)
    assert_same(combine(estimates, options), expected)


def test_kind_and_country_filters_keep_exactly_those_holders(seeded_engine):
    store = SessionStore(seeded_engine)
    estimates, chips, orgs = store.estimates(None), store.chips(), store.organisations()
    every = fleet_state(estimates, chips, orgs, as_of=date(2025, 6, 30)).holders
    kind, country = every["kind"].iloc[0], every["country"].dropna().iloc[0]
    some = fleet_state(estimates, chips, orgs, as_of=date(2025, 6, 30), kinds=(kind,), countries=(country,)).holders
    wanted = every.loc[(every["kind"] == kind) & (every["country"] == country)]
    assert 0 < len(some) < len(every)
    pd.testing.assert_frame_equal(some.reset_index(drop=True), wanted.reset_index(drop=True), check_exact=True)
