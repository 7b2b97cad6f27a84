"""Shared helpers for the scraper tests: serve the saved sources locally, run scrapers, and
snapshot the store to prove a failed run wrote nothing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.pool import NullPool

from fleet.auth import Actor
from fleet.config import Settings
from fleet.db import data_version, make_engine, read_session
from fleet.ingest.scrapers import get
from fleet.ingest.scrapers.fetch import Fetcher, FetchPolicy, make_client
from fleet.ingest.scrapers.runner import Job, Runner
from fleet.models import (
    AuditEntry, ChipProposal, Estimate, Headcount, IngestBatch, ModelRun, Organisation, RawDocumentRow,
)
from tests.webserver import FixtureServer, Route

DATA = Path(__file__).resolve().parent / "data"
SEED_DIR = Path(__file__).resolve().parent.parent / "data" / "seed"
EPOCH_FILES = {
    "epoch_gpu_clusters_url": ("/gpu_clusters.csv", DATA / "epoch/gpu_clusters/gpu_clusters.csv"),
    "epoch_hardware_url": ("/ml_hardware.csv", DATA / "epoch/ml_hardware/ml_hardware.csv"),
    "epoch_staff_url": ("/staff_reports.csv", DATA / "epoch/ai_companies/ai_companies_staff_reports.csv"),
    "epoch_models_url": ("/notable_ai_models.csv", DATA / "epoch/ai_models/notable_ai_models.csv"),
    "epoch_frontier_models_url": ("/frontier_ai_models.csv", DATA / "epoch/ai_models/frontier_ai_models.csv"),
}
FAST = FetchPolicy(connect_timeout=2, read_timeout=5, max_attempts=2, backoff_initial=0.01, backoff_max=0.02,
                   jitter=0.0)
EDITOR = Actor.cli("scrape-test")


def serve_sources(web: FixtureServer, tmp_path: Path, **bodies: bytes) -> Settings:
    """Serve every Epoch file (ETag on) and the saved HTML pages; return settings pointing at them.

    ``bodies`` replaces a file's content: ``epoch_gpu_clusters_url=b"..."``.
    """
    urls = {}
    for setting, (path, file) in EPOCH_FILES.items():
        urls[setting] = web.add(path, Route(body=bodies.get(setting, file.read_bytes()), etag=True))
    for page in ("wikipedia_gpu_clusters.html", "top500_list.html"):
        web.add(f"/{page}", Route(body=(DATA / "html" / page).read_bytes(), content_type="text/html; charset=utf-8"))
    config = tmp_path / "html_tables.toml"
    text = (DATA / "html" / "html_tables.toml").read_text(encoding="utf-8")
    config.write_text(text.replace("http://fixtures.invalid", web.base), encoding="utf-8")
    return Settings(seed_dir=str(SEED_DIR), html_tables_config=str(config), **urls)


def scrape(db_url: str, settings: Settings, *names: str, dry_run: bool = False, actor: Actor | None = EDITOR,
           strict: bool = False, url: str | None = None, from_run: int | None = None):
    """Run scrapers against ``db_url`` with a real client; returns the outcomes in order."""
    engine = make_engine(db_url, poolclass=NullPool)
    client = make_client(FAST)
    try:
        runner = Runner(engine, settings, Fetcher(client, FAST), actor=actor, dry_run=dry_run, strict=strict)
        return runner.run([Job(get(n), url, from_run=from_run) for n in names])
    finally:
        client.close()
        engine.dispose()


def snapshot(db_url: str) -> dict:
    """Row counts of every table a scrape writes, and the data version: equal means nothing written."""
    engine = make_engine(db_url, poolclass=NullPool)
    try:
        with read_session(engine) as session:
            counts = {model.__tablename__: session.execute(select(func.count()).select_from(model)).scalar_one()
                      for model in (Estimate, Headcount, ModelRun, IngestBatch, RawDocumentRow, ChipProposal,
                                    Organisation, AuditEntry)}
            counts["version"] = data_version(session)[0]
            return counts
    finally:
        engine.dispose()
