"""Assemble the seed fact tables (estimates, headcounts, model runs) from parsed sources.

Names are canonicalised through the catalogs (an alias becomes the catalog name), every
estimate is checked against the store's rules before it is written, and the reference
training-compute values are overlaid on Epoch's (official values win). Pure.
"""

from __future__ import annotations

from urllib.parse import urlparse

import pandas as pd

from fleet.ingest.errors import IngestError
from fleet.ingest.seed_catalog import NameIndex
from fleet.ingest.tabular import join_notes, plain_rows
from fleet.names import name_key
from fleet.vocab import Access, Certainty, HeadcountKind, Scope, Status, values

ESTIMATE_COLUMNS = (
    "organisation", "chip", "count", "count_low", "count_high", "h100e", "h100e_low", "h100e_high", "scope",
    "cluster", "valid_on", "status", "certainty", "access", "user_organisation", "country", "power_mw",
    "source_url", "extra_source_urls", "source_title", "quote", "note", "dataset",
)
HEADCOUNT_COLUMNS = ("organisation", "count", "kind", "valid_on", "scope_note", "source_url", "note")
RUN_COLUMNS = ("name", "developer", "organisation", "published_on", "training_flop", "training_flop_low",
               "training_flop_high", "hardware", "chip", "hardware_quantity", "confidence", "milestone",
               "source_url", "note")


def _canonical(index: NameIndex, name: str | None, where: str) -> str | None:
    if not name:
        return None
    found = index.get(name)
    if found is None:
        raise IngestError(f"{where}: {index.what} {name!r} is not in the seed catalog")
    return found


def is_url(text: str | None) -> bool:
    parsed = urlparse(text or "")
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


def check_estimate(row: dict, where: str) -> None:
    """The store's CHECK constraints, enforced before writing (errors name the row)."""
    problems = []
    has_chip, has_h100e = bool(row.get("chip")), row.get("h100e") is not None
    if has_chip == has_h100e or (has_chip and row.get("count") is None):
        problems.append("needs either chip + count or h100e, not both")
    if row.get("count") is not None:
        low, high = row.get("count_low"), row.get("count_high")
        if (low is not None and low > row["count"]) or (high is not None and high < row["count"]):
            problems.append("count outside count_low..count_high")
    if row["scope"] not in values(Scope) or (row["scope"] == Scope.CLUSTER and not row.get("cluster")):
        problems.append("bad scope, or a cluster estimate without a cluster name")
    for column, enum in (("status", Status), ("certainty", Certainty), ("access", Access)):
        if row.get(column) not in values(enum):
            problems.append(f"{column} {row.get(column)!r} is not one of {values(enum)}")
    if row.get("valid_on") is None or not is_url(row.get("source_url")):
        problems.append("needs valid_on and an absolute http(s) source_url")
    if problems:
        raise IngestError(f"{where}: " + "; ".join(problems))


def build_estimates(parts: list[pd.DataFrame], orgs: NameIndex, chips: NameIndex) -> pd.DataFrame:
    rows = []
    for part in parts:
        for row in plain_rows(part):
            where = f"estimate from {row['dataset']} row {row.get('source_row')}"
            row["organisation"] = _canonical(orgs, row["organisation"], where)
            row["user_organisation"] = _canonical(orgs, row.get("user_organisation"), where)
            row["chip"] = _canonical(chips, row.get("chip"), where)
            check_estimate(row, where)
            rows.append(row)
    frame = pd.DataFrame(rows)
    order = ["dataset", "organisation", "cluster", "chip", "valid_on", "status", "count", "h100e", "source_row"]
    frame = frame.sort_values(order, na_position="first", kind="stable", key=_sort_key)
    return frame.reindex(columns=list(ESTIMATE_COLUMNS)).reset_index(drop=True)


def _sort_key(series: pd.Series) -> pd.Series:
    return series.map(lambda v: v.casefold() if isinstance(v, str) else v)


