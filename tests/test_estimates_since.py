"""The estimates frame of a new data version built from the previous one and the rows
written since (``queries.estimates_since``), on SQLite and Postgres: after every kind of
write -- manual entry, correction, retraction that revives, CSV import, revert and the
revert of a revert -- it equals a whole read of the store, and it declines (None) when a
whole read is the right answer. ``materialised.estimates`` uses it after a write."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import func, select

from fleet import materialised, queries
from fleet.db import data_version, read_session, write_session
from fleet.ingest.importer import commit_import, plan_import
from fleet.ingest.manual import add_estimate, retract_estimate
from fleet.ingest.revert import revert_batch
from fleet.models import Estimate
from tests.factories import EDITOR, retract

FIELDS = {"organisation": "Meta", "chip": "H100", "count": "350000", "valid_on": "2024-12-31",
          "source_url": "https://example.org/meta-2024", "certainty": "likely"}
CSV = ("organisation,chip,count,valid_on,source_url,scope,cluster\n"
       "OpenAI,H100,5000,2024-05-01,https://example.org/a,cluster,Stargate\n"
       "Meta,A100,16000,2023-06-01,https://example.org/b,fleet,\n").encode()


def whole(engine) -> pd.DataFrame:
    with read_session(engine) as session:
        return queries.estimates_frame(session)


def mark(engine):
    with read_session(engine) as session:
        return data_version(session)[1]


def since(engine, frame: pd.DataFrame, at) -> pd.DataFrame | None:
    with read_session(engine) as session:
        return queries.estimates_since(session, frame, at)


def oldest_live(engine) -> int:
    with read_session(engine) as session:
        return int(session.execute(select(func.min(Estimate.id)).where(Estimate.retracted_at.is_(None))).scalar_one())


def _writes(engine):
    """Each kind of write the app and CLI make, one at a time."""
    first = add_estimate(engine, EDITOR, FIELDS)
    yield "manual entry"
    second = add_estimate(engine, EDITOR, {**FIELDS, "count": "340000"}, supersedes_id=first)
    yield "correction"
    retract_estimate(engine, EDITOR, second, "withdrawn")
    yield "retracting the correction revives the original"
    retract_estimate(engine, EDITOR, oldest_live(engine), "wrong")
    yield "retracting a seeded estimate"
    batch = commit_import(engine, plan_import(engine, CSV, file_name="a.csv"), EDITOR).batch_id
    yield "CSV import"
    revert = revert_batch(engine, batch, EDITOR).batch_id
    yield "revert"
    revert_batch(engine, revert, EDITOR)
    yield "revert of the revert (fresh copies)"
    with write_session(engine):
        pass
    yield "a write that changed nothing"


def test_after_each_kind_of_write_the_refreshed_frame_equals_a_whole_read(seeded_engine):
    frame, at = whole(seeded_engine), mark(seeded_engine)
    start, start_at = frame, at
    for what in _writes(seeded_engine):
        expected = whole(seeded_engine)
        refreshed = since(seeded_engine, frame, at)
        assert refreshed is not None, what
        pd.testing.assert_frame_equal(refreshed, expected, obj=what)
        frame, at = refreshed, mark(seeded_engine)
    # and in one step over all of them
    pd.testing.assert_frame_equal(since(seeded_engine, start, start_at), whole(seeded_engine))
    assert len(whole(seeded_engine)) != len(start)  # the writes did change the live set


def test_a_frame_newer_than_its_mark_is_still_brought_up_to_date(seeded_engine):
    # the frame may have been read a little after its version was: re-reading a row is harmless
    at = mark(seeded_engine)
    add_estimate(seeded_engine, EDITOR, FIELDS)
    frame = whole(seeded_engine)
    retract_estimate(seeded_engine, EDITOR, int(frame["id"].max()), "wrong")
    pd.testing.assert_frame_equal(since(seeded_engine, frame, at), whole(seeded_engine))


def test_a_frame_from_another_store_or_of_other_columns_is_declined(seeded_engine):
    frame, at = whole(seeded_engine), mark(seeded_engine)
    other = frame.copy()
    other.loc[other.index[-1], "recorded_at"] = other["recorded_at"].iloc[-1] - pd.Timedelta(microseconds=1)
    assert since(seeded_engine, other, at) is None  # e.g. a store deleted and seeded again at the same path
    assert since(seeded_engine, frame.drop(columns="cluster"), at) is None
    assert since(seeded_engine, frame, at) is not None


def test_a_frame_with_the_details_is_refreshed_with_them(seeded_engine):
    every = queries.ESTIMATE_FRAME_COLUMNS
    with read_session(seeded_engine) as session:
        frame = queries.estimates_frame(session, columns=every)
    at = mark(seeded_engine)
    add_estimate(seeded_engine, EDITOR, {**FIELDS, "note": "counted by hand"})
    with read_session(seeded_engine) as session:
        expected = queries.estimates_frame(session, columns=every)
    refreshed = since(seeded_engine, frame, at)
    pd.testing.assert_frame_equal(refreshed, expected)
    assert refreshed["note"].iloc[-1] == "counted by hand"


def test_when_much_of_the_store_changed_a_whole_read_is_asked_for(seeded_engine):
    frame, at = whole(seeded_engine), mark(seeded_engine)
    ids = frame["id"].head(int(len(frame) * queries.REFRESH_SHARE) + 1).astype(int).tolist()
    retract(seeded_engine, ids, "bulk")
    assert since(seeded_engine, frame, at) is None


def _version(engine) -> tuple:
    with read_session(engine) as session:
        return (str(engine.url), *data_version(session))


def test_the_materialised_frame_of_a_new_version_is_built_from_the_previous_one(seeded_engine, tmp_path,
                                                                                 monkeypatch):
    first = materialised.estimates(tmp_path, _version(seeded_engine), None, seeded_engine)
    add_estimate(seeded_engine, EDITOR, FIELDS)
    whole_reads = []
    read = queries.estimates_frame
    monkeypatch.setattr(queries, "estimates_frame", lambda *a, **k: whole_reads.append(1) or read(*a, **k))
    second = materialised.estimates(tmp_path, _version(seeded_engine), None, seeded_engine)
    assert whole_reads == [] and len(second) == len(first) + 1
    with read_session(seeded_engine) as session:
        expected = read(session)
    # the frame on disk keeps Parquet's datetime unit; the values are the store's
    pd.testing.assert_frame_equal(second, expected.astype(second.dtypes.to_dict()))
    # a view "as known at" a time is never built this way
    with read_session(seeded_engine) as session:
        known_at = data_version(session)[1]
    materialised.estimates(tmp_path, _version(seeded_engine), known_at, seeded_engine)
    assert whole_reads == [1]


@pytest.mark.parametrize("folder", ["", "off"])
def test_without_a_folder_every_version_is_a_whole_read(seeded_engine, folder):
    add_estimate(seeded_engine, EDITOR, FIELDS)
    pd.testing.assert_frame_equal(materialised.estimates(folder, _version(seeded_engine), None, seeded_engine),
                                  whole(seeded_engine))


def test_what_changed_since_is_found_through_indexes_not_a_scan_of_every_estimate(engine):
    """Both sides of "recorded or retracted since T" have an index (migration 0008): at a million
    estimates a scan cost every first render after a write a quarter of a second."""
    from datetime import datetime

    with engine.connect() as conn:
        sql = str(queries.changed_since(datetime(2024, 1, 1)).compile(conn, compile_kwargs={"literal_binds": True}))
        if engine.dialect.name == "sqlite":
            plan = " / ".join(r[3] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
            assert "ix_estimate_recorded_at" in plan and "ix_estimate_retracted" in plan, plan
            assert "SCAN estimate" not in plan, plan
        else:  # a small table is scanned by choice: ask whether an index plan exists at all
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = " / ".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {sql}"))
            assert "ix_estimate_recorded_at" in plan and "ix_estimate_retracted" in plan, plan
            assert "Seq Scan" not in plan, plan


def test_a_read_of_unknown_columns_or_without_its_keys_is_refused(seeded_engine):
    with read_session(seeded_engine) as session:
        with pytest.raises(ValueError, match="power"):
            queries.estimates_frame(session, columns=("id", "recorded_at", "power"))
        with pytest.raises(ValueError, match="recorded_at"):
            queries.estimates_frame(session, columns=("id", "count"))
