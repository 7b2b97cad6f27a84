"""Compare a scrape's checked rows with the store: new, changed, conflicting, unchanged, gone.

- **unchanged**: a live row with the same fingerprint is in the store (it will be skipped).
- **changed**: no identical row, but a live *estimate from this same source* describes the
  same thing (organisation, scope, cluster, chip, status, date) with other values: the
  scrape corrects it, so the new estimate supersedes it (append-only; history kept).
- **conflict**: a live row from *another* source (manual entry, a CSV import, another
  scraper, or the seed from a different dataset) describes the same thing with other
  values. Scraped rows never overwrite those: both stay live, side by side, with their
  sources, and the organisation's figure shows the disagreement as a range.
- **new**: nothing in the store describes it.
- **gone**: a live row from this source that no valid scraped row matches (the source
  dropped it, or its row is rejected now): reported, never retracted automatically.

Pure pandas over frames the plan reads from the store.
"""

from __future__ import annotations

import pandas as pd

from fleet.names import name_key

STATES = ("new", "changed", "conflict", "unchanged")
ESTIMATE_KEY = ("organisation_id", "scope", "cluster", "chip_id", "status", "valid_on")
HEADCOUNT_KEY = ("organisation_id", "kind", "valid_on")
MODEL_RUN_KEY = ("name",)


def _key_part(value: object, column: str) -> str:
    if value is None or value is pd.NA or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if column in ("cluster", "name"):
        return name_key(str(value))
    if column in ("valid_on", "published_on"):
        return pd.Timestamp(value).date().isoformat()
    if column.endswith("_id"):
        return str(int(value))
    return str(value)


def keys(frame: pd.DataFrame, columns) -> pd.Series:
    if frame.empty:
        return pd.Series([], index=frame.index, dtype=object)
    parts = [frame[c].map(lambda v, c=c: _key_part(v, c)) if c in frame else pd.Series("", index=frame.index)
             for c in columns]
    return parts[0].str.cat(parts[1:], sep="\x1f") if len(parts) > 1 else parts[0]


def classify(rows: pd.DataFrame, stored: pd.DataFrame, key_columns, *, source: str,
             can_supersede: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows with ``state``, ``supersedes_id`` and ``before_id``; and the stored rows gone from the source.

    ``rows`` need ``fingerprint`` (and the key columns); ``stored`` needs ``id``,
    ``fingerprint``, ``source_name`` and the key columns. Rows whose organisation is new
    (a negative, temporary id) are new.
    """
    rows = rows.copy()
    rows["_key"] = keys(rows, key_columns)
    stored = stored.assign(_key=keys(stored, key_columns), _same=stored["source_name"] == source)
    by_fp = stored.sort_values("_same", ascending=False).drop_duplicates("fingerprint").set_index("fingerprint")["id"]
    same = stored[stored["_same"]]
    same_by_key = same.groupby("_key")["id"].agg(list)
    other_by_key = stored[~stored["_same"]].groupby("_key")["id"].agg(list)
    states, supersedes, before, matched = [], [], [], set()
    for fp, key in zip(rows["fingerprint"], rows["_key"]):
        if fp in by_fp.index:
            states.append("unchanged"), supersedes.append(None), before.append(int(by_fp[fp]))
            matched.add(int(by_fp[fp]))
        elif key in same_by_key.index and (len(same_by_key[key]) == 1 or not can_supersede):
            ident = int(same_by_key[key][0])
            states.append("changed" if can_supersede else "conflict")
            supersedes.append(ident if can_supersede else None), before.append(ident)
            matched.add(ident)
        elif key in same_by_key.index or key in other_by_key.index:
            ident = int((other_by_key.get(key) or same_by_key[key])[0])
            states.append("conflict"), supersedes.append(None), before.append(ident)
        else:
            states.append("new"), supersedes.append(None), before.append(None)
    rows["state"] = states
    rows["supersedes_id"] = pd.array(supersedes, dtype="Int64")
    rows["before_id"] = pd.array(before, dtype="Int64")
    gone = same[~same["id"].isin(list(matched))].drop(columns=["_key", "_same"])
    return rows.drop(columns=["_key"]), gone


def describe_estimate(row: dict, chips: dict[int, str]) -> str:
    """One line for a person: "cluster X · 100,000 × NVIDIA H100 · 2024-09-01 · operational"."""
    place = f"cluster {row['cluster']}" if row.get("cluster") else "whole fleet"
    chip_id = row.get("chip_id")
    if chip_id is not None and not pd.isna(chip_id):
        amount = f"{int(row['count']):,} × {chips.get(int(chip_id), f'chip {chip_id}')}"
        low, high = row.get("count_low"), row.get("count_high")
        if low is not None and not pd.isna(low) or high is not None and not pd.isna(high):
            amount += f" ({'' if pd.isna(low) else f'{int(low):,}'}–{'' if pd.isna(high) else f'{int(high):,}'})"
    else:
        amount = f"{float(row['h100e']):,.0f} H100e"
    day = pd.Timestamp(row["valid_on"]).date().isoformat() if not pd.isna(row.get("valid_on")) else "?"
    return f"{place} · {amount} · {day} · {row.get('status')}"


def by_organisation(diff: pd.DataFrame, rejected: pd.DataFrame, gone: pd.DataFrame) -> pd.DataFrame:
    """One line per organisation: how many rows are new, changed, conflicting, unchanged,
    rejected, or gone from the source. Columns: organisation, new, changed, conflict,
    unchanged, rejected, gone."""
    parts = [diff[["organisation", "state"]]]
    if len(rejected):
        parts.append(pd.DataFrame({"organisation": rejected["organisation"].fillna("(unknown)"), "state": "rejected"}))
    if len(gone):
        parts.append(pd.DataFrame({"organisation": gone["organisation"], "state": "gone"}))
    joined = pd.concat(parts, ignore_index=True)
    columns = [*STATES, "rejected", "gone"]
    if joined.empty:
        return pd.DataFrame(columns=["organisation", *columns])
    table = pd.crosstab(joined["organisation"], joined["state"]).reindex(columns=columns, fill_value=0)
    table = table.sort_values(["new", "changed", "conflict"], ascending=False, kind="stable")
    return table.reset_index().rename_axis(None, axis=1)
