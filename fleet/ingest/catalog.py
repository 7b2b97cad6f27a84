"""Add organisations and chips (with aliases) to the store, never duplicating a name.

Names and aliases share one namespace per table (compared by ``fleet.names.name_key``):
an alias that already names a *different* organisation or chip is an error, because
resolving it would become ambiguous. Existing rows are left as they are: the catalog is
curated, and changing a chip's figures is an editor's reviewed action, not a side
effect of seeding.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy.orm import Session

from fleet.countries import to_iso3
from fleet.db import WriteStamp
from fleet.ingest.errors import IngestError
from fleet.models import Chip, ChipAlias, Organisation, OrganisationAlias
from fleet.names import clean_name, name_key
from fleet.resolve import NameIndex, Resolver
from fleet.vocab import OrgKind

CHIP_FIELDS = ("vendor", "family", "release_date", "peak_flops_fp32", "peak_flops_bf16", "peak_ops_8bit",
               "memory_gb", "memory_bw_gb_s", "tdp_w", "price_usd", "source_url", "note")


@dataclass
class CatalogReport:
    organisations_added: int = 0
    chips_added: int = 0
    aliases_added: int = 0


def split_aliases(cell: object) -> list[str]:
    if not isinstance(cell, str):
        return []
    return [clean_name(a) for a in cell.split("|") if a.strip()]


def _value(row: pd.Series, column: str):
    value = row.get(column)
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) or value == "" else value


def _add_aliases(session: Session, index: NameIndex, ident: int, aliases: list[str], alias_model, fk: str) -> int:
    added = 0
    for alias in aliases:
        owner = index.get(alias)
        if owner == ident:
            continue
        if owner is not None:
            raise IngestError(f"{index.what} alias {alias!r} already names {index.display[name_key(alias)]!r}")
        session.add(alias_model(alias=alias, alias_key=name_key(alias), **{fk: ident}))
        index.add(alias, ident, index.display.get(name_key(alias), alias))
        added += 1
    return added


def upsert_chips(session: Session, resolver: Resolver, frame: pd.DataFrame, report: CatalogReport) -> None:
    for _, row in frame.iterrows():
        name = clean_name(row["name"])
        ident = resolver.chips.get(name)
        if ident is None:
            values = {f: _value(row, f) for f in CHIP_FIELDS}
            if values["release_date"] is not None:
                values["release_date"] = pd.Timestamp(values["release_date"]).date()
            chip = Chip(name=name, name_key=name_key(name), **values)
            session.add(chip)
            session.flush()
            ident = chip.id
            resolver.chips.add(name, ident, name)
            report.chips_added += 1
        report.aliases_added += _add_aliases(session, resolver.chips, ident, split_aliases(row.get("aliases")),
                                             ChipAlias, "chip_id")


def upsert_organisations(session: Session, resolver: Resolver, frame: pd.DataFrame, stamp: WriteStamp,
                         report: CatalogReport) -> None:
    """Add missing organisations, then their aliases, then parents (which may come later in the file)."""
    new_ids: dict[int, pd.Series] = {}
    for _, row in frame.iterrows():
        name = clean_name(row["name"])
        ident = resolver.organisations.get(name)
        if ident is None:
            kind = OrgKind(_value(row, "kind") or OrgKind.OTHER)
            country = _value(row, "country")
            org = Organisation(name=name, name_key=name_key(name), kind=kind.value,
                               country=to_iso3(country) if country else None,
                               note=_value(row, "note"), created_at=stamp.recorded_at)
            session.add(org)
            session.flush()
            ident = org.id
            resolver.organisations.add(name, ident, name)
            new_ids[ident] = row
            report.organisations_added += 1
        report.aliases_added += _add_aliases(session, resolver.organisations, ident,
                                             split_aliases(row.get("aliases")), OrganisationAlias, "organisation_id")
    for ident, row in new_ids.items():
        parent = _value(row, "parent")
        if parent:
            session.get(Organisation, ident).parent_id = resolver.organisations.resolve(parent)
