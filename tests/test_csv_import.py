"""Reading CSV files (no database): encodings, delimiters, quoting, headers, row numbers,
and a hypothesis check that random bytes only ever raise the importer's own error."""

from __future__ import annotations

import codecs

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleet.ingest.csv_import import CsvError, read_csv_bytes
from fleet.ingest.errors import IngestError
from fleet.ingest.rows import check_rows
from fleet.ingest.validate import check_estimates
from fleet.resolve import NameIndex, Resolver

ROWS = [["organisation", "count", "valid_on", "source_url"], ["Café Lab", "100", "2024-01-01", "https://a.org/x"],
        ["Meta", "5", "2024-02-02", "https://a.org/y"]]


def text(delimiter: str = ",", newline: str = "\n") -> str:
    return newline.join(delimiter.join(r) for r in ROWS) + newline


@pytest.mark.parametrize("data, encoding, notice", [
    (text().encode("utf-8"), "utf-8", False),
    (codecs.BOM_UTF8 + text().encode("utf-8"), "utf-8-sig", False),
    (text().encode("utf-16"), "utf-16", False),  # Python writes a BOM
    (text().encode("utf-16-be").join([codecs.BOM_UTF16_BE, b""]), "utf-16", False),
    (text().encode("latin-1"), "cp1252", True),
])
def test_encodings(data, encoding, notice):
    table = read_csv_bytes(data)
    assert table.encoding == encoding
    assert table.frame["organisation"].tolist() == ["Café Lab", "Meta"]
    assert any("not UTF-8" in n for n in table.notices) == notice


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_delimiters_and_line_endings(delimiter, newline):
    table = read_csv_bytes(text(delimiter, newline).encode())
    assert table.delimiter == delimiter
    assert table.frame["source_url"].tolist() == ["https://a.org/x", "https://a.org/y"]


def test_quoted_newlines_blank_lines_and_bad_rows_keep_spreadsheet_row_numbers():
    data = ("organisation;count;valid_on;source_url\r\n"
            "\"Open;AI\";\"1\r\n2\";2024-01-02;https://y.org\r\n"  # row 2, spans two lines
            "\r\n"  # row 3: blank, skipped
            "Meta;7\r\n"  # row 4: too few fields
            "Google;5;2024-01-03;https://g.org\r\n")  # row 5
    table = read_csv_bytes(data.encode())
    assert table.frame["organisation"].tolist() == ["Open;AI", "Google"]
    assert table.rows.tolist() == [2, 5]
    assert table.bad_rows == [(4, "has 2 fields but the header has 4 (an unclosed quote?)")]


@pytest.mark.parametrize("header, canonical", [
    ("Organization", "organisation"), ("ORG", "organisation"), (" organisation name ", "organisation"),
    ("Date", "valid_on"), ("As of", "valid_on"), ("as_of", "valid_on"), ("Source URL", "source_url"),
    ("Chips", "count"), ("H100 equivalents", "h100e"), ("Power (MW)", "power_mw"),
])
def test_forgiving_headers(header, canonical):
    columns = {"organisation": "Meta", "count": "5", "valid_on": "2024-01-01", "source_url": "https://a.org"}
    replaced = "count" if canonical == "h100e" else canonical
    names = [header if c == replaced else c for c in columns]
    cells = list(columns.values())
    if replaced not in columns:
        names, cells = names + [header], cells + ["1"]
    table = read_csv_bytes((",".join(names) + "\n" + ",".join(cells) + "\n").encode())
    assert canonical in table.frame and table.header[canonical] == header


def test_unknown_columns_are_reported_not_silently_dropped():
    table = read_csv_bytes(b"organisation,count,valid_on,source_url,Comment2\nM,1,2024-01-01,https://a.org,x\n")
    assert table.notices == ["Ignored column not in the format: 'Comment2'"]
    assert "Comment2" in table.original


def test_utf16_with_broken_bytes_names_the_line():
    data = codecs.BOM_UTF16_LE + text().encode("utf-16-le") + b"\x00\xd8"  # a lone surrogate
    with pytest.raises(CsvError, match="UTF-16 byte-order mark but contains bytes that are not UTF-16"):
        read_csv_bytes(data)


def test_a_size_limit_is_a_clear_error():
    with pytest.raises(CsvError, match="the limit here is 1 MB"):
        read_csv_bytes(b"x" * 1_500_000, max_bytes=1_000_000)


def _empty_resolver() -> Resolver:
    return Resolver(NameIndex("organisation"), NameIndex("chip"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(
    st.binary(max_size=2000),
    st.lists(st.lists(st.text(max_size=12), max_size=6), max_size=8).map(
        lambda rows: "\n".join(",".join(r) for r in rows).encode("utf-8", "surrogatepass")),
    st.binary(max_size=400).map(lambda b: b"organisation,chip,count,valid_on,source_url\n" + b),
))
def test_random_bytes_only_ever_raise_the_importers_own_error(data):
    try:
        table = read_csv_bytes(data)
    except IngestError:
        return
    resolved = check_rows(table.frame, table.rows, _empty_resolver(), create_orgs=True)
    assert len(resolved.frame) == len(table.frame)
    assert set(resolved.problems.columns) >= {"row", "column", "value", "reason"}


def test_check_estimates_keeps_every_row_typed():
    raw = pd.DataFrame({"organisation": ["Meta", "X"], "chip": ["H100", "H100"], "count": ["5", "x"],
                        "valid_on": ["2024-01-01", "2024-01-01"], "source_url": ["https://a.org", "https://a.org"]},
                       dtype="str")
    checked = check_estimates(raw, np.array([2, 3]))
    assert checked.frame["count"].tolist()[0] == 5 and pd.isna(checked.frame["count"].tolist()[1])
    assert checked.problems[["row", "column"]].values.tolist() == [[3, "count"]]
