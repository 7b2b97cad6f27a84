"""How estimates combine into one figure per organisation and chip at a date.

The rule (shown in the app, tested in tests/test_combine.py). For an organisation and a
chip at the as-of date, among the live estimates that pass the filters:

(a) *fleet*: the latest ``fleet``-scope estimate of that chip valid on or before the date;
(b) *clusters*: for each named cluster, its estimates of the latest date valid on or
    before the as-of date -- that date's rows describe the cluster's whole composition,
    so an earlier phase's chips do not linger -- counted only if the cluster is
    operational then (or planned, when planned capacity is included); a decommissioned
    cluster counts 0; the clusters' counts are summed per chip.

The chip's figure is the larger of (a) and (b), because clusters are a lower bound of a
fleet. An organisation-wide figure given only in H100-equivalents (a ``fleet``-scope
estimate without a chip) covers all its chips: the organisation's total is the larger of
it and the sum of its chip figures (``fleet.analytics.fleet`` adds the difference as an
"organisation-wide, chips not specified" row). Clusters given only in H100e have no chip
and add like any cluster (``H100E_ONLY``).

Several estimates on the same latest date conflict: they become a range (the median as
the point, the lowest low and highest high). Ranges carry through sums, and maxima are
taken element-wise (point, low and high). Pure pandas: no database, no streamlit.

The rule works holder by holder: from ``SPLIT_ROWS`` candidate rows on, each half of the
holders is combined on its own thread and the halves are joined in one pass's order.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from fleet.analytics import candidates, groups
from fleet.analytics.candidates import H100E_ONLY, CombineOptions, Rows

# The rule in a paragraph (markdown), as the app shows it on every page and each organisation's page.
RULE_SUMMARY = (
    "For each chip at the as-of date: (a) the latest whole-fleet estimate on "
    "or before that date, and (b) the sum of the latest estimate of each of its clusters operational by "
    "then. The larger counts, since clusters are a lower bound of a fleet. An organisation-wide figure given "
    "only in H100e adds whatever it exceeds the chip figures by. Same-date conflicting estimates become a "
    "range; superseded and retracted estimates never count (an organisation's page lists them, not hidden).")

WHOLE = -2  # chip_key of the organisation-wide H100e remainder (see fleet.analytics.fleet)
KEYS = ["holder_id", "chip_key"]
# Fleet and cluster figures are compared within one *owner's* holding: when leased
# capacity is attributed to its user, it adds to the user's own fleet instead of
# competing with it as a "conflicting" estimate.
PART_KEYS = [*KEYS, "owner_id"]


class OnFirstRead:
    """A dataclass field that may be given as a function of no arguments, called once, when the
    field is first read.

    Parts of a result that cost more to build at scale than the figures themselves (the
    estimates behind each figure; the leaderboard's columns) are passed this way: many
    callers -- the rich/poor split, the series over time -- never read them. A function
    marked ``rereads`` (``fleet.framecache.Later``) is called on every read instead: it keeps
    what it builds on disk, and holding it here too would keep it resident.
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self.name, self.slot = name, "_" + name

    def __get__(self, obj, objtype=None):
        if obj is None:
            raise AttributeError(self.name)  # no class-level default: the field stays required
        value = obj.__dict__[self.slot]
        if not callable(value):
            return value
        if getattr(value, "rereads", False):  # it holds its frame elsewhere (a file): ask it each time
            return value()
        value = obj.__dict__[self.slot] = value()
        return value

    def __set__(self, obj, value) -> None:
        obj.__dict__[self.slot] = value


@dataclass
class Combined:
    figures: dict[str, np.ndarray]  # per (holder_id, chip_key): the ``BY_CHIP`` columns as arrays, basis as codes
    whole: pd.DataFrame  # organisation-wide H100e figures: one row per holder_id
    contributing: Contributing = OnFirstRead()  # the estimates each figure rests on, as arrays (or a function)
    # ``contributing``'s cluster rows alone (what the series' largest cluster reads), without the rest
    clusters: Contributing = OnFirstRead()
    single: int = -1  # figures[:single]: the (holder, chip) pairs of one owner's part, in key order (see _sum_parts)

    @cached_property
    def by_chip(self) -> pd.DataFrame:
        """``figures`` as a frame, one row per (holder_id, chip_key) (built when first read)."""
        return pd.DataFrame(by_chip_columns(self.figures), copy=False)

    @cached_property
    def contributions(self) -> pd.DataFrame:
        """The estimates each figure rests on, with every column of the caller's frame (built when first read)."""
        return self.contributing.frame()


def _figure(r: Rows, ids: np.ndarray, n: int, at: np.ndarray) -> dict[str, np.ndarray]:
    """One figure per group of latest-dated rows ``at`` (a range if they disagree)."""
    qty, low, high = groups.collapse(ids, n, *r.quantities(at))
    # A group whose latest word is "decommissioned" holds nothing at this date.
    dead = ~groups.any_of(ids, n, ~r.dead(at))
    qty[dead], low[dead], high[dead] = 0.0, 0.0, 0.0
    return {"qty": qty, "low": low, "high": high, "day": groups.largest(ids, n, r.day[at]),
            "n": groups.sizes(ids, n), "rep": groups.some(ids, n, at)}


def _latest(r: Rows, key: tuple[np.ndarray, int], at: np.ndarray, *,
            ordered: bool = False) -> tuple[np.ndarray, np.ndarray, int]:
    """The rows ``at`` dated on their ``key`` group's latest date, with their group ids
    (in the order groups first appear if ``ordered``, else in any order)."""
    ids, n = groups.group(key[0][at]) if ordered else groups.group_any(key[0][at], key[1])
    latest = groups.newest(ids, n, r.day[at])  # every group keeps at least one row: n stays
    return at[latest], ids[latest], n


def _by_part(figure: dict[str, np.ndarray], part: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Each part's sum of figures (terms in the figures' order, as pandas adds them), and each figure's part."""
    key = part[figure["rep"]]
    ids, n = groups.group(key)
    out = dict(zip(("qty", "low", "high"), groups.sums_of(ids, n, figure["qty"], figure["low"], figure["high"])))
    out["n"] = np.bincount(ids[~np.isnan(figure["qty"])], minlength=n)
    out["day"] = groups.largest(ids, n, figure["day"])
    out["rep"], out["key"] = groups.some(ids, n, figure["rep"]), groups.some(ids, n, key)
    return out, ids


def combine(estimates: pd.DataFrame, options: CombineOptions) -> Combined:
    found = candidates.find(estimates, options)
    frame = estimates.copy(deep=False)  # later edits of the caller's frame do not show
    halves = found.halves() if len(found.at) >= SPLIT_ROWS and _WORKERS else None
    if halves is None:
        return _combine(frame, candidates.rows(estimates, options, found))
    # The rule works holder by holder: each half of the holders is combined on its own thread
    # (numpy lets go of the GIL in its loops) and the halves are joined in the order one pass gives.
    try:
        other = _pool().submit(lambda: _combine(frame, candidates.rows(estimates, options, found, halves[1])))
    except RuntimeError:  # the interpreter is exiting (the frame cache's writer finishing): no new work
        return _combine(frame, candidates.rows(estimates, options, found))
    first = _combine(frame, candidates.rows(estimates, options, found, halves[0]))
    return _joined(first, other.result())


def _combine(frame: pd.DataFrame, r: Rows) -> Combined:
    """The rule on the candidate rows ``r`` of ``frame``."""
    holder, chip = groups.dense(r.holder), groups.dense(r.chip)
    owner = _lessor(r)
    part = groups.compose(holder, chip, owner)  # PART_KEYS, in their order (owners: see _lessor)
    no_chip = r.chip == H100E_ONLY
    fleet_rows, ids, n = _latest(r, part, np.flatnonzero(r.fleet & ~no_chip))
    fleet = _figure(r, ids, n, fleet_rows)
    fleet["key"], fleet_part = groups.some(ids, n, part[0][fleet_rows]), ids
    cluster = (r.cluster, len(r.cluster_keys))
    cluster_rows = _latest(r, groups.compose(holder, owner, cluster), np.flatnonzero(~r.fleet))[0]
    ids, n = groups.group(groups.compose(part, cluster)[0][cluster_rows])
    clusters, by_cluster = _by_part(_figure(r, ids, n, cluster_rows), part[0])
    cluster_part = by_cluster[ids]
    parts = _choose(fleet, clusters)
    whole_rows, ids, n = _latest(r, groups.compose(holder, owner), np.flatnonzero(r.fleet & no_chip), ordered=True)
    whole = _whole(r, _figure(r, ids, n, whole_rows))

    def contributing() -> Contributing:
        at_part = np.concatenate([parts["at_fleet"][fleet_part], parts["at_clusters"][cluster_part],
                                  groups.positions(parts["key"], part[0][whole_rows])])
        return _contributions(frame, r, parts["basis"], at_part, fleet_rows, cluster_rows, whole_rows)

    def clusters() -> Contributing:
        return _contributions(frame, r, parts["basis"], parts["at_clusters"][cluster_part], fleet_rows[:0],
                              cluster_rows)

    figures, single = _sum_parts(r, parts, groups.compose(holder, chip)[0])
    return Combined(figures=figures, whole=whole, contributing=contributing, single=single, clusters=clusters)


SPLIT_ROWS = 100_000  # candidate rows from which two threads beat one (fewer: the thread's hand-off costs more)
_WORKERS = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1) > 1
_POOL: list[ThreadPoolExecutor] = []
_POOL_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """The one worker thread that combines the second half of the holders (made when first needed)."""
    with _POOL_LOCK:
        if not _POOL:
            _POOL.append(ThreadPoolExecutor(max_workers=1, thread_name_prefix="fleet-combine"))
        return _POOL[0]


