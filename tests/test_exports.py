"""CSV out (fleet.exports): formula-like text neutralised, everything else written as it is.

The bytes are what snapshot content hashes are taken over, so the vectorised text path must
write exactly what the per-cell rule (``neutralise``) writes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from fleet.exports import FORMULA_PREFIXES, neutralise, neutralised, to_csv_bytes

PREFIXES = ["", *FORMULA_PREFIXES, "'", " ", "a", "é", "\n"]
cells = st.one_of(st.none(), st.tuples(st.sampled_from(PREFIXES), st.text(max_size=6)).map("".join))


def per_cell(frame: pd.DataFrame) -> bytes:
    """What ``to_csv_bytes`` wrote when every text cell went through ``neutralise`` one by one."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(neutralise)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out.to_csv(index=False, lineterminator="\n").encode("utf-8")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(cells, cells, st.floats(allow_nan=True, allow_infinity=False, width=32)), max_size=12))
def test_text_columns_are_written_as_the_per_cell_rule_writes_them(rows):
    frame = pd.DataFrame(rows, columns=["=name", "note", "value"])
    frame["name"] = frame.pop("=name").astype("str")  # Arrow-backed text: the vectorised path
    mixed = frame["note"].astype(object)  # text among other values: the per-cell path
    mixed.iloc[::2] = -1.5
    frame["mixed"] = mixed
    assert to_csv_bytes(frame) == per_cell(frame)


def test_formulas_get_an_apostrophe_and_numbers_stay_numbers():
    frame = pd.DataFrame({"text": pd.array(["=1+1", "-x", "ok", None, "@a", "\tt"], dtype="str"),
                          "number": [-1.0, 2.0, np.nan, 4.0, -5.0, 6.0]})
    assert to_csv_bytes(frame).decode().splitlines() == [
        "text,number", "'=1+1,-1.0", "'-x,2.0", "ok,", ",4.0", "'@a,-5.0", "'\tt,6.0"]
    assert frame["text"].iloc[0] == "=1+1"  # the caller's frame is left as it was
    assert list(neutralised(frame.rename(columns={"text": "+t"})).columns) == ["'+t", "number"]


# --- the column-wise writer (_columnwise) against pandas' to_csv, byte for byte -------------------

from datetime import date  # noqa: E402

from fleet.exports import _columnwise  # noqa: E402

TRICKY = st.text(alphabet=st.sampled_from(list('ab ,"\n\r\t\'é€;') + ["😀"]), max_size=8)
NUMBERS = st.floats(allow_nan=True, allow_infinity=True)  # full width: 1e+16, 5e-324, -0.0, inf


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.none(), TRICKY), NUMBERS, st.integers(-2**63, 2**63 - 1),
                          st.one_of(st.none(), st.dates(date(1900, 1, 1), date(2100, 1, 1))), st.booleans(),
                          st.one_of(st.none(), TRICKY)), min_size=1, max_size=15),
       st.sampled_from(["plain", "a,b", 'say "hi"', "two\nlines", "tab\tname"]))
def test_the_column_wise_text_is_pandas_to_csv_to_the_byte(rows, name):
    text, numbers, ints, days, flags, other = map(list, zip(*rows))
    frame = pd.DataFrame({name: pd.array(text, dtype="str"), "n": np.array(numbers, dtype="float64"),
                          "i": np.array(ints, dtype="int64"), "day": pd.Series(days, dtype=object),
                          "flag": flags, "when": pd.to_datetime([d or date(2000, 1, 1) for d in days]),
                          "other": pd.Series(other, dtype=object)})
    expected = frame.to_csv(index=False, lineterminator="\n")
    got = _columnwise(frame)
    if got is None:  # only a line break in a cell of an object column sends it back to pandas
        assert any("\n" in o for o in other if o)
    else:
        assert got == expected


def test_frames_the_column_wise_writer_leaves_to_pandas():
    assert _columnwise(pd.DataFrame({"a": pd.array(["", None], dtype="str")})) is None  # one column: "" lines
    assert _columnwise(pd.DataFrame({"a": pd.array([], dtype="str"), "b": []})) is None
    assert _columnwise(pd.DataFrame([[1, 2]], columns=["a", "a"])) is None
    assert _columnwise(pd.DataFrame([[1, 2]], columns=[0, 1])) is None
    two = pd.DataFrame({"a": pd.array(["x,y", None], dtype="str"), "b": [1.5, np.nan]})
    assert to_csv_bytes(two) == b'a,b\n"x,y",1.5\n,\n'
