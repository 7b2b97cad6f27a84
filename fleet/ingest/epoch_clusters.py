"""Parse Epoch AI's "Data on GPU Clusters" CSV into cluster-scope estimates.

One Epoch row is one cluster at one stage. It becomes one estimate per chip type
(primary, secondary), or one H100-equivalent estimate when Epoch names no chip, for
each owner and each status it passed through (a decommissioned cluster gives an
operational estimate at its first date and a decommissioned one at its end date).

The rules, and why:
- "Possible Duplicate" rows are skipped: they are mostly papers' training runs on part
  of a cluster Epoch already lists, so keeping them would count the same chips twice.
- Rows linked by "Builds Upon"/"Superseded by" are phases of one site; later phases in
  this file carry cumulative totals (xAI Colossus Memphis: 100k H100, then 150k H100 +
  50k H200 = 200k, then 200k H100 + 30k GB200), so all phases share one ``cluster`` name
  (the lineage) and a cluster's latest estimate replaces its earlier phases.
- Several owners in one cell follow a curated co-owner rule when one exists, otherwise
  the count is split evenly (whole chips, the remainder to the first owner).
- Rows without an owner go to "Unattributed (<country>)" placeholders.

Pure: bytes in, ``Parsed`` out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import pandas as pd

from fleet.countries import UnknownCountry, country_name, to_iso3
from fleet.ingest.tabular import (
    Parsed, join_notes, parse_date, parse_number, parse_planned_note, parse_whole, read_table, row_number,
    split_urls, truthy,
)
from fleet.names import name_key
from fleet.vocab import Access, Certainty, Scope, Status

SOURCE = "Epoch AI gpu_clusters.csv"
DATASET = "epoch-gpu-clusters"
TITLE = "Epoch AI, Data on GPU Clusters"
SOURCE_COLUMNS = ("Source 1", "Source 2", "Source 3", "Source 4", "Source 5")
REQUIRED = (
    "Name", "Status", "Certainty", "Owner", "Users", "Country", "Sector",
    "Chip type (primary)", "Chip quantity (primary)", "Chip type (secondary)", "Chip quantity (secondary)",
    "H100 equivalents", "First Operational Date", "First Operational Date Note",
    "Decommissioned Date (if applicable)", "Builds Upon", "Superseded by", "Possible Duplicate",
    "Power Capacity (MW)", "Quote", "Note", "Hardware note", *SOURCE_COLUMNS,
)
KNOWN = (
    "Single cluster?", "Max OP/s (log)", "Location", "Certainty Note", "Energy Efficiency (log)",
    "Possible Duplicate Of", "Total number of AI chips", "GPU Supplier (primary)", "GPU supplier (secondary)",
    "Include in Standard Analysis", "Exclude", "Rank when first operational", "16-bit OP/s (log)", "Max OP/s",
    "8-bit OP/s", "16-bit OP/s", "32-bit OP/s", "Calculated Power Capacity (MW)", "Reported Power Capacity (MW)",
    "Energy Efficiency", "Calculated Cost", "Reported Cost", "Reported Cost (Inflation adjusted)", "Cost Quote",
    "Noteworthy", "Hardware Cost", "Largest existing cluster when first operational",
    "% of largest cluster when first operational",
)
STATUS = {"existing": Status.OPERATIONAL, "planned": Status.PLANNED, "decommissioned": Status.DECOMMISSIONED}
CERTAINTY = {"confirmed": Certainty.CONFIRMED, "likely": Certainty.LIKELY, "unlikely": Certainty.SPECULATIVE}
ANONYMOUS_NAME = "Anonymized Chinese System"
UNKNOWN_COUNTRY = "Unattributed (unknown country)"

SKIP_DUPLICATE = "possible duplicate of another Epoch row"
SKIP_NO_COUNT = "no chip count and no H100-equivalents"
SKIP_NO_DATE = "no first-operational date (not even a planned year)"


@dataclass(frozen=True)
class Holder:
    """Who an Epoch row's chips are booked to: the owner, its share, and any user."""

    organisation: str
    index: int = 0
    of: int = 1
    user: str | None = None
    access: str = Access.OWNED.value
    note: str = ""


def clean_cluster_name(text: str) -> str:
    return text.strip().strip('"').strip()


