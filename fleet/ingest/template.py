"""The CSV import format, described once: the README table, the in-app help and the
downloadable template are all generated from ``FORMAT`` (tests check they agree)."""

from __future__ import annotations

import pandas as pd

from fleet.exports import to_csv_bytes
from fleet.ingest.csv_import import COLUMN_ALIASES

# column, required?, what it holds, example
FORMAT: list[tuple[str, str, str, str]] = [
    ("organisation", "yes", "Who owns the chips: a known name or alias (e.g. Meta = Facebook)", "Meta"),
    ("chip", "with count", "Chip name or alias from the catalog (e.g. H100)", "NVIDIA H100 SXM5 80GB"),
    ("count", "count or h100e", "Number of chips: a whole number from 1 to 10,000,000 (no 12k, no 1,000)", "24576"),
    ("count_low", "no", "Low end of the count's range", "20000"),
    ("count_high", "no", "High end of the count's range", "30000"),
    ("h100e", "count or h100e", "H100-equivalents when the source gives no chip (leave chip empty)", ""),
    ("h100e_low", "no", "Low end of the h100e range", ""),
    ("h100e_high", "no", "High end of the h100e range", ""),
    ("valid_on", "yes", "Date the count describes, YYYY-MM-DD (planned capacity: the planned date)", "2024-03-12"),
    ("source_url", "yes", "Absolute http(s) URL of the source", "https://engineering.fb.com/2024/03/12/"
                                                                 "data-center-engineering/building-metas-genai-"
                                                                 "infrastructure/"),
    ("scope", "no", "fleet (the whole holding; default) or cluster (one named cluster or site)", "cluster"),
    ("cluster", "with scope cluster", "Name of the cluster or site", "RoCE cluster"),
    ("status", "no", "operational (default), planned or decommissioned", "operational"),
    ("certainty", "no", "confirmed, likely (default) or speculative", "confirmed"),
    ("access", "no", "owned (default), leased or rented", "owned"),
    ("user_organisation", "no", "Who uses leased or rented chips", ""),
    ("country", "no", "Where the chips are: a country name or ISO code", "USA"),
    ("power_mw", "no", "Power of the site in MW", ""),
    ("extra_source_urls", "no", "More source URLs, separated by |", ""),
    ("source_title", "no", "Title of the source", "Building Meta's GenAI Infrastructure"),
    ("quote", "no", "The sentence of the source that gives the number", ""),
    ("note", "no", "Anything else", ""),
]


def format_frame() -> pd.DataFrame:
    """The format as a table: column, required, meaning, also-accepted headers."""
    return pd.DataFrame({
        "column": [c for c, *_ in FORMAT],
        "required": [r for _, r, _, _ in FORMAT],
        "meaning": [m for _, _, m, _ in FORMAT],
        "also accepted as": [", ".join(COLUMN_ALIASES.get(c, ())) for c, *_ in FORMAT],
    })


def template_frame() -> pd.DataFrame:
    return pd.DataFrame([{c: example for c, _, _, example in FORMAT}])


def template_csv() -> str:
    return to_csv_bytes(template_frame()).decode("utf-8")


HELP = """\
**Rows and columns.** The first row is the header. Rows are numbered as a spreadsheet
shows them: the header is row 1, the first data row is row 2. Header names are matched
forgivingly (case, spaces, `Organization`/`org`, `date`/`as_of` …); values are not:
`12k` is an error, not 12000.

**Files.** UTF-8 (with or without BOM) or UTF-16 with BOM; other files are read as
Windows-1252/Latin-1 and the preview says so. Commas, semicolons or tabs; quoted values
may hold line breaks.

**Checks.** Organisations and chips must be known names or aliases (the error suggests
close ones); you may choose to create new organisations, never chips. A row identical to
one already in the store (same organisation, chip, count, range, date and source) is
skipped, so importing a file twice adds nothing. Cells starting with `=`, `+`, `-` or `@`
are stored as text and neutralised whenever Fleet writes a CSV.

**Commit.** All or nothing by default; "only the valid rows" imports those and gives the
rejected rows back as a CSV with an `error` column. Each import is one batch that an
editor can revert from the Audit page.
"""
