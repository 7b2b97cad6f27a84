"""Build the seed catalogs: chips (Epoch hardware + vendor corrections + curated families and
aliases) and organisations (curated list + owners derived from Epoch's clusters).

Both catalogs share one rule with the store: a name or alias is compared by
``fleet.names.name_key`` and may name only one chip (one organisation), so an alias
clash is an error here rather than an ambiguity later. Pure: frames in, frames out.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from fleet.countries import to_iso3
from fleet.ingest.errors import IngestError
from fleet.ingest.tabular import join_notes, plain_rows
from fleet.names import clean_name, name_key
from fleet.vocab import OrgKind

CHIP_COLUMNS = ("name", "vendor", "family", "release_date", "peak_flops_fp32", "peak_flops_bf16", "peak_ops_8bit",
                "memory_gb", "memory_bw_gb_s", "tdp_w", "price_usd", "source_url", "aliases", "note")
ORG_COLUMNS = ("name", "kind", "country", "parent", "aliases", "note")
# vendor figure -> (catalog column, unit label); differences under 1% are rounding, not conflicts
VENDOR_FIGURES = (("peak_flops_bf16", "16-bit FLOP/s"), ("peak_flops_fp8", "FP8 FLOP/s"), ("memory_gb", "memory GB"),
                  ("memory_bw_gb_s", "bandwidth GB/s"), ("tdp_w", "TDP W"))
TOLERANCE = 0.01


@dataclass
class NameIndex:
    """name_key -> canonical name over names and aliases, refusing clashes."""

    what: str
    names: dict[str, str] = field(default_factory=dict)

    def add(self, text: str, canonical: str) -> None:
        key = name_key(text)
        if not key:
            return
        owner = self.names.get(key)
        if owner is not None and owner != canonical:
            raise IngestError(f"{self.what} name or alias {text!r} would name both {owner!r} and {canonical!r}")
        self.names[key] = canonical

    def get(self, text: str | None) -> str | None:
        return self.names.get(name_key(text)) if text else None

    @classmethod
    def of(cls, what: str, frame: pd.DataFrame) -> "NameIndex":
        index = cls(what)
        for row in plain_rows(frame):
            index.add(row["name"], row["name"])
        for row in plain_rows(frame):
            for alias in split_aliases(row.get("aliases")):
                index.add(alias, row["name"])
        return index


def split_aliases(cell: object) -> list[str]:
    return [clean_name(a) for a in str(cell or "").split("|") if a.strip()]


def distinct_aliases(name: str, cell: object) -> str:
    """Aliases with the same name key as the name (or as each other) dropped: the key already matches."""
    seen, out = {name_key(name)}, []
    for alias in split_aliases(cell):
        if name_key(alias) not in seen:
            seen.add(name_key(alias))
            out.append(alias)
    return "|".join(out)


# --- chips ----------------------------------------------------------------------------

def _differs(vendor: float, epoch: float | None) -> bool:
    return epoch is None or abs(vendor - epoch) > TOLERANCE * max(abs(vendor), abs(epoch))


OUTPUT_FIGURES = (("peak_flops_bf16", "16-bit FLOP/s"), ("peak_ops_8bit", "8-bit OP/s"), ("memory_gb", "memory GB"),
                  ("memory_bw_gb_s", "bandwidth GB/s"), ("tdp_w", "TDP W"))


def apply_vendor_figures(chip: dict, vendor: dict) -> dict:
    """Vendor (reference) figures win where Epoch differs by more than 1% or is silent.

    The 8-bit figure is recomputed as the higher of FP8 (vendor where given) and INT8.
    The note keeps each replaced Epoch value; the source URL becomes the vendor's only
    when a catalog figure actually changed.
    """
    out = dict(chip)
    for column, _ in VENDOR_FIGURES:
        value = vendor.get(column)
        if value is not None and _differs(value, chip.get(column)):
            out[column] = value
    eight = [v for v in (out.get("peak_flops_fp8"), out.get("peak_ops_int8")) if v is not None]
    out["peak_ops_8bit"] = max(eight) if eight else None
    notes = []
    for column, label in OUTPUT_FIGURES:
        new, was = out.get(column), chip.get(column)
        if new is not None and (was is None or _differs(new, was)):
            epoch_said = "Epoch gives none" if was is None else f"Epoch: {was:.6g}"
            notes.append(f"{label} {new:.6g} from vendor docs ({epoch_said})")
        elif new is None or not _differs(new, was):
            out[column] = was  # keep Epoch's exact figure when the vendor's only rounds it
    if notes:
        out["source_url"] = vendor["source_url"]
        notes.append(f"vendor figures from reference accelerators.csv ({vendor['key']}); "
                     f"other figures from Epoch AI ({chip['source_url']})")
    out["note"] = join_notes([chip.get("note") or "", *notes])
    return out


def build_chips(hardware: pd.DataFrame, extra: pd.DataFrame, curation: pd.DataFrame,
                vendor: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The chip catalog and the names of chips the curation does not cover (family "Other")."""
    chips = {name_key(r["name"]): r for r in plain_rows(hardware)}
    for row in plain_rows(extra):
        if name_key(row["name"]) in chips:
            raise IngestError(f"curation extra_chips.csv: {row['name']!r} is already in Epoch's hardware data")
        chips[name_key(row["name"])] = {**row, "release_date": row.get("release_date") or None}
    by_key = {r["key"]: r for r in plain_rows(vendor)}
    uncurated = set(chips)
    for row in plain_rows(curation):
        key = name_key(row["name"])
        if key not in chips:
            raise IngestError(f"curation chips.csv: {row['name']!r} is not a chip in the catalog")
        uncurated.discard(key)
        chip = chips[key]
        chip.update(family=row.get("family") or "Other", aliases=distinct_aliases(chip["name"], row.get("aliases")))
        if row.get("reference"):
            if row["reference"] not in by_key:
                raise IngestError(f"curation chips.csv: {row['name']!r} cites unknown reference row {row['reference']!r}")
            chips[key] = apply_vendor_figures(chip, by_key[row["reference"]])
    for key in uncurated:
        chips[key].update(family="Other", aliases="")
    frame = pd.DataFrame(list(chips.values())).reindex(columns=list(CHIP_COLUMNS))
    frame = frame.sort_values("name", key=lambda s: s.str.casefold(), kind="stable").reset_index(drop=True)
    NameIndex.of("chip", frame)  # raises on any alias clash
    return frame, sorted(chips[k]["name"] for k in uncurated)


