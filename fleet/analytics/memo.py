"""Figures derived from a whole column, computed once for as long as the column's data lives.

Arrow arrays are immutable: one ``pyarrow.ChunkedArray`` object always holds the same
values. pandas hands that object to every shallow copy and every full-length selection of
a frame, and replaces it (never edits it) when a value is set. So a figure computed from
a column's Arrow data can be kept against the object and reused by every caller who
passes the same data. The app reads its cached estimates frame through the combining
rule many times per data version (each page, each as-of date of a series); the scans of
its text columns then happen once. An entry is dropped when its data is freed.

Columns not stored in Arrow (numpy, object) are computed on every call: nothing about
them says whether they changed. Results are made read-only, since every caller shares them.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa

T = TypeVar("T")

_KEPT: dict[tuple[int, str], tuple[weakref.ref, object]] = {}


def arrow_data(values: pd.Series) -> pa.ChunkedArray | None:
    """The Arrow data behind ``values`` (the object pandas keeps), or None if not stored in Arrow."""
    dtype = values.dtype
    if isinstance(dtype, pd.ArrowDtype) or (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"):
        data = values.array.__arrow_array__()
        return data if isinstance(data, pa.ChunkedArray) else None
    return None


def derived(values: pd.Series, name: str, compute: Callable[[pd.Series], T]) -> T:
    """``compute(values)``, kept for as long as ``values``' Arrow data lives.

    ``name`` identifies the computation: the same name must always mean the same function
    of the values alone. Numpy arrays in the result (or in a tuple result) are made read-only.
    """
    data = arrow_data(values)
    if data is None:
        return compute(values)
    key = (id(data), name)
    kept = _KEPT.get(key)
    if kept is not None and kept[0]() is data:
        return kept[1]  # type: ignore[return-value]
    result = compute(values)
    for part in result if isinstance(result, tuple) else (result,):
        if isinstance(part, np.ndarray):
            part.setflags(write=False)
    _KEPT[key] = (weakref.ref(data, lambda _ref, key=key: _forget(key, _ref)), result)
    return result


def _forget(key: tuple[int, str], ref: weakref.ref) -> None:
    kept = _KEPT.get(key)
    if kept is not None and kept[0] is ref:  # not a newer entry for an object at the same address
        del _KEPT[key]


def kept() -> int:
    """How many results are kept (for tests)."""
    return len(_KEPT)
