"""AppTest of the writing pages on a real store: login, import preview -> commit, the manual
forms, the audit log and its revert, and identity-provider (OIDC) editors."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from fleet.auth import Actor
from fleet.db import read_session
from fleet.editors import add_editor_account
from fleet.models import Estimate, IngestBatch
from tests.factories import add_catalog

URL = "https://example.org/p"
GOOD = f"organisation,chip,count,valid_on,source_url\nMeta,H100,100,2024-01-01,{URL}\nOpenAI,A100,7,2024-01-01,{URL}\n"
BAD = GOOD + f"Meta,H100,12k,2024-01-01,{URL}\n"
ALICE = Actor("alice", "password", "store")


@pytest.fixture
def store(engine, db_url, monkeypatch, tmp_path):
    add_catalog(engine)
    add_editor_account(engine, Actor.cli("admin"), "alice", "a long passphrase")
    monkeypatch.setenv("FLEET_DATABASE_URL", db_url)
    monkeypatch.setattr("fleet.config._secrets_paths", lambda: [tmp_path / "secrets.toml"])
    return engine


def page(module: str, actor: Actor | None = None) -> AppTest:
    at = AppTest.from_string(f"from fleet.ui.pages import {module}\n{module}.render()", default_timeout=60)
    if actor is not None:
        at.session_state["fleet.actor"] = actor
    return at.run()


def live(engine) -> int:
    with read_session(engine) as session:
        return session.execute(select(func.count()).select_from(Estimate).where(Estimate.retracted_at.is_(None))
                               ).scalar_one()


def test_login_page_logs_an_editor_in_and_refuses_a_wrong_password(store):
    at = AppTest.from_string("from fleet.ui import editor\neditor.render_login_page()", default_timeout=60).run()
    at.text_input(key="login.name").input("alice")
    at.text_input(key="login.password").input("wrong password!!")
    at.button[0].click().run()
    assert "Wrong editor name or password" in at.error[0].value
    at.text_input(key="login.password").input("a long passphrase")
    at.button[0].click().run()
    assert not at.exception
    assert at.session_state["fleet.actor"] == ALICE
    assert any("Logged in as alice" in s.value for s in at.success)


def test_a_viewer_gets_the_preview_but_no_import_button(store):
    at = page("import_page")
    assert [i.value for i in at.info] == ["Anyone can preview a file here; importing it needs an editor login."]
    at.file_uploader[0].set_value(("good.csv", GOOD.encode(), "text/csv")).run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Rows in the file"] == "2" and metrics["Would be added"] == "2"
    assert any("log in as an editor" in i.value for i in at.info)
    assert not [b for b in at.button if b.label.startswith("Import")]
    assert live(store) == 0


def test_an_editor_previews_then_imports(store):
    at = page("import_page", ALICE)
    at.file_uploader[0].set_value(("good.csv", GOOD.encode(), "text/csv")).run()
    assert live(store) == 0  # nothing written by the preview
    next(b for b in at.button if b.label == "Import").click().run()
    assert not at.exception, at.exception
    assert live(store) == 2
    assert any("imported 2 rows as batch" in s.value for s in at.success)


def test_problems_block_the_import_until_partial_mode_is_chosen(store):
    at = page("import_page", ALICE)
    at.file_uploader[0].set_value(("bad.csv", BAD.encode(), "text/csv")).run()
    assert any("row 4, column count: value '12k'" in m.value for m in at.markdown)
    rows = at.dataframe[-1].value
    assert rows["row"].tolist() == [2, 3] and (rows["outcome"] == "add").all()
    at.selectbox(key="import.rows").set_value("with problems").run()
    rows = at.dataframe[-1].value
    assert rows[["row", "outcome", "count"]].values.tolist() == [[4, "problem", "12k"]]
    assert next(b for b in at.button if b.label == "Import").disabled
    at.radio(key="import.mode").set_value("import only the valid rows").run()
    next(b for b in at.button if b.label == "Import the valid rows").click().run()
    assert not at.exception, at.exception
    assert live(store) == 2
    assert any(d.label == "Download the rejected rows (CSV)" for d in at.get("download_button"))


def test_an_unreadable_file_gets_a_message_not_a_trace(store):
    at = page("import_page", ALICE)
    at.file_uploader[0].set_value(("x.csv", b"\x00\x01\x02binary", "text/csv")).run()
    assert not at.exception
    assert "binary" in at.error[0].value


def test_edit_page_forms_add_and_refuse_with_the_csv_messages(store):
    assert any("log in as an editor" in i.value for i in page("edit_page").info)
    at = page("edit_page", ALICE)
    at.selectbox(key="add.chip").set_value("NVIDIA H100 SXM5 80GB")
    at.text_input(key="add.count").input("12k")
    at.text_input(key="add.url").input(URL)
    at.button(key="FormSubmitter:add_estimate-Add estimate").click().run()
    assert any("value '12k' — is not a whole number" in e.value for e in at.error)
    at.text_input(key="add.count").input("12000")
    at.button(key="FormSubmitter:add_estimate-Add estimate").click().run()
    assert not at.exception, at.exception
    assert any(s.value.startswith("Added estimate") for s in at.success)
    assert live(store) == 1


def test_audit_page_lists_writes_and_reverts_a_batch(store):
    at = page("import_page", ALICE)
    at.file_uploader[0].set_value(("good.csv", GOOD.encode(), "text/csv")).run()
    next(b for b in at.button if b.label == "Import").click().run()
    audit = page("audit_page", ALICE)
    table = audit.dataframe[0].value
    assert table.loc[0, "action"] == "batch.csv" and table.loc[0, "who"] == "alice"
    audit.text_input(key="revert.reason").input("wrong file")
    audit.button(key="FormSubmitter:revert-Revert this batch").click().run()
    assert not audit.exception, audit.exception
    assert any("Reverted batch" in s.value for s in audit.success)
    assert live(store) == 0
    with read_session(store) as session:
        assert session.execute(select(IngestBatch.kind).order_by(IngestBatch.id.desc())).scalars().first() == "revert"


def test_identity_provider_users_are_editors_only_when_listed(store, tmp_path):
    (tmp_path / "secrets.toml").write_text('oidc_editors = ["frank@example.org"]\n'
                                           '[auth]\nredirect_uri = "http://localhost:8501/oauth2callback"\n'
                                           'cookie_secret = "test"\nclient_id = "x"\nclient_secret = "y"\n'
                                           'server_metadata_url = "https://idp.example.org/.well-known/x"\n')
    at = AppTest.from_string("from fleet.ui.pages import edit_page\nedit_page.render()", default_timeout=60)
    at.user = {"is_logged_in": True, "email": "frank@example.org"}
    at.run()
    assert not at.exception and at.tabs, at.exception
    at = AppTest.from_string("from fleet.ui.pages import edit_page\nedit_page.render()", default_timeout=60)
    at.user = {"is_logged_in": True, "email": "mallory@example.org"}
    at.run()
    assert not at.tabs and any("log in as an editor" in i.value for i in at.info)


def test_audit_filters_live_in_the_url(store):
    at = page("import_page", ALICE)
    at.file_uploader[0].set_value(("good.csv", GOOD.encode(), "text/csv")).run()
    next(b for b in at.button if b.label == "Import").click().run()
    at = AppTest.from_string("from fleet.ui.pages import audit_page\naudit_page.render()", default_timeout=60)
    at.query_params["batch"] = "999"
    at.run()
    assert not at.exception and any("No entries match" in i.value for i in at.info)
    at.text_input(key="audit.batch").set_value("").run()
    at.selectbox(key="audit.action").set_value("batch.csv").run()
    assert at.query_params == {"action": "batch.csv"} and len(at.dataframe[0].value) == 1
    junk = AppTest.from_string("from fleet.ui.pages import audit_page\naudit_page.render()", default_timeout=60)
    junk.query_params["batch"] = "abc"
    junk.run()
    assert not junk.exception and "not a batch number" in junk.warning[0].value
