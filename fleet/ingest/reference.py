"""Parse the hand-gathered reference facts (``reference/*.csv``) and apply their curation.

The reference files mix quantities that must not be added up (holdings, purchases in a
period, shipments, training runs, world totals). ``parse_fleet_estimates`` reads every
row and derives defaults (qualifier -> bounds, kind -> certainty, dates); only the
curated decisions in ``data/seed/curation/reference_fleet_estimates.csv`` turn a row into
an estimate (``apply_fleet_decisions``), so each inclusion or skip is written down once
with its reason.

Pure: bytes (and curation frames) in, ``Parsed`` out.
"""

from __future__ import annotations

import re
from datetime import date

import pandas as pd

from fleet.ingest.errors import IngestError
from fleet.ingest.tabular import (
    Parsed, join_notes, parse_date, parse_number, parse_whole, plain_rows, read_table, row_number, split_urls,
)
from fleet.names import name_key
from fleet.vocab import Access, Certainty, HeadcountKind, Scope, Status

DATASET = "reference-fleet-estimates"
FLEET_SOURCE = "reference fleet_estimates.csv"
FLEET_REQUIRED = ("organisation", "chip", "count", "count_qualifier", "unit", "status", "as_of", "kind",
                  "source_name", "source_url", "secondary_source_url", "note")
LOW_CONFIDENCE = re.compile(r"low[- ]confidence|low[- ]quality|unverified", re.IGNORECASE)
H100E_UNIT = "h100-equivalents"


# --- small rules (table-tested) ------------------------------------------------------

def qualifier_bounds(qualifier: str) -> tuple[bool, bool, bool]:
    """(count is a lower bound, count is an upper bound, count is a plan) for a qualifier.

    ">", "at least", "over" -> lower bound; "up to" -> upper bound; "target"/"planned" ->
    a plan; "~", "=" and the rest keep the count as it is.
    """
    q = (qualifier or "").strip().casefold()
    low = q.startswith(">") or q.startswith("at least") or q.startswith("over") or q.startswith("more than")
    high = q.startswith("up to") or q.startswith("<")
    plan = q.startswith("target") or q.startswith("planned")
    return low, high, plan


def certainty_for(kind: str, note: str = "") -> str:
    """official -> confirmed; reported/estimate -> likely, speculative when the text says low confidence."""
    k = (kind or "").strip().casefold()
    if k == "official":
        return Certainty.CONFIRMED.value
    if LOW_CONFIDENCE.search(note or ""):
        return Certainty.SPECULATIVE.value
    return Certainty.LIKELY.value


def as_of_date(text: str) -> date | None:
    """"2024" -> 2024-12-31, "2023-08" -> 2023-08-01, "2024-09 (announcement)" -> 2024-09-01, "2023-Q2" -> 2023-06-30."""
    return parse_date(re.sub(r"\(.*?\)", "", text or "").strip())


def planned_date(status_text: str) -> date | None:
    """The due date a status text gives: "planned by end-2024" -> 2024-12-31, "(mid-2026)" -> 2026-06-30."""
    text = status_text or ""
    if m := re.search(r"end[- ](\d{4})", text, re.IGNORECASE):
        return date(int(m[1]), 12, 31)
    if m := re.search(r"mid[- ](\d{4})", text, re.IGNORECASE):
        return date(int(m[1]), 6, 30)
    if m := re.search(r"\b(H[12]|Q[1-4])\s+(\d{4})", text, re.IGNORECASE):
        return parse_date(f"{m[1]} {m[2]}")
    return None


def derived_status(status_text: str, qualifier: str) -> str:
    planned = qualifier_bounds(qualifier)[2] or "planned" in (status_text or "").casefold()
    return (Status.PLANNED if planned else Status.OPERATIONAL).value


# --- fleet_estimates.csv ---------------------------------------------------------------

