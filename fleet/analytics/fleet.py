"""From combined chip counts to H100-equivalents per organisation, under a basis.

``h100e_by_chip`` prices each (organisation, chip) figure in H100e; a chip whose
catalog entry lacks the basis's figure gets NaN (*unknown*), is left out of totals, and
``org_totals`` counts how many such chip figures it left out so the UI can say so.
Pure pandas.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fleet.analytics import groups
from fleet.analytics.combine import (BY_CHIP, H100E_ONLY, WHOLE, WHOLE_BASIS, WHOLE_FIGURE, Combined, CombineOptions,
                                     OnFirstRead, by_chip_columns, combine)
from fleet.chips import Basis, factor_series
from fleet.vocab import CERTAINTY_RANK

H100E_ONLY_NAME = "H100e (chips not specified)"
WHOLE_NAME = "H100e (organisation-wide figure, chips not specified)"


def h100e_by_chip(combined: Combined, chips: pd.DataFrame, basis: Basis | str) -> pd.DataFrame:
    """``combined.by_chip`` priced in H100e, plus each holder's organisation-wide remainder.

    Adds chip name, family, factor, ``spec_known`` and h100e / h100e_low / h100e_high.
    Where an organisation-wide H100e figure exceeds the sum of the chip figures, the
    difference becomes a ``WHOLE`` row, so that summing rows gives the larger of the two.
    """
    return priced(combined, chips, basis).frame()


class Priced:
    """``h100e_by_chip``'s columns as arrays (``priced[name]``), a row per figure, with chip names
    and families as positions into small tables.

    The totals read a few columns, and a frame of them all costs more than the pricing
    (``frame()`` builds it). The organisation-wide remainder rows come last; a column is
    joined with them when first read.
    """

    def __init__(self, parts: list[dict[str, np.ndarray]], name_at: np.ndarray, names: np.ndarray,
                 families: np.ndarray) -> None:
        self.parts, self.name_at, self.names, self.families = parts, name_at, names, families
        self.columns = dict.fromkeys(k for part in parts for k in part)  # every column's name, in order
        self._joined: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._joined:
            if name not in self.columns:
                raise KeyError(name)
            if len(self.parts) == 1:
                self._joined[name] = self.parts[0][name]
            else:
                # a column the remainder rows lack (the fleet and cluster figures) is NaN there
                self._joined[name] = np.concatenate([part.get(name, np.full(len(part["holder_id"]), np.nan))
                                                     for part in self.parts])
        return self._joined[name]

    def take(self, rows: np.ndarray) -> Priced:
        return Priced([{k: self[k][rows] for k in self.columns}], self.name_at[rows], self.names, self.families)

    def names_of(self, rows: np.ndarray) -> np.ndarray:
        """The chip names of ``rows`` (object; NaN for a chip not in the catalog)."""
        return self.names[self.name_at[rows]]

    def frame(self) -> pd.DataFrame:
        text = {"chip": pd.array(self.names, dtype="str").take(self.name_at),
                "family": pd.array(self.families, dtype="str").take(self.name_at)}
        out = by_chip_columns({k: self[k] for k in BY_CHIP}) | {"factor": self["factor"]} | text
        return pd.DataFrame(out | {k: self[k] for k in self.columns if k not in out}, copy=False)


def priced(combined: Combined, chips: pd.DataFrame, basis: Basis | str) -> Priced:
    """``h100e_by_chip`` as arrays."""
    figures = combined.figures
    catalog = chips.set_index("id")
    key = figures["chip_key"]
    # one hash lookup per row, then positional takes from the catalog's columns with three
    # entries appended: H100e-only figures (-3), the organisation-wide remainder (-2) and
    # chips not in the catalog (-1, as get_indexer gives them)
    at = np.where(key == H100E_ONLY, -3, groups.lookup(catalog.index.to_numpy(), key))
    families = catalog["family"].fillna("Other") if "family" in catalog else pd.Series("Other", index=catalog.index)
    factor = np.append(factor_series(catalog, basis).to_numpy(dtype="float64"), [1.0, 1.0, np.nan])[at]
    names = np.append(catalog["name"].to_numpy(dtype=object),
                      np.array([H100E_ONLY_NAME, WHOLE_NAME, np.nan], dtype=object))
    family = np.append(families.to_numpy(dtype=object), ["Unspecified", "Unspecified", "Other"])
    columns = {**figures, "factor": factor, "spec_known": ~np.isnan(factor)}
    for src, dst in (("qty", "h100e"), ("low", "h100e_low"), ("high", "h100e_high")):
        columns[dst] = figures[src] * factor
    name_at = np.where(at < 0, at + len(names), at)
    if combined.whole.empty:
        return Priced([columns], name_at, names, family)
    rest = _whole_remainder(combined.whole, columns)
    name_at = np.concatenate([name_at, np.full(len(combined.whole), len(names) - 2)])
    return Priced([columns, rest], name_at, names, family)


def _whole_remainder(whole: pd.DataFrame, priced: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The columns of each holder's organisation-wide remainder row."""
    holders = whole["holder_id"].to_numpy()  # sorted, one row each (combine's ``_whole``)
    n = len(holders)
    at = groups.positions(holders, priced["holder_id"])
    mine = np.flatnonzero(priced["spec_known"] & (at >= 0))
    rest = {"holder_id": holders, "chip_key": np.full(n, WHOLE, dtype="int64"),
            "n_clusters": np.zeros(n, dtype=priced["n_clusters"].dtype), "valid_on": whole["valid_on"].to_numpy(),
            "basis": np.full(n, WHOLE_BASIS), "factor": np.ones(n), "spec_known": np.ones(n, dtype=bool),
            **{"whole_" + c: whole[c].to_numpy(dtype="float64") for c in ("qty", "low", "high")}}
    pairs = (("qty", "h100e"), ("low", "h100e_low"), ("high", "h100e_high"))
    # each holder's known chip figures, summed in row order (0 if none)
    known = groups.sums_of(at[mine], n, *(priced[dst][mine] for _, dst in pairs))
    for (src, dst), chips in zip(pairs, known):
        rest[dst] = rest[src] = np.clip(rest["whole_" + src] - chips, 0.0, None)
    return rest


