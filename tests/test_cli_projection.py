"""`python -m fleet project` and `python -m fleet claims` against the seeded store (SQLite and Postgres)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from fleet.cli import app

runner = CliRunner()
STATUSES = {"met", "not met", "pending", "insufficient data"}


def invoke(url: str, *args: str):
    return runner.invoke(app, ["--db", url, *args], catch_exceptions=False)


def _csv(text: str) -> tuple[list[str], list[dict]]:
    header = [line for line in text.splitlines() if line.startswith("# ")]
    body = "\n".join(line for line in text.splitlines() if not line.startswith("# "))
    return header, list(csv.DictReader(io.StringIO(body)))


def test_project_prints_the_fit_the_horizon_and_the_crossings(seeded_url):
    result = invoke(seeded_url, "project", "--org", "Facebook", "--as-of", "2025-06-30", "--until", "2027-06-30")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["organisation"] == "Meta" and report["until"] == "2027-06-30"
    fit = report["fit"]["h100e"]
    assert fit["n_points"] >= 3 and fit["growth_per_year_low"] < fit["growth_per_year"] < fit["growth_per_year_high"]
    assert "latest figure grown at the fitted rate" in report["interval"]
    horizon = report["at_horizon"]
    assert horizon["h100e_low"] < horizon["h100e_median"] < horizon["h100e_high"]
    low, high = fit["growth_per_year_low"], fit["growth_per_year_high"]  # the band: the rate's ends, compounded
    assert horizon["h100e_high"] / horizon["h100e_median"] == pytest.approx((high / fit["growth_per_year"]) ** 2,
                                                                            rel=0.01)
    assert horizon["h100e_low"] / horizon["h100e_median"] == pytest.approx((low / fit["growth_per_year"]) ** 2,
                                                                           rel=0.01)
    assert horizon["run_flop_median"] > 0
    crossings = {c["milestone"]: c for c in report["crossings"]}
    assert {"GPT-4", "GPT-4 × 5", "GPT-4 × 20", "GPT-4 × 100"} <= set(crossings)
    assert crossings["GPT-4"]["kind"] == "historical" and crossings["GPT-4"]["date"] <= "2025-06-30"


def test_project_as_csv_has_provenance_lines_and_one_row_per_figure(seeded_url):
    result = invoke(seeded_url, "project", "--org", "Meta", "--format", "csv", "--flops", "fp8", "--basis", "bf16",
                    "--mfu", "0.35", "--days", "95", "--share", "50")
    assert result.exit_code == 0, result.output
    header, rows = _csv(result.stdout)
    text = "\n".join(header)
    assert "H100e bf16" in text and "dense fp8" in text and "CC-BY 4.0" in text and "50% of the fleet" in text
    items = {r["item"]: r for r in rows}
    assert {"growth of h100e", "h100e at horizon", "run_flop at horizon", "crosses GPT-4 × 100"} <= set(items)
    assert items["h100e at horizon"]["unit"] == "H100e (bf16)"


def test_scenarios_apply_and_unknown_names_are_reported(seeded_url):
    plain = json.loads(invoke(seeded_url, "project", "--org", "Meta", "--as-of", "2025-06-30").stdout)
    result = invoke(seeded_url, "project", "--org", "Meta", "--as-of", "2025-06-30",
                    "--scenario", "Meta:B200:1000000:2026-01-01", "--scenario", "Meta:Z9000:5:2026-01-01")
    report = json.loads(result.stdout)
    assert report["fit"] == plain["fit"]  # scenarios never change the fit
    assert report["at_horizon"]["h100e_median_scen"] > report["at_horizon"]["h100e_median"]
    assert any("unknown chip 'Z9000'" in w for w in report["warnings"])
    assert [s["chip"] for s in report["scenarios"]] == ["NVIDIA B200"]


def test_too_few_estimates_are_refused_with_the_reason(seeded_url):
    report = json.loads(invoke(seeded_url, "project", "--org", "Anthropic").stdout)
    assert "at least 3" in report["fit"]["h100e"]["refused"]


@pytest.mark.parametrize("args, message", [
    (["--org", "Metta"], "did you mean 'Meta'"),
    (["--org", "Meta", "--until", "2000-01-01", "--as-of", "2025-01-01"], "must be after"),
    (["--org", "Meta", "--scenario", "Meta:B200:many:2026-01-01"], "count 'many' is not a whole number"),
])
def test_bad_input_exits_1_with_a_message(seeded_url, args, message):
    result = invoke(seeded_url, "project", *args)
    assert result.exit_code == 1 and message in " ".join(result.output.split())


@pytest.mark.parametrize("args", [["--org", "Meta", "--mfu", "1.5"], ["--org", "Meta", "--format", "xml"],
                                  ["--org", "Meta", "--share", "cluster-ish"], ["--org", "Meta", "--as-of", "soon"]])
def test_bad_options_are_usage_errors(args):
    assert runner.invoke(app, ["project", *args]).exit_code == 2


def test_claims_lists_every_seeded_claim_with_both_statuses(seeded_url):
    result = invoke(seeded_url, "claims")
    assert result.exit_code == 0, result.output
    entries = {e["claim"]["claim_key"]: e for e in json.loads(result.stdout)}
    assert len(entries) == 11
    assert all(e["as_known_now"]["status"] in STATUSES and e["as_known_at_target"]["status"] in STATUSES
               for e in entries.values())
    meena = entries["semi-2023-meena-vs-gpt2"]["as_known_now"]
    assert meena["status"] == "met" and len(meena["model_run_ids"]) == 2
    assert entries["semi-2023-gpt3-vs-gpt2"]["as_known_now"]["status"] == "not met"  # 164x, not 4,000x
    gemini = entries["semi-2023-gemini-5x"]
    assert gemini["as_known_now"]["status"] == "not met"
    assert gemini["as_known_at_target"]["status"] == "insufficient data"  # the seed was recorded after 2023
    assert entries["semi-2023-100k-by-2024"]["as_known_now"]["status"] == "insufficient data"


def test_claims_as_csv(seeded_url):
    header, rows = _csv(invoke(seeded_url, "claims", "--format", "csv").stdout)
    assert any("CC-BY 4.0" in line for line in header) and len(rows) == 11
    assert {"status_as_known_now", "status_as_known_at_target", "figures_now", "estimate_ids_now"} <= set(rows[0])


CLAIM = ["--text", "Meta will hold 1M H100s", "--author", "Analyst", "--made-on", "2025-01-01", "--subject", "Meta",
         "--metric", "h100_count", "--comparator", ">=", "--value", "1000000", "--unit", "chips",
         "--target-date", "2099-12-31", "--source-url", "https://example.org/claim", "--key", "analyst-meta-1m"]


def test_claims_add_writes_a_claim_that_then_lists_as_pending(seeded_url):
    result = invoke(seeded_url, "claims", "add", "--as", "ada", *CLAIM)
    assert result.exit_code == 0, result.output
    entries = {e["claim"]["claim_key"]: e for e in json.loads(invoke(seeded_url, "claims").stdout)}
    assert entries["analyst-meta-1m"]["as_known_now"]["status"] == "pending"
    assert entries["analyst-meta-1m"]["claim"]["created_by"] == "ada (cli)"
    again = invoke(seeded_url, "claims", "add", "--as", "ada", *CLAIM)
    assert again.exit_code == 1 and "already exists" in again.output


def test_claims_add_needs_valid_fields(seeded_url):
    bad = [*CLAIM[:-2], "--key", "Bad Key!"]
    result = invoke(seeded_url, "claims", "add", "--as", "ada", *bad)
    assert result.exit_code == 1 and "'claim_key'" in result.output
    assert len(json.loads(invoke(seeded_url, "claims").stdout)) == 11
