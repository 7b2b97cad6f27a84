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