def counted(contributions: pd.DataFrame, by_chip: pd.DataFrame) -> pd.Series:
    """Which contributing estimates a total rests on (organisation-wide ones only if they add)."""
    is_whole = contributions["component"] == "whole"
    return (contributions["counted"] & ~is_whole) | (is_whole & contributions["holder_id"].isin(_adding(by_chip)))


def _adding(by_chip: pd.DataFrame | dict[str, np.ndarray]) -> np.ndarray:
    """The holders whose organisation-wide figure adds to their chip figures (``by_chip``: a frame or its columns)."""
    chip_key, qty = np.asarray(by_chip["chip_key"]), np.asarray(by_chip["qty"])
    return np.asarray(by_chip["holder_id"])[(chip_key == WHOLE) & (qty > 0)]


def chip_mix(at: np.ndarray, n: int, h100e: np.ndarray, chip_key: np.ndarray,
             names_of: Callable[[np.ndarray], np.ndarray], rows: np.ndarray) -> np.ndarray:
    """"H100 80%, A100 20%" per holder: chips by share of its H100e, largest first (< 0.5% left out).

    Row i is holder ``at[i]`` (of ``n``, in order) and chip ``chip_key[i]``, named
    ``names_of(rows[[i]])[0]``; holders without a listed chip get NaN.
    """
    out = np.full(n, np.nan, dtype=object)
    order = np.argsort(groups.compose((at, n), groups.ascending(-h100e))[0], kind="stable")  # ties keep their order
    at, h100e = at[order], h100e[order]
    share = h100e / groups.sums(at, n, h100e)[at]  # terms largest first, as pandas adds the sorted rows
    listed = share >= 0.005
    if not listed.any():
        return out
    at, mine = at[listed], order[listed]
    # chips by key; each key's name is read once (a missing name prints "nan")
    codes, size = groups.dense(chip_key[mine])
    named = np.flatnonzero(np.bincount(codes, minlength=size))
    names = np.empty(size, dtype=object)
    names[named] = names_of(rows[groups.some(codes, size, mine)[named]])
    labels = _labels(names, codes, np.round(share[listed] * 100)).tolist()
    # one join per holder over contiguous runs (the rows are sorted by holder)
    starts = np.flatnonzero(np.r_[True, at[1:] != at[:-1]])
    ends = np.r_[starts[1:], len(at)].tolist()
    out[at[starts]] = [", ".join(labels[a:b]) for a, b in zip(starts.tolist(), ends)]
    return out


