"""AppTest of the app frame and the organisations page on a seeded store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

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
