"""Every file of the bad-input corpus (tests/data/bad_csv/) on SQLite and Postgres: a clear
message naming the row or column, and the store exactly as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from fleet.db import read_session
from fleet.ingest.csv_import import CsvError
from fleet.ingest.errors import IngestError
from fleet.ingest.importer import ImportRefused, commit_import, plan_import
from fleet.models import AuditEntry, Estimate, IngestBatch, Organisation, StoreState
from tests.factories import EDITOR, add_catalog

CORPUS = Path(__file__).resolve().parent / "data" / "bad_csv"
EXPECTED = {  # file -> what the message must say
    "empty.csv": "the file is empty",
    "header_only.csv": "header but no data rows",
    "missing_required_column.csv": "row 1: missing required column: 'source_url'",
    "duplicate_column_names.csv": "duplicate column — 'organisation' (column 1) and 'Organization' (column 2)",
    "wrong_types.csv": "row 2, column count: value 'many' — is not a whole number",
    "negative_count.csv": "row 2, column count: value '-5' — must not be negative",
    "zero_count.csv": "row 2, column count: value '0' — must be at least 1",
    "fractional_count.csv": "row 2, column count: value '12.5' — is not a whole number",
    "suffixed_count.csv": "value '12k' — is not a whole number — write the full number",
    "absurd_count.csv": "value '20000000' — is over 10,000,000 chips",
    "count_low_above_count.csv": "row 2, column count_low: value '150' — is above count",
    "unparseable_date.csv": "row 2, column valid_on: value '31/12/2024' — is not a date — write YYYY-MM-DD",
    "far_future_date.csv": "row 2, column valid_on: value '2150-01-01' — is more than 10 years ahead",
    "unknown_organisation.csv": "row 2, column organisation: value 'Metaa' — unknown organisation — did you mean 'Meta'",
    "unknown_chip.csv": "row 2, column chip: value 'H1000 Ultra' — unknown chip",
    "duplicate_rows.csv": "row 4: duplicates row 2",
    "mixed_encodings.csv": "line 3: mixed encodings",
    "binary_garbage.bin": "binary",
    "javascript_url.csv": "value 'javascript:alert(1)' — is not an absolute http(s) URL",
    "formula_cells.csv": "row 2, column count: value '=1+1' — is not a whole number",
    "unclosed_quote.csv": "row 2 has 1 fields but the header has 5 (an unclosed quote?)",
    "cluster_without_name.csv": "row 2, column cluster: value '' — is required when scope is cluster",
}


def test_the_corpus_and_the_expectations_match():
    assert sorted(p.name for p in CORPUS.iterdir()) == sorted(EXPECTED)


def store_state(engine) -> tuple:
    with read_session(engine) as session:
        count = lambda model: session.execute(select(func.count()).select_from(model)).scalar_one()  # noqa: E731
        version = session.execute(select(StoreState.version)).scalar_one()
        return tuple(count(m) for m in (Estimate, IngestBatch, Organisation, AuditEntry)) + (version,)


def attempt(engine, data: bytes, name: str, **options) -> str:
    """Try to import ``data`` as an editor (all or nothing); return the message the user gets."""
    try:
        plan = plan_import(engine, data, file_name=name, **options)
    except CsvError as exc:
        return str(exc)
    messages = "\n".join(plan.messages())
    with pytest.raises(ImportRefused):
        commit_import(engine, plan, EDITOR)
    return messages


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_file_gets_a_clear_message_and_the_store_is_unchanged(engine, name):
    add_catalog(engine)
    before = store_state(engine)
    message = attempt(engine, (CORPUS / name).read_bytes(), name)
    assert EXPECTED[name] in message
    assert store_state(engine) == before


def test_a_50_mb_file_full_of_errors_is_refused_with_a_bounded_report(engine, tmp_path):
    add_catalog(engine)
    before = store_state(engine)
    line = b"Meta,H100,12k,2024-01-01,https://example.org/a-long-enough-source-url-to-fill-the-file/xx\n"
    path = tmp_path / "big.csv"
    with path.open("wb") as fh:
        fh.write(b"organisation,chip,count,valid_on,source_url\n")
        fh.write(line * (50_000_000 // len(line) + 1))
    data = path.read_bytes()
    assert len(data) >= 50_000_000
    plan = plan_import(engine, data, file_name=path.name)
    assert plan.rows_rejected == plan.rows_in > 500_000
    assert plan.messages(limit=3)[0].startswith("row 2, column count: value '12k'")
    with pytest.raises(ImportRefused, match=f"{plan.rows_in:,} of {plan.rows_in:,} rows have problems"):
        commit_import(engine, plan, EDITOR)
    assert store_state(engine) == before


def test_a_row_with_10000_columns_is_named_and_nothing_is_written(engine):
    add_catalog(engine)
    before = store_state(engine)
    good = b"Meta,H100,100,2024-01-01,https://example.org/a\n"
    wide = b",".join([b"x"] * 10_000) + b"\n"
    data = b"organisation,chip,count,valid_on,source_url\n" + good + wide
    message = attempt(engine, data, "wide.csv")
    assert "row 3: has 10,000 fields but the header has 5" in message
    assert store_state(engine) == before


def test_a_header_of_10000_columns_is_refused():
    header = b",".join(b"c%d" % i for i in range(10_000)) + b"\n"
    with pytest.raises(IngestError, match="row 1: the header has 10,000 columns"):
        from fleet.ingest.csv_import import read_csv_bytes

        read_csv_bytes(header + b"1\n")