def unattributed(iso3: str | None) -> str:
    return f"Unattributed ({country_name(iso3)})" if iso3 else UNKNOWN_COUNTRY


# --- lineage (phases) -----------------------------------------------------------------

def _refs(cell: str, names: set[str]) -> list[str]:
    """Names a link cell points to; a name may itself contain a comma."""
    cell = clean_cluster_name(cell)
    if not cell:
        return []
    if cell in names:
        return [cell]
    return [p for p in (clean_cluster_name(x) for x in cell.split(",")) if p]


def phase_root(name: str) -> str:
    """The lineage's display name: the earliest phase without its "Phase N" suffix."""
    stripped = re.sub(r"\s+(?:possible\s+|rumou?red\s+|planned\s+)?phase\s*\d+\s*$", "", name, flags=re.IGNORECASE)
    stripped = re.sub(r"\s+\d+\.\d+$", "", stripped)  # "AIST ABCI 1.0" -> "AIST ABCI"
    return stripped or name


def lineage_names(names: list[str], builds_upon: list[str], superseded_by: list[str]) -> dict[str, str]:
    """Map each row name in a Builds-Upon/Superseded-by chain to its lineage name."""
    known = set(names)
    parent: dict[str, str] = {}
    for name, up, down in zip(names, builds_upon, superseded_by):
        for earlier in _refs(up, known):
            parent.setdefault(name, earlier)
        for later in _refs(down, known):
            parent.setdefault(later, name)
    out: dict[str, str] = {}
    for name in parent:
        root, seen = name, {name}
        while root in parent and parent[root] not in seen:
            root = parent[root]
            seen.add(root)
        out[name] = phase_root(root)
    for name in list(parent.values()):
        out.setdefault(name, out.get(name) or phase_root(name))
    return out


# --- owners and users -----------------------------------------------------------------

def co_owner_rules(frame: pd.DataFrame | None) -> dict[frozenset[str], Holder]:
    """Curated rules (data/seed/curation/co_owners.csv) keyed by the set of owner name keys."""
    rules: dict[frozenset[str], Holder] = {}
    if frame is None:
        return rules
    for _, rule in frame.fillna("").iterrows():
        key = frozenset(name_key(o) for o in str(rule["owners"]).split("|") if o.strip())
        rules[key] = Holder(organisation=str(rule["organisation"]).strip(),
                            user=str(rule.get("user_organisation", "")).strip() or None,
                            access=str(rule.get("access", "")).strip() or Access.OWNED.value,
                            note=str(rule.get("note", "")).strip())
    return rules


def known_index(organisations: pd.DataFrame | None) -> dict[str, str]:
    """name_key -> canonical name, over names and "|"-separated aliases."""
    index: dict[str, str] = {}
    if organisations is None:
        return index
    for _, org in organisations.fillna("").iterrows():
        for text in [org["name"], *str(org.get("aliases", "")).split("|")]:
            if text.strip():
                index.setdefault(name_key(text), str(org["name"]).strip())
    return index


def split_cell(cell: str) -> list[str]:
    return [p.strip() for p in (cell or "").split(",") if p.strip()]


def single_user(owner: str, users_cell: str, known: dict[str, str]) -> str | None:
    """The one named organisation (other than the owner) among Epoch's "Users", if exactly one."""
    owner_canon = known.get(name_key(owner), owner)
    hits = {known[name_key(u)] for u in split_cell(users_cell) if name_key(u) in known}
    hits.discard(owner_canon)
    if len(hits) != 1:
        return None
    user = next(u for u in split_cell(users_cell) if known.get(name_key(u)) in hits)
    return user


def holders(owners: list[str], users_cell: str, rules: dict[frozenset[str], Holder],
            known: dict[str, str]) -> list[Holder]:
    if len(owners) > 1:
        rule = rules.get(frozenset(name_key(o) for o in owners))
        if rule is not None:
            note = f"Epoch lists owners {', '.join(owners)}; co-owner rule: {rule.note}".rstrip(": ")
            return [Holder(rule.organisation, user=rule.user, access=rule.access, note=note)]
        note = (f"Epoch lists {len(owners)} owners ({', '.join(owners)}) and no rule says who owns what: "
                "count, H100e and power split evenly, remainder of whole chips to the first owner")
        return [Holder(o, index=i, of=len(owners), note=note) for i, o in enumerate(owners)]
    user = single_user(owners[0], users_cell, known)
    return [Holder(owners[0], user=user, access=Access.LEASED.value if user else Access.OWNED.value)]