def fleet_record(row: pd.Series, number: int) -> dict:
    """One reference row with defaults derived from its qualifier, kind and dates."""
    where = f"{FLEET_SOURCE} row {number}"
    count = parse_whole(row["count"], where=f"{where}, column 'count'")
    status = derived_status(row["status"], row["count_qualifier"])
    due = planned_date(row["status"]) if status == Status.PLANNED.value else None
    return {
        "row": number, "organisation": row["organisation"], "chip": row["chip"], "count": count,
        "qualifier": row["count_qualifier"], "unit": row["unit"], "status_text": row["status"],
        "as_of": row["as_of"], "kind": row["kind"], "status": status,
        "valid_on": due or as_of_date(row["as_of"]),
        "certainty": certainty_for(row["kind"], f"{row['note']} {row['source_name']}"),
        "source_url": row["source_url"], "secondary_source_url": row["secondary_source_url"],
        "source_title": row["source_name"], "note": row["note"],
    }


def parse_fleet_estimates(raw: bytes, *, source_url: str) -> Parsed:
    """Every row with derived defaults; nothing is an estimate until a curated decision says so."""
    frame, unknown = read_table(raw, source=FLEET_SOURCE, required=FLEET_REQUIRED)
    records = [fleet_record(row, row_number(index)) for index, row in frame.iterrows()]
    orgs = sorted({r["organisation"] for r in records})
    return Parsed(records=pd.DataFrame(records), organisations=pd.DataFrame({"name": orgs}),
                  skipped=[], unknown_columns=unknown)


DECISION_REQUIRED = ("row", "organisation", "chip", "as_of", "decision", "skip_reason", "map_organisation",
                     "map_chip", "scope", "cluster", "status", "valid_on", "certainty", "access",
                     "user_organisation", "country", "note")


def _check_match(decision: dict, record: dict) -> None:
    for column in ("organisation", "chip", "as_of"):
        if name_key(str(decision[column])) != name_key(str(record[column])):
            raise IngestError(
                f"curation reference_fleet_estimates.csv row for reference row {record['row']}: column "
                f"{column!r} is {decision[column]!r} but the reference row says {record[column]!r} "
                "(the reference file changed: review the decision)")


def _amounts(record: dict) -> dict:
    low, high, _ = qualifier_bounds(record["qualifier"])
    value = record["count"]
    if name_key(record["unit"]) == name_key(H100E_UNIT):
        return {"h100e": float(value), "h100e_low": float(value) if low else None,
                "h100e_high": float(value) if high else None}
    return {"count": int(value), "count_low": int(value) if low else None, "count_high": int(value) if high else None}


def decided_estimate(record: dict, decision: dict) -> dict:
    """One estimate from a reference row and its curated decision (curation wins over derived defaults)."""
    where = f"curation reference_fleet_estimates.csv, reference row {record['row']}"
    pick = lambda column, default: decision[column] or default  # noqa: E731
    valid_on = parse_date(decision["valid_on"]) if decision["valid_on"] else record["valid_on"]
    if record["count"] is None or valid_on is None:
        raise IngestError(f"{where}: an included row needs a count and a date")
    chip = decision["map_chip"] or None
    amounts = _amounts(record)
    if ("h100e" in amounts) == bool(chip):
        raise IngestError(f"{where}: give map_chip for chip counts and leave it empty for H100-equivalents")
    extra, leftovers = split_urls([record["secondary_source_url"]])
    stated = f"Reference: {record['qualifier']} {int(record['count']):,} {record['unit']}, " \
             f"{record['status_text']} (as of {record['as_of']})"
    note = join_notes([record["note"], stated, decision["note"], *leftovers])
    return {
        "organisation": decision["map_organisation"], "chip": chip, **amounts,
        "scope": pick("scope", Scope.FLEET.value), "cluster": decision["cluster"] or None, "valid_on": valid_on,
        "status": pick("status", record["status"]), "certainty": pick("certainty", record["certainty"]),
        "access": pick("access", Access.OWNED.value), "user_organisation": decision["user_organisation"] or None,
        "country": decision["country"] or None, "power_mw": None, "source_url": record["source_url"],
        "extra_source_urls": "|".join(extra), "source_title": record["source_title"], "quote": None,
        "note": note, "dataset": DATASET, "source_row": record["row"],
    }