def build_headcounts(parts: list[pd.DataFrame], orgs: NameIndex) -> pd.DataFrame:
    rows = []
    for part in parts:
        for row in plain_rows(part):
            row["organisation"] = _canonical(orgs, row["organisation"], f"headcount row {row.get('source_row')}")
            if row["kind"] not in values(HeadcountKind) or not row["count"] or not is_url(row["source_url"]):
                raise IngestError(f"headcount for {row['organisation']} on {row['valid_on']}: bad kind, count or URL")
            rows.append(row)
    frame = pd.DataFrame(rows).sort_values(["organisation", "valid_on", "count", "source_url"], kind="stable")
    return frame.reindex(columns=list(HEADCOUNT_COLUMNS)).reset_index(drop=True)


# --- model runs -----------------------------------------------------------------------

def _overlay(run: dict, ref: dict, display: str | None) -> dict:
    """Reference row on top of an Epoch run: an official value replaces Epoch's estimate."""
    out = dict(run)
    if display:
        out["name"] = display
    notes = [run.get("note") or "", f"Epoch name: {run['name']}" if display else ""]
    if ref["official"]:
        if ref["training_flop"] != run["training_flop"]:
            notes.append(f"official value; Epoch estimate {run['training_flop']:.4g}")
        out.update(training_flop=ref["training_flop"], confidence="official", source_url=ref["source_url"])
        low, high = out.get("training_flop_low"), out.get("training_flop_high")
        if (low is not None and low > out["training_flop"]) or (high is not None and high < out["training_flop"]):
            out.update(training_flop_low=None, training_flop_high=None)
            notes.append("Epoch's bounds dropped (they do not bracket the official value)")
    elif abs(ref["training_flop"] - run["training_flop"]) > 1e-3 * run["training_flop"]:  # not mere rounding
        notes.append(f"reference (Epoch snapshot 2025-02-24): {ref['training_flop']:.4g}")
    out["note"] = join_notes(notes)
    return out


def _from_reference(ref: dict) -> dict:
    note = join_notes([ref.get("note") or "", "from reference model_training_compute.csv "
                       "(Epoch's current file gives no compute for this model)"])
    return {**{k: ref.get(k) for k in RUN_COLUMNS}, "training_flop_low": None, "training_flop_high": None,
            "note": note}


def merge_runs(epoch: pd.DataFrame, reference: pd.DataFrame, curation: pd.DataFrame) -> list[dict]:
    runs = {name_key(r["name"]): r for r in plain_rows(epoch)}
    mapping = {name_key(c["model"]): c for c in plain_rows(curation)}
    for ref in plain_rows(reference):
        cur = mapping.get(name_key(ref["name"]), {})
        target = name_key(cur.get("epoch_model") or ref["name"])
        if target in runs:
            merged = _overlay(runs.pop(target), ref, ref["name"] if cur.get("epoch_model") else None)
            runs[name_key(merged["name"])] = merged
        else:
            runs[name_key(ref["name"])] = _from_reference(ref)
    milestones = {k for k, c in mapping.items() if str(c.get("milestone")).lower() == "true"}
    missing = milestones - set(runs)
    if missing:
        raise IngestError(f"curation model_runs.csv: milestone model(s) without a training run: {sorted(missing)}")
    return [{**run, "milestone": name_key(run["name"]) in milestones} for run in runs.values()]


def build_model_runs(epoch: pd.DataFrame, reference: pd.DataFrame, curation: pd.DataFrame,
                     orgs: NameIndex, chips: NameIndex) -> pd.DataFrame:
    rows = []
    for run in merge_runs(epoch, reference, curation):
        first = (run.get("developer") or "").split(",")[0].strip()
        run["organisation"] = orgs.get(first)  # never invent an organisation for a developer
        hardware = run.get("hardware") or ""
        run["chip"] = chips.get(hardware) if "," not in hardware else None
        if hardware and "," not in hardware and run["chip"] is None:
            raise IngestError(f"model run {run['name']!r}: training hardware {hardware!r} is not in the chip catalog")
        rows.append(run)
    frame = pd.DataFrame(rows)
    frame = frame.sort_values(["published_on", "name"], kind="stable", key=_sort_key, na_position="first")
    return frame.reindex(columns=list(RUN_COLUMNS)).reset_index(drop=True)
