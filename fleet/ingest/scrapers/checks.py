"""Scraped records -> typed rows with ids, plus every problem: the CSV import's checks, reused.

Estimates go through exactly the code a CSV import uses (``fleet.ingest.rows.check_rows``:
``validate``'s pandera column rules, the rules across columns, name resolution with
"did you mean", duplicates within the input): the records are first written out as the
import format's text cells, so a value is judged the same wherever it comes from.
Headcounts and model runs, which the CSV format does not cover, are checked with the
same column rules (``validate.check_column``) and the same resolver.

Row numbers are the source's own (Epoch's spreadsheet row, the table row of a page), so
a problem points at the place in the source. Pure apart from the ``Resolver`` snapshot.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd
import pandera.pandas as pa

from fleet.ingest import column_parsers, validate
from fleet.ingest.rows import Resolved, check_rows
from fleet.ingest.seed_build import format_value
from fleet.names import did_you_mean
from fleet.resolve import Resolver
from fleet.vocab import HeadcountKind, values

ESTIMATE_TEXT_COLUMNS = tuple(validate.rules())
# The identifying columns ``fleet.ingest.load`` dedupes headcounts and model runs on.
HEADCOUNT_KEY = ("organisation_id", "count", "kind", "valid_on", "source_url")
MODEL_RUN_KEY = ("name", "published_on", "training_flop", "source_url")


def as_text(value: object) -> str:
    """One cell of the import format, spelled exactly as the seed files spell it (10 significant
    digits, ISO dates), so a scrape of the seed's own source fingerprints as the seed did."""
    return format_value(value)


def text_frame(records: pd.DataFrame, columns) -> pd.DataFrame:
    out = pd.DataFrame(index=pd.RangeIndex(len(records)))
    for column in columns:
        cells = records[column] if column in records else pd.Series([""] * len(records))
        out[column] = pd.Series([as_text(v) for v in cells], dtype="str").to_numpy()
    return out


def source_rows(records: pd.DataFrame) -> np.ndarray:
    if "source_row" in records and len(records):
        return pd.to_numeric(records["source_row"], errors="coerce").fillna(0).astype("int64").to_numpy()
    return np.arange(1, len(records) + 1, dtype=np.int64)


def check_estimates(records: pd.DataFrame, resolver: Resolver, *, create_orgs: bool) -> Resolved:
    """Estimate records (names) -> the CSV import's ``Resolved`` (ids, ``ok`` mask, problems)."""
    raw = text_frame(records, ESTIMATE_TEXT_COLUMNS)
    return check_rows(raw, source_rows(records), resolver, create_orgs=create_orgs)


# --- headcounts and model runs: the same column rules ------------------------------------

def _typed(frame: pd.DataFrame, column: str, rule: validate.Rule, rows: np.ndarray, found: list,
           required: bool) -> pd.Series:
    text = frame[column].astype("str")
    typed, given, positions, reasons = validate.check_column(text, rule)
    if len(positions):
        found.append(validate.problems_frame(rows, positions, column, text.to_numpy()[positions], reasons))
    if required:
        empty = np.flatnonzero(~np.asarray(given, dtype=bool))
        if len(empty):
            found.append(validate.problems_frame(rows, empty, column, [""] * len(empty), ["is required"] * len(empty)))
    return typed


def _resolve(names: pd.Series, index, rows: np.ndarray, column: str, found: list, *, required: bool) -> pd.Series:
    ids, bad = [], []
    for position, name in enumerate(names):
        ident = index.get(name) if name else None
        if ident is None and name and required:
            bad.append((position, name, f"unknown {index.what}{did_you_mean(name, index.canonical_names())}"))
        ids.append(ident)
    if bad:
        found.append(validate.problems_frame(rows, [b[0] for b in bad], column, [b[1] for b in bad],
                                             [b[2] for b in bad]))
    return pd.Series(pd.array(ids, dtype="Int64"))


def _finish(frame: pd.DataFrame, found: list) -> Resolved:
    problems = pd.concat(found, ignore_index=True) if found else validate.empty_problems()
    return Resolved(frame, problems.sort_values(["row", "column"], kind="stable").reset_index(drop=True))


def _dates(series: pd.Series) -> pd.Series:
    """datetime64 -> ``date`` objects, as the store and the seed hold them (fingerprints compare text)."""
    return pd.Series([None if pd.isna(v) else pd.Timestamp(v).date() for v in series], dtype=object)


# Model runs reach back to the 1950s; the estimate rule's 1990 floor is about AI compute fleets.
_PUBLISHED = validate.Rule(column_parsers.parse_day, (
    pa.Check.ge(pd.Timestamp("1940-01-01"), error="is before 1940 — not a date of a machine-learning model"),
    pa.Check.le(pd.Timestamp(validate.latest_date()), error="is too far in the future"),
))


