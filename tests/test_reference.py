"""The reference-fact parsers (fleet.ingest.reference) and the curated fleet-estimate decisions."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from fleet.ingest.errors import IngestError, SchemaDrift
from fleet.ingest.reference import (
    DECISION_REQUIRED, FLEET_REQUIRED, apply_fleet_decisions, as_of_date, certainty_for, parse_fleet_estimates,
    parse_org_headcount, planned_date, qualifier_bounds,
)
from fleet.ingest.tabular import plain_rows

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "reference"
URL = "reference/fleet_estimates.csv"


@pytest.mark.parametrize("qualifier, expected", [
    (">", (True, False, False)),
    ('> ("well over")', (True, False, False)),
    ("at least", (True, False, False)),
    ("up to", (False, True, False)),
    ("target", (False, False, True)),
    ("~", (False, False, False)),
    ("~ (nearly)", (False, False, False)),
    ("=", (False, False, False)),
])
def test_qualifier_bounds(qualifier, expected):
    assert qualifier_bounds(qualifier) == expected


@pytest.mark.parametrize("kind, note, expected", [
    ("official", "", "confirmed"),
    ("official", "low-confidence", "confirmed"),
    ("reported", "", "likely"),
    ("estimate", "", "likely"),
    ("reported", "Secondary/low-confidence.", "speculative"),
    ("estimate", "Treat as unverified.", "speculative"),
])
def test_certainty_for(kind, note, expected):
    assert certainty_for(kind, note) == expected


@pytest.mark.parametrize("text, expected", [
    ("2024", date(2024, 12, 31)),
    ("2023-08", date(2023, 8, 1)),
    ("2024-09 (announcement)", date(2024, 9, 1)),
    ("2023-Q2", date(2023, 6, 30)),
    ("2025 (summer)", date(2025, 12, 31)),
    ("2024-10-09", date(2024, 10, 9)),
])
def test_as_of_date(text, expected):
    assert as_of_date(text) == expected


@pytest.mark.parametrize("status, expected", [
    ("planned by end-2024", date(2024, 12, 31)),
    ("planned (mid-2026)", date(2026, 6, 30)),
    ("planned (availability H2 2026)", date(2026, 12, 31)),
    ("planned", None),
])
def test_planned_date(status, expected):
    assert planned_date(status) == expected


def fleet_csv(*rows: dict) -> bytes:
    frame = pd.DataFrame([{c: row.get(c, "") for c in FLEET_REQUIRED} for row in rows])
    return frame.to_csv(index=False).encode()


def decisions(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame([{c: row.get(c, "") for c in DECISION_REQUIRED} for row in rows])


ROWS = (
    {"organisation": "Google", "chip": "Mostly TPUs", "count": "1000000", "count_qualifier": ">",
     "unit": "H100-equivalents", "status": "owned", "as_of": "2024-10-09", "kind": "estimate",
     "source_url": "https://example.com/g"},
    {"organisation": "Oracle", "chip": "NVIDIA B200", "count": "131072", "count_qualifier": "up to",
     "unit": "chips", "status": "planned by end-2025", "as_of": "2024-09", "kind": "reported",
     "source_url": "https://example.com/o"},
    {"organisation": "Meta", "chip": "NVIDIA H100", "count": "150000", "count_qualifier": ">",
     "unit": "chips", "status": "purchased in 2023", "as_of": "2023", "kind": "estimate",
     "source_url": "https://example.com/m"},
)


def test_decisions_turn_rows_into_estimates_or_reasons():
    parsed = parse_fleet_estimates(fleet_csv(*ROWS), source_url=URL)
    chosen = decisions(
        {"row": "2", "organisation": "Google", "chip": "Mostly TPUs", "as_of": "2024-10-09", "decision": "include",
         "map_organisation": "Google", "scope": "fleet", "access": "owned"},
        {"row": "3", "organisation": "Oracle", "chip": "NVIDIA B200", "as_of": "2024-09", "decision": "include",
         "map_organisation": "Oracle", "map_chip": "NVIDIA B200", "scope": "cluster", "cluster": "OCI",
         "access": "owned"},
        {"row": "4", "organisation": "Meta", "chip": "NVIDIA H100", "as_of": "2023", "decision": "skip",
         "skip_reason": "purchases in a period (not a holding)"},
    )
    out = apply_fleet_decisions(parsed, chosen)
    google, oracle = plain_rows(out.records)
    assert (google["h100e"], google["h100e_low"], google["chip"]) == (1e6, 1e6, None)
    assert (google["status"], google["certainty"], google["valid_on"]) == ("operational", "likely", date(2024, 10, 9))
    assert (oracle["count"], oracle["count_high"], oracle["status"]) == (131072, 131072, "planned")
    assert oracle["valid_on"] == date(2025, 12, 31)  # the plan's due date, not the announcement
    assert out.skipped == [(4, "purchases in a period (not a holding)")]
    assert set(out.records["dataset"]) == {"reference-fleet-estimates"}


def test_a_decision_that_no_longer_matches_its_row_is_an_error():
    parsed = parse_fleet_estimates(fleet_csv(ROWS[0]), source_url=URL)
    stale = decisions({"row": "2", "organisation": "Microsoft", "chip": "Mostly TPUs", "as_of": "2024-10-09",
                       "decision": "skip"})
    with pytest.raises(IngestError, match="reference row 2: column 'organisation'"):
        apply_fleet_decisions(parsed, stale)


def test_every_row_needs_a_decision():
    parsed = parse_fleet_estimates(fleet_csv(*ROWS[:2]), source_url=URL)
    with pytest.raises(IngestError, match="no decision for reference row 3"):
        apply_fleet_decisions(parsed, decisions({"row": "2", "organisation": "Google", "chip": "Mostly TPUs",
                                                  "as_of": "2024-10-09", "decision": "skip"}))


def test_fleet_drift_names_the_column():
    with pytest.raises(SchemaDrift, match="'count_qualifier'"):
        parse_fleet_estimates(b"organisation,chip,count\nMeta,H100,1\n", source_url=URL)


def test_real_reference_curation_covers_every_row():
    parsed = parse_fleet_estimates((DATA / "fleet_estimates.csv").read_bytes(), source_url=URL)
    curation = pd.read_csv(ROOT / "data" / "seed" / "curation" / "reference_fleet_estimates.csv", dtype=str,
                           keep_default_na=False)
    out = apply_fleet_decisions(parsed, curation)
    assert len(parsed.records) == 83 and len(out.records) + len(out.skipped) == 83
    assert len(out.records) == 16
    reasons = out.skipped_by_reason()
    assert reasons["purchases in a period (not a holding)"] == 12
    assert reasons["duplicate of an Epoch GPU clusters row"] == 12


def test_real_headcounts_skip_targets_blanks_and_teams():
    parsed = parse_org_headcount((DATA / "org_headcount.csv").read_bytes(), source_url=URL)
    assert parsed.skipped_by_reason() == {
        "date given only as a year (cannot be placed in a fast-growing year)": 1,
        "hiring target, not a headcount": 1,
        "no headcount given": 1,
        "one team of annotators/contractors only, not comparable with staff totals": 1,
    }
    assert "xAI" not in set(parsed.records["organisation"])
