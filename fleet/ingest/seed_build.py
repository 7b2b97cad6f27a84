"""Build ``data/seed/*.csv`` from Epoch AI's datasets, the reference facts and the curation files.

``read_inputs`` is the only function that touches the file system on the way in and
``write_seed`` the only one on the way out; ``build_seed`` in between is pure. Output is
deterministic: rows sorted, numbers formatted one way (``format_value``), LF line ends,
so building twice gives byte-identical files. ``data/seed/build.py`` is the command line.
"""

from __future__ import annotations

import csv
import io
import math
import numbers
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from fleet.ingest import epoch, reference
from fleet.ingest.seed_catalog import NameIndex, build_chips, build_organisations
from fleet.ingest.seed_facts import build_estimates, build_headcounts, build_model_runs
from fleet.ingest.tabular import Parsed
from fleet.vocab import OrgKind

EPOCH_FILES = {
    "gpu_clusters": "gpu_clusters/gpu_clusters.csv",
    "ml_hardware": "ml_hardware/ml_hardware.csv",
    "staff_reports": "ai_companies/ai_companies_staff_reports.csv",
    "notable_models": "ai_models/notable_ai_models.csv",
    "frontier_models": "ai_models/frontier_ai_models.csv",
}
REFERENCE_FILES = ("accelerators.csv", "fleet_estimates.csv", "model_training_compute.csv", "org_headcount.csv")
CURATION_FILES = ("organisations.csv", "chips.csv", "extra_chips.csv", "reference_fleet_estimates.csv",
                  "co_owners.csv", "model_runs.csv")
OUTPUT_FILES = ("chips.csv", "organisations.csv", "estimates.csv", "headcounts.csv", "model_runs.csv")
REFERENCE_URL = "reference/{}"  # the reference facts have no home page; each row carries its own URLs


@dataclass
class SeedInputs:
    epoch: dict[str, bytes]
    reference: dict[str, bytes]
    curation: dict[str, pd.DataFrame]


@dataclass
class BuildReport:
    sources: dict[str, Parsed] = field(default_factory=dict)
    written: dict[str, int] = field(default_factory=dict)
    uncurated_chips: list[str] = field(default_factory=list)
    estimates_by_dataset: dict[str, int] = field(default_factory=dict)
    owners_with_estimates: int = 0


def read_inputs(epoch_dir: Path, reference_dir: Path, curation_dir: Path) -> SeedInputs:
    def read(path: Path) -> bytes:
        if not path.is_file():
            raise FileNotFoundError(f"seed input missing: {path}")
        return path.read_bytes()

    curation = {name: pd.read_csv(io.BytesIO(read(curation_dir / name)), dtype=str, keep_default_na=False)
                for name in CURATION_FILES}
    return SeedInputs(epoch={k: read(epoch_dir / v) for k, v in EPOCH_FILES.items()},
                      reference={name: read(reference_dir / name) for name in REFERENCE_FILES},
                      curation=curation)


def parse_sources(inputs: SeedInputs) -> dict[str, Parsed]:
    e, r, c = inputs.epoch, inputs.reference, inputs.curation
    urls = epoch.DATASET_URLS
    fleet = reference.parse_fleet_estimates(r["fleet_estimates.csv"], source_url=REFERENCE_URL.format("fleet_estimates.csv"))
    return {
        "epoch ml_hardware": epoch.parse_ml_hardware(e["ml_hardware"], source_url=urls["ml_hardware"]),
        "epoch gpu_clusters": epoch.parse_gpu_clusters(e["gpu_clusters"], source_url=urls["gpu_clusters"],
                                                       co_owners=c["co_owners.csv"], organisations=c["organisations.csv"]),
        "epoch staff_reports": epoch.parse_staff_reports(e["staff_reports"], source_url=urls["ai_companies"]),
        "epoch notable_models": epoch.parse_notable_models(e["notable_models"], source_url=urls["ai_models"],
                                                           frontier_raw=e["frontier_models"]),
        "reference accelerators": reference.parse_accelerators(r["accelerators.csv"], source_url=REFERENCE_URL.format("accelerators.csv")),
        "reference fleet_estimates": reference.apply_fleet_decisions(fleet, c["reference_fleet_estimates.csv"]),
        "reference org_headcount": reference.parse_org_headcount(r["org_headcount.csv"], source_url=REFERENCE_URL.format("org_headcount.csv")),
        "reference model_training_compute": reference.parse_model_compute(
            r["model_training_compute.csv"], source_url=REFERENCE_URL.format("model_training_compute.csv")),
    }


