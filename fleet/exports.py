"""CSV out: every CSV Fleet writes goes through ``write_csv``.

Text cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
``@``, tab or carriage return) are neutralised with a leading apostrophe (OWASP's
advice for CSV injection). Numbers are left alone, so a negative number stays a number.
"""

from __future__ import annotations

from typing import TextIO

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


_FORMULA_START = "[=+\\-@\t\r]"  # FORMULA_PREFIXES as a regex character class (``str.match`` anchors it)


def neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy(deep=False)
    for column in out.columns:
        values = out[column]
        if isinstance(values.dtype, pd.StringDtype):  # only text: one vectorised match (Arrow's RE2)
            formula = values.str.match(_FORMULA_START, na=False)
            if formula.any():
                out[column] = values.where(~formula, "'" + values)
        elif values.dtype == object or pd.api.types.is_string_dtype(values):  # text among other values
            out[column] = values.map(neutralise)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def write_csv(frame: pd.DataFrame, fh: TextIO, *, header_lines: list[str] | None = None) -> None:
    """Write ``frame`` as CSV; optional ``# ``-prefixed provenance lines go first."""
    for line in header_lines or []:
        fh.write(f"# {line}\n")
    neutralised(frame).to_csv(fh, index=False, lineterminator="\n")


def to_csv_bytes(frame: pd.DataFrame, *, header_lines: list[str] | None = None) -> bytes:
    import io

    buffer = io.StringIO()
    write_csv(frame, buffer, header_lines=header_lines)
    return buffer.getvalue().encode("utf-8")
