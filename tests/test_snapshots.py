"""Snapshots on the real stores (SQLite and Postgres): frozen numbers survive imports, corrections,
retractions and scraper loads; a hard delete is detected; every bad link gets the same answer;
editors' actions are checked and audited."""

from __future__ import annotations

import io
import os
import json
import zipfile
from datetime import date, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import select, text

from fleet.auth import Actor, NotAnEditor
from fleet.chips import Basis
from fleet.db import now_utc, read_session
from fleet.ingest.audit import audit_frame
from fleet.ingest.importer import commit_import, plan_import
from fleet.models import Estimate
from fleet.snapshot_admin import delete, expire, list_frame, retitle
from fleet.snapshot_files import bundle_of, estimate_changes, export_csv, moved
from fleet.snapshots import (
    TOKEN_BYTES, TOKEN_RE, UNAVAILABLE, SnapshotError, SnapshotUnavailable, content_hash, create, live_state,
    new_token, open_token, resolve, view_state,
)
from fleet.view_state import Filters
from fleet.views import SessionStore, build_view
from fleet.vocab import BatchKind
from tests.factories import EDITOR, add_estimates, estimate_row, retract

TODAY = {"as_of": None}
IMPORT = ("Organization,Chip,Count,Date,Source URL,scope\n"
          "xAI,H100,900000,{day},https://example.org/xai-news,fleet\n")


def leaderboard(engine, **values) -> pd.DataFrame:
    return build_view(SessionStore(engine), "overview", values)["leaderboard"]


def counted(engine) -> pd.DataFrame:
    state = SessionStore(engine).fleet(Filters(as_of=date.today()))
    c = state.contributions
    return c.loc[c["counted"] & c["chip_id"].notna()].sort_values("qty", ascending=False)


def change_everything(engine) -> None:
    """An import, a correction, a retraction and a scraper load, as the store sees them."""
    plan = plan_import(engine, IMPORT.format(day=date.today().isoformat()).encode(), file_name="news.csv")
    commit_import(engine, plan, EDITOR)
    rows = counted(engine)
    first, second = rows.iloc[0], rows.iloc[1]
    correction = estimate_row(int(first["organisation_id"]), int(first["chip_id"]), int(first["count"]) * 3,
                              valid_on=str(first["valid_on"].date()), supersedes_id=int(first["id"]))
    add_estimates(engine, [correction], who="corrector")
    retract(engine, [int(second["id"])])
    scraped = estimate_row(int(rows.iloc[2]["organisation_id"]), int(rows.iloc[2]["chip_id"]), 777_777,
                           valid_on=date.today().isoformat(), source_url="https://example.org/scraped")
    add_estimates(engine, [scraped], kind=BatchKind.SCRAPER, who="scraper")


def test_tokens_are_random_urlsafe_and_unique_over_100k():
    tokens = [new_token() for _ in range(100_000)]
    assert len(set(tokens)) == len(tokens)
    assert all(TOKEN_RE.fullmatch(t) for t in tokens)
    assert not any(t.startswith("-") for t in tokens)  # a CLI argument, not an option
    assert sum(t.startswith("_") for t in tokens) > 0 and sum("-" in t for t in tokens) > 0  # full alphabet
    assert TOKEN_BYTES * 8 >= 128 and len(tokens[0]) == 32
    # not sequential: neighbours share no long common prefix
    assert max(len(os.path.commonprefix([a, b])) for a, b in zip(tokens, tokens[1:])) < 8


def test_a_snapshot_keeps_its_numbers_and_export_bytes_through_every_kind_of_change(seeded_engine):
    row = create(seeded_engine, "overview", {"basis": Basis.BF16}, created_by="tester", title="Before the news")
    state = view_state(row)
    assert state["as_of"] == date.today().isoformat() and state["basis"] == "bf16"
    assert datetime.fromisoformat(state["known_at"]) == row.cutoff
    before, table_before = export_csv(open_token(seeded_engine, row.id)), leaderboard(seeded_engine, basis=Basis.BF16)
    change_everything(seeded_engine)
    opened = open_token(seeded_engine, row.id)
    assert opened.reproducible
    assert export_csv(opened) == before
    pd.testing.assert_frame_equal(opened.tables["leaderboard"], table_before)
    live = leaderboard(seeded_engine, basis=Basis.BF16)
    assert not live.equals(table_before)
    assert "xAI" in set(live["Organisation"])
    header = before.decode().splitlines()[:8]
    assert any(line.startswith("# data cut-off") for line in header)
    assert any(line.startswith("# licence: Epoch AI") for line in header)
    assert any(row.id in line for line in header)


