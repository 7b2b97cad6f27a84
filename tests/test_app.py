"""AppTest of the app frame and the organisations page on a seeded store."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.apptest import ok

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")


@pytest.fixture
def app_on(monkeypatch):
    def make(url: str) -> AppTest:
        monkeypatch.setenv("FLEET_DATABASE_URL", url)
        at = AppTest.from_file(APP, default_timeout=60)
        return at.run()
    return make


def test_overview_lists_seeded_organisations_with_h100e_and_sources(seeded_url, app_on):
    at = app_on(seeded_url)
    assert not at.exception, at.exception
    assert at.title[0].value == "Overview"
    table = at.dataframe[0].value
    assert len(table) >= 100
    assert {"Organisation", "H100e (8bit basis)", "Latest source"} <= set(table.columns)
    names = set(table["Organisation"])
    assert {"Meta", "Microsoft", "Google", "xAI"} <= names
    assert table["H100e (8bit basis)"].is_monotonic_decreasing
    assert table["Latest source"].str.startswith("http").all()
    assert any("Epoch AI" in c.value for c in at.caption)
    rule = [e for e in at.sidebar.expander if e.label == "How estimates combine"]
    assert rule and "clusters are a lower bound of a fleet" in rule[0].markdown[0].value


def test_an_unmigrated_database_gets_a_friendly_message_not_a_trace(tmp_path, app_on):
    at = app_on(f"sqlite:///{tmp_path / 'nothing.db'}")
    assert not at.exception
    assert any("not ready" in e.value for e in at.error)


def test_an_empty_store_says_how_to_seed(db_url, app_on):
    at = app_on(db_url)
    assert not at.exception
    assert any("fleet seed" in i.value for i in at.info)


def test_the_frame_leaves_each_page_unimported_until_it_is_shown():
    """A new server's first visitor waits for the imports of the page shown, not for every page's
    (the Contribute pages bring httpx, pandera and the importer; argon2 hashes nothing at import)."""
    code = ("import sys, fleet.ui.frame, fleet.auth; print(fleet.auth._dummy_hash.cache_info().currsize, "
            "*(m for m in sys.modules if m.startswith('fleet.ui.pages.') or m in ('httpx', 'pandera')))")
    loaded = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert loaded.stdout.split() == ["0"]


# --- the live estimates read ahead of a page's imports (fleet.ui.cached.read_estimates_ahead) ------

def _overview_through_the_frame():
    from fleet.ui.frame import _render

    _render("overview", live=True)()


@pytest.fixture
def reads(monkeypatch, tmp_path):
    """The names of the threads that read the live estimates now from the store, in a frame cache of
    the test's own (``queries.estimates_frame`` counted, not replaced)."""
    from fleet import queries

    monkeypatch.setenv("FLEET_FRAME_CACHE_DIR", str(tmp_path / "frames"))
    seen, real = [], queries.estimates_frame

    def counted(session, **options):
        if options.get("known_at") is None:
            seen.append(threading.current_thread().name)
        return real(session, **options)

    monkeypatch.setattr(queries, "estimates_frame", counted)
    return seen


def test_a_live_page_reads_the_estimates_once_on_a_thread_started_before_its_imports(seeded_url, open_page, reads):
    at = ok(open_page(seeded_url, _overview_through_the_frame))
    assert reads == ["fleet-read-ahead"]
    assert len(at.dataframe[0].value) >= 100
    ok(at.run())  # a rerun: the same version, nothing read again
    assert reads == ["fleet-read-ahead"]


def test_nothing_is_read_ahead_when_the_estimates_are_kept_on_disk(seeded_sqlite, open_page, reads):
    from fleet import framecache
    from fleet.ui import cached

    first = ok(open_page(seeded_sqlite, _overview_through_the_frame))
    framecache.flush()
    st.cache_resource.clear()  # as a new server process: only the files remain
    st.cache_data.clear()
    cached._read_ahead.clear()
    again = ok(open_page(seeded_sqlite, _overview_through_the_frame))
    assert reads == ["fleet-read-ahead"]  # the first process's read only
    assert again.dataframe[0].value.equals(first.dataframe[0].value)


def test_a_past_state_of_knowledge_reads_no_live_estimates_ahead(seeded_sqlite, open_page, reads):
    ok(open_page(seeded_sqlite, _overview_through_the_frame, known_at="2024-06-01T00:00:00"))
    assert "fleet-read-ahead" not in reads
