"""Validate estimate rows column-wise: raw text frame -> (typed rows, problems).

Shared by the CSV import, manual entry and scrapers, so a value is judged the same way
wherever it comes from. The input is a frame of *raw text* columns named as the import
format (``fleet.ingest.csv_import.COLUMN_ALIASES``); the output keeps every row, typed,
plus a ``problems`` frame with one line per bad cell: ``row``, ``column``, ``value``,
``reason``. Resolving names to ids is ``fleet.ingest.resolve_rows``'s job.

Speed: each column is factorised and only its *distinct* values are parsed
(``fleet.ingest.column_parsers``) and checked (a million rows of a file hold a few
thousand distinct dates, counts or URLs), then the verdicts are broadcast back by code.
The checks themselves are pandera schemas; the cross-column rules run vectorised over
the whole frame. Values are not forgiving: ``12k`` is an error, not 12000.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Callable

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow
import pyarrow.compute as pc
from pandera.errors import SchemaErrors

from fleet.ingest.column_parsers import (MAX_CHIPS, pa_array, parse_choice, parse_country, parse_day, parse_decimal,
                                         parse_text, parse_url, parse_urls, parse_whole)
from fleet.vocab import Access, Certainty, Scope, Status, values

# Published plans reach ~50M H100e (Epoch's "xAI 5 year plan"): allow twice that, so a
# real plan passes while a units mistake (chips x FLOP/s, say) is still caught.
MAX_H100E = 100_000_000.0
MAX_POWER_MW = 100_000.0
EARLIEST = date(1990, 1, 1)
YEARS_AHEAD = 10
TEXT_LIMITS = {"cluster": 300, "source_title": 2_000, "quote": 20_000, "note": 20_000, "organisation": 200,
               "user_organisation": 200, "chip": 120}
DEFAULTS = {"status": Status.OPERATIONAL.value, "certainty": Certainty.LIKELY.value, "access": Access.OWNED.value}
PROBLEM_COLUMNS = ["row", "column", "value", "reason"]


def latest_date() -> date:
    today = date.today()
    return today.replace(year=today.year + YEARS_AHEAD, day=min(today.day, 28))


@dataclass
class Checked:
    """Rows typed column by column (NA where a cell was empty or bad), and the problems."""

    frame: pd.DataFrame
    problems: pd.DataFrame
    given: pd.DataFrame | None = None  # which cells held something (after trimming)

    def bad_positions(self) -> np.ndarray:
        return np.unique(self.problems["_pos"].to_numpy()) if len(self.problems) else np.array([], dtype=np.int64)


# -- the column rules: a parser for the distinct values, then pandera checks on them ---------

@dataclass(frozen=True)
class Rule:
    parse: Callable[[pd.Series], tuple[pd.Series, pd.Series]]
    checks: tuple[pa.Check, ...] = ()


_COUNT_CHECKS = (pa.Check.ge(1, error="must be at least 1"),
                 pa.Check.le(MAX_CHIPS, error=f"is over {MAX_CHIPS:,} chips — not plausible; check the units"))
_H100E_CHECKS = (pa.Check.gt(0, error="must be more than 0"),
                 pa.Check.le(MAX_H100E, error=f"is over {MAX_H100E:,.0f} H100e — not plausible; check the units"))


def _day_checks() -> tuple[pa.Check, ...]:
    last = latest_date()
    return (pa.Check.ge(pd.Timestamp(EARLIEST), error=f"is before {EARLIEST:%Y} — not a date of AI compute"),
            pa.Check.le(pd.Timestamp(last), error=f"is more than {YEARS_AHEAD} years ahead (after {last})"))


def rules() -> dict[str, Rule]:
    return {
        "organisation": Rule(parse_text(TEXT_LIMITS["organisation"])),
        "user_organisation": Rule(parse_text(TEXT_LIMITS["user_organisation"])),
        "chip": Rule(parse_text(TEXT_LIMITS["chip"])),
        "count": Rule(parse_whole, _COUNT_CHECKS),
        "count_low": Rule(parse_whole, _COUNT_CHECKS),
        "count_high": Rule(parse_whole, _COUNT_CHECKS),
        "h100e": Rule(parse_decimal, _H100E_CHECKS),
        "h100e_low": Rule(parse_decimal, _H100E_CHECKS),
        "h100e_high": Rule(parse_decimal, _H100E_CHECKS),
        "power_mw": Rule(parse_decimal, (pa.Check.gt(0, error="must be more than 0"),
                                         pa.Check.le(MAX_POWER_MW, error="is over 100,000 MW — not plausible"))),
        "valid_on": Rule(parse_day, _day_checks()),
        "scope": Rule(parse_choice(values(Scope))),
        "status": Rule(parse_choice(values(Status))),
        "certainty": Rule(parse_choice(values(Certainty))),
        "access": Rule(parse_choice(values(Access))),
        "country": Rule(parse_country),
        "source_url": Rule(parse_url, (pa.Check.str_length(max_value=2000, error="is longer than 2,000 characters"),)),
        "extra_source_urls": Rule(parse_urls),
        "cluster": Rule(parse_text(TEXT_LIMITS["cluster"])),
        "source_title": Rule(parse_text(TEXT_LIMITS["source_title"])),
        "quote": Rule(parse_text(TEXT_LIMITS["quote"])),
        "note": Rule(parse_text(TEXT_LIMITS["note"])),
    }


def pandera_reasons(parsed: pd.Series, checks: tuple[pa.Check, ...]) -> pd.Series:
    """The first failed check's message per value (None where all pass); NA values pass."""
    reasons = pd.Series(None, index=parsed.index, dtype=object)
    if not checks or parsed.notna().sum() == 0:
        return reasons
    try:
        pa.SeriesSchema(checks=list(checks), nullable=True).validate(parsed, lazy=True)
    except SchemaErrors as exc:
        cases = exc.failure_cases.dropna(subset=["index"]).sort_values("check_number")
        first = cases.drop_duplicates("index")
        reasons.loc[first["index"].astype(int).to_numpy()] = first["check"].to_numpy()
    return reasons