HEADCOUNT_TEXT_COLUMNS = ("organisation", "count", "kind", "valid_on", "scope_note", "source_url", "note")
_POSITIVE = validate.Rule(column_parsers.parse_whole, (pa.Check.ge(1, error="must be at least 1"),))


def check_headcounts(records: pd.DataFrame, resolver: Resolver) -> Resolved:
    raw, rows, found = text_frame(records, HEADCOUNT_TEXT_COLUMNS), source_rows(records), []
    rules = validate.rules()
    out = pd.DataFrame({
        "organisation_id": _resolve(raw["organisation"], resolver.organisations, rows, "organisation", found,
                                    required=True),
        "count": _typed(raw, "count", _POSITIVE, rows, found, True),
        "kind": _typed(raw, "kind", validate.Rule(column_parsers.parse_choice(values(HeadcountKind))), rows, found,
                       True),
        "valid_on": _dates(_typed(raw, "valid_on", rules["valid_on"], rows, found, True)),
        "source_url": _typed(raw, "source_url", rules["source_url"], rows, found, True),
        "scope_note": raw["scope_note"].replace("", None), "note": raw["note"].replace("", None),
        "organisation": raw["organisation"],
    })
    return _finish(out, found)


MODEL_RUN_TEXT_COLUMNS = ("name", "developer", "published_on", "training_flop", "training_flop_low",
                          "training_flop_high", "hardware", "hardware_quantity", "confidence", "source_url", "note")
_FLOP = validate.Rule(column_parsers.parse_decimal, (pa.Check.gt(0, error="must be more than 0"),
                                               pa.Check.le(1e32, error="is over 1e32 FLOP — not plausible")))


def _curated_names(raw: pd.DataFrame, names: Mapping[str, str]) -> None:
    """The seed's display names ("GPT-4 (Mar 2023)" -> "GPT-4"), the source's name kept in the note."""
    for position, name in enumerate(raw["name"]):
        curated = names.get(name.strip().casefold())
        if curated and curated != name:
            note = raw.at[position, "note"]
            raw.at[position, "name"] = curated
            raw.at[position, "note"] = f"{note}; Epoch name: {name}" if note else f"Epoch name: {name}"


def check_model_runs(records: pd.DataFrame, resolver: Resolver, milestones: frozenset[str] = frozenset(),
                     names: Mapping[str, str] | None = None) -> Resolved:
    """Runs keep their developer as text; the first developer that is a known organisation
    becomes ``organisation_id`` (never created), a single known chip becomes ``chip_id``."""
    raw, rows, found = text_frame(records, MODEL_RUN_TEXT_COLUMNS), source_rows(records), []
    _curated_names(raw, names or {})
    rules = validate.rules()
    first = raw["developer"].map(lambda d: d.split(",")[0].strip())
    single = raw["hardware"].map(lambda h: h if h and "," not in h else "")
    out = pd.DataFrame({
        "name": _typed(raw, "name", validate.Rule(column_parsers.parse_text(300)), rows, found, True),
        "developer": raw["developer"].replace("", None),
        "organisation_id": _resolve(first, resolver.organisations, rows, "developer", found, required=False),
        "published_on": _dates(_typed(raw, "published_on", _PUBLISHED, rows, found, False)),
        "training_flop": _typed(raw, "training_flop", _FLOP, rows, found, True),
        "training_flop_low": _typed(raw, "training_flop_low", _FLOP, rows, found, False),
        "training_flop_high": _typed(raw, "training_flop_high", _FLOP, rows, found, False),
        "hardware": raw["hardware"].replace("", None),
        "chip_id": _resolve(single, resolver.chips, rows, "hardware", found, required=False),
        "hardware_quantity": _typed(raw, "hardware_quantity", _POSITIVE, rows, found, False),
        "confidence": raw["confidence"].replace("", None).str.slice(0, 40),
        "source_url": _typed(raw, "source_url", rules["source_url"], rows, found, True),
        "note": raw["note"].replace("", None),
    })
    for column in ("training_flop", "training_flop_low", "training_flop_high"):
        out[column] = pd.to_numeric(out[column], errors="coerce").astype("float64")
    low_bad = out["training_flop_low"] > out["training_flop"]
    high_bad = out["training_flop_high"] < out["training_flop"]
    for column, bad, reason in (("training_flop_low", low_bad, "is above training_flop"),
                                ("training_flop_high", high_bad, "is below training_flop")):
        positions = np.flatnonzero(bad.fillna(False).to_numpy())
        if len(positions):
            found.append(validate.problems_frame(rows, positions, column, raw[column].to_numpy()[positions],
                                                 [reason] * len(positions)))
    out["milestone"] = out["name"].map(lambda n: isinstance(n, str) and n.casefold() in milestones)
    return _finish(out, found)