def _joined(first: Combined, second: Combined) -> Combined:
    """Two halves' results (the first's holders all below the second's) as one pass over both gives them:
    figures in key order with the shared (holder, chip) figures last; contributions by component, then row."""
    names = list(first.figures)
    a, b = first.single, second.single
    figures = {k: np.concatenate([first.figures[k][:a], second.figures[k][:b], first.figures[k][a:],
                                  second.figures[k][b:]]) for k in names}
    whole = pd.DataFrame({c: np.concatenate([first.whole[c].to_numpy(), second.whole[c].to_numpy()])
                          for c in first.whole.columns})
    return Combined(figures=figures, whole=whole, contributing=lambda: first.contributing.joined(second.contributing),
                    single=a + b, clusters=lambda: first.clusters.joined(second.clusters))


def _lessor(r: Rows) -> tuple[np.ndarray, int]:
    """The owner as a key part: 0 where the holder owns the estimate (always, unless leases are
    attributed to their users), else 1 + the owner's code -- a narrow key in the usual case.

    Parts then sort by holder, chip and this code rather than the owner's id; only the
    order of several owners' parts of one (holder, chip) depends on it (see ``_sum_parts``).
    """
    leased = r.owner != r.holder
    if not leased.any():
        return np.zeros(len(r.owner), dtype="int64"), 1
    codes, n = groups.dense(r.owner[leased])
    out = np.zeros(len(r.owner), dtype="int64")
    out[leased] = codes + 1
    return out, n + 1


