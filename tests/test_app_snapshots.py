"""AppTest of snapshot links on SQLite and Postgres: Share snapshot on a page, ``?snapshot=ID`` shows
the same numbers after later changes, a banner, a hash check, a friendly page for bad links, and the
editors' Snapshots page."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from fleet.auth import Actor
from fleet.chips import Basis
from fleet.db import make_engine
from fleet.editors import add_editor_account
from fleet.snapshot_admin import delete, expire
from fleet.snapshots import MISMATCH, SnapshotUnavailable, create, new_token, resolve
from tests.test_snapshots import EDITOR, change_everything, counted

APP = str(Path(__file__).resolve().parent.parent / "app.py")
ALICE = Actor("alice", "password", "store")


@pytest.fixture
def app(seeded_url, monkeypatch, tmp_path):
    monkeypatch.setenv("FLEET_DATABASE_URL", seeded_url)
    monkeypatch.setenv("FLEET_BASE_URL", "https://fleet.example")
    monkeypatch.setattr("fleet.config._secrets_paths", lambda: [tmp_path / "secrets.toml"])
    engine = make_engine(seeded_url)
    yield engine
    engine.dispose()


def open_app(token: str | None = None, actor: Actor | None = None, **query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    if token is not None:
        at.query_params["snapshot"] = token
    for key, value in query.items():
        at.query_params[key] = value
    if actor is not None:
        at.session_state["fleet.actor"] = actor
    at.run()
    assert not at.exception, at.exception
    return at


def banner(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown if "Snapshot of" in m.value)


def test_a_snapshot_link_shows_the_same_numbers_after_every_kind_of_change(app):
    row = create(app, "overview", {"basis": Basis.BF16}, created_by="tester")
    first = open_app(row.id)
    frozen = first.dataframe[0].value
    assert "by tester" in banner(first) and "data as known then" in banner(first)
    assert not first.error
    change_everything(app)
    again = open_app(row.id)
    assert not again.error, [e.value for e in again.error]
    assert again.dataframe[0].value.equals(frozen)
    assert again.query_params["snapshot"] == [row.id] or again.query_params["snapshot"] == row.id
    live = open_app(basis="bf16")
    assert not live.dataframe[0].value.equals(frozen)
    assert "xAI" in set(live.dataframe[0].value["Organisation"])


def test_a_rerun_stays_on_the_snapshot_and_a_control_change_goes_live(app):
    row = create(app, "overview", {}, created_by="tester")
    at = open_app(row.id)
    at.run()
    assert banner(at) and not at.exception
    at.sidebar.selectbox[0].select(Basis.BF16).run()
    assert not at.exception and not banner(at)
    assert any("live" in i.value for i in at.info)
    assert "snapshot" not in at.query_params and at.query_params["basis"] in (["bf16"], "bf16")
    assert "known_at" not in at.query_params


def test_what_changed_since_lists_the_movers(app):
    row = create(app, "overview", {}, created_by="tester")
    change_everything(app)
    at = open_app(row.id)
    at.toggle(key="fleet.snapshot.compare").set_value(True).run()
    assert not at.exception
    tables = [d.value for d in at.dataframe]
    movers = next(t for t in tables if "Rank then" in t.columns)
    assert "xAI" in set(movers["Organisation"])
    assert any("Estimates added or retracted" in m.value for m in at.markdown)


def test_a_hard_delete_says_the_snapshot_cannot_be_reproduced(app):
    row = create(app, "overview", {}, created_by="tester")
    victim = int(counted(app)["id"].iloc[0])
    with app.begin() as conn:
        conn.execute(text("UPDATE estimate SET supersedes_id = NULL WHERE supersedes_id = :id"), {"id": victim})
        conn.execute(text("DELETE FROM estimate WHERE id = :id"), {"id": victim})
    at = open_app(row.id)
    assert [e.value for e in at.error] == [MISMATCH]
    assert banner(at)


@pytest.mark.parametrize("case", ["malformed", "unknown", "expired", "deleted", "empty"])
def test_bad_links_get_the_friendly_page_and_nothing_else(app, case):
    token = {"malformed": "<script>alert(1)</script>", "unknown": new_token(), "empty": ""}.get(case)
    if token is None:
        token = create(app, "overview", {}, created_by="t").id
        (expire if case == "expired" else delete)(app, EDITOR, token)
    at = open_app(token)
    assert [t.value for t in at.title] == ["Snapshot not available"]
    assert not at.error and not at.dataframe
    assert "no longer available" in at.info[0].value


def test_share_snapshot_stores_the_view_and_shows_its_link(app):
    add_editor_account(app, Actor.cli("admin"), "alice", "a long passphrase")
    at = open_app(actor=ALICE, basis="price")
    shown = at.dataframe[0].value
    at.text_input(key="fleet.share.title").input("For the blog post")
    at.button(key="FormSubmitter:fleet.share-Create snapshot link").click().run()
    assert not at.exception and not at.error
    link = at.code[0].value
    assert link.startswith("https://fleet.example/?snapshot=")
    row = resolve(app, link.rsplit("=", 1)[1])
    assert (row.created_by, row.title, row.page_id) == ("alice", "For the blog post", "overview")
    assert row.hash_basis == "view"
    opened = open_app(row.id)
    assert opened.dataframe[0].value.equals(shown)
    assert "For the blog post" in " ".join(m.value for m in opened.markdown)


def test_a_page_without_a_data_view_is_hashed_from_the_screen_and_reached_from_the_root(app, seeded_url):
    if not seeded_url.startswith("sqlite"):
        pytest.skip("the Claims page takes seconds per run; the routing is backend-independent")
    at = AppTest.from_string("from fleet.ui.pages import claims\nclaims.render()", default_timeout=120).run()
    at.button(key="FormSubmitter:fleet.share-Create snapshot link").click().run()
    assert not at.exception and not at.error
    row = resolve(app, at.code[0].value.rsplit("=", 1)[1])
    assert (row.page_id, row.hash_basis) == ("claims", "screen")
    opened = open_app(row.id)  # "/?snapshot=ID": the default page switches to Claims
    assert [t.value for t in opened.title] == ["Claims"]
    assert banner(opened) and not opened.error


def test_the_snapshots_page_lists_and_deletes_for_editors_only(app):
    add_editor_account(app, Actor.cli("admin"), "alice", "a long passphrase")
    row = create(app, "overview", {}, created_by="t", title="Delete me")
    script = "from fleet.ui.pages import snapshots_page\nsnapshots_page.render()"
    viewer = AppTest.from_string(script, default_timeout=60).run()
    assert not viewer.exception and not viewer.dataframe
    assert any("log in as an editor" in i.value for i in viewer.info)
    at = AppTest.from_string(script, default_timeout=60)
    at.session_state["fleet.actor"] = ALICE
    at.run()
    assert row.id in set(at.dataframe[0].value["id"])
    delete_button = next(b for b in at.button if b.label == "Delete")
    delete_button.click().run()
    assert any("Tick the box" in w.value for w in at.warning)
    resolve(app, row.id)  # still there
    next(c for c in at.checkbox if c.label.startswith("Yes, delete")).check()
    next(b for b in at.button if b.label == "Delete").click().run()
    assert not at.exception and any("deleted" in s.value for s in at.success)
    with pytest.raises(SnapshotUnavailable):
        resolve(app, row.id)


@pytest.mark.parametrize("token", ["nope", None])
def test_a_page_rendered_on_its_own_handles_the_link_too(app, token):
    """Without the frame (AppTest of one page): a bad link still gets the friendly page, a good one the banner."""
    token = token or create(app, "overview", {}, created_by="solo").id
    at = AppTest.from_string("from fleet.ui.pages import overview\noverview.render()", default_timeout=60)
    at.query_params["snapshot"] = token
    at.run()
    assert not at.exception
    if token == "nope":
        assert [t.value for t in at.title] == ["Snapshot not available"] and not at.dataframe
    else:
        assert "by solo" in banner(at) and at.dataframe


def test_the_banner_links_to_the_live_view_without_the_cut_off(app):
    row = create(app, "overview", {"basis": Basis.POWER}, created_by="tester")
    at = open_app(row.id)
    links = [e for e in at.get("page_link")]
    live = [e for e in links if "View live" in e.proto.label]
    assert live, [e.proto.label for e in links]
    assert "basis=power" in live[0].proto.query_string and "known_at" not in live[0].proto.query_string


def test_following_the_live_link_drops_the_cut_off(app):
    row = create(app, "overview", {"basis": Basis.BF16}, created_by="tester")
    change_everything(app)
    at = open_app(row.id)
    frozen = at.dataframe[0].value
    del at.query_params["snapshot"]
    at.query_params["basis"] = "bf16"  # what "View live →" carries: the view state minus known_at
    at.run()
    assert not at.exception and not banner(at)
    assert at.session_state["v.known_at"] is None
    assert not at.dataframe[0].value.equals(frozen) and "xAI" in set(at.dataframe[0].value["Organisation"])
