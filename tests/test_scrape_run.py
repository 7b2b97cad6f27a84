"""Scrapes end to end on SQLite and Postgres: a real HTTP server, real httpx, the real store.

Epoch's real files are served from 127.0.0.1; the seeded store was built from the same
files, which gives exact expectations: a scrape of them adds nothing new.
"""

from __future__ import annotations

import gzip

import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.pool import NullPool

from fleet.auth import Actor
from fleet.db import make_engine, read_session
from fleet.ingest.revert import revert_batch
from fleet.models import AuditEntry, Chip, Estimate, IngestBatch, Organisation, RawDocumentRow
from fleet.queries import ESTIMATE_FRAME_COLUMNS, estimates_frame
from tests.factories import add_estimates, estimate_row
from tests.scrape_helpers import DATA, EDITOR, EPOCH_FILES, scrape, serve_sources, snapshot
from tests.webserver import FixtureServer

CLUSTERS = EPOCH_FILES["epoch_gpu_clusters_url"][1].read_bytes()


@pytest.fixture
def web():
    server = FixtureServer().start()
    yield server
    server.stop()


def _engine(url):
    return make_engine(url, poolclass=NullPool)


def _retract_seeded_clusters(url: str) -> int:
    """Revert the seed's Epoch-clusters batch, so the scrape has everything to add again."""
    engine = _engine(url)
    with read_session(engine) as session:
        batch_id = session.execute(select(IngestBatch.id).where(IngestBatch.source_name == "epoch-gpu-clusters")
                                   ).scalar_one()
    revert_batch(engine, batch_id, Actor.system("test"), reason="make room for the scrape test")
    engine.dispose()
    return batch_id


def _live(url: str, org: str) -> pd.DataFrame:
    engine = _engine(url)
    with read_session(engine) as session:
        org_id = session.execute(select(Organisation.id).where(Organisation.name == org)).scalar_one()
        chips = dict(session.execute(select(Chip.id, Chip.name)).all())
        frame = estimates_frame(session, organisation_ids=[org_id], columns=ESTIMATE_FRAME_COLUMNS)
    engine.dispose()
    return frame.assign(chip=frame["chip_id"].map(chips))


def test_a_scrape_of_the_file_the_seed_was_built_from_adds_nothing(seeded_url, web, tmp_path):
    settings = serve_sources(web, tmp_path)
    before = snapshot(seeded_url)
    [outcome] = scrape(seeded_url, settings, "epoch-gpu-clusters", dry_run=True)
    assert outcome.status == "dry-run", outcome.message
    counts = outcome.plan.counts()
    assert (counts["new"], counts["changed"], counts["conflict"], counts["unchanged"]) == (0, 0, 0, 587)
    assert outcome.plan.messages() == []
    assert snapshot(seeded_url) == before  # a dry run writes nothing


def test_the_real_clusters_file_loads_as_one_batch_with_provenance(seeded_url, web, tmp_path):
    _retract_seeded_clusters(seeded_url)
    settings = serve_sources(web, tmp_path)
    [outcome] = scrape(seeded_url, settings, "epoch-gpu-clusters")
    assert outcome.status == "ok", outcome.message
    result = outcome.result
    assert (result.added, result.plan.rejected_rows, result.organisations_created) == (587, 0, [])
    assert outcome.plan.rows["organisation"].nunique() == 152 and outcome.plan.rows["cluster"].nunique() == 502
    engine = _engine(seeded_url)
    with read_session(engine) as session:
        batch = session.get(IngestBatch, result.batch_id)
        assert (batch.kind, batch.source_name, batch.created_by) == ("scraper", "epoch-gpu-clusters",
                                                                     "scrape-test (cli)")
        assert batch.location == settings.epoch_gpu_clusters_url and batch.http_status == 200
        assert batch.etag and batch.size_bytes == len(CLUSTERS) and batch.fetched_at is not None
        assert (batch.rows_added, batch.rows_rejected) == (587, 0)
        doc = session.execute(select(RawDocumentRow).where(RawDocumentRow.batch_id == batch.id)).scalar_one()
        assert gzip.decompress(doc.payload) == CLUSTERS and doc.sha256 == batch.sha256
        audit = session.execute(select(AuditEntry).where(AuditEntry.batch_id == batch.id)).scalars().all()
        assert [a.action for a in audit] == ["batch.scraper"]
        assert audit[0].after["rejected"] == []
    engine.dispose()
    xai = _live(seeded_url, "xAI")
    colossus = xai[(xai["cluster"] == "xAI Colossus Memphis") & (xai["chip"] == "NVIDIA H100 SXM5 80GB")]
    assert 100_000 in set(colossus["count"]) and set(colossus["batch_id"]) == {result.batch_id}
    microsoft = _live(seeded_url, "Microsoft")  # "OpenAI,Microsoft" rows: Microsoft's, leased to OpenAI
    assert (microsoft["access"] == "leased").sum() >= 5


def test_an_unchanged_source_is_not_modified_and_writes_nothing(db_url, web, tmp_path):
    settings = serve_sources(web, tmp_path)
    [first] = scrape(db_url, settings, "epoch-staff")
    assert first.status == "ok", first.message
    after_first = snapshot(db_url)
    [again] = scrape(db_url, settings, "epoch-staff")
    assert again.status == "not-modified" and again.docs["main"].status == 304
    assert web.hits_of("/staff_reports.csv")[-1].headers["if-none-match"] == first.docs["main"].etag
    assert snapshot(db_url) == after_first