def _whole(r: Rows, by_owner: dict[str, np.ndarray]) -> pd.DataFrame:
    """Organisation-wide H100e per holder: its owners' figures added (attributed leases), by holder."""
    holders = r.holder[by_owner["rep"]]
    ids, n = groups.group(holders)
    out = {"holder_id": groups.some(ids, n, holders)}
    out |= dict(zip(("qty", "low", "high"), groups.sums_of(ids, n, by_owner["qty"], by_owner["low"], by_owner["high"])))
    out["valid_on"] = groups.largest(ids, n, by_owner["day"]).view(r.day_dtype)
    order = np.argsort(out["holder_id"])
    return pd.DataFrame({name: values[order] for name, values in out.items()})


def _choose(fleet: dict[str, np.ndarray], clusters: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each part (holder, chip, owner), in key order: the larger of fleet figure and cluster sum, element-wise."""
    keys, at_fleet, at_clusters = groups.union(fleet["key"], clusters["key"])
    out = {"key": keys, "at_fleet": at_fleet, "at_clusters": at_clusters, "rep": np.empty(len(keys), dtype="int64")}
    out["rep"][at_clusters], out["rep"][at_fleet] = clusters["rep"], fleet["rep"]
    for prefix, part, at in (("fleet_", fleet, at_fleet), ("clusters_", clusters, at_clusters)):
        for name in ("qty", "low", "high"):
            out[prefix + name] = np.full(len(keys), np.nan)
            out[prefix + name][at] = part[name]
        out[prefix + "day"] = np.full(len(keys), np.iinfo(np.int64).min)  # NaT
        out[prefix + "day"][at] = part["day"]
    out["n_clusters"] = np.zeros(len(keys), dtype="int64")
    out["n_clusters"][at_clusters] = clusters["n"]
    for name in ("qty", "low", "high"):
        out[name] = np.fmax(out["fleet_" + name], out["clusters_" + name])  # fmax ignores NaN: a missing one loses
    use_fleet = np.nan_to_num(out["fleet_qty"], nan=-1.0) >= np.nan_to_num(out["clusters_qty"], nan=-1.0)
    out["basis"] = np.where(use_fleet, 0, 1)  # codes into _BASES
    out["day"] = np.maximum(out["fleet_day"], out["clusters_day"])
    return out


# "mixed": owners' parts of both kinds; "whole": an organisation-wide remainder (fleet.analytics.fleet)
_BASES = np.array(["fleet", "clusters", "mixed", "whole"], dtype=object)
WHOLE_BASIS = 3
_NUMERIC = ["fleet_qty", "fleet_low", "fleet_high", "clusters_qty", "clusters_low", "clusters_high",
            "qty", "low", "high", "n_clusters"]
BY_CHIP = ["holder_id", "chip_key", *_NUMERIC, "valid_on", "basis"]  # the columns of ``Combined.by_chip``


def by_chip_columns(figures: dict[str, np.ndarray]) -> dict[str, object]:
    """``figures`` with the basis codes as text, for a frame."""
    return figures | {"basis": pd.array(_BASES, dtype="str").take(figures["basis"])}


def _sum_parts(r: Rows, parts: dict[str, np.ndarray], pair: np.ndarray) -> tuple[dict[str, np.ndarray], int]:
    """Add up the owners' parts of each (holder, chip); one part is the usual case.

    The figures of pairs with one part come first, in key order, then the sums of shared ones in
    (holder, chip) order; also returns how many come first."""
    key = pair[parts["rep"]]  # parts are in (holder, chip, owner) order: a shared pair's parts are adjacent
    shared = np.zeros(len(key), dtype=bool)
    if len(key) > 1:
        same = key[1:] == key[:-1]
        shared[1:] |= same
        shared[:-1] |= same
    columns = {"holder_id": r.holder[parts["rep"]], "chip_key": r.chip[parts["rep"]],
               **{c: parts[c] for c in _NUMERIC}}
    columns["valid_on"] = parts["day"].view(r.day_dtype)
    columns["basis"] = parts["basis"]
    if not shared.any():
        return columns, len(key)
    columns["n_clusters"] = columns["n_clusters"].astype("float64")  # sums of missing parts are NaN
    frame = pd.DataFrame(columns)
    # A (holder, chip) with one part is its own sum: only shared ones (leases attributed to
    # their user) need the group-by.
    # several owners' parts are added in the order of the owners' ids, as pandas would
    owner = r.owner[parts["rep"][shared]]
    mine = frame.loc[shared]
    mine = mine.iloc[np.lexsort((owner, mine["chip_key"].to_numpy(), mine["holder_id"].to_numpy()))]
    grouped = mine.groupby(KEYS, sort=False)
    many = grouped[_NUMERIC].sum(min_count=1)
    many["valid_on"] = grouped["valid_on"].max()
    many["basis"] = grouped["basis"].first().where(grouped["basis"].nunique() == 1, 2)  # 2: "mixed"
    out = pd.concat([frame.loc[~shared], many.reset_index()], ignore_index=True)
    out["n_clusters"] = out["n_clusters"].fillna(0).astype("int64")
    return {name: out[name].to_numpy() for name in BY_CHIP}, int((~shared).sum())


_COMPONENTS = np.array(["fleet", "cluster", "whole"], dtype=object)
FLEET, CLUSTER, WHOLE_FIGURE = 0, 1, 2  # codes into _COMPONENTS


@dataclass
class Contributing:
    """The estimates each figure rests on (fleet, then cluster, then organisation-wide rows), kept narrow:
    their positions in the caller's frame and the rule's own columns, as arrays.

    Totals need only a few of these; ``frame()`` adds every column of the caller's frame, a copy
    of each of them for hundreds of thousands of rows at scale, so it is built only when read
    (``Combined.contributions``).
    """

    estimates: pd.DataFrame  # the caller's frame (a shallow copy: later edits of theirs do not show)
    row: np.ndarray  # position in ``estimates``
    owner: np.ndarray
    holder: np.ndarray
    chip: np.ndarray
    qty: np.ndarray
    low: np.ndarray
    high: np.ndarray
    cluster: np.ndarray  # codes into ``cluster_keys``
    cluster_keys: np.ndarray
    component: np.ndarray  # codes into _COMPONENTS
    basis: np.ndarray  # codes into _BASES, -1 for none
    # "counted": the estimate belongs to the component (fleet or clusters) that won its
    # chip; organisation-wide rows are settled once chips are priced (fleet.analytics.fleet).
    counted: np.ndarray
    rank: np.ndarray  # certainty rank (``CERTAINTY_RANK``): the totals report the lowest they rest on

    def frame(self) -> pd.DataFrame:
        """Every column of the caller's frame, then the rule's own: holder, chip key, quantity and range,
        component, basis and whether counted."""
        out = self.estimates.take(self.row).reset_index(drop=True)
        derived = {"owner_id": self.owner, "holder_id": self.holder, "chip_key": self.chip, "qty": self.qty,
                   "qty_low": self.low, "qty_high": self.high,
                   "cluster_key": pd.array(self.cluster_keys, dtype="str").take(self.cluster),
                   "component": pd.array(_COMPONENTS, dtype="str").take(self.component),
                   "basis": pd.array(_BASES, dtype="str").take(self.basis, allow_fill=True),
                   "counted": self.counted}
        for name, values in derived.items():
            out[name] = values
        return out

    def joined(self, other: Contributing) -> Contributing:
        """These rows and ``other``'s (another part of the holders) by component, then position."""
        both = {f: np.concatenate([getattr(self, f), getattr(other, f)]) for f in _PER_ROW}
        # each side is in that order already: the stable sort merges two runs
        order = np.argsort(both["component"] * (len(self.estimates) + 1) + both["row"], kind="stable")
        return Contributing(estimates=self.estimates, cluster_keys=self.cluster_keys,
                            **{f: values[order] for f, values in both.items()})


_PER_ROW = ("row", "owner", "holder", "chip", "qty", "low", "high", "cluster", "component", "basis", "counted", "rank")


def _contributions(estimates: pd.DataFrame, r: Rows, basis: np.ndarray, at_part: np.ndarray,
                   *rows: np.ndarray) -> Contributing:
    """The rows each figure rests on, ``rows`` of each component in turn; ``at_part`` is each row's
    part (an index into ``basis``), -1 for none."""
    at = np.concatenate(rows)
    component = np.repeat(np.arange(len(rows)), [len(x) for x in rows])
    basis = np.where(at_part >= 0, np.append(basis, -1)[at_part], -1)
    qty, low, high = r.quantities(at)
    return Contributing(estimates=estimates, row=r.row[at], owner=r.owner[at],
                        holder=r.holder[at], chip=r.chip[at], qty=qty, low=low, high=high,
                        cluster=r.cluster[at], cluster_keys=r.cluster_keys, component=component, basis=basis,
                        counted=((component == FLEET) == (basis == 0)) | (component == WHOLE_FIGURE),
                        rank=r.rank(at))