def encode(raw: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Trimmed text -> (codes, distinct values); empty cells get code -1. Arrow does the work."""
    array = pa_array(raw)
    trimmed = pc.utf8_trim_whitespace(array)
    trimmed = pc.if_else(pc.equal(trimmed, ""), pyarrow.scalar(None, pyarrow.string()), trimmed)
    encoded = pc.dictionary_encode(trimmed)
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    return codes, pd.Series(pd.array(encoded.dictionary, dtype="str"))


def _broadcast(parsed: pd.Series, codes: np.ndarray) -> pd.Series:
    """Distinct parsed values -> the full column (NA where the code is -1), by numpy take."""
    if isinstance(parsed.dtype, pd.Int64Dtype):
        values = np.append(parsed.fillna(0).to_numpy(dtype=np.int64), 0)[codes]
        mask = np.append(parsed.isna().to_numpy(), True)[codes]
        return pd.Series(pd.arrays.IntegerArray(values, mask))
    if parsed.dtype.kind in "fM":
        missing = np.array([np.nan if parsed.dtype.kind == "f" else np.datetime64("NaT")], dtype=parsed.dtype)
        return pd.Series(np.concatenate([parsed.to_numpy(), missing])[codes], copy=False)  # fresh: no 2nd copy
    table = np.empty(len(parsed) + 1, dtype=object)
    table[:-1] = parsed.astype(object).where(parsed.notna(), None).to_numpy()
    table[-1] = None
    return pd.Series(table[codes], dtype=object, copy=False)


def check_column(raw: pd.Series, rule: Rule) -> tuple[pd.Series, np.ndarray, np.ndarray, np.ndarray]:
    """Raw text column -> (typed column, given mask, positions of bad cells, their reasons)."""
    codes, u = encode(raw)
    parsed, reasons = rule.parse(u)
    checked = pandera_reasons(parsed, rule.checks)
    reasons = reasons.where(reasons.notna(), checked)
    parsed = parsed.where(reasons.isna())
    typed = _broadcast(parsed.reset_index(drop=True), codes)
    given = codes >= 0
    bad_codes = np.flatnonzero(reasons.notna().to_numpy())
    if not len(bad_codes):
        return typed, given, np.array([], dtype=np.int64), np.array([], dtype=object)
    positions = np.flatnonzero(np.isin(codes, bad_codes))
    return typed, given, positions, reasons.to_numpy()[codes[positions]]


def problems_frame(rows: np.ndarray, positions, column: str, values, reasons) -> pd.DataFrame:
    positions = np.asarray(positions, dtype=np.int64)
    return pd.DataFrame({"_pos": positions, "row": rows[positions], "column": column,
                         "value": np.asarray(values, dtype=object), "reason": np.asarray(reasons, dtype=object)})


def check_columns(raw: pd.DataFrame, rows: np.ndarray) -> Checked:
    """Type every known column of ``raw`` (text) and list the bad cells."""
    index = pd.RangeIndex(len(raw))
    columns: dict[str, pd.Series] = {}
    given: dict[str, np.ndarray] = {}
    found = []
    for column, rule in rules().items():
        if column not in raw:
            columns[column] = pd.Series(pd.NA if rule.parse is parse_whole else None, index=index,
                                        dtype="Int64" if rule.parse is parse_whole else object)
            given[column] = np.zeros(len(raw), dtype=bool)
            continue
        text = raw[column]
        typed, given[column], positions, reasons = check_column(text, rule)
        columns[column] = typed
        if len(positions):
            values_ = text.iloc[positions].astype(object).where(lambda v: v.notna(), "").to_numpy()
            found.append(problems_frame(rows, positions, column, values_, reasons))
    for column in ("h100e", "h100e_low", "h100e_high", "power_mw"):
        columns[column] = pd.to_numeric(columns[column], errors="coerce").astype("float64")
    columns["valid_on"] = pd.to_datetime(columns["valid_on"])
    out = pd.DataFrame(columns, index=index, copy=False)  # the columns are fresh: no copy
    problems = pd.concat(found, ignore_index=True) if found else empty_problems()
    return Checked(out, problems, pd.DataFrame(given))


def empty_problems() -> pd.DataFrame:
    return pd.DataFrame({"_pos": pd.Series([], dtype="int64"), "row": pd.Series([], dtype="int64"),
                         "column": pd.Series([], dtype=object), "value": pd.Series([], dtype=object),
                         "reason": pd.Series([], dtype=object)})


# -- rules across columns (vectorised over all rows; run as one pandera frame schema) -------

CrossRule = tuple[str, str, Callable[[pd.DataFrame, pd.DataFrame], pd.Series]]  # (blamed column, reason, ok-mask)


def _both(t: pd.DataFrame, a: str, b: str) -> pd.Series:
    return t[a].notna() & t[b].notna()


CROSS_RULES: list[CrossRule] = [
    ("organisation", "is required", lambda t, g: g["organisation"]),
    ("valid_on", "is required", lambda t, g: g["valid_on"]),
    ("source_url", "is required (an absolute http(s) URL)", lambda t, g: g["source_url"]),
    ("count", "is required (or give h100e for an estimate in H100-equivalents)",
     lambda t, g: g["count"] | g["h100e"]),
    ("h100e", "give either count (chips) or h100e, not both", lambda t, g: ~(g["count"] & g["h100e"])),
    ("chip", "is required when count is given (which chip are they?)", lambda t, g: ~g["count"] | g["chip"]),
    ("chip", "must be empty for an estimate in H100-equivalents (h100e)",
     lambda t, g: ~(g["h100e"] & ~g["count"] & g["chip"])),
    ("count_low", "needs count", lambda t, g: ~g["count_low"] | g["count"]),
    ("count_high", "needs count", lambda t, g: ~g["count_high"] | g["count"]),
    ("h100e_low", "needs h100e", lambda t, g: ~g["h100e_low"] | g["h100e"]),
    ("h100e_high", "needs h100e", lambda t, g: ~g["h100e_high"] | g["h100e"]),
    ("count_low", "is above count", lambda t, g: ~_both(t, "count_low", "count") | (t["count_low"] <= t["count"])),
    ("count_high", "is below count", lambda t, g: ~_both(t, "count_high", "count") | (t["count_high"] >= t["count"])),
    ("h100e_low", "is above h100e", lambda t, g: ~_both(t, "h100e_low", "h100e") | (t["h100e_low"] <= t["h100e"])),
    ("h100e_high", "is below h100e", lambda t, g: ~_both(t, "h100e_high", "h100e") | (t["h100e_high"] >= t["h100e"])),
    ("cluster", "is required when scope is cluster (name the cluster or site)",
     lambda t, g: (t["scope"] != Scope.CLUSTER.value) | g["cluster"]),
    ("scope", "is fleet but a cluster is named — use scope cluster, or leave cluster empty",
     lambda t, g: (t["scope"] != Scope.FLEET.value) | ~g["cluster"]),
    ("user_organisation", "is only for leased or rented capacity — set access to leased or rented",
     lambda t, g: ~g["user_organisation"] | (t["access"] != Access.OWNED.value)),
    ("valid_on", "is in the future — only planned capacity can be dated ahead (set status to planned)",
     lambda t, g: t["valid_on"].isna() | (t["valid_on"] <= pd.Timestamp(date.today()))
     | (t["status"] == Status.PLANNED.value)),
]


def apply_defaults(typed: pd.DataFrame, given: pd.DataFrame) -> None:
    """Fill empty status/certainty/access; scope defaults to cluster when a cluster is named."""
    for column, default in DEFAULTS.items():
        typed.loc[~given[column], column] = default
    scope_default = np.where(given["cluster"].to_numpy(), Scope.CLUSTER.value, Scope.FLEET.value)
    typed.loc[~given["scope"], "scope"] = scope_default[~given["scope"].to_numpy()]


def cross_problems(typed: pd.DataFrame, given: pd.DataFrame, raw: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    # The rules read the typed frame from the closure; pandera sees a one-column stand-in so
    # that its failure cases hold one line per failing row, not one per column.
    checks = [pa.Check(lambda _d, fn=fn: fn(typed, given).fillna(False).astype(bool), name=column, error=reason)
              for column, reason, fn in CROSS_RULES]
    try:
        pa.DataFrameSchema(checks=checks).validate(pd.DataFrame({"_": np.zeros(len(typed), dtype=np.int8)}),
                                                   lazy=True)
        return empty_problems()
    except SchemaErrors as exc:
        cases = exc.failure_cases.dropna(subset=["index"])
    cases = cases.drop_duplicates(["index", "check_number"])
    positions = cases["index"].astype(np.int64).to_numpy()
    numbers = cases["check_number"].astype(int).to_numpy()
    columns = np.array([CROSS_RULES[n][0] for n in numbers], dtype=object)
    reasons = np.array([CROSS_RULES[n][1] for n in numbers], dtype=object)
    shown = [raw[c].iat[p] if c in raw else "" for c, p in zip(columns, positions)] if len(positions) < 100_000 \
        else [""] * len(positions)
    out = problems_frame(rows, positions, "", shown, reasons)
    out["column"] = columns
    return out


def check_estimates(raw: pd.DataFrame, rows: np.ndarray) -> Checked:
    """Every rule for estimate rows: each column's values, then the rules across columns."""
    raw = raw.reset_index(drop=True)
    checked = check_columns(raw, rows)
    given = checked.given
    apply_defaults(checked.frame, given)
    cross = cross_problems(checked.frame, given, raw, rows)
    # a cell already reported as malformed is not also reported as, say, "is required"
    problems = pd.concat([checked.problems, cross], ignore_index=True)
    problems = problems.drop_duplicates(["_pos", "column"]).sort_values(["row", "column"], kind="stable")
    return Checked(checked.frame, problems.reset_index(drop=True), given)