def share_whole(count: int, holder: Holder) -> int:
    base, rest = divmod(count, holder.of)
    return base + (rest if holder.index == 0 else 0)


# --- one row --------------------------------------------------------------------------

def measures(row: pd.Series, where: str) -> tuple[list[dict], list[str]]:
    """Chip counts (primary, secondary) or, failing both, the H100-equivalent figure."""
    out: list[dict] = []
    notes: list[str] = []
    for rank in ("primary", "secondary"):
        chip = row[f"Chip type ({rank})"]
        count = parse_whole(row[f"Chip quantity ({rank})"], where=f"{where}, column 'Chip quantity ({rank})'")
        if chip and count is not None:
            out.append({"chip": chip, "count": count})
        elif count is not None:
            notes.append(f"Epoch gives {count:,} {rank} chips of an unnamed type")
        elif chip:
            notes.append(f"{rank} chip {chip} without a quantity")
    h100e = parse_number(row["H100 equivalents"], where=f"{where}, column 'H100 equivalents'")
    if not out and h100e is not None:
        out.append({"h100e": h100e})
    return out, notes


def first_date(row: pd.Series) -> date | None:
    return parse_date(row["First Operational Date"]) or parse_planned_note(row["First Operational Date Note"])


def stages(row: pd.Series, start: date, where: str) -> tuple[list[tuple[str, date]], list[str]]:
    status = STATUS.get(row["Status"].casefold())
    if status is None:
        raise ValueError(f"{where}, column 'Status': unknown status {row['Status']!r}")
    if status is not Status.DECOMMISSIONED:
        return [(status.value, start)], []
    end = parse_date(row["Decommissioned Date (if applicable)"])
    if end is None:
        return [(Status.OPERATIONAL.value, start)], ["decommissioned on a date Epoch does not give"]
    return [(Status.OPERATIONAL.value, start), (Status.DECOMMISSIONED.value, end)], []


def skip_reason(row: pd.Series, where: str) -> str | None:
    if truthy(row["Possible Duplicate"]):
        return SKIP_DUPLICATE
    if not measures(row, where)[0]:
        return SKIP_NO_COUNT
    if first_date(row) is None:
        return SKIP_NO_DATE
    return None


def row_context(row: pd.Series, where: str, source_url: str) -> dict:
    """Fields every estimate from this row shares."""
    urls, leftovers = split_urls(row[c] for c in SOURCE_COLUMNS)
    notes = [row["Note"]]
    if row["Hardware note"]:
        notes.append(f"Hardware note: {row['Hardware note']}")
    notes += [f"Source note: {text}" for text in leftovers]
    if not urls:
        notes.append("Epoch gives no source URL for this row; cited as the dataset")
    try:
        country = to_iso3(row["Country"]) if row["Country"] else None
    except UnknownCountry as exc:
        raise ValueError(f"{where}, column 'Country': {exc}") from None
    return {
        "country": country,
        "certainty": CERTAINTY[row["Certainty"].casefold()].value,
        "source_url": urls[0] if urls else source_url,
        "extra_source_urls": "|".join(urls[1:]),
        "source_title": f"{TITLE}: {clean_cluster_name(row['Name'])}",
        "quote": row["Quote"],
        "notes": notes,
    }


def cluster_name(row: pd.Series, number: int, lineage: dict[str, str]) -> tuple[str, str]:
    name = clean_cluster_name(row["Name"])
    if name == ANONYMOUS_NAME:  # 257 rows share this name: keep each cluster its own
        return f"{name} (Epoch row {number})", ""
    if name in lineage:
        return lineage[name], f"phase row {name!r} of the lineage {lineage[name]!r}"
    return name, ""


