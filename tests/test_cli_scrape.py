"""``python -m fleet scrape`` and friends against a local HTTP server and the real databases."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from fleet.cli import app
from fleet.config import SETTINGS_DOC
from tests.scrape_helpers import snapshot, serve_sources
from tests.webserver import FixtureServer

runner = CliRunner()


@pytest.fixture
def web():
    server = FixtureServer().start()
    yield server
    server.stop()


@pytest.fixture
def served(web, tmp_path, monkeypatch):
    """Point every scraper setting at the local server, through the environment as a user would."""
    settings = serve_sources(web, tmp_path)
    for name, (env, _, _) in SETTINGS_DOC.items():
        if name.endswith("_url") and name != "database_url" or name == "html_tables_config":
            monkeypatch.setenv(env, getattr(settings, name))
    return web


def invoke(url: str, *args: str):
    return runner.invoke(app, ["--db", url, *args], catch_exceptions=False)


def test_scrape_all_dry_run_prints_the_diff_and_writes_nothing(seeded_url, served):
    before = snapshot(seeded_url)
    result = invoke(seeded_url, "scrape", "all", "--dry-run", "--show", "3")
    assert result.exit_code == 0, result.output
    for name in ("epoch-gpu-clusters", "epoch-hardware", "epoch-staff", "epoch-models", "html-table"):
        assert name in result.stdout
    assert "dry-run" in result.stdout and "organisations with changes" in result.stdout
    # html-table's fixture has a count in words; Epoch's 50M-H100e xAI plan (row 2) is within the cap now
    assert "rejected  row 9, column count: value 'several thousand'" in result.stdout
    assert "column h100e" not in result.stdout
    assert "update Intel Habana Gaudi3: peak_flops_bf16 1.835e+15 → 1.678e+15" in result.stdout
    assert snapshot(seeded_url) == before


def test_scrape_all_exits_1_when_one_source_fails_and_loads_the_others(seeded_url, served):
    served.routes["/notable_ai_models.csv"].statuses = [503] * 10
    result = invoke(seeded_url, "scrape", "all", "--as", "alice", "--json")
    assert result.exit_code == 1
    outcomes = {o["source"]: o for o in json.loads(result.stdout)}
    assert outcomes["epoch-models"]["status"] == "failed" and "HTTP 503" in outcomes["epoch-models"]["message"]
    assert {o["status"] for n, o in outcomes.items() if n != "epoch-models"} == {"ok"}
    runs = [json.loads(line) for line in invoke(seeded_url, "scrape-runs").stdout.splitlines()]
    assert {r["source_name"] for r in runs} == {"epoch-gpu-clusters", "epoch-hardware", "epoch-staff", "html-table"}
    assert all(r["created_by"] == "alice (cli)" and r["http_status"] == 200 and r["sha256"] for r in runs)


def test_usage_errors_exit_2(seeded_url, served):
    assert invoke(seeded_url, "scrape", "nope").exit_code == 2
    wrong = invoke(seeded_url, "scrape", "all", "--url", "http://127.0.0.1:1/x.csv")
    assert wrong.exit_code == 2 and "name the scraper" in wrong.output
    assert invoke(seeded_url, "scrape", "all", "--from-run", "1").exit_code == 2


def test_an_unconfigured_html_table_is_skipped_in_all_but_fails_alone(seeded_url, served, tmp_path, monkeypatch):
    empty = tmp_path / "empty.toml"
    empty.write_text("# nothing configured yet\n")
    monkeypatch.setenv("FLEET_HTML_TABLES_CONFIG", str(empty))
    alone = invoke(seeded_url, "scrape", "html-table", "--dry-run")
    assert alone.exit_code == 1 and "no [[table]] entries" in alone.output
    everything = invoke(seeded_url, "scrape", "all", "--dry-run", "--json")
    assert everything.exit_code == 0
    assert {o["source"]: o["status"] for o in json.loads(everything.stdout)}["html-table"] == "skipped"


def test_url_override_and_chip_proposals_from_the_command_line(seeded_url, served):
    url = served.url("/ml_hardware.csv")
    assert invoke(seeded_url, "scrape", "epoch-hardware", "--url", url).exit_code == 0
    pending = [json.loads(line) for line in invoke(seeded_url, "chips", "proposals").stdout.splitlines()]
    assert {p["chip_name"] for p in pending} >= {"Intel Habana Gaudi2", "NVIDIA H100 PCIe"}
    first, second = pending[0]["id"], pending[1]["id"]
    assert invoke(seeded_url, "chips", "accept", str(first), "--as", "bob").exit_code == 0
    assert invoke(seeded_url, "chips", "reject", str(second), "--note", "vendor figure is right").exit_code == 0
    again = invoke(seeded_url, "chips", "accept", str(second))
    assert again.exit_code == 1 and "is not pending" in again.output
    left = invoke(seeded_url, "chips", "proposals").stdout.splitlines()
    assert len(left) == len(pending) - 2


def test_scrapers_lists_every_source(seeded_url, served):
    result = invoke(seeded_url, "scrapers")
    assert result.exit_code == 0
    for name in ("epoch-gpu-clusters", "epoch-hardware", "epoch-staff", "epoch-models", "html-table"):
        assert name in result.stdout