def _labels(names: np.ndarray, name_codes: np.ndarray, percent: np.ndarray) -> np.ndarray:
    """"<chip> <percent>%" for each row, each distinct (chip, percent) pair formatted once."""
    pair_codes, n = groups.group(groups.compose(groups.dense(name_codes), groups.dense(percent))[0])
    one = groups.some(pair_codes, n, np.arange(len(pair_codes)))  # a row of each pair
    text = np.array([f"{names[name_codes[i]]} {int(percent[i])}%" for i in one], dtype=object)
    return text[pair_codes]


def org_totals(by_chip: pd.DataFrame, contributions: pd.DataFrame) -> pd.DataFrame:
    """One row per holder: H100e total and range, chip mix, last date, sources, certainty."""
    used = counted(contributions, by_chip).to_numpy(dtype=bool)
    holders, known = holder_totals(by_chip)
    days = contributions["valid_on"].to_numpy()
    return with_details(holders, known, Used(holder=contributions["holder_id"].to_numpy()[used],
                                             rank=ranks(contributions["certainty"])[used],
                                             urls=contributions["source_url"], rows=np.flatnonzero(used),
                                             days=days.view("int64")[used]))


@dataclass
class Used:
    """The contributions a total rests on, in the contributions' order: holder, certainty rank (NaN
    if unknown), valid_on (int64), and each one's source URL (``urls.iloc[rows]``: the URLs can stay
    in the caller's frame, uncopied)."""

    holder: np.ndarray
    rank: np.ndarray
    urls: pd.Series
    rows: np.ndarray
    days: np.ndarray


@dataclass
class Known:
    """What ``holder_totals`` summed: each holder (sorted ids, ``order`` = their rows in its frame)
    and the positive chip figures with a known spec (``rows`` of ``by_chip``, holder ``at``, ``h100e``);
    ``chip_key`` and ``names_of`` give the chips of ``by_chip``'s rows."""

    chip_key: np.ndarray
    names_of: Callable[[np.ndarray], np.ndarray]
    holders: np.ndarray
    order: np.ndarray
    rows: np.ndarray
    at: np.ndarray
    h100e: np.ndarray


DETAIL_COLUMNS = ("chip_mix", "n_sources", "n_estimates", "certainty", "latest_source")  # what ``with_details`` adds


