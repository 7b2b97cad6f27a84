"""What a snapshot gives away: its CSV export, its zip bundle, and "what changed since".

The export is a pure function of the snapshot row and the tables rebuilt at its cut-off,
so its bytes are the same before and after later imports, corrections, retractions and
scrapes (no "exported at" stamps; the editable title and note live only in the bundle's
JSON). An export of a snapshot whose hash no longer matches is refused: it would not be
the data that was shared. No streamlit here.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime
from typing import Mapping

import pandas as pd
from sqlalchemy import func, or_, select

from fleet import provenance
from fleet.db import read_session
from fleet.exports import to_csv_bytes
from fleet.models import Chip, Estimate, Organisation, Snapshot
from fleet.snapshots import MISMATCH, Opened, SnapshotError, link, live_state, view_state
from fleet.view_state import Filters
from fleet.views import VIEWS, Store
from fleet.views.overview import leaderboard

MAX_CHANGED_ESTIMATES = 1000


def table_lines(opened: Opened, name: str) -> list[str]:
    s = opened.snapshot
    title = VIEWS[s.page_id].title if s.page_id in VIEWS else s.page_id
    extra = [f"snapshot: {s.id} (page {s.page_id}, created {s.created_at:%Y-%m-%d %H:%M:%S} UTC "
             f"by {s.created_by})", f"content sha256: {s.data_hash}"]
    return provenance.header_lines(Filters.from_values(opened.values), f"{title}: {name}", s.cutoff, extra)


def export_csv(opened: Opened) -> bytes:
    """Every table of the snapshot, each under its ``# `` provenance lines, a blank line between."""
    if not opened.reproducible:
        raise SnapshotError(MISMATCH)
    return b"\n".join(to_csv_bytes(opened.tables[name], header_lines=table_lines(opened, name))
                      for name in opened.tables)


def provenance_json(snapshot: Snapshot, base_url: str, tables: Mapping[str, pd.DataFrame]) -> dict:
    return {
        "snapshot": snapshot.id, "link": link(base_url, snapshot.id), "page": snapshot.page_id,
        "view_state": view_state(snapshot), "live_view_state": live_state(snapshot),
        "cutoff": snapshot.cutoff.isoformat(), "content_sha256": snapshot.data_hash,
        "hash_of": "the page's data view" if snapshot.hash_basis == "view" else "the tables the page showed",
        "created_at": snapshot.created_at.isoformat(), "created_by": snapshot.created_by,
        "title": snapshot.title, "note": snapshot.note,
        "expires_at": snapshot.expires_at.isoformat() if snapshot.expires_at else None,
        "tables": {name: f"{name}.csv" for name in tables}, "licence": provenance.LICENCE,
    }


def _zip_entry(archive: zipfile.ZipFile, name: str, data: bytes, when: datetime) -> None:
    info = zipfile.ZipInfo(name, date_time=when.timetuple()[:6])  # fixed time: same bytes every download
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def bundle(snapshot: Snapshot, tables: Mapping[str, pd.DataFrame], lines: Mapping[str, list[str]],
           base_url: str) -> bytes:
    """A zip: one CSV per table (with its provenance lines) and ``snapshot.json``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, frame in tables.items():
            _zip_entry(archive, f"{name}.csv", to_csv_bytes(frame, header_lines=lines[name]), snapshot.created_at)
        meta = json.dumps(provenance_json(snapshot, base_url, tables), indent=2, ensure_ascii=False)
        _zip_entry(archive, "snapshot.json", meta.encode("utf-8"), snapshot.created_at)
    return buffer.getvalue()


def bundle_of(opened: Opened, base_url: str) -> bytes:
    return bundle(opened.snapshot, opened.tables, {n: table_lines(opened, n) for n in opened.tables}, base_url)


# --- what changed since ---------------------------------------------------------------------------

def moved(store: Store, values: Mapping[str, object]) -> pd.DataFrame:
    """Organisations whose H100e or rank differ between the cut-off and now (same view state)."""
    then_filters = Filters.from_values(values)
    now_filters = Filters.from_values({**values, "known_at": None})
    basis = then_filters.basis.value
    h = f"H100e ({basis} basis)"
    then = leaderboard(store, then_filters)[["Organisation", "Rank", h]]
    now = leaderboard(store, now_filters)[["Organisation", "Rank", h]]
    both = then.merge(now, on="Organisation", how="outer", suffixes=(" then", " now"))
    changed = (both[f"{h} then"].ne(both[f"{h} now"]) | both["Rank then"].ne(both["Rank now"]))
    out = both.loc[changed].copy()
    out[f"H100e change ({basis} basis)"] = out[f"{h} now"].fillna(0) - out[f"{h} then"].fillna(0)
    out = out.sort_values(f"H100e change ({basis} basis)", key=lambda s: s.abs(), ascending=False)
    return out[["Organisation", "Rank then", "Rank now", f"{h} then", f"{h} now", f"H100e change ({basis} basis)"]]


def estimate_changes(engine, cutoff: datetime, limit: int = MAX_CHANGED_ESTIMATES) -> tuple[pd.DataFrame, int]:
    """Estimates recorded or retracted after ``cutoff`` (all of the store's, newest first), and their count."""
    cond = or_(Estimate.recorded_at > cutoff, Estimate.retracted_at > cutoff)
    stmt = (select(Estimate.id, Organisation.name.label("organisation"), Chip.name.label("chip"), Estimate.count,
                   Estimate.h100e, Estimate.valid_on, Estimate.recorded_at, Estimate.retracted_at,
                   Estimate.supersedes_id, Estimate.source_url)
            .join(Organisation, Organisation.id == Estimate.organisation_id)
            .outerjoin(Chip, Chip.id == Estimate.chip_id)
            .where(cond).order_by(Estimate.id.desc()).limit(limit))
    with read_session(engine) as session:
        frame = pd.read_sql_query(stmt, session.connection())
        total = session.execute(select(func.count()).select_from(Estimate).where(cond)).scalar_one()
    return _label_changes(frame, cutoff), int(total)


def _label_changes(frame: pd.DataFrame, cutoff: datetime) -> pd.DataFrame:
    recorded_after = pd.to_datetime(frame["recorded_at"]) > cutoff
    retracted_after = pd.to_datetime(frame["retracted_at"]) > cutoff
    change = pd.Series("added", index=frame.index)
    change[recorded_after & frame["supersedes_id"].notna()] = "correction added"
    change[~recorded_after & retracted_after] = "retracted"
    change[recorded_after & retracted_after] = "added, then retracted"
    out = frame.assign(change=change)
    out["supersedes_id"] = out["supersedes_id"].astype("Int64")
    return out[["change", "id", "organisation", "chip", "count", "h100e", "valid_on", "recorded_at",
                "retracted_at", "supersedes_id", "source_url"]]
