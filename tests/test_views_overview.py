"""The Overview and GPU-rich vs GPU-poor page data (``fleet.views``) on a seeded store, both
backends: the tables agree with each other, with the rule, and with the threshold."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleet.db import make_engine
from fleet.view_state import decode
from fleet.views import SessionStore, build_view, load_all, overview
from fleet.views.rich_poor import THRESHOLDS, parse_threshold
from fleet.vocab import GPU_RICH_H100E

TODAY = date.today().isoformat()


@pytest.fixture
def store(seeded_url):
    engine = make_engine(seeded_url)
    yield SessionStore(engine)
    engine.dispose()


def view(store, page_id: str, **query) -> dict:
    spec = load_all()[page_id]
    values, warnings = decode(query, spec.all_params())
    assert not warnings
    return build_view(store, page_id, values)


def test_overview_tables_agree(store):
    tables = view(store, "overview", top="5", as_of=TODAY)
    board, top, kpis = tables["leaderboard"], tables["top"], tables["kpis"].set_index("Measure")
    assert list(top["Organisation"]) == list(board["Organisation"][:5])
    assert kpis.loc["Organisations", "Value"] == len(board)
    rich = board["H100e (8bit basis)"] >= GPU_RICH_H100E
    assert kpis.loc["GPU-rich (≥ 20k H100e)", "Value"] == rich.sum()
    tracked = kpis.loc["H100e tracked (8bit basis)", "Value"]
    # The tracked total also holds unattributed clusters, so it is at least the leaderboard's sum.
    assert tracked >= board["H100e (8bit basis)"].sum() - len(board)
    share = kpis.loc["GPU-rich share (%)"]
    assert share["Low"] <= share["Value"] <= share["High"]
    assert share["Value"] == pytest.approx(100 * board.loc[rich, "H100e (8bit basis)"].sum() / tracked, abs=0.01)


def test_rich_poor_tables_agree_at_each_threshold(store):
    for threshold in (1_000, GPU_RICH_H100E, 1_000_000):
        tables = view(store, "rich-poor", threshold=str(threshold), as_of=TODAY)
        split = tables["split"].set_index("Group")
        organisations = split.loc[["GPU-rich", "GPU-poor"], "Organisations"].sum()
        hist = tables["histogram"]
        assert hist["GPU-rich organisations"].sum() == split.loc["GPU-rich", "Organisations"]
        assert hist["GPU-poor organisations"].sum() == split.loc["GPU-poor", "Organisations"]
        rich_bins = hist.loc[hist["GPU-rich organisations"] > 0]
        assert (rich_bins.iloc[:, 1] > threshold).all()  # no rich organisation in a bin wholly below the line
        assert len(tables["lorenz"]) == organisations + 1
        assert tables["lorenz"]["Cumulative share of H100e (%)"].iloc[-1] == pytest.approx(100)
        assert split["Share of tracked H100e (%)"].sum() == pytest.approx(100, abs=0.05)
        last = tables["over_time"].iloc[-1]
        assert last["Quarter end"] == date.today()
        assert last["GPU-rich organisations"] == split.loc["GPU-rich", "Organisations"]
        assert last["GPU-poor organisations"] == split.loc["GPU-poor", "Organisations"]


def test_rich_poor_over_time_respects_known_at(store):
    before = view(store, "rich-poor", as_of=TODAY, known_at="2000-01-01T00:00:00")
    assert before["over_time"].empty and before["lorenz"].empty
    assert (before["split"]["Organisations"] == 0).all()


@pytest.mark.parametrize("text, expected", [("20000", 20_000), ("20,000", 20_000), ("1e5", 100_000),
                                            ("150", 150), ("10000000", 10_000_000)])
def test_threshold_marks_parse(text, expected):
    assert parse_threshold(text) == expected and expected in THRESHOLDS


@pytest.mark.parametrize("text, message", [("abc", "could not convert"), ("0", "positive"), ("nan", "positive"),
                                           ("25000", "nearest is 30000"), ("99", "nearest is 100")])
def test_threshold_off_the_marks_is_refused(text, message):
    with pytest.raises(ValueError, match=message):
        parse_threshold(text)


NAMES = ["Meta", "Google DeepMind", "xAI", "AT&T", "50% Labs", "Zhipu/智谱", "a#b?c=d", "  spaced  ", "", "tab\there",
         "e\u0301", "semi;colon", "plus+one", "~tilde.under_score-dash"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=20), max_size=30))
def test_org_page_urls_are_each_name_s_org_page_url(names):
    names = pd.Series(NAMES + names, dtype="str")
    assert list(overview.org_page_urls(names)) == [overview.org_page_url(n) for n in names]