# --- organisations --------------------------------------------------------------------

ACADEMIC = re.compile(
    r"univer|institut|college|school|academy|polytechnic|laborat|supercomputing|research cent|centre for|"
    r"center for|computing cent|society|riken|csiro|eth domain|cineca|^surf$|dirac|hessian|kaust|cimatec|texas a&m",
    re.IGNORECASE)


def derived_kind(name: str, sector: str) -> tuple[str, str]:
    """(kind, why) for an owner nobody curated, from Epoch's Sector and the name."""
    sector = (sector or "").strip()
    if ACADEMIC.search(name) and sector in ("Public", "Public/Private", ""):
        return OrgKind.ACADEMIC.value, f"Epoch sector {sector or 'not given'} and an academic name"
    if sector == "Public":
        return OrgKind.GOVERNMENT.value, "Epoch sector Public"
    if sector in ("Private", "Public/Private"):
        return OrgKind.COMPANY.value, f"Epoch sector {sector}"
    return OrgKind.OTHER.value, "Epoch gives no sector"


def _most_common(values: list) -> str | None:
    values = [v for v in values if v]
    if not values:
        return None
    counts = Counter(values)
    return sorted(counts, key=lambda v: (-counts[v], v))[0]


def derived_organisations(owners: pd.DataFrame, known: NameIndex) -> list[dict]:
    """Owners from Epoch's clusters that the curation does not name (including placeholders)."""
    out = []
    for name, rows in owners.fillna("").groupby("name", sort=True):
        if known.get(name):
            continue
        country = _most_common(list(rows["country"]))
        if rows["unattributed"].astype(bool).any():
            out.append({"name": name, "kind": OrgKind.UNATTRIBUTED.value, "country": country, "parent": None,
                        "aliases": "", "note": "Placeholder for Epoch clusters with no named owner in this country."})
            continue
        kind, why = derived_kind(name, _most_common(list(rows["sector"])) or "")
        out.append({"name": name, "kind": kind, "country": country, "parent": None, "aliases": "",
                    "note": f"From Epoch AI's GPU clusters; kind derived ({why})."})
    return out


def build_organisations(curated: pd.DataFrame, owners: pd.DataFrame) -> pd.DataFrame:
    rows = [dict(r) for r in plain_rows(curated)]
    for row in rows:
        if row["kind"] not in {k.value for k in OrgKind}:
            raise IngestError(f"curation organisations.csv: {row['name']!r} has unknown kind {row['kind']!r}")
        row["country"] = to_iso3(row["country"]) if row.get("country") else None
        row["aliases"] = distinct_aliases(row["name"], row.get("aliases"))
    rows += derived_organisations(owners, NameIndex.of("organisation", curated))
    frame = pd.DataFrame(rows).reindex(columns=list(ORG_COLUMNS))
    frame = frame.sort_values("name", key=lambda s: s.str.casefold(), kind="stable").reset_index(drop=True)
    index = NameIndex.of("organisation", frame)
    for parent in frame["parent"].dropna():
        if parent and not index.get(parent):
            raise IngestError(f"organisations: parent {parent!r} is not an organisation")
    return frame
