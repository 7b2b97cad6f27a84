"""Resolve organisation and chip names (or aliases) to ids, with "did you mean" errors.

A ``Resolver`` is a read-only snapshot of the names in the store, loaded once per
import, scrape or seed so that resolving a million rows is a dict lookup per distinct
name, not a query per row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from fleet.models import Chip, ChipAlias, Organisation, OrganisationAlias
from fleet.names import did_you_mean, name_key


class UnknownName(LookupError):
    """A name that is neither a known name nor an alias; the message suggests close ones."""

    def __init__(self, what: str, name: str, suggestion: str) -> None:
        self.what, self.name, self.suggestion = what, name, suggestion
        super().__init__(f"unknown {what} {name!r}{suggestion}")


@dataclass
class NameIndex:
    what: str
    ids: dict[str, int] = field(default_factory=dict)  # name_key -> id
    display: dict[str, str] = field(default_factory=dict)  # name_key -> canonical name

    def add(self, key_name: str, ident: int, canonical: str) -> None:
        key = name_key(key_name)
        self.ids[key] = ident
        self.display.setdefault(key, canonical)

    def get(self, name: str) -> int | None:
        return self.ids.get(name_key(name))

    def resolve(self, name: str) -> int:
        ident = self.get(name)
        if ident is None:
            raise UnknownName(self.what, name, did_you_mean(name, self.canonical_names()))
        return ident

    def canonical_names(self) -> list[str]:
        return sorted(set(self.display.values()))


@dataclass
class Resolver:
    organisations: NameIndex
    chips: NameIndex

    @classmethod
    def load(cls, session: Session) -> "Resolver":
        orgs, chips = NameIndex("organisation"), NameIndex("chip")
        org_names = dict(session.execute(select(Organisation.id, Organisation.name)).all())
        for ident, name in org_names.items():
            orgs.add(name, ident, name)
        for ident, alias in session.execute(select(OrganisationAlias.organisation_id, OrganisationAlias.alias)):
            orgs.add(alias, ident, org_names[ident])
        chip_names = dict(session.execute(select(Chip.id, Chip.name)).all())
        for ident, name in chip_names.items():
            chips.add(name, ident, name)
        for ident, alias in session.execute(select(ChipAlias.chip_id, ChipAlias.alias)):
            chips.add(alias, ident, chip_names[ident])
        return cls(orgs, chips)
