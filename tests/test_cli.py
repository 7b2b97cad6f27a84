"""The CLI against real databases: migrate, seed, stats, export, and its exit codes."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from fleet.analytics.fleet import DETAIL_COLUMNS
from fleet.cli import app

runner = CliRunner()


def invoke(url: str, *args: str):
    return runner.invoke(app, ["--db", url, *args], catch_exceptions=False)


def test_db_upgrade_downgrade_and_stats_on_an_empty_database(empty_url):
    assert invoke(empty_url, "db", "upgrade").exit_code == 0
    result = invoke(empty_url, "stats")
    assert json.loads(result.stdout) == {"organisations": 0, "estimates": 0, "chips": 0, "batches": 0}
    assert invoke(empty_url, "db", "downgrade", "base").exit_code == 0
    assert invoke(empty_url, "db", "upgrade", "head").exit_code == 0


def test_seed_is_idempotent_and_stats_report_it(db_url):
    first = invoke(db_url, "seed")
    assert first.exit_code == 0, first.output
    stats = json.loads(invoke(db_url, "stats").stdout)
    assert stats["organisations"] >= 100 and stats["estimates"] >= 500 and stats["chips"] >= 100
    second = invoke(db_url, "seed")
    assert json.loads(second.stdout)["rows_added"] == 0
    assert json.loads(invoke(db_url, "stats").stdout) == stats


def test_export_estimates_writes_every_live_estimate_with_names(seeded_url, tmp_path):
    out = tmp_path / "estimates.csv"
    result = invoke(seeded_url, "export", "estimates", "--out", str(out))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    stats = json.loads(invoke(seeded_url, "stats").stdout)
    assert len(rows) == stats["estimates"]
    assert {"organisation", "chip", "count", "h100e", "valid_on", "source_url"} <= set(rows[0])
    assert all(r["organisation"] for r in rows) and all(r["source_url"].startswith("http") for r in rows)
    stdout = invoke(seeded_url, "export", "estimates").stdout
    assert len(list(csv.DictReader(io.StringIO(stdout)))) == len(rows)


@pytest.mark.parametrize("args", [["no-such-command"], ["db", "downgrade"], ["export", "estimates", "--bogus"]])
def test_usage_errors_exit_with_2(args):
    result = runner.invoke(app, args)
    assert result.exit_code == 2


def test_warm_fills_the_frame_cache_so_the_app_finds_the_state_without_combining(seeded_url, tmp_path, monkeypatch):
    from fleet import materialised
    from fleet.db import data_version, make_engine, read_session
    from fleet.view_state import Filters

    monkeypatch.setenv("FLEET_FRAME_CACHE_DIR", str(tmp_path))
    result = invoke(seeded_url, "warm")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["estimates"] > 500 and report["organisations"] > 100 and report["folder"] == str(tmp_path)
    engine = make_engine(seeded_url)
    with read_session(engine) as session:
        version = (seeded_url, *data_version(session))

    def must_not_run():
        raise AssertionError("the state should have come from the warmed files")

    state = materialised.fleet_state(str(tmp_path), version, Filters.from_values({}), must_not_run)
    assert len(state.totals) == report["organisations"]
    # the warmed file keeps the leaderboard's columns; the narrow frame is the same rows without them
    pd.testing.assert_frame_equal(state.holders, state.totals.drop(columns=list(DETAIL_COLUMNS)))
    # the big parts are read from their files when asked, each time: the cached state does not hold them
    by_chip = state.by_chip
    assert len(by_chip) > 100 and len(state.contributions) > 100 and state.by_chip is not by_chip
    pd.testing.assert_frame_equal(state.by_chip, by_chip)
    frame = materialised.estimates(str(tmp_path), version, None, engine=None)  # no engine needed: on disk
    assert len(frame) == report["estimates"]
    engine.dispose()


def _page_by_module():
    import os

    from fleet.ui.frame import _render

    _render(os.environ["FLEET_TEST_PAGE"], live=True)()


# the Explore pages but Claims, which combines the fleets at each claim's own date and basis (not warmed)
EXPLORE_MODULES = ("overview", "rich_poor", "organisation", "chips_page", "researchers", "countries", "projections")


def test_warm_fills_each_page_s_default_view_so_a_new_server_builds_none(seeded_sqlite, tmp_path, monkeypatch):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from fleet.ui import cached
    from fleet.views import load_all
    from tests.apptest import ok

    monkeypatch.setenv("FLEET_FRAME_CACHE_DIR", str(tmp_path))
    result = invoke(seeded_sqlite, "warm")
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.stdout)["pages"]) == {*load_all(), "projections", "(series over time)"}
    built, build = [], cached.build_view
    monkeypatch.setattr(cached, "build_view", lambda store, page_id, values: built.append(page_id)
                        or build(store, page_id, values))
    for name in ("compute_series", "compute_crossings", "compute_fleet"):  # the projections' series and crossings
        real = getattr(cached, name)
        monkeypatch.setattr(cached, name, lambda *a, _name=name, _real=real, **k: built.append(_name) or _real(*a, **k))
    st.cache_resource.clear()  # as a new server process: only the warmed files
    st.cache_data.clear()
    monkeypatch.setenv("FLEET_DATABASE_URL", seeded_sqlite)
    for module in EXPLORE_MODULES:
        monkeypatch.setenv("FLEET_TEST_PAGE", module)
        ok(AppTest.from_function(_page_by_module, default_timeout=120).run())
    assert built == []  # every page found its default view, state, series and crossings on disk
    monkeypatch.setenv("FLEET_TEST_PAGE", "chips_page")
    at = AppTest.from_function(_page_by_module, default_timeout=120)
    at.query_params["show"] = "h100e"
    ok(at.run())
    assert built == ["chips"]  # another view state is built as before


def test_warm_refuses_when_the_frame_cache_is_off(seeded_url, monkeypatch):
    monkeypatch.setenv("FLEET_FRAME_CACHE_DIR", "off")
    result = invoke(seeded_url, "warm")
    assert result.exit_code == 1 and "frame cache is off" in result.output
