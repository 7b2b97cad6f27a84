"""The seed build (fleet.ingest.seed_build): the committed data/seed/*.csv are exactly what
building from the copies in tests/data gives, and they keep the promises the store and
the product rely on. No database is touched.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from fleet.ingest.errors import IngestError
from fleet.ingest.seed_build import OUTPUT_FILES, build_seed, format_value, read_inputs, to_csv_text
from fleet.ingest.seed_catalog import NameIndex, apply_vendor_figures, derived_kind, split_aliases
from fleet.names import name_key
from fleet.vocab import OrgKind

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
SEED = ROOT / "data" / "seed"


@pytest.fixture(scope="module")
def built():
    inputs = read_inputs(DATA / "epoch", DATA / "reference", SEED / "curation")
    tables, report = build_seed(inputs)
    return tables, report


def read(name: str) -> pd.DataFrame:
    return pd.read_csv(SEED / name, dtype=str, keep_default_na=False)


# --- reproducibility ------------------------------------------------------------------

@pytest.mark.parametrize("name", OUTPUT_FILES)
def test_building_from_test_data_reproduces_the_committed_seed(built, name):
    tables, _ = built
    assert to_csv_text(tables[name]) == (SEED / name).read_text(encoding="utf-8")


def test_building_twice_is_byte_identical(built):
    again, _ = build_seed(read_inputs(DATA / "epoch", DATA / "reference", SEED / "curation"))
    tables, _ = built
    assert all(to_csv_text(again[n]) == to_csv_text(tables[n]) for n in OUTPUT_FILES)


@pytest.mark.parametrize("value, text", [
    (None, ""), (float("nan"), ""), (989.4e12, "9.894e+14"), (1.979e15, "1.979e+15"), (0.3, "0.3"),
    (1024.0000000150794, "1024"), (24576, "24576"), (True, "true"), (date(2024, 3, 12), "2024-03-12"),
    (pd.Timestamp("2024-03-12"), "2024-03-12"), ("text", "text"),
])
def test_format_value(value, text):
    assert format_value(value) == text


def test_report_counts(built):
    _, report = built
    clusters = report.sources["epoch gpu_clusters"]
    assert report.written["estimates.csv"] >= 500 and report.written["organisations.csv"] >= 100
    assert report.owners_with_estimates >= 100
    assert report.estimates_by_dataset == {"epoch-gpu-clusters": 587, "reference-fleet-estimates": 16}
    assert sum(clusters.skipped_by_reason().values()) == 234
    assert report.uncurated_chips == []


# --- organisations --------------------------------------------------------------------

def test_no_name_or_alias_twice():
    orgs = read("organisations.csv")
    keys = [name_key(n) for n in orgs["name"]] + [name_key(a) for cell in orgs["aliases"] for a in split_aliases(cell)]
    assert len(keys) == len(set(keys))


def test_every_referenced_organisation_exists():
    index = NameIndex.of("organisation", read("organisations.csv").replace("", None))
    estimates, headcounts, runs = read("estimates.csv"), read("headcounts.csv"), read("model_runs.csv")
    names = set(estimates["organisation"]) | set(estimates["user_organisation"]) | set(headcounts["organisation"])
    names |= set(runs["organisation"]) | set(read("organisations.csv")["parent"])
    assert [n for n in names if n and index.get(n) != n] == []  # canonical names, all known


@pytest.mark.parametrize("name, kind", [
    ("OpenAI", "lab"), ("Anthropic", "lab"), ("xAI", "lab"), ("Inflection AI", "lab"), ("Mistral AI", "lab"),
    ("DeepSeek", "lab"), ("Google DeepMind", "lab"), ("Google", "hyperscaler"), ("Microsoft", "hyperscaler"),
    ("Amazon", "hyperscaler"), ("Meta", "hyperscaler"), ("Oracle", "hyperscaler"), ("Alibaba", "hyperscaler"),
    ("Tencent", "hyperscaler"), ("Baidu", "hyperscaler"), ("ByteDance", "hyperscaler"), ("CoreWeave", "cloud"),
    ("Lambda", "cloud"), ("Nebius", "cloud"), ("Together AI", "cloud"), ("Voltage Park", "cloud"),
    ("Crusoe", "cloud"), ("Hugging Face", "lab"), ("Databricks", "company"),
    ("Unattributed (China)", "unattributed"), ("Moscow State Univeristy", "academic"),
    ("US Department of Energy", "government"),
])
def test_kinds(name, kind):
    orgs = read("organisations.csv").set_index("name")
    assert orgs.loc[name, "kind"] == kind


@pytest.mark.parametrize("alias, name", [
    ("Meta AI", "Meta"), ("Facebook", "Meta"), ("Meta Platforms", "Meta"), ("DeepMind", "Google DeepMind"),
    ("Google DeepMind (DeepMind Technologies)", "Google DeepMind"), ("Inflection", "Inflection AI"),
    ("X / xAI", "xAI"), ("Databricks (Mosaic AI)", "Databricks"), ("Together", "Together AI"),
    ("Nebius AI", "Nebius"), ("Stargate (OpenAI)", "Stargate"), ("Lambda Labs", "Lambda"),
])
def test_spellings_merge(alias, name):
    assert NameIndex.of("organisation", read("organisations.csv").replace("", None)).get(alias) == name


def test_parents():
    orgs = read("organisations.csv").set_index("name")
    assert orgs.loc["Google DeepMind", "parent"] == "Google"
    assert orgs.loc["MosaicML", "parent"] == "Databricks" and orgs.loc["Stargate", "parent"] == "OpenAI"


@pytest.mark.parametrize("name, sector, kind", [
    ("University of Somewhere", "Public", OrgKind.ACADEMIC),
    ("Institute of Things", "Public/Private", OrgKind.ACADEMIC),
    ("Ministry of Compute", "Public", OrgKind.GOVERNMENT),
    ("Acme Corp", "Private", OrgKind.COMPANY),
    ("Petrostate Oil", "Public/Private", OrgKind.COMPANY),
    ("Mystery", "", OrgKind.OTHER),
])
def test_derived_kind(name, sector, kind):
    assert derived_kind(name, sector)[0] == kind.value


# --- chips ----------------------------------------------------------------------------

@pytest.mark.parametrize("chip, column, value", [
    ("NVIDIA H100 SXM5 80GB", "peak_ops_8bit", 1.979e15),
    ("NVIDIA H100 SXM5 80GB", "peak_flops_bf16", 9.894e14),
    ("AMD Instinct MI300X", "peak_ops_8bit", 2.6149e15),
    ("NVIDIA GB200", "peak_ops_8bit", 5e15),
    ("Google TPU v4", "peak_ops_8bit", 2.75e14),
    ("Google TPU v4", "peak_flops_bf16", 2.75e14),
    ("Intel Habana Gaudi2", "peak_flops_bf16", 4.32e14),     # vendor 432 TFLOPS, not Epoch's 450
    ("Intel Habana Gaudi3", "peak_flops_bf16", 1.835e15),    # vendor, not Epoch's 1678
    ("Amazon Trainium1", "memory_bw_gb_s", 820),             # vendor, not Epoch's 9.8 TB/s
])
def test_pinned_chip_figures(chip, column, value):
    chips = read("chips.csv").set_index("name")
    assert float(chips.loc[chip, column]) == pytest.approx(value, rel=1e-4)


def test_vendor_overrides_keep_epochs_value_in_the_note():
    chips = read("chips.csv").set_index("name")
    assert "Epoch: 4.5e+14" in chips.loc["Intel Habana Gaudi2", "note"]
    assert "Epoch: 9800" in chips.loc["Amazon Trainium1", "note"]


@pytest.mark.parametrize("vendor, expected_bf16, expected_8bit, noted", [
    ({"peak_flops_bf16": 1.0e15}, 1.0e15, 2.0e15, "Epoch: 9e+14"),   # differs: vendor wins
    ({"peak_flops_bf16": 9.05e14}, 9.0e14, 2.0e15, None),            # within 1%: Epoch kept
    ({"peak_flops_fp8": 3.0e15}, 9.0e14, 3.0e15, "Epoch: 2e+15"),    # 8-bit = max(FP8, INT8)
    ({}, 9.0e14, 2.0e15, None),
])
def test_apply_vendor_figures(vendor, expected_bf16, expected_8bit, noted):
    chip = {"name": "X", "peak_flops_bf16": 9.0e14, "peak_flops_fp8": None, "peak_ops_int8": 2.0e15,
            "peak_ops_8bit": 2.0e15, "source_url": "https://epoch.ai", "note": ""}
    out = apply_vendor_figures(chip, {"key": "X / y", "source_url": "https://vendor.example", **vendor})
    assert (out["peak_flops_bf16"], out["peak_ops_8bit"]) == (expected_bf16, expected_8bit)
    assert (noted in out["note"]) if noted else out["note"] == ""
    assert out["source_url"] == ("https://vendor.example" if noted else "https://epoch.ai")


def test_chip_names_and_aliases_are_unique_and_families_set():
    chips = read("chips.csv")
    NameIndex.of("chip", chips.replace("", None))  # raises on a clash
    assert (chips["family"] != "").all()
    assert chips.set_index("name").loc["NVIDIA GH200", "family"] == "H100"
    assert chips.set_index("name").loc["NVIDIA GB300 (Blackwell Ultra)", "family"] == "Blackwell"


def source_chip_strings() -> set[str]:
    """Every chip string the sources use for one specific chip."""
    clusters = pd.read_csv(DATA / "epoch" / "gpu_clusters" / "gpu_clusters.csv", dtype=str, keep_default_na=False)
    models = pd.read_csv(DATA / "epoch" / "ai_models" / "notable_ai_models.csv", dtype=str, keep_default_na=False)
    accel = pd.read_csv(DATA / "reference" / "accelerators.csv", dtype=str, keep_default_na=False)
    strings = set(clusters["Chip type (primary)"]) | set(clusters["Chip type (secondary)"])
    strings |= {h for h in models["Training hardware"] if "," not in h}
    strings |= set(accel["chip"]) - {"NVIDIA H100"}  # "NVIDIA H100" names two SKUs there; aliased to the SXM
    strings |= {"NVIDIA H100", "NVIDIA A100", "NVIDIA GH200", "Microsoft Maia", "AWS Trainium2", "NVIDIA H20",
                "NVIDIA GB300 (Blackwell Ultra)", "AMD Instinct MI250X", "AMD Instinct MI300A (APU)",
                "Intel Data Center GPU Max 1550", "NVIDIA A100 (SXM4 40GB)", "Baidu Kunlun P800",
                "Alibaba T-Head PPU", "AMD Instinct MI450", "AMD Instinct MI430X"}  # reference fleet estimates
    return {s for s in strings if s}


def test_every_source_chip_string_resolves():
    index = NameIndex.of("chip", read("chips.csv").replace("", None))
    assert sorted(s for s in source_chip_strings() if index.get(s) is None) == []


@pytest.mark.parametrize("short, chip", [
    ("H100", "NVIDIA H100 SXM5 80GB"), ("H100 SXM", "NVIDIA H100 SXM5 80GB"),
    ("NVIDIA H100 SXM", "NVIDIA H100 SXM5 80GB"), ("H100 SXM5 80GB", "NVIDIA H100 SXM5 80GB"),
    ("A100", "NVIDIA A100"), ("MI300X", "AMD Instinct MI300X"), ("TPU v4", "Google TPU v4"),
    ("TPU v5e", "Google TPU v5e"), ("TPU v5p", "Google TPU v5p"), ("B200", "NVIDIA B200"),
    ("GB200", "NVIDIA GB200"), ("h100", "NVIDIA H100 SXM5 80GB"),
])
def test_short_chip_names(short, chip):
    assert NameIndex.of("chip", read("chips.csv").replace("", None)).get(short) == chip


# --- facts ----------------------------------------------------------------------------

def test_estimates_follow_the_store_rules():
    e = read("estimates.csv").replace("", None)
    chips_rows, h100e_rows = e[e["chip"].notna()], e[e["chip"].isna()]
    assert chips_rows["count"].notna().all() and chips_rows["h100e"].isna().all()
    assert h100e_rows["h100e"].notna().all() and h100e_rows["count"].isna().all()
    assert e.loc[e["scope"] == "cluster", "cluster"].notna().all()
    assert e["source_url"].str.match(r"^https?://").all() and e["valid_on"].notna().all()
    assert set(e["dataset"]) == {"epoch-gpu-clusters", "reference-fleet-estimates"}
    low = e.dropna(subset=["count_low"])
    assert (low["count_low"].astype(int) <= low["count"].astype(int)).all()
    assert e.groupby("organisation").ngroups >= 100 and len(e) >= 500


def test_estimate_spot_checks():
    e = read("estimates.csv")
    gpt4 = e[e["cluster"] == "Microsoft GPT-4 cluster"].iloc[0]
    assert (gpt4["organisation"], gpt4["user_organisation"], gpt4["access"], gpt4["count"]) == (
        "Microsoft", "OpenAI", "leased", "25000")
    google = e[(e["organisation"] == "Google") & (e["dataset"] == "reference-fleet-estimates")]
    assert google[["h100e", "h100e_low", "valid_on"]].values.tolist()[0] == ["1000000", "1000000", "2024-06-30"]
    summit = e[e["cluster"] == "Oak Ridge NL Summit"]
    assert summit[["status", "valid_on"]].values.tolist() == [["operational", "2018-06-08"],
                                                              ["decommissioned", "2024-11-15"]]


def test_headcounts():
    h = read("headcounts.csv")
    assert set(h["kind"]) <= {"staff", "researchers"} and (h["count"].astype(int) > 0).all()
    deepmind = h[h["organisation"] == "Google DeepMind"]
    assert len(deepmind) >= 10 and (deepmind["scope_note"] != "").sum() >= 11  # Epoch's division rows say so
    assert "xAI" in set(h["organisation"]) and not h["scope_note"].str.contains("annotat").any()


def test_model_runs_and_milestones():
    runs = read("model_runs.csv").set_index("name")
    milestones = set(runs.index[runs["milestone"] == "true"])
    assert {"GPT-2 (1.5B)", "Meena", "GPT-3 175B (davinci)", "GPT-4", "Gemini 1.0 Ultra", "Llama 3.1-405B",
            "Grok 3", "GPT-4.5"} == milestones
    assert float(runs.loc["GPT-4", "training_flop"]) == pytest.approx(2.1e25)
    assert runs.loc["Llama 3.1-405B", "confidence"] == "official"
    assert runs.loc["Llama 3.1-405B", "organisation"] == "Meta"
    assert runs.loc["Llama 3.1-405B", "chip"] == "NVIDIA H100 SXM5 80GB"
    assert runs.index.is_unique and (runs["training_flop"].astype(float) > 0).all()
    bounded = runs[runs["training_flop_low"] != ""]
    assert (bounded["training_flop_low"].astype(float) <= bounded["training_flop"].astype(float)).all()


def test_a_broken_curation_stops_the_build():
    inputs = read_inputs(DATA / "epoch", DATA / "reference", SEED / "curation")
    inputs.curation["organisations.csv"] = inputs.curation["organisations.csv"].assign(
        aliases=lambda f: f["aliases"].where(f["name"] != "Microsoft", "Meta AI"))
    with pytest.raises(IngestError, match="'Meta AI' would name both"):
        build_seed(inputs)


def test_format_is_plain_floats():
    chips = (SEED / "chips.csv").read_text(encoding="utf-8")
    assert "9.894e+14" in chips and "\r" not in chips and not math.isnan(float("1.979e+15"))