def holder_totals(by_chip: pd.DataFrame | Priced) -> tuple[pd.DataFrame, Known]:
    """One row per holder with a figure, largest first: H100e total and range, last date and how many
    chip figures lack a spec -- the numbers, without the leaderboard's columns (``with_details``).

    ``by_chip``: ``h100e_by_chip``'s frame, or its arrays (``priced``)."""
    if isinstance(by_chip, Priced):
        names_of = by_chip.names_of
    else:
        names_of = functools.partial(_names_of, by_chip["chip"])
    positive = np.asarray(by_chip["qty"]) > 0
    spec = np.asarray(by_chip["spec_known"], dtype=bool)
    holder = np.asarray(by_chip["holder_id"])
    holders = groups.distinct(holder[positive])  # every holder with a figure, known spec or not, in order
    n = len(holders)
    columns = ["h100e", "h100e_low", "h100e_high"]
    known = np.flatnonzero(spec & positive)
    at = groups.positions(holders, holder[known])
    values = {c: np.asarray(by_chip[c], dtype="float64")[known] for c in columns}
    # each holder's terms in row order
    totals = {"holder_id": holders, **dict(zip(columns, groups.sums_of(at, n, *values.values())))}
    days = np.asarray(by_chip["valid_on"])
    totals["last_valid_on"] = groups.largest(at, n, days[known].view("int64")).view(days.dtype)
    unknown = groups.positions(holders, holder[~spec & positive])
    totals["chips_unknown_spec"] = np.bincount(unknown, minlength=n).astype("int64")
    totals["_at"] = np.arange(n)
    totals = pd.DataFrame(totals).sort_values("h100e", ascending=False, ignore_index=True)
    order = totals.pop("_at").to_numpy()
    return totals, Known(chip_key=np.asarray(by_chip["chip_key"]), names_of=names_of, holders=holders, order=order,
                         rows=known, at=at, h100e=values["h100e"])


def _names_of(chip: pd.Series, rows: np.ndarray) -> np.ndarray:
    return chip.iloc[rows].to_numpy(dtype=object)


def with_details(totals: pd.DataFrame, known: Known, used: Used) -> pd.DataFrame:
    """``holder_totals``' frame (or one with columns joined to it, rows in its order) with the
    leaderboard's columns (``DETAIL_COLUMNS``): chip mix, distinct sources, estimates, the
    lowest certainty the total rests on and the source of its latest estimate."""
    n = len(known.holders)
    mix = chip_mix(known.at, n, known.h100e, known.chip_key[known.rows], known.names_of, known.rows)
    details = {"chip_mix": mix, **_sources(used, known.holders)}
    out = totals.copy(deep=False)
    out.insert(out.columns.get_loc("last_valid_on") + 1, "chip_mix", mix[known.order])
    at = out.columns.get_loc("chips_unknown_spec") + 1
    for name in DETAIL_COLUMNS[1:]:
        out.insert(at, name, details[name].take(known.order))
        at += 1
    return out


_RANKS = pd.Series({str(c): float(rank) for c, rank in CERTAINTY_RANK.items()})
_RANK_VALUES = np.sort(_RANKS.to_numpy())
_RANK_NAMES = pd.array(_RANKS.sort_values().index.to_numpy(dtype=object), dtype="str")


def ranks(certainty: pd.Series) -> np.ndarray:
    """Each certainty's rank (``CERTAINTY_RANK``), NaN where missing or unknown."""
    codes, values = pd.factorize(certainty)
    return np.append(_RANKS.reindex(pd.Index(values, dtype=object).astype(str)).to_numpy(), np.nan)[codes]


def _sources(used: Used, holders: np.ndarray) -> dict[str, np.ndarray]:
    """Per holder (in ``holders``' order): distinct sources, estimates, and the lowest certainty they rest on."""
    n = len(holders)
    at = groups.positions(holders, used.holder)
    mine = np.flatnonzero(at >= 0)  # a holder whose figures are all zero has no row
    at = at[mine]
    lowest = np.full(n, np.nan)
    np.fmin.at(lowest, at, used.rank[mine])  # NaN (no known certainty) loses
    label = np.where(np.isnan(lowest), -1, np.searchsorted(_RANK_VALUES, lowest))
    return {"n_sources": groups.count_distinct(at, n, used.urls, used.rows[mine]).astype("int64"),
            "n_estimates": np.bincount(at, minlength=n).astype("int64"),
            "certainty": _RANK_NAMES.take(label, allow_fill=True),
            "latest_source": _latest_source(at, n, used.days[mine], used.urls, used.rows[mine])}