def test_what_changed_since_lists_movers_and_the_changed_estimates(seeded_engine):
    row = create(seeded_engine, "overview", {}, created_by="tester")
    change_everything(seeded_engine)
    opened = open_token(seeded_engine, row.id)
    movers = moved(SessionStore(seeded_engine), opened.values)
    assert "xAI" in set(movers["Organisation"]) and len(movers) >= 3
    assert (movers["H100e change (8bit basis)"] != 0).any()
    changes, total = estimate_changes(seeded_engine, row.cutoff)
    assert total == len(changes) == 4
    assert set(changes["change"]) == {"added", "correction added", "retracted"}


def test_a_hard_delete_is_detected_not_shown_as_the_snapshot(seeded_engine):
    row = create(seeded_engine, "overview", {}, created_by="tester")
    victim = next(int(i) for i in counted(seeded_engine)["id"]
                  if not _referenced(seeded_engine, int(i)))
    with seeded_engine.begin() as conn:  # exactly the failure the hash exists to catch
        conn.execute(text("DELETE FROM estimate WHERE id = :id"), {"id": victim})
    opened = open_token(seeded_engine, row.id)
    assert not opened.reproducible
    with pytest.raises(SnapshotError, match="can no longer be reproduced exactly"):
        export_csv(opened)


def _referenced(engine, estimate_id: int) -> bool:
    with read_session(engine) as session:
        return session.execute(select(Estimate.id).where(Estimate.supersedes_id == estimate_id)).first() is not None


@pytest.mark.parametrize("token", ["", "short", "x" * 31 + "!", "../../etc/passwd", "A" * 33, None, 12345,
                                   "'; DROP TABLE snapshot; --"])
def test_malformed_tokens_are_unavailable(engine, token):
    with pytest.raises(SnapshotUnavailable) as info:
        resolve(engine, token)
    assert str(info.value) == UNAVAILABLE


def test_unknown_expired_and_deleted_give_the_same_answer(seeded_engine):
    keep = create(seeded_engine, "overview", {}, created_by="t", expires=date.today() + timedelta(days=2))
    gone = create(seeded_engine, "overview", {}, created_by="t")
    old = create(seeded_engine, "overview", {}, created_by="t", expires=date.today() + timedelta(days=1))
    assert resolve(seeded_engine, keep.id).id == keep.id
    delete(seeded_engine, EDITOR, gone.id)
    later = datetime.combine(date.today() + timedelta(days=1), datetime.min.time())
    messages = set()
    for token, now in ((new_token(), None), (gone.id, None), (old.id, later)):
        with pytest.raises(SnapshotUnavailable) as info:
            resolve(seeded_engine, token, now=now)
        messages.add(str(info.value))
    assert messages == {UNAVAILABLE}


def test_bad_requests_name_the_problem(seeded_engine):
    with pytest.raises(SnapshotError, match="unknown page 'nope'"):
        create(seeded_engine, "nope", {}, created_by="t")
    with pytest.raises(SnapshotError, match="not in the future"):
        create(seeded_engine, "overview", {}, created_by="t", expires=date(2020, 1, 1))
    with pytest.raises(SnapshotError, match="title is longer than 200"):
        create(seeded_engine, "overview", {}, created_by="t", title="x" * 201)


def test_time_travel_is_frozen_where_it_travelled(seeded_engine):
    earlier = now_utc() - timedelta(days=3650)
    row = create(seeded_engine, "overview", {"known_at": earlier}, created_by="t")
    assert row.cutoff == earlier and "known_at" not in live_state(row)


