"""Parse a column's distinct raw values (trimmed text) into typed values, with a reason
for each value that is not one (None where it is fine).

``fleet.ingest.validate`` runs these on each column's distinct values before its pandera
checks; scrapers and manual entry build their own rules from them. Values are not
forgiving: ``12k`` is an error, not 12000.
"""

from __future__ import annotations

import re
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow
import pyarrow.compute as pc

from fleet.countries import UnknownCountry, to_iso3

MAX_CHIPS = 10_000_000
URL_PATTERN = r"https?://[^\s/?#:@]+\.[^\s/?#:@]+(:\d{1,5})?([/?#]\S*)?"
_WHOLE = re.compile(r"\d{1,15}")
_NUMBER = re.compile(r"\d+(\.\d*)?([eE][+-]?\d+)?|\.\d+")
_NOT_PRINTABLE_ASCII = r"[^\x20-\x7e]"


def pa_array(series: pd.Series) -> pyarrow.Array:
    array = pyarrow.array(series, type=pyarrow.string(), from_pandas=True)
    return array.combine_chunks() if isinstance(array, pyarrow.ChunkedArray) else array


def _whole_number_hint(text: str) -> str:
    low = text.casefold()
    if re.fullmatch(r"[\d.,]+\s*[km]|[\d.,]+\s*(thousand|million|bn|b)", low):
        return "is not a whole number — write the full number (12000, not 12k)"
    if re.fullmatch(r"\d{1,3}([,' ]\d{3})+", text):
        return "is not a whole number — write it without thousands separators"
    if _NUMBER.fullmatch(text.lstrip("+-")):
        if text.startswith("-"):
            return "must not be negative"
        return "is not a whole number (a count of chips has no fraction)"
    return "is not a whole number"


def parse_whole(u: pd.Series) -> tuple[pd.Series, pd.Series]:
    ok = u.str.fullmatch(_WHOLE.pattern).fillna(False).to_numpy(dtype=bool)
    parsed = pd.Series(pd.NA, index=u.index, dtype="Int64")
    parsed[ok] = u[ok].astype("int64").to_numpy()
    reasons = pd.Series(None, index=u.index, dtype=object)
    reasons[~ok] = [_whole_number_hint(t) if len(t) < 40 else "is not a whole number" for t in u[~ok]]
    big_digits = ~ok & u.str.fullmatch(r"\d{16,}").fillna(False).to_numpy(dtype=bool)
    reasons[big_digits] = f"is over {MAX_CHIPS:,} — not plausible; check the units"
    return parsed, reasons


def parse_decimal(u: pd.Series) -> tuple[pd.Series, pd.Series]:
    ok = u.str.fullmatch(_NUMBER.pattern).fillna(False).to_numpy(dtype=bool)
    parsed = pd.Series(np.nan, index=u.index, dtype="float64")
    parsed[ok] = pd.to_numeric(u[ok], errors="coerce").to_numpy()
    reasons = pd.Series(None, index=u.index, dtype=object)
    negative = u.str.fullmatch(r"-" + _NUMBER.pattern).fillna(False).to_numpy(dtype=bool)
    reasons[~ok] = "is not a number (write digits, e.g. 2500 or 2500.5)"
    reasons[negative] = "must not be negative"
    return parsed, reasons


def parse_day(u: pd.Series) -> tuple[pd.Series, pd.Series]:
    stamps = pd.to_datetime(u, format="%Y-%m-%d", errors="coerce")
    ok = stamps.notna().to_numpy() & u.str.fullmatch(r"\d{4}-\d{2}-\d{2}").fillna(False).to_numpy(dtype=bool)
    parsed = pd.Series(stamps.where(ok), index=u.index)
    reasons = pd.Series(None, index=u.index, dtype=object)
    reasons[~ok] = "is not a date — write YYYY-MM-DD, e.g. 2024-06-30"
    return parsed, reasons


def parse_choice(options: list[str]) -> Callable[[pd.Series], tuple[pd.Series, pd.Series]]:
    def parse(u: pd.Series) -> tuple[pd.Series, pd.Series]:
        folded = u.str.casefold()
        ok = folded.isin(options).to_numpy()
        reasons = pd.Series(None, index=u.index, dtype=object)
        reasons[~ok] = "is not one of " + ", ".join(options)
        return folded.where(ok).astype(object), reasons
    return parse


def url_ok(u: pd.Series) -> np.ndarray:
    """Which values fully match ``URL_PATTERN`` as ``re`` judges them (case-insensitive).

    Arrow's RE2 does it several times faster (a big file has ~a distinct URL per row); the
    two agree on printable ASCII only (``re``'s ``\\s``/``\\d`` are Unicode), so ``re`` judges the rest.
    """
    text = pa_array(u)
    ok = pc.match_substring_regex(text, f"^(?:{URL_PATTERN})$", ignore_case=True)
    ok = ok.fill_null(False).to_numpy(zero_copy_only=False).copy()
    other = pc.match_substring_regex(text, _NOT_PRINTABLE_ASCII).fill_null(False).to_numpy(zero_copy_only=False)
    if other.any():
        ok[other] = u[other].str.fullmatch(URL_PATTERN, case=False).fillna(False).to_numpy(dtype=bool)
    return ok


def parse_url(u: pd.Series) -> tuple[pd.Series, pd.Series]:
    ok = url_ok(u)
    reasons = pd.Series(None, index=u.index, dtype=object)
    reasons[~ok] = "is not an absolute http(s) URL (https://…)"
    return u.where(ok).astype(object), reasons


def parse_urls(u: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Several URLs separated by |, spaces or line breaks; stored one per line."""
    parsed, reasons = [], []
    for text in u:
        urls = [p for p in re.split(r"[|\s]+", text) if p]
        bad = [p for p in urls if not re.fullmatch(URL_PATTERN, p, flags=re.IGNORECASE)]
        parsed.append(None if bad else "\n".join(urls))
        reasons.append(f"{bad[0][:80]!r} is not an absolute http(s) URL" if bad else None)
    return pd.Series(parsed, index=u.index, dtype=object), pd.Series(reasons, index=u.index, dtype=object)


def parse_country(u: pd.Series) -> tuple[pd.Series, pd.Series]:
    parsed, reasons = [], []
    for text in u:
        try:
            parsed.append(to_iso3(text))
            reasons.append(None)
        except UnknownCountry:
            parsed.append(None)
            reasons.append("is not a country Fleet knows (use a name or ISO code, e.g. USA)")
    return pd.Series(parsed, index=u.index, dtype=object), pd.Series(reasons, index=u.index, dtype=object)


def parse_text(limit: int) -> Callable[[pd.Series], tuple[pd.Series, pd.Series]]:
    def parse(u: pd.Series) -> tuple[pd.Series, pd.Series]:
        too_long = (u.str.len() > limit).to_numpy()
        reasons = pd.Series(None, index=u.index, dtype=object)
        reasons[too_long] = f"is longer than {limit:,} characters"
        return u.where(~too_long).astype(object), reasons
    return parse
