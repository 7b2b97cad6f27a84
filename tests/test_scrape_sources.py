"""Each source's loading on SQLite and Postgres: html-table pages, chip proposals an editor
decides, Epoch models and staff reports, and re-parsing a document kept in the store."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.pool import NullPool

from fleet.auth import Actor, NotAnEditor
from fleet.db import make_engine, read_session
from fleet.ingest.errors import IngestError
from fleet.ingest.scrapers import proposals
from fleet.models import AuditEntry, Chip, ChipProposal, Estimate, ModelRun
from tests.scrape_helpers import EDITOR, EPOCH_FILES, scrape, serve_sources, snapshot
from tests.webserver import FixtureServer


@pytest.fixture
def web():
    server = FixtureServer().start()
    yield server
    server.stop()


def test_html_tables_load_valid_rows_and_name_every_rejected_one(seeded_url, web, tmp_path):
    settings = serve_sources(web, tmp_path)
    [plan_run] = scrape(seeded_url, settings, "html-table", dry_run=True)
    assert plan_run.status == "dry-run", plan_run.message
    messages = plan_run.plan.messages()
    assert "row 7, column count: value 'about 24000' — is not a whole number" in messages
    assert any(m.startswith("row 8, column organisation: value 'University of Bristol' — unknown organisation")
               for m in messages)
    assert any(m.startswith("row 9, column organisation: value 'Swiss National Supercomputing Centre (CSCS)'")
               for m in messages)
    [run] = scrape(seeded_url, settings, "html-table")
    assert run.status == "ok" and run.result.added == plan_run.plan.counts()["new"] + \
        plan_run.plan.counts()["conflict"] + plan_run.plan.counts()["changed"]
    engine = make_engine(seeded_url, poolclass=NullPool)
    with read_session(engine) as session:
        rows = session.execute(select(Estimate.cluster, Estimate.count, Estimate.source_url, Estimate.source_title)
                               .where(Estimate.batch_id == run.result.batch_id)).all()
    engine.dispose()
    by_cluster = {r.cluster: r for r in rows}
    assert by_cluster["Colossus (Memphis)"].count == 100_000
    assert by_cluster["Colossus (Memphis)"].source_url == "https://x.ai/colossus"
    assert by_cluster["Frontier"].source_title == "TOP500 List - June 2025"
    assert "JUPITER" not in by_cluster and "Alps" not in by_cluster
    [again] = scrape(seeded_url, settings, "html-table")
    assert again.status == "not-modified"


def test_hardware_changes_are_proposals_an_editor_accepts_or_rejects(seeded_url, web, tmp_path):
    settings = serve_sources(web, tmp_path)
    catalog_before = snapshot(seeded_url)
    [run] = scrape(seeded_url, settings, "epoch-hardware")
    assert run.status == "ok", run.message
    assert {p.chip_name for p in run.plan.proposals} == {
        "Intel Habana Gaudi2", "Intel Habana Gaudi3", "Amazon Trainium1", "NVIDIA H100 PCIe"}
    engine = make_engine(seeded_url, poolclass=NullPool)
    with read_session(engine) as session:
        pending = proposals.pending_frame(session).set_index("chip_name")
        gaudi2 = session.execute(select(Chip).where(Chip.name == "Intel Habana Gaudi2")).scalar_one()
        assert gaudi2.peak_flops_bf16 == pytest.approx(4.32e14)  # the scrape changed nothing in the catalog
    assert len(pending) == 4 and snapshot(seeded_url)["chip_proposal"] == catalog_before["chip_proposal"] + 4
    with pytest.raises(NotAnEditor):
        proposals.decide(engine, Actor("mallory", "password", "store"), int(pending.at["Intel Habana Gaudi2", "id"]),
                         accept=True)
    proposals.decide(engine, EDITOR, int(pending.at["Intel Habana Gaudi2", "id"]), accept=True)
    proposals.decide(engine, EDITOR, int(pending.at["Amazon Trainium1", "id"]), accept=False, note="Epoch's typo")
    with read_session(engine) as session:
        gaudi2 = session.execute(select(Chip).where(Chip.name == "Intel Habana Gaudi2")).scalar_one()
        assert gaudi2.peak_flops_bf16 == pytest.approx(4.5e14)
        audit = session.execute(select(AuditEntry).where(AuditEntry.action == "chip.update")).scalar_one()
        assert audit.before["peak_flops_bf16"] == pytest.approx(4.32e14) and audit.entity_id == gaudi2.id
        statuses = dict(session.execute(select(ChipProposal.chip_name, ChipProposal.status)).all())
    assert statuses["Intel Habana Gaudi2"] == "accepted" and statuses["Amazon Trainium1"] == "rejected"
    with pytest.raises(IngestError, match="is not pending"):
        proposals.decide(engine, EDITOR, int(pending.at["Amazon Trainium1", "id"]), accept=True)
    engine.dispose()
    web.routes["/ml_hardware.csv"].body += b"\n"  # new bytes, same content: nothing is proposed twice
    [again] = scrape(seeded_url, settings, "epoch-hardware")
    assert again.status == "ok" and again.result.added == 0
    assert {p.state for p in again.plan.proposals} == {"already proposed"}


def test_a_proposal_against_a_catalog_that_changed_since_is_refused(seeded_url, web, tmp_path):
    scrape(seeded_url, serve_sources(web, tmp_path), "epoch-hardware")
    engine = make_engine(seeded_url, poolclass=NullPool)
    with read_session(engine) as session:
        proposal_id = int(proposals.pending_frame(session).set_index("chip_name").at["NVIDIA H100 PCIe", "id"])
    from fleet.db import write_session
    with write_session(engine) as (session, _):
        session.execute(select(Chip).where(Chip.name == "NVIDIA H100 PCIe")).scalar_one().memory_bw_gb_s = 1900.0
    with pytest.raises(IngestError, match="memory_bw_gb_s changed since this was proposed"):
        proposals.decide(engine, EDITOR, proposal_id, accept=True)
    engine.dispose()


def test_epoch_models_and_staff_against_the_seed(seeded_url, web, tmp_path):
    settings = serve_sources(web, tmp_path)
    staff, models = scrape(seeded_url, settings, "epoch-staff", "epoch-models")
    assert staff.status == "ok" and staff.plan.counts()["unchanged"] == 41 and staff.result.added == 0
    counts = models.plan.counts()
    assert models.status == "ok" and (counts["new"], counts["unchanged"]) == (0, 509)
    assert counts["conflict"] == models.result.added == 6  # the seed's official values differ: both kept
    engine = make_engine(seeded_url, poolclass=NullPool)
    with read_session(engine) as session:
        gpt3 = session.execute(select(ModelRun.source_url, ModelRun.retracted_at)
                               .where(ModelRun.name == "GPT-3 175B (davinci)")).all()
    engine.dispose()
    assert len(gpt3) == 2 and all(r.retracted_at is None for r in gpt3)


def test_a_document_the_server_kept_is_reparsed_from_the_stored_copy(db_url, web, tmp_path):
    settings = serve_sources(web, tmp_path)
    [first] = scrape(db_url, settings, "epoch-models")
    assert first.status == "ok", first.message
    frontier = EPOCH_FILES["epoch_frontier_models_url"][1].read_bytes()
    web.routes["/frontier_ai_models.csv"].body = frontier + b"\n"
    [second] = scrape(db_url, settings, "epoch-models")
    assert second.status == "ok", second.message
    assert second.docs["main"].not_modified and second.docs["main"].body  # 304, body from the store
    assert second.docs["frontier"].fresh and second.result.added == 0


def test_a_kept_run_is_reparsed_without_the_network(seeded_url, web, tmp_path):
    settings = serve_sources(web, tmp_path)
    [first] = scrape(seeded_url, settings, "html-table")
    web.stop()  # from here on, any fetch would fail
    [again] = scrape(seeded_url, settings, "html-table", from_run=first.result.batch_id, dry_run=True)
    assert again.status == "dry-run", again.message
    assert again.plan.counts()["unchanged"] == first.result.added and again.plan.counts()["new"] == 0
    [wrong] = scrape(seeded_url, settings, "epoch-staff", from_run=first.result.batch_id, dry_run=True)
    assert wrong.status == "failed" and "is a run of html-table" in wrong.message
