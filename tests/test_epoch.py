"""The Epoch AI parsers (fleet.ingest.epoch): small inline fixtures, then the real copies in tests/data.

No database, no network: bytes in, DataFrames out.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from fleet.ingest.epoch import (
    SchemaDrift, parse_gpu_clusters, parse_ml_hardware, parse_notable_models, parse_staff_reports,
)
from fleet.ingest.epoch_clusters import REQUIRED, lineage_names, phase_root
from fleet.ingest.tabular import parse_date, parse_planned_note

DATA = Path(__file__).resolve().parent / "data" / "epoch"
URL = "https://epoch.ai/data/gpu-clusters"


def csv_bytes(rows: list[dict], columns: list[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    for row in rows:
        writer.writerow({c: row.get(c, "") for c in columns})
    return buffer.getvalue().encode()


def cluster(**cells) -> dict:
    base = {"Name": "Test Cluster", "Status": "Existing", "Certainty": "Confirmed", "Owner": "Acme",
            "Country": "United States of America", "Sector": "Private", "Chip type (primary)": "NVIDIA A100",
            "Chip quantity (primary)": "1000", "H100 equivalents": "315", "First Operational Date": "2023-05-01",
            "Source 1": "https://example.com/a"}
    return {**base, **cells}


def clusters(*rows: dict, extra: tuple[str, ...] = ()):
    return parse_gpu_clusters(csv_bytes(list(rows), [*REQUIRED, *extra]), source_url=URL)


# --- dates ----------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("2024-05-06", date(2024, 5, 6)),
    ("2024-05", date(2024, 5, 1)),         # a month -> its first day
    ("2024", date(2024, 12, 31)),          # a year -> its last day
    ("H1 2026", date(2026, 6, 30)),
    ("Q3 2025", date(2025, 9, 30)),
    ("2023-Q2", date(2023, 6, 30)),
    ("2024-13-01", None),
    ("soon", None),
    ("", None),
])
def test_parse_date(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("note, expected", [
    ("Planned 2026", date(2026, 12, 31)),
    ("Planned H1 2026", date(2026, 6, 30)),
    ("Planned H2 2025", date(2025, 12, 31)),
    ("Planned Q1 2025", date(2025, 3, 31)),
    ("Planned for end of 2023", date(2023, 12, 31)),
    ("Planned 2029-02", date(2029, 2, 1)),
    ("Q4 2024", date(2024, 12, 31)),
    ("2021-11-01", date(2021, 11, 1)),
    ("Planned", None),
    ("completion unclear", None),
])
def test_parse_planned_note(note, expected):
    assert parse_planned_note(note) == expected


def test_valid_on_falls_back_to_the_date_note():
    parsed = clusters(cluster(**{"First Operational Date": "", "First Operational Date Note": "Planned H1 2026",
                                 "Status": "Planned"}))
    assert parsed.records.loc[0, "valid_on"] == date(2026, 6, 30)


# --- status, certainty, skips ---------------------------------------------------------

@pytest.mark.parametrize("status, certainty, expected", [
    ("Existing", "Confirmed", [("operational", "confirmed")]),
    ("Planned", "Likely", [("planned", "likely")]),
    ("Existing", "Unlikely", [("operational", "speculative")]),
    ("Decommissioned", "Confirmed", [("operational", "confirmed"), ("decommissioned", "confirmed")]),
])
def test_status_and_certainty(status, certainty, expected):
    row = cluster(Status=status, Certainty=certainty, **{"Decommissioned Date (if applicable)": "2021-07"})
    records = clusters(row).records
    assert list(zip(records["status"], records["certainty"])) == expected
    if status == "Decommissioned":
        assert list(records["valid_on"]) == [date(2023, 5, 1), date(2021, 7, 1)]


@pytest.mark.parametrize("cells, reason", [
    ({"Possible Duplicate": "True"}, "possible duplicate of another Epoch row"),
    ({"Chip quantity (primary)": "", "H100 equivalents": ""}, "no chip count and no H100-equivalents"),
    ({"First Operational Date": "", "First Operational Date Note": "Planned"},
     "no first-operational date (not even a planned year)"),
])
def test_skipped_rows_carry_a_reason_and_row_number(cells, reason):
    parsed = clusters(cluster(), cluster(Name="Other", **cells))
    assert parsed.skipped == [(3, reason)]  # header is row 1, so the second data row is row 3
    assert len(parsed.records) == 1


def test_h100e_only_rows():
    no_quantity = cluster(**{"Chip quantity (primary)": "", "H100 equivalents": "500"})
    no_type = cluster(Name="B", **{"Chip type (primary)": "", "Chip quantity (primary)": "10000",
                                   "H100 equivalents": "20000"})
    records = clusters(no_quantity, no_type).records
    assert records["chip"].isna().all() and records["count"].isna().all()
    assert list(records["h100e"]) == [500.0, 20000.0]
    assert "10,000 primary chips of an unnamed type" in records.loc[1, "note"]


def test_secondary_chip_becomes_a_second_estimate_of_the_same_cluster():
    row = cluster(**{"Chip type (secondary)": "NVIDIA H200 SXM", "Chip quantity (secondary)": "50"})
    records = clusters(row).records
    assert list(zip(records["chip"], records["count"])) == [("NVIDIA A100", 1000), ("NVIDIA H200 SXM", 50)]
    assert records["cluster"].nunique() == 1


# --- owners and users -----------------------------------------------------------------

def test_multi_owner_without_a_rule_is_split_evenly():
    row = cluster(Owner="Alpha,Beta", **{"Chip quantity (primary)": "1001", "Power Capacity (MW)": "10"})
    records = clusters(row).records
    assert list(zip(records["organisation"], records["count"])) == [("Alpha", 501), ("Beta", 500)]
    assert list(records["power_mw"]) == [5.0, 5.0]
    assert records["note"].str.contains("split evenly").all()


def test_multi_owner_rule_names_owner_and_user():
    rules = pd.DataFrame([{"owners": "OpenAI|Microsoft", "organisation": "Microsoft",
                           "user_organisation": "OpenAI", "access": "leased", "note": "Azure for OpenAI"}])
    raw = csv_bytes([cluster(Owner="Microsoft,OpenAI")], list(REQUIRED))
    records = parse_gpu_clusters(raw, source_url=URL, co_owners=rules).records
    assert records[["organisation", "user_organisation", "access", "count"]].values.tolist() == [
        ["Microsoft", "OpenAI", "leased", 1000]]


@pytest.mark.parametrize("users, expected_user, expected_access", [
    ("Anthropic", "Anthropic", "leased"),
    ("Cloud,Anthropic", "Anthropic", "leased"),
    ("Cloud,Academia", None, "owned"),
    ("Acme", None, "owned"),                      # the owner itself
    ("Anthropic,OpenAI", None, "owned"),          # two organisations: nobody in particular
])
def test_users_naming_one_other_organisation(users, expected_user, expected_access):
    known = pd.DataFrame([{"name": "Anthropic", "aliases": ""}, {"name": "OpenAI", "aliases": ""}])
    raw = csv_bytes([cluster(Users=users)], list(REQUIRED))
    record = parse_gpu_clusters(raw, source_url=URL, organisations=known).records.iloc[0]
    assert (record["user_organisation"] or None, record["access"]) == (expected_user, expected_access)
    assert f"Users (Epoch): {users}" in record["note"]


def test_owner_missing_goes_to_a_country_placeholder():
    records = clusters(cluster(Owner="", Country="China"), cluster(Owner="", Country="")).records
    assert list(records["organisation"]) == ["Unattributed (China)", "Unattributed (unknown country)"]


def test_anonymized_chinese_systems_stay_separate_clusters():
    rows = [cluster(Name="Anonymized Chinese System", Owner="", Country="China") for _ in range(3)]
    assert clusters(*rows).records["cluster"].nunique() == 3


# --- phases ---------------------------------------------------------------------------

@pytest.mark.parametrize("name, root", [
    ("xAI Colossus Memphis Phase 2", "xAI Colossus Memphis"),
    ("Applied Digital Ellendale Possible Phase 3", "Applied Digital Ellendale"),
    ("NVIDIA CoreWeave Eos-DFW Rumored Phase 2", "NVIDIA CoreWeave Eos-DFW"),
    ("AIST ABCI 1.0", "AIST ABCI"),
    ("Meta 100k", "Meta 100k"),
])
def test_phase_root(name, root):
    assert phase_root(name) == root


def test_phases_share_the_lineage_name():
    names = ["Site Phase 1", "Site Phase 2", "Site Phase 3", "Alone"]
    builds = ["", "Site Phase 1", "", ""]
    superseded = ["", "Site Phase 3", "", ""]
    assert lineage_names(names, builds, superseded) == {
        "Site Phase 1": "Site", "Site Phase 2": "Site", "Site Phase 3": "Site"}


def test_sources_and_title():
    row = cluster(**{"Source 2": "https://example.com/b (at 15:01)", "Source 3": "Private correspondence"})
    record = clusters(row).records.iloc[0]
    assert record["source_url"] == "https://example.com/a"
    assert record["extra_source_urls"] == "https://example.com/b"
    assert record["source_title"] == "Epoch AI, Data on GPU Clusters: Test Cluster"
    assert "Private correspondence" in record["note"]


def test_row_without_sources_cites_the_dataset():
    assert clusters(cluster(**{"Source 1": ""})).records.loc[0, "source_url"] == URL


# --- drift ----------------------------------------------------------------------------

def test_missing_column_is_schema_drift_naming_it():
    columns = [c for c in REQUIRED if c != "Chip quantity (primary)"]
    with pytest.raises(SchemaDrift) as error:
        parse_gpu_clusters(csv_bytes([cluster()], columns), source_url=URL)
    assert "Chip quantity (primary)" in str(error.value) and "gpu_clusters" in str(error.value)
    assert error.value.missing == ["Chip quantity (primary)"]


def test_unknown_column_is_reported_not_fatal():
    parsed = clusters(cluster(**{"Brand new column": "x"}), extra=("Brand new column",))
    assert parsed.unknown_columns == ["Brand new column"] and len(parsed.records) == 1


@pytest.mark.parametrize("parser, header", [
    (parse_ml_hardware, "Hardware name,Manufacturer\n"),
    (parse_staff_reports, "Company,Staff count\n"),
    (parse_notable_models, "Model,Organization\n"),
])
def test_other_parsers_check_columns_first(parser, header):
    with pytest.raises(SchemaDrift, match="missing required column"):
        parser(header.encode(), source_url="https://epoch.ai/data")


# --- the real files -------------------------------------------------------------------

@pytest.fixture(scope="module")
def real_clusters():
    return parse_gpu_clusters((DATA / "gpu_clusters" / "gpu_clusters.csv").read_bytes(), source_url=URL)


def test_real_clusters_counts(real_clusters):
    assert len(real_clusters.skipped) + real_clusters.records["source_row"].nunique() == 786
    assert real_clusters.skipped_by_reason() == {
        "no chip count and no H100-equivalents": 83,
        "no first-operational date (not even a planned year)": 57,
        "possible duplicate of another Epoch row": 94,
    }
    assert real_clusters.unknown_columns == []
    owners = set(real_clusters.records["organisation"])
    assert len([o for o in owners if not o.startswith("Unattributed")]) >= 140
    assert (real_clusters.records["organisation"] == "Unattributed (China)").sum() == 180


def test_real_xai_colossus_phases_are_one_cumulative_cluster(real_clusters):
    r = real_clusters.records
    colossus = r[r["cluster"] == "xAI Colossus Memphis"]
    by_date = colossus.groupby("valid_on").apply(lambda g: dict(zip(g["chip"], g["count"])), include_groups=False)
    assert by_date.to_dict() == {
        date(2024, 9, 2): {"NVIDIA H100 SXM5 80GB": 100000},
        date(2025, 2, 18): {"NVIDIA H100 SXM5 80GB": 150000, "NVIDIA H200 SXM": 50000},
        date(2025, 7, 22): {"NVIDIA H100 SXM5 80GB": 200000, "NVIDIA GB200": 30000},
    }
    assert set(colossus["organisation"]) == {"xAI"} and set(colossus["status"]) == {"operational"}


def test_real_meta_genai_clusters(real_clusters):
    r = real_clusters.records
    meta = r[r["cluster"].isin(["Meta GenAI 2024a", "Meta GenAI 2024b"])]
    assert list(meta["count"]) == [24576, 24576]
    assert set(meta["chip"]) == {"NVIDIA H100 SXM5 80GB"} and set(meta["valid_on"]) == {date(2024, 3, 12)}


def test_real_hardware():
    parsed = parse_ml_hardware((DATA / "ml_hardware" / "ml_hardware.csv").read_bytes(), source_url=URL)
    chips = parsed.records.set_index("name")
    assert len(chips) == 170 and parsed.skipped == [] and parsed.unknown_columns == []
    assert chips.loc["NVIDIA H100 SXM5 80GB", "peak_ops_8bit"] == 1.979e15
    assert chips.loc["NVIDIA H100 SXM5 80GB", "memory_gb"] == 80
    assert "plain FP16" in chips.loc["Huawei Ascend 910B", "note"]


def test_real_staff_reports():
    parsed = parse_staff_reports((DATA / "ai_companies" / "ai_companies_staff_reports.csv").read_bytes(),
                                 source_url="https://epoch.ai/data/ai-companies")
    r = parsed.records
    assert parsed.skipped_by_reason() == {"contractors, not staff (a different population)": 1}
    deepmind = r[(r["organisation"] == "Google DeepMind") & (r["valid_on"] == date(2017, 12, 27))]
    assert deepmind["count"].tolist() == [700] and "DeepMind only" in deepmind["scope_note"].iloc[0]
    assert r[r["scope_note"].str.startswith("FAIR")]["organisation"].unique().tolist() == ["Meta"]


def test_real_notable_models_with_frontier_bounds():
    models = DATA / "ai_models"
    parsed = parse_notable_models((models / "notable_ai_models.csv").read_bytes(), source_url=URL,
                                  frontier_raw=(models / "frontier_ai_models.csv").read_bytes())
    runs = parsed.records.set_index("name")
    assert len(runs) == 515 and parsed.skipped_by_reason() == {"no training compute estimate": 450}
    assert runs.loc["GPT-4 (Mar 2023)", "training_flop"] == pytest.approx(2.1e25)
    assert (runs.loc["Grok 3", "training_flop_low"], runs.loc["Grok 3", "training_flop_high"]) == (2.1e26, 1.13e27)
