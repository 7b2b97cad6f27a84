"""Manual entry on both databases: add, correct and retract an estimate, add and edit an
organisation, add a headcount -- same checks as CSV rows, audited, and revertable."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fleet.db import read_session
from fleet.ingest.audit import audit_frame
from fleet.ingest.manual import EntryError, add_estimate, add_headcount, retract_estimate, save_organisation_entry
from fleet.ingest.organisations import OrganisationFields
from fleet.ingest.revert import revert_batch
from fleet.models import Estimate, Organisation
from fleet.queries import estimates_frame, headcounts_frame, organisations_frame
from tests.factories import EDITOR, add_catalog

FIELDS = {"organisation": "Meta", "chip": "H100", "count": "350000", "valid_on": "2024-12-31",
          "source_url": "https://example.org/meta-2024", "certainty": "likely"}


@pytest.fixture
def store(engine):
    add_catalog(engine)
    return engine


def live_counts(engine) -> list[int]:
    with read_session(engine) as session:
        return sorted(estimates_frame(session)["count"].tolist())


def test_add_correct_and_retract_an_estimate_with_before_and_after_in_the_audit_log(store):
    first = add_estimate(store, EDITOR, FIELDS)
    second = add_estimate(store, EDITOR, {**FIELDS, "count": "340000"}, supersedes_id=first)
    assert live_counts(store) == [340000]
    with pytest.raises(EntryError, match=f"estimate {first} is not live"):
        add_estimate(store, EDITOR, {**FIELDS, "count": "1"}, supersedes_id=first)
    retract_estimate(store, EDITOR, second, "the source was withdrawn")
    assert live_counts(store) == [350000]  # retracting the correction revives the original
    with read_session(store) as session:
        log = audit_frame(session)
    entries = log[log["entity"] == "estimate"].set_index("action")
    assert entries.loc["estimate.correct", "before"]["count"] == 350000
    assert entries.loc["estimate.correct", "after"]["count"] == 340000
    assert entries.loc["estimate.retract", "after"]["reason"] == "the source was withdrawn"
    assert set(log["actor"]) == {"alice"}


def test_form_values_get_the_same_checks_as_csv_cells(store):
    with pytest.raises(EntryError) as caught:
        add_estimate(store, EDITOR, {**FIELDS, "count": "12k", "source_url": "javascript:alert(1)",
                                     "organisation": "Metaa"})
    assert caught.value.problems == [
        "column count: value '12k' — is not a whole number — write the full number (12000, not 12k)",
        "column organisation: value 'Metaa' — unknown organisation — did you mean 'Meta'? "
        "(or choose to create new organisations)",
        "column source_url: value 'javascript:alert(1)' — is not an absolute http(s) URL (https://…)",
    ]
    with pytest.raises(EntryError, match="column source_url: value '' — is required"):
        add_estimate(store, EDITOR, {**FIELDS, "source_url": ""})
    add_estimate(store, EDITOR, FIELDS)
    with pytest.raises(EntryError, match="identical estimate is already in the store"):
        add_estimate(store, EDITOR, FIELDS)
    with pytest.raises(EntryError, match="say why"):
        retract_estimate(store, EDITOR, 1, " ")
    assert live_counts(store) == [350000]


def test_add_and_edit_an_organisation_and_revert_the_edit(store):
    org_id = save_organisation_entry(store, EDITOR, OrganisationFields(
        name="xAI", kind="lab", country="United States", aliases=("X.AI", "x.ai Corp")))
    edit = OrganisationFields(name="xAI", kind="company", country="USA", parent="Meta", aliases=("X.AI",))
    save_organisation_entry(store, EDITOR, edit, organisation_id=org_id)
    with read_session(store) as session:
        row = organisations_frame(session).set_index("name").loc["xAI"]
        assert (row["kind"], row["parent"], row["aliases"]) == ("company", "Meta", "X.AI")
        edit_entry = audit_frame(session, action="organisation.edit").iloc[0]
    assert edit_entry["before"]["kind"] == "lab" and edit_entry["after"]["parent"] == "Meta"
    result = revert_batch(store, int(edit_entry["batch_id"]), EDITOR)
    assert result.organisations_restored == ["xAI"]
    with read_session(store) as session:
        row = organisations_frame(session).set_index("name").loc["xAI"]
    assert (row["kind"], row["parent"], row["aliases"]) == ("lab", None, "X.AI|x.ai Corp")
    with pytest.raises(EntryError, match="aliases: 'Facebook' already names 'Meta'"):
        save_organisation_entry(store, EDITOR, OrganisationFields(name="FB", aliases=("Facebook",)))
    with pytest.raises(EntryError, match="country: 'Atlantis'"):
        save_organisation_entry(store, EDITOR, OrganisationFields(name="Z", country="Atlantis"))


def test_reverting_a_new_organisation_removes_it_when_nothing_refers_to_it(store):
    save_organisation_entry(store, EDITOR, OrganisationFields(name="Tiny Lab"))
    with read_session(store) as session:
        batch_id = int(audit_frame(session, action="organisation.add")["batch_id"].iloc[0])
    assert revert_batch(store, batch_id, EDITOR).organisations_removed == ["Tiny Lab"]
    with read_session(store) as session:
        assert session.execute(select(Organisation).where(Organisation.name == "Tiny Lab")).first() is None


def test_add_a_headcount(store):
    add_headcount(store, EDITOR, {"organisation": "Facebook", "count": "3000", "kind": "researchers",
                                  "valid_on": "2024-01-01", "source_url": "https://example.org/staff"})
    with read_session(store) as session:
        frame = headcounts_frame(session)
    assert frame["count"].tolist() == [3000] and frame["kind"].tolist() == ["researchers"]
    with pytest.raises(EntryError) as caught:
        add_headcount(store, EDITOR, {"organisation": "Nobody", "count": "3k", "kind": "interns",
                                      "valid_on": "", "source_url": "x"})
    assert len(caught.value.problems) == 5


def test_a_manual_retraction_can_be_undone(store):
    ident = add_estimate(store, EDITOR, FIELDS)
    retract_estimate(store, EDITOR, ident, "typo")
    with read_session(store) as session:
        batch_id = int(audit_frame(session, action="estimate.retract")["batch_id"].iloc[0])
    assert revert_batch(store, batch_id, EDITOR).restored == 1
    assert live_counts(store) == [350000]
    with read_session(store) as session:
        assert session.execute(select(Estimate.id).where(Estimate.retracted_at.is_(None))).scalar_one() != ident