def test_the_content_hash_short_circuits_a_server_without_validators(db_url, web, tmp_path):
    settings = serve_sources(web, tmp_path)
    web.routes["/staff_reports.csv"].etag = False
    scrape(db_url, settings, "epoch-staff")
    after_first = snapshot(db_url)
    [again] = scrape(db_url, settings, "epoch-staff")
    assert again.status == "not-modified" and again.docs["main"].unchanged
    assert snapshot(db_url) == after_first


def test_a_drifted_header_fails_naming_column_and_source_and_writes_nothing(seeded_url, web, tmp_path):
    drifted = CLUSTERS.replace(b"Chip quantity (primary)", b"Chip count (primary)", 1)
    settings = serve_sources(web, tmp_path, epoch_gpu_clusters_url=drifted)
    before = snapshot(seeded_url)
    [outcome] = scrape(seeded_url, settings, "epoch-gpu-clusters")
    assert outcome.status == "failed"
    assert outcome.message == ("epoch-gpu-clusters: Epoch AI gpu_clusters.csv: missing required column "
                               "'Chip quantity (primary)'")
    assert snapshot(seeded_url) == before


def test_scrape_all_runs_every_source_and_a_failing_one_fails_alone(seeded_url, web, tmp_path):
    settings = serve_sources(web, tmp_path)
    web.routes["/ml_hardware.csv"].statuses = [500] * 10
    outcomes = scrape(seeded_url, settings, "epoch-gpu-clusters", "epoch-hardware", "epoch-staff", "epoch-models",
                      "html-table")
    status = {o.source: o.status for o in outcomes}
    assert status == {"epoch-gpu-clusters": "ok", "epoch-hardware": "failed", "epoch-staff": "ok",
                      "epoch-models": "ok", "html-table": "ok"}
    failed = next(o for o in outcomes if o.failed)
    assert failed.message.startswith("epoch-hardware: GET ") and "HTTP 500" in failed.message
    engine = _engine(seeded_url)
    with read_session(engine) as session:
        sources = set(session.execute(select(IngestBatch.source_name).where(IngestBatch.kind == "scraper")).scalars())
    engine.dispose()
    assert sources == {"epoch-gpu-clusters", "epoch-staff", "epoch-models", "html-table"}


def test_a_changed_row_supersedes_its_own_source_but_never_a_manual_estimate(seeded_url, web, tmp_path):
    engine = _engine(seeded_url)
    with read_session(engine) as session:
        meta = session.execute(select(Organisation.id).where(Organisation.name == "Meta")).scalar_one()
        h100 = session.execute(select(Chip.id).where(Chip.name == "NVIDIA H100 SXM5 80GB")).scalar_one()
        seeded = session.execute(select(Estimate).where(
            Estimate.organisation_id == meta, Estimate.cluster == "Meta GenAI 2024a", Estimate.chip_id == h100)
        ).scalar_one()
    engine.dispose()
    manual_row = estimate_row(meta, h100, 25_000, valid_on=seeded.valid_on.isoformat(), scope="cluster",
                              cluster="Meta GenAI 2024a", source_url="https://example.org/a-journalist")
    _, [manual_id], _ = add_estimates(engine, [manual_row])
    text = CLUSTERS.decode()
    line = next(line for line in text.splitlines() if line.startswith("Meta GenAI 2024a,"))
    assert ",24576.0," in line  # Epoch corrects the chip quantity of one cluster:
    edited = text.replace(line, line.replace(",24576.0,", ",24000.0,", 1)).encode()
    settings = serve_sources(web, tmp_path, epoch_gpu_clusters_url=edited)
    [outcome] = scrape(seeded_url, settings, "epoch-gpu-clusters")
    assert outcome.status == "ok", outcome.message
    changed = outcome.plan.rows[outcome.plan.rows["state"] == "changed"]
    assert list(changed["supersedes_id"]) == [seeded.id] and outcome.result.superseded == 1
    live = _live(seeded_url, "Meta")
    mine = live[live["cluster"] == "Meta GenAI 2024a"].set_index("id")
    assert seeded.id not in mine.index  # corrected by its own source ...
    assert manual_id in mine.index and mine.at[manual_id, "count"] == 25_000  # ... the manual one untouched
    assert 24_000 in set(mine["count"])


def test_only_editors_may_commit_a_scrape(seeded_url, web, tmp_path):
    settings = serve_sources(web, tmp_path)
    before = snapshot(seeded_url)
    stranger = Actor("mallory", "password", "store")  # not an editor account in this store
    [outcome] = scrape(seeded_url, settings, "epoch-staff", actor=stranger)
    assert outcome.status == "failed" and "no longer an editor" in outcome.message
    [anonymous] = scrape(seeded_url, settings, "epoch-staff", actor=None)
    assert anonymous.status == "failed" and "needs an editor" in anonymous.message
    assert snapshot(seeded_url) == before


def test_a_strict_scrape_with_a_rejected_row_writes_nothing(seeded_url, web, tmp_path):
    _retract_seeded_clusters(seeded_url)
    before = snapshot(seeded_url)
    real = (DATA / "epoch" / "gpu_clusters" / "gpu_clusters.csv").read_bytes()
    absurd = real.replace(b"50025265.28623454", b"5002526528623.454", 1)  # a units slip: 5e12 H100e
    assert absurd != real
    settings = serve_sources(web, tmp_path, epoch_gpu_clusters_url=absurd)
    [outcome] = scrape(seeded_url, settings, "epoch-gpu-clusters", strict=True)
    assert outcome.status == "failed" and "1 rows were rejected and the run is strict" in outcome.message
    assert snapshot(seeded_url) == before
