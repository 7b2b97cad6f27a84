"""Shared pieces of the pure parsers: the ``Parsed`` result, reading a CSV from bytes with
a column check, and the small value parsers (dates, numbers, URLs) every source needs.

Row numbers count the header as row 1, as a spreadsheet shows them: the first data row
is row 2. Nothing here reads files, the network or a database.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Iterable

import pandas as pd

from fleet.ingest.errors import IngestError, SchemaDrift

FIRST_DATA_ROW = 2  # the header is row 1


@dataclass
class Parsed:
    """What a parser returns: facts, the organisations they name, and what it left out."""

    records: pd.DataFrame
    organisations: pd.DataFrame = field(default_factory=pd.DataFrame)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (row number, reason)
    unknown_columns: list[str] = field(default_factory=list)

    def skipped_by_reason(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for _, reason in self.skipped:
            counts[reason] = counts.get(reason, 0) + 1
        return dict(sorted(counts.items()))


def read_table(raw: bytes, *, source: str, required: Iterable[str], known: Iterable[str] = ()) -> tuple[pd.DataFrame, list[str]]:
    """Every cell as a stripped string ("" = empty); raises ``SchemaDrift`` before any row is read.

    Returns the frame and the columns that are neither required nor known (reported, not fatal).
    """
    try:
        frame = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise IngestError(f"{source}: not a readable UTF-8 CSV ({exc})") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    required = list(required)
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise SchemaDrift(source, missing)
    expected = set(required) | set(known)
    unknown = [c for c in frame.columns if c not in expected]
    frame = frame.apply(lambda col: col.str.strip()).astype(object)
    return frame.reset_index(drop=True), unknown


def row_number(index: int) -> int:
    return index + FIRST_DATA_ROW


# --- values ---------------------------------------------------------------------------

_FULL = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_YEAR = re.compile(r"^(\d{4})$")
_PERIOD = re.compile(r"^(?:(H[12]|Q[1-4])\s*(\d{4})|(\d{4})\s*-?\s*(H[12]|Q[1-4]))$", re.IGNORECASE)
_PERIOD_END = {"H1": (6, 30), "H2": (12, 31), "Q1": (3, 31), "Q2": (6, 30), "Q3": (9, 30), "Q4": (12, 31)}


def parse_date(text: str) -> date | None:
    """ISO-ish dates: YYYY-MM-DD; YYYY-MM -> the 1st of that month; YYYY -> 31 December.

    A bare year becomes its last day: a count "as of 2024" is only certain by the year's
    end, and planned capacity "for 2026" is due by then (the rule the README documents).
    "H1 2026", "Q3 2025" and "2023-Q2" -> the period's last day. Anything else -> None.
    """
    text = (text or "").strip()
    try:
        if m := _FULL.match(text):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := _MONTH.match(text):
            return date(int(m[1]), int(m[2]), 1)
    except ValueError:
        return None
    if m := _YEAR.match(text):
        return date(int(m[1]), 12, 31)
    if m := _PERIOD.match(text):
        period, year = (m[1], m[2]) if m[1] else (m[4], m[3])
        month, day = _PERIOD_END[period.upper()]
        return date(int(year), month, day)
    return None


_PLANNED_PREFIX = re.compile(r"^(?:planned|expected|target(?:ed)?)?\s*(?:for|by|in)?\s*(?:the\s+)?(?:end\s+of\s+)?", re.IGNORECASE)


def parse_planned_note(text: str) -> date | None:
    """A date written as text: "Planned 2026" -> 2026-12-31, "Planned H1 2026" -> 2026-06-30,
    "Planned Q1 2025" -> 2025-03-31, "Planned for end of 2023" -> 2023-12-31,
    "Planned 2029-02" -> 2029-02-01; "Planned" alone or "completion unclear" -> None."""
    text = (text or "").strip()
    stripped = _PLANNED_PREFIX.sub("", text, count=1).strip()
    return parse_date(stripped) if stripped else None


def parse_number(text: str, *, where: str) -> float | None:
    """A plain number ("1,024" allowed); "" -> None; anything else names the place."""
    text = (text or "").strip().replace(",", "")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise IngestError(f"{where}: {text!r} is not a number") from None
    return None if math.isnan(value) else value


def parse_whole(text: str, *, where: str) -> int | None:
    value = parse_number(text, where=where)
    if value is None:
        return None
    if value < 0:
        raise IngestError(f"{where}: {text!r} is negative")
    return int(round(value))


def split_urls(cells: Iterable[str]) -> tuple[list[str], list[str]]:
    """URLs (first token of each cell, deduplicated, in order) and the leftover text."""
    urls: list[str] = []
    extra: list[str] = []
    for cell in cells:
        cell = (cell or "").strip()
        if not cell:
            continue
        token, _, rest = cell.partition(" ")
        if re.match(r"^https?://\S+$", token):
            if token not in urls:
                urls.append(token)
            if rest.strip():
                extra.append(f"{token} {rest.strip()}")
        else:
            extra.append(cell)
    return urls, extra


def one_line(text: str) -> str:
    """Collapse newlines and runs of spaces: notes stay one line in the seed CSVs."""
    return re.sub(r"\s+", " ", text or "").strip()


def join_notes(parts: Iterable[str]) -> str:
    return "; ".join(p for p in (one_line(p) for p in parts) if p)


def truthy(text: str) -> bool:
    return (text or "").strip().casefold() in {"true", "yes", "1", "y"}


def plain_rows(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts with missing values as None (pandas turns None into NaN in numeric columns)."""
    out = []
    for record in frame.to_dict("records"):
        out.append({k: (None if not isinstance(v, str) and v is not None and pd.isna(v) else v)
                    for k, v in record.items()})
    return out
