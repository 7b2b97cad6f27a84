"""CSV out: every CSV Fleet writes goes through ``write_csv``.

Text cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
``@``, tab or carriage return) are neutralised with a leading apostrophe (OWASP's
advice for CSV injection). Numbers are left alone, so a negative number stays a number.

The text is pandas' ``to_csv`` (``index=False``, ``"\n"`` line ends) to the byte, and a
snapshot's content hash is taken over it (``fleet.snapshots``). Where pandas would hand each
cell to Python's csv module, text and number columns are formatted column-wise instead
(``_columnwise``): the Overview's leaderboard, whose chip-mix cells run to hundreds of
characters, took 0.11 s to write that way, a twentieth of opening its snapshot.
"""

from __future__ import annotations

from typing import TextIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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
    safe = neutralised(frame)
    text = _columnwise(safe)
    if text is None:
        safe.to_csv(fh, index=False, lineterminator="\n")
    else:
        fh.write(text)


# Python's csv module (QUOTE_MINIMAL, as pandas calls it) quotes a field holding the delimiter,
# the quote character or a character of the line terminator ("\n": a lone "\r" is left bare).
_QUOTE_IF = '[,"\n]'
_QUOTE, _EMPTY, _COMMA = (pa.scalar(t, type=pa.large_string()) for t in ('"', "", ","))


def _quoted(text: pa.Array) -> pa.Array:
    wrapped = pc.binary_join_element_wise(_QUOTE, pc.replace_substring(text, '"', '""'), _QUOTE, _EMPTY)
    return pc.if_else(pc.match_substring_regex(text, _QUOTE_IF), wrapped, text)


def _field_text(values: pd.Series) -> pa.Array | None:
    """A column's cells as ``to_csv`` writes them; None if a cell holds a line break pandas wrote."""
    if isinstance(values.dtype, pd.StringDtype):
        return _quoted(pc.fill_null(pa.array(values.array, type=pa.large_string(), from_pandas=True), _EMPTY))
    if values.dtype == np.int64:
        return pc.cast(pa.array(values.to_numpy()), pa.large_string())
    if values.dtype == np.float64:  # as pandas formats floats: numpy's shortest repr, missing as ""
        numbers = values.to_numpy()
        return pc.fill_null(pa.array(numbers.astype(str), type=pa.large_string(), mask=np.isnan(numbers)), _EMPTY)
    # any other kind (dates, objects, booleans): pandas writes the column on its own, a line per cell
    lines = values.to_frame().to_csv(index=False, header=False, lineterminator="\n").split("\n")[:-1]
    if len(lines) != len(values):
        return None
    text = pa.array(lines, type=pa.large_string())
    return pc.if_else(pc.equal(text, '""'), _EMPTY, text)  # a line of one empty cell is written as ""


def _columnwise(frame: pd.DataFrame) -> str | None:
    """``frame.to_csv(index=False)`` with "\\n" line ends, built a column at a time in Arrow; None --
    the caller asks pandas -- for fewer than two columns (a lone empty cell is written as ``""``),
    no rows, names that are not distinct strings, or a line break in a cell of a column of
    neither text nor numbers."""
    names = list(frame.columns)
    if len(frame) == 0 or len(names) < 2 or len(set(names)) < len(names) or not all(isinstance(c, str) for c in names):
        return None
    fields = [_field_text(frame[c]) for c in names]
    if any(f is None for f in fields):
        return None
    header = ",".join(_quoted(pa.array(names, type=pa.large_string())).to_pylist())  # quoted as the cells are
    rows = pc.binary_join_element_wise(*fields, _COMMA)
    return header + "\n" + "\n".join(rows.to_pylist()) + "\n"


def to_csv_bytes(frame: pd.DataFrame, *, header_lines: list[str] | None = None) -> bytes:
    import io

    buffer = io.StringIO()
    write_csv(frame, buffer, header_lines=header_lines)
    return buffer.getvalue().encode("utf-8")