def apply_fleet_decisions(parsed: Parsed, decisions: pd.DataFrame) -> Parsed:
    """Estimates for the rows the curation includes; every other row skipped with its curated reason."""
    missing = [c for c in DECISION_REQUIRED if c not in decisions.columns]
    if missing:
        raise IngestError(f"curation reference_fleet_estimates.csv: missing column(s) {', '.join(missing)}")
    by_row = {int(d["row"]): d for d in decisions.fillna("").astype(str).to_dict("records")}
    records, skipped = [], []
    for record in plain_rows(parsed.records):
        decision = by_row.get(int(record["row"]))
        if decision is None:
            raise IngestError(f"curation reference_fleet_estimates.csv: no decision for reference row {record['row']}")
        _check_match(decision, record)
        if decision["decision"] == "include":
            records.append(decided_estimate(record, decision))
        elif decision["decision"] == "skip":
            skipped.append((int(record["row"]), decision["skip_reason"] or "skipped"))
        else:
            raise IngestError(f"curation for reference row {record['row']}: decision must be include or skip, "
                              f"not {decision['decision']!r}")
    orgs = sorted({r["organisation"] for r in records} | {r["user_organisation"] for r in records if r["user_organisation"]})
    return Parsed(records=pd.DataFrame(records), organisations=pd.DataFrame({"name": orgs}),
                  skipped=skipped, unknown_columns=parsed.unknown_columns)


# --- accelerators.csv ------------------------------------------------------------------

ACCEL_SOURCE = "reference accelerators.csv"
ACCEL_REQUIRED = ("chip", "vendor", "variant", "peak_dense_16bit_tflops", "peak_dense_fp8_tflops", "hbm_gb",
                  "mem_bw_tbs", "tdp_w", "tdp_kind", "source_url", "note")
ACCEL_KNOWN = ("year_available", "epoch_release_date", "precision_16bit", "kind", "secondary_source_url")


def reference_key(chip: str, variant: str) -> str:
    """How the chip curation names a reference row: "NVIDIA H100 / SXM5 80GB"."""
    return f"{chip.strip()} / {variant.strip()}"


def parse_accelerators(raw: bytes, *, source_url: str) -> Parsed:
    """Vendor figures per SKU, converted to the catalog's units (FLOP/s, GB, GB/s, W)."""
    frame, unknown = read_table(raw, source=ACCEL_SOURCE, required=ACCEL_REQUIRED, known=ACCEL_KNOWN)
    records = []
    for index, row in frame.iterrows():
        where = f"{ACCEL_SOURCE} row {row_number(index)}"
        num = lambda column: parse_number(row[column], where=f"{where}, column {column!r}")  # noqa: E731
        tera = lambda column: None if num(column) is None else num(column) * 1e12  # noqa: E731
        records.append({
            "key": reference_key(row["chip"], row["variant"]), "chip": row["chip"], "variant": row["variant"],
            "vendor": row["vendor"], "peak_flops_bf16": tera("peak_dense_16bit_tflops"),
            "peak_flops_fp8": tera("peak_dense_fp8_tflops"), "memory_gb": num("hbm_gb"),
            "memory_bw_gb_s": None if num("mem_bw_tbs") is None else num("mem_bw_tbs") * 1000,
            # an Epoch-derived or unpublished TDP is not a vendor figure: never let it override
            "tdp_w": num("tdp_w") if row["tdp_kind"] in ("official", "reported") else None,
            "source_url": row["source_url"], "note": row["note"], "source_row": row_number(index),
        })
    return Parsed(records=pd.DataFrame(records), skipped=[], unknown_columns=unknown)


# --- org_headcount.csv -----------------------------------------------------------------

HEADCOUNT_SOURCE = "reference org_headcount.csv"
HEADCOUNT_REQUIRED = ("organisation", "headcount", "count_qualifier", "headcount_scope", "as_of", "kind",
                      "source_url", "note")
