"""Parse Epoch AI's hardware, staff-report and AI-model CSVs (the clusters file has its own module).

- ``parse_ml_hardware``: one catalog row per accelerator, FLOP/s dense as Epoch lists
  them; 16-bit = the tensor FP16/BF16 figure, else the plain FP16 one (said in the note);
  8-bit = the higher of FP8 and INT8.
- ``parse_staff_reports``: dated headcounts; divisions map to the organisation they
  belong to (DeepMind -> Google DeepMind, FAIR -> Meta) with a scope note; contractor
  counts (xAI's AI tutors) are skipped because they count a different population.
- ``parse_notable_models``: training runs with a training-compute estimate; the
  frontier file, when given, adds lower/upper bounds.

Pure: bytes in, ``Parsed`` out.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from fleet.ingest.tabular import (
    Parsed, join_notes, parse_date, parse_number, parse_whole, read_table, row_number, split_urls,
)
from fleet.names import name_key
from fleet.vocab import HeadcountKind

# --- ml_hardware ----------------------------------------------------------------------

HARDWARE_SOURCE = "Epoch AI ml_hardware.csv"
HARDWARE_REQUIRED = (
    "Hardware name", "Manufacturer", "Release date", "Release price (USD)",
    "FP32 (single precision) performance (FLOP/s)", "FP16 (half precision) performance (FLOP/s)",
    "Tensor-FP16/BF16 performance (FLOP/s)", "INT8 performance (OP/s)", "FP8 performance (FLOP/s)",
    "Memory size per board (Byte)", "Memory bandwidth (byte/s)", "TDP (W)", "Link to datasheet",
)
HARDWARE_KNOWN = (
    "Type", "Notes", "FP64 (double precision) performance (FLOP/s)", "TF32 (TensorFloat-32) performance (FLOP/s)",
    "INT16 performance (OP/s)", "INT4 performance (OP/s)", "Intranode bandwidth (byte/s)",
    "Internode bandwidth (bit/s)", "Die Size (mm^2)", "Base clock (MHz)", "Boost clock (MHz)",
    "Memory clock (MHz)", "Memory bus (bit)", "Tensor cores", "Process size (nm)", "Foundry",
    "Transistors (millions)", "Source for the price", "ML models", "Last modified", "Max performance",
    "Energy efficiency", "FP4 performance (FLOP/s)", "Total processing performance (bit-OP/s)",
    "Price-performance", "ML OP/s",
)
CHIP_FIELDS = (
    "name", "vendor", "release_date", "peak_flops_fp32", "peak_flops_bf16", "peak_ops_8bit", "peak_flops_fp8",
    "peak_ops_int8", "memory_gb", "memory_bw_gb_s", "tdp_w", "price_usd", "source_url", "datasheet", "note",
)


def _positive(row: pd.Series, column: str, where: str) -> float | None:
    value = parse_number(row[column], where=f"{where}, column {column!r}")
    return value if value is not None and value > 0 else None


def hardware_record(row: pd.Series, where: str, source_url: str) -> dict:
    get = lambda column: _positive(row, column, where)  # noqa: E731
    tensor, plain = get("Tensor-FP16/BF16 performance (FLOP/s)"), get("FP16 (half precision) performance (FLOP/s)")
    fp8, int8 = get("FP8 performance (FLOP/s)"), get("INT8 performance (OP/s)")
    memory, bandwidth = get("Memory size per board (Byte)"), get("Memory bandwidth (byte/s)")
    eight = [v for v in (fp8, int8) if v is not None]
    datasheet, _ = split_urls([row["Link to datasheet"]])
    return {
        "name": row["Hardware name"], "vendor": row["Manufacturer"] or None,
        "release_date": parse_date(row["Release date"]),
        "peak_flops_fp32": get("FP32 (single precision) performance (FLOP/s)"),
        "peak_flops_bf16": tensor if tensor is not None else plain,
        "peak_ops_8bit": max(eight) if eight else None, "peak_flops_fp8": fp8, "peak_ops_int8": int8,
        "memory_gb": memory / 1e9 if memory is not None else None,
        "memory_bw_gb_s": bandwidth / 1e9 if bandwidth is not None else None,
        "tdp_w": get("TDP (W)"), "price_usd": get("Release price (USD)"),
        "source_url": source_url, "datasheet": datasheet[0] if datasheet else None,
        "note": "16-bit figure is Epoch's plain FP16 (no tensor FP16/BF16 figure)" if tensor is None and plain else "",
    }


def parse_ml_hardware(raw: bytes, *, source_url: str) -> Parsed:
    frame, unknown = read_table(raw, source=HARDWARE_SOURCE, required=HARDWARE_REQUIRED, known=HARDWARE_KNOWN)
    records, skipped, seen = [], [], set()
    for index, row in frame.iterrows():
        number = row_number(index)
        if not row["Hardware name"]:
            skipped.append((number, "no hardware name"))
            continue
        if name_key(row["Hardware name"]) in seen:
            skipped.append((number, "hardware name listed twice"))
            continue
        seen.add(name_key(row["Hardware name"]))
        records.append(hardware_record(row, f"{HARDWARE_SOURCE} row {number}", source_url))
    vendors = sorted({r["vendor"] for r in records if r["vendor"]})
    return Parsed(records=pd.DataFrame(records, columns=list(CHIP_FIELDS)),
                  organisations=pd.DataFrame({"name": vendors, "role": "vendor"}),
                  skipped=skipped, unknown_columns=unknown)


# --- staff reports --------------------------------------------------------------------

STAFF_SOURCE = "Epoch AI ai_companies_staff_reports.csv"
STAFF_REQUIRED = ("Company", "Staff count", "Date", "Source 1", "Source 2", "Notes", "Type", "Division name")
STAFF_KNOWN = ("Id", "Report date", "Source type", "Confidence", "Graph note")
HEADCOUNT_FIELDS = ("organisation", "count", "kind", "valid_on", "scope_note", "source_url", "note", "source_row")
# (company, division) -> (organisation, scope note); a division not listed keeps its company
DIVISIONS = {
    ("google", "deepmind"): ("Google DeepMind", "DeepMind only (a Google division before the 2023 Brain merger)"),
    ("google", "google deepmind"): ("Google DeepMind", "Google DeepMind, Google's whole AI division (after the 2023 Brain merger)"),
    ("meta", "fair"): ("Meta", "FAIR (Meta's fundamental AI research group) only"),
    ("anthropic", "research and development"): ("Anthropic", "research and development staff only"),
}
SKIP_CONTRACTORS = "contractors, not staff (a different population)"


def staff_scope(row: pd.Series) -> tuple[str, str, str]:
    """(organisation, kind, scope note) for one report."""
    company, division, kind = row["Company"], row["Division name"], row["Type"]
    mapped = DIVISIONS.get((name_key(company), name_key(division)))
    if mapped:
        research = name_key(division) == "research and development"
        return mapped[0], (HeadcountKind.RESEARCHERS if research else HeadcountKind.STAFF).value, mapped[1]
    if division:
        return company, HeadcountKind.STAFF.value, f"{division} only"
    if not kind:
        return company, HeadcountKind.STAFF.value, "scope not stated by Epoch (see note)"
    return company, HeadcountKind.STAFF.value, ""


def parse_staff_reports(raw: bytes, *, source_url: str) -> Parsed:
    frame, unknown = read_table(raw, source=STAFF_SOURCE, required=STAFF_REQUIRED, known=STAFF_KNOWN)
    records, skipped = [], []
    for index, row in frame.iterrows():
        number = row_number(index)
        where = f"{STAFF_SOURCE} row {number}"
        count = parse_whole(row["Staff count"], where=f"{where}, column 'Staff count'")
        valid_on = parse_date(row["Date"])
        if name_key(row["Type"]) == "contractors":
            skipped.append((number, SKIP_CONTRACTORS))
            continue
        if not count or valid_on is None:
            skipped.append((number, "no staff count or no date"))
            continue
        organisation, kind, scope = staff_scope(row)
        urls, extra = split_urls([row["Source 1"], row["Source 2"]])
        note = join_notes([f"Epoch AI staff reports ({source_url}): {row['Notes']}", *extra,
                           *(f"Also: {u}" for u in urls[1:])])
        records.append({"organisation": organisation, "count": count, "kind": kind, "valid_on": valid_on,
                        "scope_note": scope, "source_url": urls[0] if urls else source_url, "note": note,
                        "source_row": number})
    orgs = sorted({r["organisation"] for r in records})
    return Parsed(records=pd.DataFrame(records, columns=list(HEADCOUNT_FIELDS)),
                  organisations=pd.DataFrame({"name": orgs}), skipped=skipped, unknown_columns=unknown)


# --- notable models -------------------------------------------------------------------

MODELS_SOURCE = "Epoch AI notable_ai_models.csv"
FRONTIER_SOURCE = "Epoch AI frontier_ai_models.csv"
MODELS_REQUIRED = ("Model", "Organization", "Publication date", "Training compute (FLOP)", "Confidence",
                   "Training hardware", "Hardware quantity", "Link")
MODELS_KNOWN = (
    "Domain", "Task", "Parameters", "Parameters notes", "Training compute notes", "Training dataset",
    "Training dataset size (gradients)", "Dataset size notes", "Reference", "Citations", "Authors", "Abstract",
    "Organization categorization", "Country (of organization)", "Notability criteria", "Notability criteria notes",
    "Epochs", "Training time (hours)", "Training time notes", "Hardware utilization (MFU)",
    "Training compute cost (2023 USD)", "Compute cost notes", "Training power draw (W)", "Base model",
    "Finetune compute (FLOP)", "Finetune compute notes", "Batch size", "Batch size notes", "Model accessibility",
    "Training code accessibility", "Inference code accessibility", "Accessibility notes", "Numerical format",
    "Frontier model", "Hardware acquisition cost", "Hardware utilization (HFU)", "Training compute cost (cloud)",
    "Training compute cost (upfront)",
)
# the frontier file is read for its bounds only, so its other (many) columns are not checked
FRONTIER_REQUIRED = ("Model", "Training compute lower bound", "Training compute upper bound")
RUN_FIELDS = ("name", "developer", "published_on", "training_flop", "training_flop_low", "training_flop_high",
              "hardware", "hardware_quantity", "confidence", "source_url", "note", "source_row")
SKIP_NO_COMPUTE = "no training compute estimate"


def frontier_bounds(raw: bytes | None) -> dict[str, tuple[float | None, float | None]]:
    """Model name key -> (lower, upper) training-compute bound from the frontier file."""
    if raw is None:
        return {}
    frame, _ = read_table(raw, source=FRONTIER_SOURCE, required=FRONTIER_REQUIRED, known=())
    bounds = {}
    for index, row in frame.iterrows():
        where = f"{FRONTIER_SOURCE} row {row_number(index)}"
        low = parse_number(row["Training compute lower bound"], where=f"{where}, lower bound")
        high = parse_number(row["Training compute upper bound"], where=f"{where}, upper bound")
        if low is not None or high is not None:
            bounds[name_key(row["Model"])] = (low, high)
    return bounds


def bounded(flop: float, bounds: tuple[float | None, float | None]) -> tuple[float | None, float | None, str]:
    """Keep only bounds that bracket the estimate; say so when one is dropped."""
    low, high = bounds
    dropped = []
    if low is not None and low > flop:
        low, dropped = None, dropped + ["lower"]
    if high is not None and high < flop:
        high, dropped = None, dropped + ["upper"]
    note = f"Epoch frontier {' and '.join(dropped)} bound dropped (does not bracket the estimate)" if dropped else ""
    return low, high, note


def run_record(row: pd.Series, number: int, flop: float, bounds, source_url: str) -> dict:
    where = f"{MODELS_SOURCE} row {number}"
    low, high, bound_note = bounded(flop, bounds.get(name_key(row["Model"]), (None, None)))
    published: date | None = parse_date(row["Publication date"])
    links, _ = split_urls([row["Link"]])
    return {
        "name": row["Model"], "developer": row["Organization"] or None, "published_on": published,
        "training_flop": flop, "training_flop_low": low, "training_flop_high": high,
        "hardware": row["Training hardware"] or None,
        "hardware_quantity": parse_whole(row["Hardware quantity"], where=f"{where}, column 'Hardware quantity'"),
        "confidence": row["Confidence"] or None, "source_url": source_url,
        "note": join_notes([f"Paper/announcement: {links[0]}" if links else "", bound_note]),
        "source_row": number,
    }


def parse_notable_models(raw: bytes, *, source_url: str, frontier_raw: bytes | None = None) -> Parsed:
    frame, unknown = read_table(raw, source=MODELS_SOURCE, required=MODELS_REQUIRED, known=MODELS_KNOWN)
    bounds = frontier_bounds(frontier_raw)
    records, skipped = [], []
    for index, row in frame.iterrows():
        number = row_number(index)
        flop = parse_number(row["Training compute (FLOP)"], where=f"{MODELS_SOURCE} row {number}, training compute")
        if not flop or flop <= 0:
            skipped.append((number, SKIP_NO_COMPUTE))
            continue
        records.append(run_record(row, number, flop, bounds, source_url))
    developers = sorted({d.strip() for r in records if r["developer"] for d in r["developer"].split(",")})
    return Parsed(records=pd.DataFrame(records, columns=list(RUN_FIELDS)),
                  organisations=pd.DataFrame({"name": developers}), skipped=skipped, unknown_columns=unknown)
