"""CSV import against the real store (SQLite and Postgres): preview, commit, partial mode,
idempotency, new organisations, formula cells, audit entries, revert, editor rights."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from sqlalchemy import select

from fleet.auth import Actor, NotAnEditor
from fleet.db import read_session
from fleet.exports import to_csv_bytes
from fleet.ingest.audit import audit_frame
from fleet.ingest import load
from fleet.ingest.errors import IngestError
from fleet.ingest.importer import ImportRefused, commit_import, plan_import
from fleet.ingest.revert import revert_batch
from fleet.models import Estimate, IngestBatch, Organisation
from fleet.queries import estimate_history, export_estimates_frame, store_stats
from tests.factories import EDITOR, add_catalog
from tests.test_bad_csv import store_state

URL = "https://example.org/report"
GOOD = (
    "Organization,Chip,Count,count_low,Date,Source URL,scope,cluster,note\n"
    f"Meta,H100,24576,20000,2024-03-12,{URL},cluster,RoCE cluster,\n"
    f"Facebook,H100,24576,,2024-03-12,{URL},cluster,InfiniBand cluster,\n"
    f"OpenAI,A100,10000,,2023-01-01,{URL},,,\"two\nlines\"\n"
)
OTHER = "Organization,Chip,Count,Date,Source URL\nOpenAI,H100,5000,2024-05-01,https://example.org/other\n"


@pytest.fixture
def store(engine):
    add_catalog(engine)
    return engine


def live(engine) -> pd.DataFrame:
    with read_session(engine) as session:
        return export_estimates_frame(session)


def test_preview_then_commit_adds_every_row_in_one_audited_batch(store):
    plan = plan_import(store, GOOD.encode(), file_name="meta.csv")
    assert (plan.rows_in, plan.rows_to_add, plan.rows_duplicate, plan.rows_rejected) == (3, 3, 0, 0)
    assert store_state(store)[0] == 0  # a preview writes nothing
    result = commit_import(store, plan, EDITOR)
    assert (result.added, result.skipped) == (3, 0)
    rows = live(store).sort_values("count_low")
    assert set(rows["organisation"]) == {"Meta", "OpenAI"}  # "Facebook" is Meta's alias
    assert "two\nlines" in set(rows["note"])
    with read_session(store) as session:
        batch = session.get(IngestBatch, result.batch_id)
        audit = audit_frame(session, batch_id=result.batch_id)
    assert (batch.kind, batch.location, batch.created_by, batch.rows_added) == ("csv", "meta.csv", "alice", 3)
    assert batch.sha256 == plan.table.sha256 and len(batch.sha256) == 64
    entry = audit.iloc[0]
    assert (entry["action"], entry["actor"]) == ("batch.csv", "alice")
    assert entry["after"]["file_name"] == "meta.csv" and entry["after"]["added"] == 3


def test_importing_the_same_file_twice_adds_nothing(store):
    commit_import(store, plan_import(store, GOOD.encode(), file_name="a.csv"), EDITOR)
    before = store_state(store)
    again = plan_import(store, GOOD.encode(), file_name="a.csv")
    assert (again.rows_to_add, again.rows_duplicate) == (0, 3)
    result = commit_import(store, again, EDITOR)
    assert (result.batch_id, result.added, result.skipped) == (None, 0, 3)
    assert store_state(store) == before


def test_the_preview_lists_each_row_as_written_with_what_the_import_would_do(store):
    commit_import(store, plan_import(store, OTHER.encode(), file_name="other.csv"), EDITOR)
    data = OTHER + f"Meta,H100,64,2024-05-01,{URL}\nMeta,H100,12k,2024-05-01,{URL}\nMeta,H100,64,2024-05-01,{URL}\n"
    outcomes = plan_import(store, data.encode(), file_name="mixed.csv").outcomes()
    assert list(outcomes.columns) == ["row", "outcome", "Organization", "Chip", "Count", "Date", "Source URL"]
    assert outcomes["row"].tolist() == [2, 3, 4, 5]
    assert outcomes["outcome"].tolist() == ["skip", "add", "problem", "problem"]  # row 5 repeats row 3
    assert outcomes["Count"].tolist() == ["5000", "64", "12k", "64"]


def test_all_or_nothing_by_default_and_partial_returns_the_rejects(store):
    data = (GOOD + f"Meta,H100,12k,,2024-01-01,{URL},,,\nNobody,H100,5,,2024-01-01,{URL},,,\n").encode()
    plan = plan_import(store, data, file_name="mixed.csv")
    assert (plan.rows_to_add, plan.rows_rejected) == (3, 2)
    assert plan.messages() == [
        "row 5, column Count: value '12k' — is not a whole number — write the full number (12000, not 12k)",
        "row 6, column Organization: value 'Nobody' — unknown organisation (or choose to create new organisations)",
    ]
    with pytest.raises(ImportRefused, match="2 of 5 rows have problems; nothing was imported"):
        commit_import(store, plan, EDITOR)
    assert store_state(store)[0] == 0
    result = commit_import(store, plan, EDITOR, partial=True)
    assert (result.added, result.rejected) == (3, 2)
    rejects = plan.rejects_frame()
    assert list(rejects.columns) == ["row", "Organization", "Chip", "Count", "count_low", "Date", "Source URL",
                                     "scope", "cluster", "note", "error"]
    assert rejects["row"].tolist() == [5, 6] and rejects["Count"].tolist() == ["12k", "5"]
    assert rejects["error"].str.contains("12k").tolist() == [True, False]
    back = pd.read_csv(io.BytesIO(to_csv_bytes(rejects)), dtype=str)
    assert back["Organization"].tolist() == ["Meta", "Nobody"]


def test_unknown_organisations_are_created_only_when_asked(store):
    data = f"organisation,chip,count,valid_on,source_url\nNew Lab,H100,64,2024-01-01,{URL}\n".encode()
    plan = plan_import(store, data, file_name="new.csv")
    assert "unknown organisation" in plan.messages()[0]
    plan = plan_import(store, data, file_name="new.csv", create_orgs=True)
    assert plan.new_organisations == ["New Lab"] and plan.rows_to_add == 1
    result = commit_import(store, plan, EDITOR)
    assert result.organisations_created == ["New Lab"]
    assert live(store)["organisation"].tolist() == ["New Lab"]
    with read_session(store) as session:
        actions = audit_frame(session, batch_id=result.batch_id)["action"].tolist()
    assert sorted(actions) == ["batch.csv", "organisation.add"]


def test_chips_are_never_created(store):
    data = f"organisation,chip,count,valid_on,source_url\nMeta,Z9000,64,2024-01-01,{URL}\n".encode()
    plan = plan_import(store, data, file_name="chip.csv", create_orgs=True)
    assert "unknown chip" in plan.messages()[0] and plan.rows_to_add == 0


def test_formula_cells_are_stored_as_text_and_neutralised_on_export(store):
    data = (f"organisation,chip,count,valid_on,source_url,note,cluster,scope,source_title\n"
            f"Meta,H100,64,2024-01-01,{URL},=HYPERLINK(\"http://evil\"),+cluster,cluster,@SUM(A1)\n").encode()
    commit_import(store, plan_import(store, data, file_name="f.csv"), EDITOR)
    row = live(store).iloc[0]
    assert (row["note"], row["cluster"], row["source_title"]) == ('=HYPERLINK("http://evil")', "+cluster", "@SUM(A1)")
    exported = to_csv_bytes(live(store)).decode()
    assert "'=HYPERLINK" in exported and ",'+cluster," in exported and "'@SUM(A1)" in exported


def test_reverting_an_import_tombstones_its_rows_and_keeps_history(store):
    result = commit_import(store, plan_import(store, GOOD.encode(), file_name="a.csv"), EDITOR)
    reverted = revert_batch(store, result.batch_id, EDITOR, reason="wrong file")
    assert (reverted.retracted, reverted.restored) == (3, 0)
    assert live(store).empty
    with read_session(store) as session:
        meta = session.execute(select(Organisation.id).where(Organisation.name == "Meta")).scalar_one()
        history = estimate_history(session, meta)
        assert set(history["state"]) == {"retracted"} and len(history) == 2
        assert store_stats(session)["estimates"] == 0
        assert session.get(IngestBatch, reverted.batch_id).reverts_batch_id == result.batch_id
    with pytest.raises(IngestError, match=f"batch {result.batch_id} was already reverted by batch {reverted.batch_id}"):
        revert_batch(store, result.batch_id, EDITOR)
    redo = revert_batch(store, reverted.batch_id, EDITOR)  # reverting the revert re-does the import
    assert redo.restored == 3 and len(live(store)) == 3
    again = plan_import(store, GOOD.encode(), file_name="a.csv")
    assert again.rows_duplicate == 3


def test_writes_need_an_editor_checked_where_the_write_happens(store):
    plan = plan_import(store, GOOD.encode(), file_name="a.csv")
    before = store_state(store)
    with pytest.raises(NotAnEditor, match="log in"):
        commit_import(store, plan, None)
    with pytest.raises(NotAnEditor, match="no longer an editor"):
        commit_import(store, plan, Actor("mallory", "password", "store"))
    with pytest.raises(NotAnEditor):
        revert_batch(store, 1, "alice")
    assert store_state(store) == before


def test_cli_writers_are_recorded_by_name(store):
    result = commit_import(store, plan_import(store, GOOD.encode(), file_name="a.csv"), Actor.cli("bob"))
    with read_session(store) as session:
        assert session.get(IngestBatch, result.batch_id).created_by == "bob (cli)"
        assert session.execute(select(Estimate.batch_id).limit(1)).scalar_one() == result.batch_id


@pytest.mark.parametrize("scan_above", [0, 20_000])  # one scan of the store / IN lookups
def test_in_store_finds_live_fingerprints_only(store, monkeypatch, scan_above):
    monkeypatch.setattr(load, "_SCAN_ABOVE", scan_above)
    kept = commit_import(store, plan_import(store, GOOD.encode(), file_name="a.csv"), EDITOR)
    gone = commit_import(store, plan_import(store, OTHER.encode(), file_name="b.csv"), EDITOR)
    revert_batch(store, gone.batch_id, EDITOR)
    with read_session(store) as session:
        by_batch = dict(session.execute(select(Estimate.fingerprint, Estimate.batch_id)).all())
        live_fp = next(fp for fp, batch in by_batch.items() if batch == kept.batch_id)
        retracted_fp = next(fp for fp, batch in by_batch.items() if batch == gone.batch_id)
        asked = pd.Series([live_fp, retracted_fp, None, "0" * 32, live_fp], dtype=object)
        assert load.in_store(session, Estimate, asked).tolist() == [True, False, False, False, True]
        assert load.in_store(session, Estimate, pd.Series([None], dtype=object)).tolist() == [False]
