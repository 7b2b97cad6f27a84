"""`python -m fleet snapshot ...` on the seeded store (SQLite and Postgres): create prints the ID and link,
export gives the same bytes after later changes, list, delete, and clear errors."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from typer.testing import CliRunner

from fleet.cli import app
from fleet.db import make_engine
from fleet.snapshots import TOKEN_RE
from tests.test_snapshots import change_everything

runner = CliRunner()


def invoke(url: str, *args: str):
    return runner.invoke(app, ["--db", url, *args], catch_exceptions=False)


@pytest.fixture
def store(seeded_url, monkeypatch):
    monkeypatch.setenv("FLEET_BASE_URL", "https://fleet.example/")
    engine = make_engine(seeded_url)
    yield seeded_url, engine
    engine.dispose()


def test_create_export_list_delete(store, tmp_path):
    url, engine = store
    made = invoke(url, "snapshot", "create", "--page", "overview", "--param", "basis=bf16", "--param",
                  "kind=lab,cloud", "--title", "Labs and clouds", "--expires", "2099-01-01", "--as", "ann")
    assert made.exit_code == 0, made.output
    token, link = made.stdout.split()
    assert TOKEN_RE.fullmatch(token) and link == f"https://fleet.example/?snapshot={token}"
    first = tmp_path / "first.csv"
    assert invoke(url, "snapshot", "export", token, "--out", str(first)).exit_code == 0
    change_everything(engine)
    second = invoke(url, "snapshot", "export", token)
    assert second.exit_code == 0
    assert second.stdout_bytes == first.read_bytes()
    text = first.read_text()
    assert "# basis: bf16" in text and "# licence:" in text and "Rank,Organisation" in text
    listed = [json.loads(line) for line in invoke(url, "snapshot", "list").stdout.splitlines()]
    assert [(r["id"], r["title"], r["created_by"], r["status"]) for r in listed] == \
        [(token, "Labs and clouds", "ann (cli)", "live")]
    bundle = tmp_path / "b.zip"
    assert invoke(url, "snapshot", "export", token, "--bundle", "--out", str(bundle)).exit_code == 0
    with zipfile.ZipFile(io.BytesIO(bundle.read_bytes())) as archive:
        assert json.loads(archive.read("snapshot.json"))["view_state"]["kind"] == "lab,cloud"
    deleted = invoke(url, "snapshot", "delete", token, "--as", "ann")
    assert deleted.exit_code == 0 and token in deleted.stdout
    gone = invoke(url, "snapshot", "export", token)
    assert gone.exit_code == 1 and "no longer available" in gone.stderr
    assert invoke(url, "snapshot", "list").stdout == ""
    assert json.loads(invoke(url, "snapshot", "list", "--deleted").stdout)["status"] == "deleted"


@pytest.mark.parametrize("args, code, message", [
    (["--page", "overview", "--param", "basis=zz"], 2, "--param basis='zz'"),
    (["--page", "overview", "--param", "colour=red"], 2, "KEY one of"),
    (["--page", "overview", "--param", "as_of=2025-13-01"], 2, "--param as_of"),
    (["--page", "overview", "--expires", "soon"], 2, "--expires 'soon'"),
    (["--page", "overview", "--expires", "2001-01-01"], 1, "not in the future"),
    (["--page", "nope"], 1, "unknown page 'nope'"),
])
def test_create_refuses_bad_input_naming_it(store, args, code, message):
    result = invoke(store[0], "snapshot", "create", *args)
    assert result.exit_code == code
    assert message in " ".join((result.stderr + result.stdout).split())


@pytest.mark.parametrize("token", ["nonsense", "A" * 32])
def test_export_and_delete_of_unknown_ids(store, token):
    result = invoke(store[0], "snapshot", "export", token)
    assert result.exit_code == 1 and "no longer available" in " ".join(result.stderr.split())
    result = invoke(store[0], "snapshot", "delete", token)
    assert result.exit_code == 1 and "no snapshot" in result.stderr


@pytest.mark.parametrize("page, params", [
    ("overview", ["top=5"]), ("rich-poor", []), ("organisation", ["org=Meta"]), ("chips", []),
    ("researchers", []), ("countries", []),
])
def test_every_registered_view_can_be_snapshotted_and_exported(store, page, params):
    from fleet.views import load_all

    assert page in load_all()
    made = invoke(store[0], "snapshot", "create", "--page", page, *[a for p in params for a in ("--param", p)])
    assert made.exit_code == 0, made.output
    exported = invoke(store[0], "snapshot", "export", made.stdout.split()[0])
    assert exported.exit_code == 0, exported.output
    assert exported.stdout.startswith("# view: ") and "# data cut-off" in exported.stdout
