"""Scrapers' pure side: the registry, the html-table config and parser on saved pages, the
Epoch scrapers' parse on the real files. No network, no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from fleet.config import Settings
from fleet.ingest.errors import IngestError, SchemaDrift
from fleet.ingest.scrapers import REGISTRY, get
from fleet.ingest.scrapers.base import NotConfigured, ParseContext, Produces, ScraperError
from fleet.ingest.scrapers.html_config import load_config, parse_config
from fleet.ingest.scrapers.html_table import parse_html_table
from fleet.ingest.scrapers.raw import RawDocument

DATA = Path(__file__).resolve().parent / "data"
HTML = DATA / "html"
CONFIG = HTML / "html_tables.toml"


def doc(path: Path, url: str = "https://example.org/file") -> RawDocument:
    return RawDocument(url=url, final_url=url, status=200, fetched_at=datetime(2025, 1, 1), body=path.read_bytes())


def specs():
    return {s.name: s for s in load_config(CONFIG)}


def test_the_registry_has_the_five_sources_with_urls_and_licences():
    assert list(REGISTRY) == ["epoch-gpu-clusters", "epoch-hardware", "epoch-staff", "epoch-models", "html-table"]
    settings = Settings(html_tables_config=str(CONFIG))
    for scraper in REGISTRY.values():
        info = scraper.describe(settings)
        assert info["urls"].startswith("http") and info["licence"]
    assert get("epoch-models").requests(settings)[1].url == "https://epoch.ai/data/frontier_ai_models.csv"
    with pytest.raises(ScraperError, match="no scraper called 'epoch'; known: epoch-gpu-clusters"):
        get("epoch")


def test_wikipedia_style_table_rows_spans_footnotes_and_references():
    parsed = parse_html_table((HTML / "wikipedia_gpu_clusters.html").read_bytes(), specs()["wikipedia-ai-supercomputers"])
    rows = parsed.records.set_index("cluster")
    assert len(rows) == 7 and parsed.skipped == []
    colossus = rows.loc["Colossus (Memphis)"]
    assert (colossus["organisation"], colossus["count"], colossus["chip"]) == ("xAI", "100000", "Nvidia H100")
    assert (colossus["valid_on"], colossus["status"], colossus["country"]) == ("2024-09-01", "operational", "United States")
    assert colossus["source_url"] == "https://x.ai/colossus"  # [2] resolved through the reference list
    assert colossus["scope"] == "cluster" and colossus["source_row"] == 3
    second = rows.loc["Colossus 2"]  # the owner cell spans two rows; "[a]" note dropped
    assert (second["organisation"], second["count"], second["status"], second["valid_on"]) == \
        ("xAI", "550000", "planned", "2026-12-31")
    assert rows.loc["El Capitan", "organisation"] == "US Department of Energy"  # mapped in the config
    assert rows.loc["El Capitan", "valid_on"] == "2024-11-18"
    assert rows.loc["JUPITER", "count"] == "about 24000"  # passed on as text: validation refuses it


def test_top500_style_list_picks_the_table_by_index_and_splits_the_system_cell():
    parsed = parse_html_table((HTML / "top500_list.html").read_bytes(), specs()["top500-2025-06"])
    rows = parsed.records.set_index("cluster")
    assert list(rows.index[:3]) == ["El Capitan", "Frontier", "Aurora"] and len(rows) == 9
    assert parsed.skipped == [(8, "no count")]  # Fugaku has no accelerators
    frontier = rows.loc["Frontier"]
    assert (frontier["chip"], frontier["count"], frontier["organisation"], frontier["country"]) == \
        ("AMD Instinct MI250X", "37632", "US Department of Energy", "United States")
    assert frontier["source_url"] == "https://www.top500.org/system/180047/"
    assert (frontier["valid_on"], frontier["certainty"]) == ("2025-06-10", "confirmed")
    assert rows.loc["Aurora", "chip"] == "Intel Data Center GPU Max 1550"
    assert rows.loc["Eagle", "organisation"] == "Microsoft Azure"


def test_a_renamed_header_is_schema_drift_naming_header_and_table():
    page = (HTML / "wikipedia_gpu_clusters.html").read_bytes().replace(b"<th>Type</th>", b"<th>Model</th>")
    with pytest.raises(SchemaDrift, match=r"html-table 'wikipedia-ai-supercomputers' .*missing required column 'Type'"):
        parse_html_table(page, specs()["wikipedia-ai-supercomputers"])


def test_a_selector_that_matches_no_table_says_so():
    spec = replace(specs()["top500-2025-06"], index=5)
    with pytest.raises(IngestError, match=r"no table #5 matches selector .* \(2 found\) — has the page changed"):
        parse_html_table((HTML / "top500_list.html").read_bytes(), spec)


GOOD = '[[table]]\nname = "t"\nurl = "https://x.org/p"\nselector = "table"\n[table.columns]\ncount = "GPUs"\n'


@pytest.mark.parametrize("text, message", [
    ("", "no \\[\\[table\\]\\] entries"),
    ("[[table]\n", "not valid TOML"),
    (GOOD.replace('url = "https://x.org/p"', 'url = "x.org/p"'), "is not an absolute http"),
    (GOOD.replace('count = "GPUs"', 'gpus = "GPUs"'), "columns.gpus: unknown field 'gpus'"),
    (GOOD.replace('count = "GPUs"', "count = { header = 'GPUs', regex = '(' }"), "columns.count: bad regex"),
    (GOOD.replace('count = "GPUs"', "count = { header = 'GPUs', regex = 'x', group = 2 }"), "group 2 does not exist"),
    (GOOD.replace('count = "GPUs"', "count = { header = 'GPUs', colour = 'red' }"), "unknown option"),
    (GOOD.replace('selector = "table"\n', ""), "'selector' is required"),
    (GOOD + GOOD, "table names must be unique"),
])
def test_config_mistakes_name_the_file_table_and_key(text, message):
    with pytest.raises(ScraperError, match=message) as info:
        parse_config(text, "my.toml")
    assert str(info.value).startswith("my.toml")


def test_config_messages_name_the_file_without_the_servers_folders(tmp_path):
    """The Scrapers page shows these messages to every visitor: a file in the project by its
    place in it, one elsewhere by its name alone."""
    outside = tmp_path / "private" / "tables.toml"
    outside.parent.mkdir()
    outside.write_text("", encoding="utf-8")
    with pytest.raises(NotConfigured) as empty:
        load_config(outside)
    assert str(empty.value).startswith("tables.toml: no [[table]] entries") and str(tmp_path) not in str(empty.value)
    with pytest.raises(NotConfigured) as missing:
        load_config(tmp_path / "gone.toml")
    assert "config file gone.toml not found" in str(missing.value) and str(tmp_path) not in str(missing.value)
    with pytest.raises(ScraperError) as inside:
        load_config(CONFIG.with_name("nope.toml"))
    assert "config file tests/data/html/nope.toml not found" in str(inside.value)
    assert str(CONFIG.parent) not in str(inside.value)


def test_html_table_url_override_picks_or_replaces_a_configured_table():
    scraper, settings = get("html-table"), Settings(html_tables_config=str(CONFIG))
    assert [r.role for r in scraper.requests(settings)] == ["wikipedia-ai-supercomputers", "top500-2025-06"]
    picked = scraper.requests(settings, "http://fixtures.invalid/top500_list.html")
    assert [r.role for r in picked] == ["top500-2025-06"]
    with pytest.raises(ScraperError, match="is not a configured table's URL"):
        scraper.requests(settings, "https://elsewhere.org/list")
    with pytest.raises(ScraperError, match="config file .* not found"):
        scraper.requests(Settings(html_tables_config="/nonexistent.toml"))


@pytest.mark.parametrize("name, path, produces, at_least", [
    ("epoch-gpu-clusters", "epoch/gpu_clusters/gpu_clusters.csv", Produces.ESTIMATES, 600),
    ("epoch-hardware", "epoch/ml_hardware/ml_hardware.csv", Produces.CHIPS, 170),
    ("epoch-staff", "epoch/ai_companies/ai_companies_staff_reports.csv", Produces.HEADCOUNTS, 40),
    ("epoch-models", "epoch/ai_models/notable_ai_models.csv", Produces.MODEL_RUNS, 500),
])
def test_epoch_scrapers_parse_the_real_files_with_the_shared_parsers(name, path, produces, at_least):
    scraper = get(name)
    parsed = scraper.parse({"main": doc(DATA / path)}, ParseContext())
    assert scraper.produces is produces and len(parsed.records) >= at_least


def test_epoch_models_reads_bounds_from_the_frontier_file():
    scraper = get("epoch-models")
    docs = {"main": doc(DATA / "epoch/ai_models/notable_ai_models.csv"),
            "frontier": doc(DATA / "epoch/ai_models/frontier_ai_models.csv")}
    with_bounds = scraper.parse(docs, ParseContext()).records
    alone = scraper.parse({"main": docs["main"]}, ParseContext()).records
    assert with_bounds["training_flop_low"].notna().sum() >= 4 and alone["training_flop_low"].isna().all()