def test_editors_list_retitle_expire_and_delete_with_audit(seeded_engine):
    row = create(seeded_engine, "overview", {}, created_by="t", title="first")
    with pytest.raises(NotAnEditor):
        retitle(seeded_engine, "viewer", row.id, "hacked")
    with pytest.raises(NotAnEditor):
        delete(seeded_engine, Actor("mallory", "password", "store"), row.id)
    retitle(seeded_engine, EDITOR, row.id, "  Second   title ")
    expire(seeded_engine, EDITOR, row.id, date.today() + timedelta(days=30))
    with read_session(seeded_engine) as session:
        listed = list_frame(session, "https://fleet.example")
        audit = audit_frame(session, action="snapshot.retitle")
    got = listed.set_index("id").loc[row.id]
    assert got["title"] == "Second title" and got["status"] == "live"
    assert got["link"] == f"https://fleet.example/?snapshot={row.id}"
    assert audit.iloc[0]["actor"] == "alice" and row.id in audit.iloc[0]["summary"]
    expire(seeded_engine, EDITOR, row.id)
    with read_session(seeded_engine) as session:
        assert list_frame(session, "x").set_index("id").loc[row.id, "status"] == "expired"
    delete(seeded_engine, EDITOR, row.id)
    with read_session(seeded_engine) as session:
        assert row.id not in set(list_frame(session, "x")["id"])
        assert row.id in set(list_frame(session, "x", include_deleted=True)["id"])
    with pytest.raises(SnapshotError, match="no snapshot"):
        retitle(seeded_engine, EDITOR, row.id, "again")


def test_the_bundle_holds_each_table_and_the_provenance_json(seeded_engine):
    row = create(seeded_engine, "overview", {}, created_by="t", note="for the report")
    opened = open_token(seeded_engine, row.id)
    data = bundle_of(opened, "https://fleet.example")
    assert data == bundle_of(open_token(seeded_engine, row.id), "https://fleet.example")  # same bytes each time
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert set(archive.namelist()) == {f"{name}.csv" for name in opened.tables} | {"snapshot.json"}
        meta = json.loads(archive.read("snapshot.json"))
        csv = archive.read("leaderboard.csv").decode()
    assert "leaderboard" in opened.tables and set(meta["tables"]) == set(opened.tables)
    assert meta["content_sha256"] == row.data_hash == content_hash(opened.tables)
    assert meta["link"].endswith(row.id) and meta["note"] == "for the report" and meta["cutoff"]
    assert "known_at" in meta["view_state"] and "known_at" not in meta["live_view_state"]
    assert csv.startswith("# view: Overview: leaderboard")


def test_the_evaluation_day_is_frozen_with_the_view(seeded_engine):
    """A store last written days ago: the cut-off is then, but the page was evaluated today."""
    from fleet.snapshots import evaluated_on

    long_ago = now_utc() - timedelta(days=3)
    live = create(seeded_engine, "overview", {}, created_by="t", high_water=long_ago)
    assert live.cutoff == long_ago and evaluated_on(live) == date.today()
    assert "_today" not in live_state(live)
    travelled = create(seeded_engine, "overview", {"known_at": long_ago - timedelta(days=30)}, created_by="t")
    assert evaluated_on(travelled) == (long_ago - timedelta(days=30)).date()


def test_visitors_snapshots_are_capped_per_hour_store_wide_editors_are_not(seeded_engine, monkeypatch):
    from sqlalchemy import update

    from fleet import snapshots
    from fleet.models import Snapshot

    monkeypatch.setattr(snapshots, "VISITOR_SNAPSHOTS_PER_HOUR", 2)
    for _ in range(2):
        snapshots.create(seeded_engine, "overview", {}, created_by=snapshots.VISITOR)
    with pytest.raises(snapshots.SnapshotError, match=r"2 snapshots in the last hour.*log in as an editor"):
        snapshots.create(seeded_engine, "overview", {}, created_by=snapshots.VISITOR)
    assert snapshots.create(seeded_engine, "overview", {}, created_by="ann").created_by == "ann"
    with seeded_engine.begin() as conn:  # an hour later the visitors' quota is free again
        conn.execute(update(Snapshot).where(Snapshot.created_by == snapshots.VISITOR)
                     .values(created_at=snapshots.now_utc() - timedelta(hours=1, minutes=1)))
    assert snapshots.create(seeded_engine, "overview", {}, created_by=snapshots.VISITOR).id