def _latest_source(at: np.ndarray, n: int, days: np.ndarray, urls: pd.Series, rows: np.ndarray):
    """Per holder: the source URL of its latest estimate (on a tie, the last in order), NaN if none --
    what sorting by date (stable) and taking each holder's last non-missing URL gives."""
    out = np.full(n, np.nan, dtype=object)
    named = np.flatnonzero(urls.iloc[rows].notna().to_numpy())
    if len(named):
        order = named[np.lexsort((named, days[named], at[named]))]  # by holder, then date, then position
        last = order[np.r_[at[order][1:] != at[order][:-1], True]]
        out[at[last]] = urls.iloc[rows[last]].to_numpy(dtype=object)
    return pd.array(out, dtype="str")


@dataclass
class FleetState:
    """Everything a page needs about fleets at one (as-of, known-at, basis, filters)."""

    by_chip: pd.DataFrame = OnFirstRead()  # (holder, chip) figures with h100e columns (or a function)
    # one row per organisation with a figure, largest first: H100e total and range, last date,
    # chip figures without a spec, joined with its name/kind/country/parent (the rich/poor split,
    # maps and per-researcher figures need no more)
    holders: pd.DataFrame
    totals: pd.DataFrame = OnFirstRead()  # ``holders`` plus the leaderboard's DETAIL_COLUMNS (or a function)
    contributions: pd.DataFrame = OnFirstRead()  # the estimates behind the figures (or a function making them)
    excluded_unknown_spec: int  # (holder, chip) figures left out for lack of a spec on the basis


def fleet_state(estimates: pd.DataFrame, chips: pd.DataFrame, organisations: pd.DataFrame, *,
                as_of, basis: Basis | str = Basis.EIGHT_BIT, include_planned: bool = False,
                min_certainty: str = "speculative", attribute_to: str = "owner",
                kinds: tuple[str, ...] = (), countries: tuple[str, ...] = ()) -> FleetState:
    """Combine, convert to H100e and total per organisation, then apply organisation filters.

    The totals' leaderboard columns and the contributions are built when first read.
    """
    options = CombineOptions(as_of=as_of, include_planned=include_planned, min_certainty=min_certainty,
                             attribute_to=attribute_to)
    combined = combine(estimates, options)
    figures = priced(combined, chips, basis)
    orgs = organisations.set_index("id")[["name", "kind", "country", "parent_id"]]
    keep = orgs.index
    if kinds:
        keep = keep[orgs.loc[keep, "kind"].isin(kinds)]
    if countries:
        keep = keep[orgs.loc[keep, "country"].isin(countries)]
    shown = groups.lookup(keep.to_numpy(), figures["holder_id"]) >= 0
    figures = figures if shown.all() else figures.take(np.flatnonzero(shown))
    holders, known = holder_totals(figures)
    holders = holders.join(orgs, on="holder_id")
    urls, days = estimates["source_url"], estimates["valid_on"].to_numpy()

    @functools.cache
    def marks() -> tuple[np.ndarray, np.ndarray]:
        """Which contributions belong to a holder shown, and which its total rests on."""
        c = combined.contributing
        is_whole = c.component == WHOLE_FIGURE
        counts = (c.counted & ~is_whole) | (is_whole & np.isin(c.holder, _adding(figures)))
        return np.isin(c.holder, keep.to_numpy()), counts

    def totals() -> pd.DataFrame:
        listed, counts = marks()
        c, used = combined.contributing, listed & counts
        return with_details(holders, known, Used(holder=c.holder[used], rank=c.rank[used].astype("float64"),
                                                 urls=urls, rows=c.row[used], days=days.view("int64")[c.row[used]]))

    unknown = int((~figures["spec_known"] & (figures["qty"] > 0)).sum())
    return FleetState(by_chip=figures.frame, holders=holders, totals=totals,
                      contributions=lambda: _listed(combined, *marks()), excluded_unknown_spec=unknown)


def _listed(combined: Combined, listed: np.ndarray, counts: np.ndarray) -> pd.DataFrame:
    """The contributions of the holders shown, each marked counted if its total rests on it."""
    contributions = combined.contributions if listed.all() else combined.contributions.loc[listed]
    contributions["counted"] = counts[listed]
    return contributions
