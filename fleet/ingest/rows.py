"""Estimate rows from any source -> checked, resolved rows ready for ``load.add_estimates``.

Builds on ``fleet.ingest.validate`` (values) with what needs the store's names:
organisations and chips resolve through names and aliases (one dict lookup per
*distinct* name); an unknown one is a problem that suggests the closest known names,
unless the caller chose to create new organisations (never chips: the catalog is
curated). New organisations get temporary negative ids until the commit creates them.
Rows identical to an earlier row of the same input are problems too.

Used by the CSV import, the manual entry forms and (later) scrapers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fleet.ingest import load, validate
from fleet.names import clean_name, did_you_mean, name_key
from fleet.resolve import NameIndex, Resolver

MAX_SUGGESTED = 200  # distinct unknown names that get a "did you mean" (each costs a fuzzy search)


@dataclass
class Resolved:
    """Typed rows with ids (``ok`` marks rows without problems) and every problem found."""

    frame: pd.DataFrame
    problems: pd.DataFrame
    new_organisations: dict[int, str] = field(default_factory=dict)  # temporary id -> name

    @property
    def ok(self) -> np.ndarray:
        mask = np.ones(len(self.frame), dtype=bool)
        mask[validate.Checked(self.frame, self.problems).bad_positions()] = False
        return mask

    def valid_rows(self) -> pd.DataFrame:
        ok = self.ok
        return self.frame if ok.all() else self.frame.loc[ok]  # no copy of a clean million rows


def _lookup(index: NameIndex, names: pd.Series, rows: np.ndarray, column: str, *, create: dict[str, int] | None,
            hint: str) -> tuple[pd.Series, pd.DataFrame | None]:
    """Names -> ids (Int64). An unknown name gets a temporary id when ``create`` is given,
    else it is a problem naming the closest known names."""
    codes, uniques = pd.factorize(names, use_na_sentinel=True)
    mapped: list[int | None] = []
    reasons: dict[int, str] = {}
    candidates = None
    for code, name in enumerate(uniques):
        ident = index.get(name)
        if ident is None and create is not None:
            ident = create.setdefault(name_key(name), -(len(create) + 1))
        if ident is None:
            candidates = candidates if candidates is not None else index.canonical_names()
            suggestion = did_you_mean(name, candidates) if len(reasons) < MAX_SUGGESTED else ""
            reasons[code] = f"unknown {index.what}{suggestion}{hint}"
        mapped.append(ident)
    table = pd.array(mapped + [None], dtype="Int64")
    ids = pd.Series(table[codes], index=names.index)  # code -1 (empty) takes the trailing NA
    if not reasons:
        return ids, None
    positions = np.flatnonzero(np.isin(codes, list(reasons)))
    problems = validate.problems_frame(rows, positions, column, names.to_numpy()[positions],
                                       [reasons[c] for c in codes[positions]])
    return ids, problems


def _clean_names(series: pd.Series) -> pd.Series:
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    table = np.array([clean_name(u) for u in uniques] + [None], dtype=object)
    return pd.Series(table[codes], index=series.index, dtype=object)


def resolve(checked: validate.Checked, rows: np.ndarray, resolver: Resolver, *, create_orgs: bool) -> Resolved:
    frame = checked.frame
    new: dict[str, int] = {}
    found = [checked.problems]
    org_hint = " (or choose to create new organisations)" if not create_orgs else ""
    chip_hint = " — the chip catalog is curated; ask an editor to add the chip"
    for column, target, index, create, hint in (
        ("organisation", "organisation_id", resolver.organisations, new if create_orgs else None, org_hint),
        ("user_organisation", "user_organisation_id", resolver.organisations, new if create_orgs else None, org_hint),
        ("chip", "chip_id", resolver.chips, None, chip_hint),
    ):
        names = _clean_names(frame[column])
        frame[column] = names
        frame[target], problems = _lookup(index, names, rows, column, create=create, hint=hint)
        if problems is not None:
            found.append(problems)
    display = {}
    for name in pd.concat([frame["organisation"], frame["user_organisation"]]).dropna().unique():
        key = name_key(name)
        if key in new:
            display.setdefault(new[key], name)
    problems = pd.concat(found, ignore_index=True)
    resolved = Resolved(frame, problems, display)
    resolved.problems = _with_duplicates(resolved, rows)
    return resolved


def _with_duplicates(resolved: Resolved, rows: np.ndarray) -> pd.DataFrame:
    """Add a problem for each row identical to an earlier (otherwise valid) row of the input."""
    frame = resolved.frame
    ok = resolved.ok
    frame["fingerprint"] = None
    if ok.any():
        frame.loc[ok, "fingerprint"] = load.fingerprints(frame.loc[ok]).to_numpy()
    fps = frame["fingerprint"]
    repeated = ok & fps.duplicated(keep="first").to_numpy()
    problems = resolved.problems
    if repeated.any():
        first_row = pd.Series(rows[np.flatnonzero(ok)], index=fps[ok].to_numpy())
        first_row = first_row[~first_row.index.duplicated(keep="first")]
        positions = np.flatnonzero(repeated)
        reasons = [f"duplicates row {first_row[fp]} (same organisation, chip, count, range, date and source)"
                   for fp in fps.to_numpy()[positions]]
        problems = pd.concat([problems, validate.problems_frame(rows, positions, "", [""] * len(positions),
                                                                reasons)], ignore_index=True)
    return problems.sort_values(["row", "column"], kind="stable").reset_index(drop=True)


def check_rows(raw: pd.DataFrame, rows: np.ndarray, resolver: Resolver, *, create_orgs: bool = False) -> Resolved:
    """The whole check of raw estimate rows: values, rules across columns, names, duplicates."""
    return resolve(validate.check_estimates(raw, rows), rows, resolver, create_orgs=create_orgs)


def describe(problem: pd.Series | dict, header: dict[str, str] | None = None) -> str:
    """``row N, column C: value V — reason`` (columns named as in the user's file)."""
    column = problem["column"]
    if not column:
        return f"row {problem['row']}: {problem['reason']}"
    shown = (header or {}).get(column, column)
    value = str(problem["value"])
    value = value if len(value) <= 60 else value[:57] + "…"
    return f"row {problem['row']}, column {shown}: value {value!r} — {problem['reason']}"