HEADCOUNT_KNOWN = ("secondary_source_url",)
SKIP_NO_HEADCOUNT = "no headcount given"
SKIP_TARGET = "hiring target, not a headcount"
SKIP_TEAM = "one team of annotators/contractors only, not comparable with staff totals"
SKIP_YEAR_ONLY = "date given only as a year (cannot be placed in a fast-growing year)"


def headcount_skip(row: pd.Series, count: int | None) -> str | None:
    scope = row["headcount_scope"].casefold()
    if not count:
        return SKIP_NO_HEADCOUNT
    if qualifier_bounds(row["count_qualifier"])[2] or "plan" in row["as_of"].casefold():
        return SKIP_TARGET
    if "annotation" in scope or "contractor" in scope:
        return SKIP_TEAM
    if re.match(r"^\d{4}(\s|$)", row["as_of"].strip()):
        return SKIP_YEAR_ONLY
    return None


def parse_org_headcount(raw: bytes, *, source_url: str) -> Parsed:
    frame, unknown = read_table(raw, source=HEADCOUNT_SOURCE, required=HEADCOUNT_REQUIRED, known=HEADCOUNT_KNOWN)
    records, skipped = [], []
    for index, row in frame.iterrows():
        number = row_number(index)
        count = parse_whole(row["headcount"], where=f"{HEADCOUNT_SOURCE} row {number}, column 'headcount'")
        reason = headcount_skip(row, count) or (None if as_of_date(row["as_of"]) else "no date")
        if reason:
            skipped.append((number, reason))
            continue
        scope = "" if row["headcount_scope"].casefold() == "total employees" else row["headcount_scope"]
        qualifier = row["count_qualifier"].strip()
        records.append({
            "organisation": row["organisation"], "count": count, "kind": HeadcountKind.STAFF.value,
            "valid_on": as_of_date(row["as_of"]), "scope_note": scope, "source_url": row["source_url"],
            "note": join_notes([f"Reference ({row['kind']}): {qualifier} {count:,} as of {row['as_of']}",
                                row["note"]]),
            "source_row": number,
        })
    orgs = sorted({r["organisation"] for r in records})
    return Parsed(records=pd.DataFrame(records), organisations=pd.DataFrame({"name": orgs}),
                  skipped=skipped, unknown_columns=unknown)


# --- model_training_compute.csv --------------------------------------------------------

MODELS_SOURCE = "reference model_training_compute.csv"
MODELS_REQUIRED = ("model", "organisation", "publication_date", "training_compute_flop", "kind",
                   "epoch_confidence", "training_hardware", "hardware_quantity", "source_url",
                   "primary_reference_url", "note")
MODELS_KNOWN = ("estimation_method", "snapshot_url")


def parse_model_compute(raw: bytes, *, source_url: str) -> Parsed:
    """Training runs; an ``official`` row cites the developer's own statement."""
    frame, unknown = read_table(raw, source=MODELS_SOURCE, required=MODELS_REQUIRED, known=MODELS_KNOWN)
    records, skipped = [], []
    for index, row in frame.iterrows():
        number, where = row_number(index), f"{MODELS_SOURCE} row {row_number(index)}"
        flop = parse_number(row["training_compute_flop"], where=f"{where}, column 'training_compute_flop'")
        if not flop:
            skipped.append((number, "no training compute"))
            continue
        official = row["kind"] == "official"
        records.append({
            "name": row["model"], "developer": row["organisation"] or None,
            "published_on": parse_date(row["publication_date"]), "training_flop": flop,
            "hardware": row["training_hardware"] or None,
            "hardware_quantity": parse_whole(row["hardware_quantity"], where=f"{where}, column 'hardware_quantity'"),
            "confidence": "official" if official else (row["epoch_confidence"] or None), "official": official,
            "source_url": row["primary_reference_url"] if official and row["primary_reference_url"] else row["source_url"],
            "note": row["note"], "source_row": number,
        })
    return Parsed(records=pd.DataFrame(records), skipped=skipped, unknown_columns=unknown)
