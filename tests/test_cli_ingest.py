"""The write commands of the CLI against real databases: import (exit codes 0/1/2, dry run,
partial with rejects, --as), template, revert, audit and editors."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from fleet.cli import app
from tests.factories import add_catalog
from tests.test_bad_csv import store_state

runner = CliRunner()
URL = "https://example.org/r"
GOOD = f"organisation,chip,count,valid_on,source_url\nMeta,H100,100,2024-01-01,{URL}\nOpenAI,A100,7,2024-01-01,{URL}\n"
BAD = GOOD + f"Meta,H100,12k,2024-01-01,{URL}\n"


def invoke(url: str, *args: str, stdin: str | None = None):
    return runner.invoke(app, ["--db", url, *args], input=stdin, catch_exceptions=False)


@pytest.fixture
def store(engine, db_url):
    add_catalog(engine)
    return db_url


def test_import_good_file_then_again_adds_nothing(store, engine, tmp_path):
    path = tmp_path / "good.csv"
    path.write_text(GOOD)
    first = invoke(store, "import", str(path), "--as", "carol")
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["added"] == 2
    second = invoke(store, "import", str(path))
    assert second.exit_code == 0 and json.loads(second.stdout)["added"] == 0
    assert "2 already in the store (skipped)" in second.stderr
    audit = invoke(store, "audit", "--json")
    entries = [json.loads(line) for line in audit.stdout.splitlines()]
    assert entries[0]["actor"] == "carol (cli)" and entries[0]["action"] == "batch.csv"


def test_a_file_with_errors_exits_1_and_writes_nothing_unless_partial(store, engine, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(BAD)
    before = store_state(engine)
    dry = invoke(store, "import", str(path), "--dry-run")
    assert dry.exit_code == 1 and "row 4, column count: value '12k'" in dry.stderr
    refused = invoke(store, "import", str(path))
    assert refused.exit_code == 1 and "nothing was imported" in refused.stderr
    assert store_state(engine) == before
    rejects = tmp_path / "rejects.csv"
    partial = invoke(store, "import", str(path), "--partial", "--rejects", str(rejects))
    assert partial.exit_code == 1 and json.loads(partial.stdout)["added"] == 2
    rows = list(csv.DictReader(rejects.open(encoding="utf-8")))
    assert [r["row"] for r in rows] == ["4"] and rows[0]["count"] == "12k" and "12k" in rows[0]["error"]


@pytest.mark.parametrize("args", [["import"], ["import", "/no/such/file.csv"], ["import", "README.md", "--rejects",
                                                                                "x.csv"], ["revert"], ["editors"]])
def test_usage_errors_exit_2(args):
    assert runner.invoke(app, args).exit_code == 2


def test_template_is_a_valid_import(store, tmp_path):
    template = tmp_path / "template.csv"
    assert invoke(store, "template", "--out", str(template)).exit_code == 0
    result = invoke(store, "import", str(template), "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "1 to add" in result.stderr


def test_revert_and_audit_commands(store, tmp_path):
    path = tmp_path / "good.csv"
    path.write_text(GOOD)
    batch = json.loads(invoke(store, "import", str(path)).stdout)["batch"]
    reverted = invoke(store, "revert", str(batch), "--reason", "test")
    assert reverted.exit_code == 0 and json.loads(reverted.stdout)["retracted"] == 2
    again = invoke(store, "revert", str(batch))
    assert again.exit_code == 1 and "already reverted" in again.stderr
    missing = invoke(store, "revert", "999")
    assert missing.exit_code == 1 and "batch 999 does not exist" in missing.stderr
    listing = invoke(store, "audit", "--action", "batch.csv")
    assert listing.exit_code == 0 and "batch.csv" in listing.stdout
    entry = json.loads(invoke(store, "audit", "--action", "batch.csv", "--json").stdout)
    assert (entry["batch_id"], entry["reverted_by"]) == (batch, batch + 1)


def test_editors_add_list_remove(store):
    short = invoke(store, "editors", "add", "dave", "--password-stdin", stdin="short\n")
    assert short.exit_code == 1 and "at least 12 characters" in short.stderr
    added = invoke(store, "editors", "add", "dave", stdin="a long passphrase\na long passphrase\n")
    assert added.exit_code == 0, added.output
    differ = invoke(store, "editors", "add", "erin", stdin="a long passphrase\nanother passphrase\n")
    assert differ.exit_code == 1 and "differ" in differ.stderr
    assert invoke(store, "editors", "add", "frank@example.org", "--oidc").exit_code == 0
    listing = invoke(store, "editors", "list").stdout
    assert "dave" in listing and "password" in listing and "identity provider" in listing
    assert invoke(store, "editors", "remove", "dave").exit_code == 0
    assert "dave" not in invoke(store, "editors", "list").stdout
    hashed = invoke(store, "editors", "hash", "--password-stdin", stdin="a long passphrase\n")
    assert hashed.stdout.startswith("$argon2id$")
