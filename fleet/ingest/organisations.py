"""Organisations written by editors: created by an import on request, added or edited by hand.

Organisations are not bitemporal (their names and kinds describe, they do not count),
so an edit updates the row in place -- and the audit log keeps the values before and
after, which is what a revert restores. Names and aliases share one namespace compared
by ``fleet.names.name_key``; a clash is an error naming the organisation that holds it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from fleet.auth import Actor, require_editor
from fleet.countries import UnknownCountry, to_iso3
from fleet.db import WriteStamp
from fleet.ingest import audit, load
from fleet.ingest.errors import IngestError
from fleet.models import IngestBatch, Organisation, OrganisationAlias
from fleet.names import clean_name, name_key
from fleet.vocab import OrgKind, values


@dataclass
class OrganisationFields:
    """What an editor can set on an organisation (aliases "|"-separated or a list)."""

    name: str
    kind: str = OrgKind.OTHER.value
    country: str | None = None
    parent: str | None = None
    aliases: tuple[str, ...] = ()
    note: str | None = None


def snapshot(session: Session, org: Organisation) -> dict:
    """An organisation's editable values, as the audit log keeps them."""
    parent = session.get(Organisation, org.parent_id).name if org.parent_id else None
    return {"name": org.name, "kind": org.kind, "country": org.country, "parent": parent,
            "aliases": sorted(a.alias for a in org.aliases), "note": org.note}


def _owner_of(session: Session, name: str) -> Organisation | None:
    key = name_key(name)
    org = session.execute(select(Organisation).where(Organisation.name_key == key)).scalar_one_or_none()
    if org is not None:
        return org
    alias = session.execute(select(OrganisationAlias).where(OrganisationAlias.alias_key == key)).scalar_one_or_none()
    return alias.organisation if alias is not None else None


def _checked(session: Session, fields: OrganisationFields, editing: Organisation | None) -> dict:
    name = clean_name(fields.name or "")
    if not name or len(name) > 200:
        raise IngestError("name: an organisation needs a name of 1-200 characters")
    if fields.kind not in values(OrgKind):
        raise IngestError(f"kind: {fields.kind!r} is not one of {', '.join(values(OrgKind))}")
    try:
        country = to_iso3(fields.country) if fields.country and fields.country.strip() else None
    except UnknownCountry:
        raise IngestError(f"country: {fields.country!r} is not a country Fleet knows") from None
    parent_id = None
    if fields.parent and fields.parent.strip():
        parent = _owner_of(session, fields.parent)
        if parent is None:
            raise IngestError(f"parent: unknown organisation {fields.parent!r}")
        if editing is not None and parent.id == editing.id:
            raise IngestError("parent: an organisation cannot be its own parent")
        parent_id = parent.id
    aliases = sorted({clean_name(a) for a in fields.aliases if a and a.strip()} - {name})
    for label in [name, *aliases]:
        owner = _owner_of(session, label)
        if owner is not None and (editing is None or owner.id != editing.id):
            raise IngestError(f"{'name' if label == name else 'aliases'}: {label!r} already names {owner.name!r}")
    return {"name": name, "kind": fields.kind, "country": country, "parent_id": parent_id, "aliases": aliases,
            "note": (fields.note or "").strip() or None}


def _apply(org: Organisation, values_: dict) -> None:
    org.name, org.name_key = values_["name"], name_key(values_["name"])
    org.kind, org.country, org.parent_id, org.note = (values_["kind"], values_["country"], values_["parent_id"],
                                                      values_["note"])
    wanted = {name_key(a): a for a in values_["aliases"]}
    org.aliases[:] = [a for a in org.aliases if a.alias_key in wanted]
    have = {a.alias_key for a in org.aliases}
    org.aliases.extend(OrganisationAlias(alias=a, alias_key=k) for k, a in wanted.items() if k not in have)


def save_organisation(session: Session, stamp: WriteStamp, actor: Actor, batch: IngestBatch,
                      fields: OrganisationFields, organisation_id: int | None = None) -> Organisation:
    """Add (``organisation_id=None``) or edit an organisation; audited with before/after."""
    require_editor(session, actor)
    org = session.get(Organisation, organisation_id) if organisation_id is not None else None
    if organisation_id is not None and org is None:
        raise IngestError(f"organisation {organisation_id} does not exist")
    before = snapshot(session, org) if org is not None else None
    checked = _checked(session, fields, org)
    if org is None:
        org = Organisation(created_at=stamp.recorded_at)
        session.add(org)
    _apply(org, checked)
    session.flush()
    after = snapshot(session, org)
    action = "organisation.edit" if before is not None else "organisation.add"
    changed = [k for k in after if before is None or before[k] != after[k]]
    audit.record(session, stamp, actor, action, entity="organisation", entity_id=org.id, batch_id=batch.id,
                 summary=f"{'edited' if before else 'added'} organisation {org.name!r}"
                 + (f" ({', '.join(changed)})" if before else ""), before=before, after=after)
    return org


def create_pending(session: Session, stamp: WriteStamp, actor: Actor, batch: IngestBatch, rows: pd.DataFrame,
                   pending: dict[int, str]) -> tuple[pd.DataFrame, list[str]]:
    """Create the organisations an import asked for (temporary negative ids -> real ids).

    Runs under the write lock: a name another writer created meanwhile is reused, not
    duplicated. Rows whose ids changed get fresh fingerprints.
    """
    if not pending:  # the usual case: no name had to be created (skip a pass over every row)
        return rows, []
    used = set(rows["organisation_id"].dropna().unique()) | set(rows["user_organisation_id"].dropna().unique())
    wanted = {temp: name for temp, name in pending.items() if temp in used}
    if not wanted:
        return rows, []
    mapping, created = {}, []
    for temp, name in sorted(wanted.items(), key=lambda item: item[1]):
        existing = _owner_of(session, name)
        if existing is None:
            existing = save_organisation(session, stamp, actor, batch, OrganisationFields(
                name=name, note=f"created by the CSV import {batch.location or batch.source_name}"))
            created.append(existing.name)
        mapping[temp] = existing.id
    rows = rows.copy()
    touched = rows["organisation_id"].isin(list(mapping)) | rows["user_organisation_id"].isin(list(mapping))
    for column in ("organisation_id", "user_organisation_id"):
        rows[column] = rows[column].replace(mapping).astype("Int64")
    rows.loc[touched, "fingerprint"] = load.fingerprints(rows.loc[touched]).to_numpy()
    return rows, created