def row_estimates(row: pd.Series, number: int, *, lineage: dict[str, str], rules, known, source_url: str) -> list[dict]:
    where = f"{SOURCE} row {number}"
    amounts, amount_notes = measures(row, where)
    steps, step_notes = stages(row, first_date(row), where)
    context = row_context(row, where, source_url)
    cluster, phase_note = cluster_name(row, number, lineage)
    owners = split_cell(row["Owner"]) or [unattributed(context["country"])]
    power = parse_number(row["Power Capacity (MW)"], where=f"{where}, column 'Power Capacity (MW)'")
    users_note = f"Users (Epoch): {row['Users']}" if row["Users"] else ""
    out = []
    for holder in holders(owners, row["Users"], rules, known):
        for amount in amounts:
            for status, valid_on in steps:
                record = {
                    "organisation": holder.organisation, "chip": amount.get("chip"),
                    "count": share_whole(amount["count"], holder) if "count" in amount else None,
                    "h100e": amount["h100e"] / holder.of if "h100e" in amount else None,
                    "scope": Scope.CLUSTER.value, "cluster": cluster, "valid_on": valid_on, "status": status,
                    "access": holder.access, "user_organisation": holder.user,
                    "power_mw": power / holder.of if power is not None else None,
                    "source_row": number, "dataset": DATASET,
                    **{k: v for k, v in context.items() if k != "notes"},
                }
                extra = ["H100-equivalents only: Epoch names no chip"] if "h100e" in amount else []
                record["note"] = join_notes([*context["notes"], phase_note, holder.note, users_note,
                                             *amount_notes, *step_notes, *extra])
                out.append(record)
    return out


def referenced_organisations(frame: pd.DataFrame, records: list[dict]) -> pd.DataFrame:
    """What the file says about each organisation the estimates name: one row per (name, role, Epoch row)."""
    rows = {}
    for record in records:
        source = frame.loc[record["source_row"] - row_number(0)]
        placeholder = not split_cell(source["Owner"])
        rows[(record["organisation"], "owner", record["source_row"])] = {
            "name": record["organisation"], "role": "owner", "sector": source["Sector"],
            "country": record["country"], "unattributed": placeholder, "source_row": record["source_row"]}
        if record["user_organisation"]:
            rows[(record["user_organisation"], "user", record["source_row"])] = {
                "name": record["user_organisation"], "role": "user", "sector": "", "country": None,
                "unattributed": False, "source_row": record["source_row"]}
    columns = ["name", "role", "sector", "country", "unattributed", "source_row"]
    return pd.DataFrame(list(rows.values()), columns=columns)


ESTIMATE_FIELDS = (
    "organisation", "chip", "count", "h100e", "scope", "cluster", "valid_on", "status", "certainty", "access",
    "user_organisation", "country", "power_mw", "source_url", "extra_source_urls", "source_title", "quote", "note",
    "dataset", "source_row",
)


def parse_gpu_clusters(raw: bytes, *, source_url: str, co_owners: pd.DataFrame | None = None,
                       organisations: pd.DataFrame | None = None) -> Parsed:
    """Cluster-scope estimates from Epoch's GPU clusters CSV.

    ``co_owners`` holds the curated multi-owner rules (columns owners, organisation,
    user_organisation, access, note); ``organisations`` (name, aliases) tells which
    "Users" entries are organisations. Both optional: without them multi-owner rows are
    split evenly and no user is named.
    """
    frame, unknown = read_table(raw, source=SOURCE, required=REQUIRED, known=KNOWN)
    names = [clean_cluster_name(n) for n in frame["Name"]]
    lineage = lineage_names(names, list(frame["Builds Upon"]), list(frame["Superseded by"]))
    rules, known = co_owner_rules(co_owners), known_index(organisations)
    for owner in (o for cell in frame["Owner"] for o in split_cell(cell)):
        known.setdefault(name_key(owner), owner)  # every owner in the file is an organisation
    records, skipped = [], []
    for index, row in frame.iterrows():
        number = row_number(index)
        reason = skip_reason(row, f"{SOURCE} row {number}")
        if reason:
            skipped.append((number, reason))
            continue
        records += row_estimates(row, number, lineage=lineage, rules=rules, known=known, source_url=source_url)
    return Parsed(records=pd.DataFrame(records, columns=list(ESTIMATE_FIELDS)),
                  organisations=referenced_organisations(frame, records), skipped=skipped, unknown_columns=unknown)
