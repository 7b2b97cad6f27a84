"""Which estimates may count at an as-of date, and the combining rule's working columns.

``rows`` gives them as numpy arrays (what ``fleet.analytics.combine`` works on);
``prepare`` as a frame (what the series over time and an organisation's points read).
The text columns' scans are kept per column's Arrow data (``fleet.analytics.memo``):
the app asks the rule about one cached frame many times.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from fleet.analytics import memo
from fleet.vocab import CERTAINTY_RANK, Certainty, Status

H100E_ONLY = -1  # chip_key of cluster estimates that give H100-equivalents but no chip


@dataclass(frozen=True)
class CombineOptions:
    as_of: date
    include_planned: bool = False
    min_certainty: Certainty = Certainty.SPECULATIVE
    attribute_to: Literal["owner", "user"] = "owner"


# The columns the rule reads; ``combine`` works on these alone and brings an estimate's
# other columns (sources, quotes, notes ...) back only for the rows it reports.
WORK_COLUMNS = ("id", "organisation_id", "user_organisation_id", "chip_id", "count", "count_low", "count_high",
                "h100e", "h100e_low", "h100e_high", "scope", "cluster", "valid_on", "status", "certainty")


def _cluster_keys(cluster: pd.Series) -> np.ndarray:
    # casefold and strip each distinct name once (a few hundred), not each of a million rows
    codes, uniques = pd.factorize(cluster, use_na_sentinel=True)
    keys = pd.Index(uniques, dtype=object).astype(str).str.casefold().str.strip().to_numpy(dtype=object)
    return np.append(keys, "")[codes]


def prepare(estimates: pd.DataFrame, options: CombineOptions, *, narrow: bool = False) -> pd.DataFrame:
    """Filter to what may count at the as-of date and add the working columns.

    ``narrow`` keeps only ``WORK_COLUMNS`` (plus ``_row``, each row's position in
    ``estimates``), which is what ``combine`` needs: far less copying on big frames.
    """
    keep = _passing(estimates, options)[0]
    source = estimates[[c for c in WORK_COLUMNS if c in estimates]] if narrow else estimates
    e = source.loc[keep]  # a boolean .loc copies: the caller's frame is never modified
    if narrow:
        e["_row"] = np.flatnonzero(keep)
    e["owner_id"] = e["organisation_id"].astype("int64")
    holder = e["organisation_id"]
    if options.attribute_to == "user":
        holder = e["user_organisation_id"].fillna(holder)
    e["holder_id"] = holder.astype("int64")
    has_chip = e["chip_id"].notna()
    e["chip_key"] = e["chip_id"].fillna(H100E_ONLY).astype("int64")
    e["qty"] = np.where(has_chip, e["count"].astype("float64"), e["h100e"].astype("float64"))
    low = np.where(has_chip, e["count_low"].astype("float64"), e["h100e_low"].astype("float64"))
    high = np.where(has_chip, e["count_high"].astype("float64"), e["h100e_high"].astype("float64"))
    e["qty_low"] = pd.Series(low, index=e.index).fillna(e["qty"])
    e["qty_high"] = pd.Series(high, index=e.index).fillna(e["qty"])
    e["cluster_key"] = _cluster_keys(e["cluster"])
    return e


@dataclass
class Rows:
    """The rule's working columns as numpy arrays, one entry per estimate that may count.

    The keys and dates are gathered for every row; quantities, status and certainty only for
    the rows the rule keeps (each group's latest: ``quantities``, ``dead``, ``rank``).
    """

    row: np.ndarray  # position in the caller's frame
    owner: np.ndarray
    holder: np.ndarray
    chip: np.ndarray  # chip_key: the chip id, or H100E_ONLY
    day: np.ndarray  # valid_on as int64, in the caller's datetime unit
    fleet: np.ndarray  # scope == "fleet"
    cluster: np.ndarray  # code of the cluster key (casefolded, stripped; "" for none)
    cluster_keys: np.ndarray  # the key of each code (object)
    day_dtype: np.dtype
    estimates: pd.DataFrame  # the caller's frame
    found: Found  # whose whole-frame status and certainty figures ``dead`` and ``rank`` read

    def quantities(self, at: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Count, low and high of rows ``at`` as float64 (H100e where no chip is given; a missing
        bound is the count)."""
        where, no_chip = self.row[at], self.chip[at] == H100E_ONLY
        columns = ("h100e", "h100e_low", "h100e_high") if no_chip.all() else ("count", "count_low", "count_high")
        qty, low, high = (_floats(self.estimates[c], where) for c in columns)
        if no_chip.any() and not no_chip.all():  # only figures given in H100e (no chip) read the H100e columns
            for out, column in ((qty, "h100e"), (low, "h100e_low"), (high, "h100e_high")):
                out[no_chip] = _floats(self.estimates[column], where[no_chip])
        return qty, np.where(np.isnan(low), qty, low), np.where(np.isnan(high), qty, high)

    def dead(self, at: np.ndarray) -> np.ndarray:
        """Whether rows ``at`` say "decommissioned"."""
        return self.found.dead[self.row[at]]

    def rank(self, at: np.ndarray) -> np.ndarray:
        """The certainty rank (int8) of rows ``at``."""
        return self.found.rank[self.row[at]]


def _codes(values: pd.Series, vocabulary: list[str]) -> np.ndarray:
    """Each value's position in ``vocabulary``; -1 for missing values and any other.

    Arrow-stored strings are looked up in one pass of Arrow's ``index_in`` (no per-row
    Python objects, no hash table of the column's values); other storage is factorized.
    """
    if isinstance(values.dtype, pd.StringDtype):
        array = pa.array(values.array, type=pa.large_string(), from_pandas=True)
        found = pc.index_in(array, value_set=pa.array(vocabulary, type=pa.large_string()))
        return pc.fill_null(found, -1).to_numpy(zero_copy_only=False)
    codes, uniques = pd.factorize(values)
    return np.append(pd.Index(vocabulary, dtype=object).get_indexer(pd.Index(uniques, dtype=object)), -1)[codes]


def _floats(series: pd.Series, at: np.ndarray) -> np.ndarray:
    """``series`` at positions ``at`` as float64, NaN where missing (only those rows converted)."""
    values = series.to_numpy()
    if values.dtype == np.float64:
        return values[at]  # a new array: the caller may write to it
    return series.iloc[at].to_numpy(dtype="float64", na_value=np.nan)


_CERTAINTIES = [c.value for c in Certainty]
_RANK_OF_CODE = np.array([CERTAINTY_RANK[c] for c in Certainty] + [0], dtype="int8")  # code -1 (unknown): 0
_STATUSES = [Status.PLANNED.value, Status.DECOMMISSIONED.value]


def _passing(estimates: pd.DataFrame, options: CombineOptions) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which rows may count at the as-of date, which are "decommissioned" (boolean masks), and each
    row's certainty rank (``CERTAINTY_RANK``; 0 if missing or unknown)."""
    days = estimates["valid_on"].to_numpy()
    if days.dtype.kind != "M":
        raise TypeError(f'column "valid_on" must hold dates (datetime64), not {days.dtype}')
    keep = days <= np.datetime64(pd.Timestamp(options.as_of)).astype(days.dtype)
    rank = memo.derived(estimates["certainty"], "combine.rank", lambda s: _RANK_OF_CODE[_codes(s, _CERTAINTIES)])
    keep &= rank >= CERTAINTY_RANK[Certainty(options.min_certainty)]
    # one pass serves both flags
    status = memo.derived(estimates["status"], "combine.status", lambda s: _codes(s, _STATUSES).astype("int8"))
    if not options.include_planned:
        keep &= status != 0
    return keep, status == 1, rank


@dataclass
class Found:
    """The estimates that may count at the as-of date (``at``: positions in the caller's frame) with
    their owner and holder ids, and the whole-frame figures their working columns are gathered from
    (kept per column's data: ``fleet.analytics.memo``). Found once on the caller's thread; the rows of
    a part of the holders are then gathered by ``rows`` on whichever thread works on them."""

    at: np.ndarray
    owner: np.ndarray
    holder: np.ndarray
    dead: np.ndarray  # status == decommissioned (whole frame)
    rank: np.ndarray  # certainty rank (whole frame)
    fleet: np.ndarray  # scope == "fleet" (whole frame)
    cluster: np.ndarray  # cluster key codes (whole frame)
    cluster_keys: np.ndarray

    def halves(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Two sets of positions into ``at`` that split the holders in two (each holder's rows on one
        side, the lower ids first) with about half the rows each; None if one side would be empty."""
        holder = self.holder
        lo, hi = int(holder.min()), int(holder.max())
        if hi - lo <= 4 * len(holder) + 4096:  # a narrow range (ids): the weighted median from counts
            cut = lo + int(np.searchsorted(np.cumsum(np.bincount(holder - lo)), len(holder) // 2))
        else:  # date-stacked holder ids
            cut = int(np.partition(holder, len(holder) // 2)[len(holder) // 2])
        low = holder <= cut
        if low.all():  # the median holder is the largest: cut below it instead
            low = holder < cut
        return None if not low.any() or low.all() else (np.flatnonzero(low), np.flatnonzero(~low))


def find(estimates: pd.DataFrame, options: CombineOptions) -> Found:
    keep, dead, rank = _passing(estimates, options)
    at = np.flatnonzero(keep)
    owner = estimates["organisation_id"].to_numpy(dtype="int64")[at]
    holder = owner
    if options.attribute_to == "user":
        user = _floats(estimates["user_organisation_id"], at)
        holder = np.where(np.isnan(user), owner, np.nan_to_num(user)).astype("int64")
    fleet = memo.derived(estimates["scope"], "combine.fleet",
                         lambda s: (s == "fleet").to_numpy(dtype=bool, na_value=False))
    codes, keys = memo.derived(estimates["cluster"], "combine.cluster", _cluster_codes)
    return Found(at=at, owner=owner, holder=holder, dead=dead, rank=rank, fleet=fleet, cluster=codes,
                 cluster_keys=keys)


def rows(estimates: pd.DataFrame, options: CombineOptions, found: Found | None = None,
         within: np.ndarray | None = None) -> Rows:
    """The rule's working columns of the rows ``find`` found (``within``: positions among them, e.g. one
    of ``Found.halves``; all of them if None)."""
    f = find(estimates, options) if found is None else found
    at, owner, holder = (f.at, f.owner, f.holder) if within is None else (f.at[within], f.owner[within],
                                                                           f.holder[within])
    chip = _floats(estimates["chip_id"], at)
    days = estimates["valid_on"].to_numpy()
    return Rows(row=at, owner=owner, holder=holder, chip=np.where(np.isnan(chip), H100E_ONLY, chip).astype("int64"),
                day=days[at].view("int64"), fleet=f.fleet[at], cluster=f.cluster[at], cluster_keys=f.cluster_keys,
                day_dtype=days.dtype, estimates=estimates, found=f)


def _cluster_codes(cluster: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Each row's cluster key as a code; names equal once casefolded and stripped share one.

    Only named rows are factorized (most rows are whole-fleet figures without a name,
    whose key is ""), and each distinct name is casefolded once.
    """
    out = np.zeros(len(cluster), dtype="int64")
    named = cluster.notna().to_numpy()
    codes, uniques = pd.factorize(cluster.iloc[np.flatnonzero(named)])
    names = pd.Index(uniques, dtype=object).astype(str).str.casefold().str.strip().to_numpy(dtype=object)
    key_codes, keys = pd.factorize(np.append("", names))  # "" first: code 0, the key of rows without a name
    out[named] = key_codes[1:][codes]
    return out, np.asarray(keys, dtype=object)
