"""AppTest of the Scrapers page (editors: preview -> commit, chip proposals) and the Scrape runs
page (anyone), on a real seeded store with the sources served from 127.0.0.1."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from fleet.auth import Actor
from fleet.config import SETTINGS_DOC
from fleet.db import make_engine, read_session
from fleet.editors import add_editor_account
from fleet.models import Chip, Estimate, IngestBatch
from tests.scrape_helpers import scrape, serve_sources, snapshot
from tests.webserver import FixtureServer

ALICE = Actor("alice", "password", "store")


@pytest.fixture
def web():
    server = FixtureServer().start()
    yield server
    server.stop()


@pytest.fixture
def store(seeded_url, web, tmp_path, monkeypatch):
    settings = serve_sources(web, tmp_path)
    for name, (env, _, _) in SETTINGS_DOC.items():
        if name.endswith("_url") and name != "database_url" or name == "html_tables_config":
            monkeypatch.setenv(env, getattr(settings, name))
    monkeypatch.setenv("FLEET_DATABASE_URL", seeded_url)
    monkeypatch.setattr("fleet.config._secrets_paths", lambda: [tmp_path / "secrets.toml"])
    engine = make_engine(seeded_url)
    add_editor_account(engine, Actor.cli("admin"), "alice", "a long passphrase")
    yield settings
    engine.dispose()


def open_page(module: str, actor: Actor | None = None, **query: str) -> AppTest:
    at = AppTest.from_string(f"from fleet.ui.pages import {module}\n{module}.render()", default_timeout=90)
    if actor is not None:
        at.session_state["fleet.actor"] = actor
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_a_viewer_sees_the_sources_but_cannot_run_them(store):
    at = open_page("scrapers_page")
    assert not at.exception, at.exception
    sources = at.dataframe[0].value
    assert list(sources["scraper"]) == ["epoch-gpu-clusters", "epoch-hardware", "epoch-staff", "epoch-models",
                                        "html-table"]
    assert any("log in as an editor" in i.value for i in at.info)
    assert not [b for b in at.button if b.label == "Fetch and preview"]


def test_an_editor_previews_a_scrape_then_commits_it(store, seeded_url):
    at = open_page("scrapers_page", ALICE)
    at.selectbox(key="scrapers.name").select("html-table").run()
    before = snapshot(seeded_url)
    button(at, "Fetch and preview").click().run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["new"]) > 0 and int(metrics["rejected"]) >= 3
    rejected = next(d.value for d in at.dataframe if "reason" in d.value.columns)
    assert "is not a whole number" in set(rejected["reason"])
    assert snapshot(seeded_url) == before  # the preview wrote nothing
    button(at, "Commit html-table").click().run()
    assert not at.exception, at.exception
    assert any("committed as batch" in s.value for s in at.success)
    engine = make_engine(seeded_url)
    with read_session(engine) as session:
        batch = session.execute(select(IngestBatch).where(IngestBatch.source_name == "html-table")).scalar_one()
        added = session.execute(select(Estimate.id).where(Estimate.batch_id == batch.id)).all()
    engine.dispose()
    assert batch.created_by == "alice" and len(added) == int(metrics["new"])


def test_an_editor_accepts_a_chip_proposal_on_the_page(store, seeded_url):
    scrape(seeded_url, store, "epoch-hardware")
    at = open_page("scrapers_page", ALICE)
    proposals = next(d.value for d in at.dataframe if "chip_name" in d.value.columns)
    gaudi = int(proposals.set_index("chip_name").at["Intel Habana Gaudi2", "id"])
    at.selectbox(key="scrapers.proposal").select(gaudi).run()
    button(at, "Accept").click().run()
    assert not at.exception, at.exception
    assert any(f"Proposal {gaudi} accepted" in s.value for s in at.success)
    engine = make_engine(seeded_url)
    with read_session(engine) as session:
        value = session.execute(select(Chip.peak_flops_bf16).where(Chip.name == "Intel Habana Gaudi2")).scalar_one()
    engine.dispose()
    assert value == pytest.approx(4.5e14)


def test_anyone_sees_past_runs_with_their_provenance(store, seeded_url):
    [outcome] = scrape(seeded_url, store, "epoch-staff")
    batch = outcome.result.batch_id
    at = open_page("scrape_runs", run=str(batch))
    assert not at.exception, at.exception
    runs = at.dataframe[0].value
    row = runs.set_index("batch").loc[batch]
    assert row["source"] == "epoch-staff" and row["HTTP"] == 200 and row["URL"] == store.epoch_staff_url
    assert row["ETag"] and len(row["sha256"]) == 12 and row["by"] == "scrape-test (cli)"
    documents = at.dataframe[1].value
    assert list(documents["role"]) == ["main"] and documents["kept (bytes, gzip)"].iloc[0] > 0


def test_a_junk_run_in_the_link_is_a_warning_not_an_error(store, seeded_url):
    scrape(seeded_url, store, "epoch-staff")
    at = open_page("scrape_runs", run="abc")
    assert not at.exception
    assert any("run" in w.value.lower() for w in at.warning)
    at = open_page("scrape_runs", run="999999")
    assert not at.exception and any("is not a scrape run" in w.value for w in at.warning)