def build_seed(inputs: SeedInputs) -> tuple[dict[str, pd.DataFrame], BuildReport]:
    """All five seed tables from the inputs, plus the build report. Pure."""
    parsed, c = parse_sources(inputs), inputs.curation
    chips, uncurated = build_chips(parsed["epoch ml_hardware"].records, c["extra_chips.csv"], c["chips.csv"],
                                   parsed["reference accelerators"].records)
    organisations = build_organisations(c["organisations.csv"], parsed["epoch gpu_clusters"].organisations)
    org_index, chip_index = NameIndex.of("organisation", organisations), NameIndex.of("chip", chips)
    estimates = build_estimates([parsed["epoch gpu_clusters"].records, parsed["reference fleet_estimates"].records],
                                org_index, chip_index)
    headcounts = build_headcounts([parsed["epoch staff_reports"].records, parsed["reference org_headcount"].records],
                                  org_index)
    runs = build_model_runs(parsed["epoch notable_models"].records, parsed["reference model_training_compute"].records,
                            c["model_runs.csv"], org_index, chip_index)
    tables = {"chips.csv": chips, "organisations.csv": organisations, "estimates.csv": estimates,
              "headcounts.csv": headcounts, "model_runs.csv": runs}
    report = BuildReport(sources=parsed, written={k: len(v) for k, v in tables.items()}, uncurated_chips=uncurated)
    report.estimates_by_dataset = estimates["dataset"].value_counts().sort_index().to_dict()
    kinds = organisations.set_index("name")["kind"]
    owners = set(estimates["organisation"])
    report.owners_with_estimates = sum(1 for o in owners if kinds.get(o) != OrgKind.UNATTRIBUTED.value)
    return tables, report


# --- writing --------------------------------------------------------------------------

def format_value(value: object) -> str:
    """One spelling per value: "" for unknown, ISO dates, whole numbers without ".0",
    other floats with 10 significant digits (9.894e+14, 0.3, 1024), true/false."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return "" if math.isnan(value) else format(float(value), ".10g")
    return str(value)


INTEGER_COLUMNS = {"count", "count_low", "count_high", "hardware_quantity"}


def to_csv_text(frame: pd.DataFrame) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(list(frame.columns))
    for row in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, row):
            if column in INTEGER_COLUMNS and isinstance(value, float) and not math.isnan(value):
                value = int(value)
            cells.append(format_value(value))
        writer.writerow(cells)
    return buffer.getvalue()


def write_seed(tables: dict[str, pd.DataFrame], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in OUTPUT_FILES:
        (out_dir / name).write_text(to_csv_text(tables[name]), encoding="utf-8", newline="")


def format_report(report: BuildReport) -> str:
    lines = ["Seed build report", ""]
    for source, parsed in report.sources.items():
        lines.append(f"{source}: {len(parsed.records)} records, {len(parsed.skipped)} rows skipped")
        for reason, count in parsed.skipped_by_reason().items():
            lines.append(f"    skipped {count:4d}  {reason}")
        if parsed.unknown_columns:
            lines.append(f"    unknown columns (ignored): {', '.join(parsed.unknown_columns)}")
    lines += ["", "Written:"] + [f"    {name:18s} {count:5d} rows" for name, count in report.written.items()]
    lines += [f"    estimates by dataset: {report.estimates_by_dataset}",
              f"    organisations owning estimates (placeholders excluded): {report.owners_with_estimates}"]
    if report.uncurated_chips:
        lines.append(f"    chips without curation (family Other): {', '.join(report.uncurated_chips)}")
    return "\n".join(lines)
