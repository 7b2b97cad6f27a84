"""From combined chip counts to H100-equivalents per organisation, under a basis.

``h100e_by_chip`` prices each (organisation, chip) figure in H100e; a chip whose
catalog entry lacks the basis's figure gets NaN (*unknown*), is left out of totals, and
``org_totals`` counts how many such chip figures it left out so the UI can say so.
Pure pandas.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fleet.analytics.combine import H100E_ONLY, WHOLE, Combined, CombineOptions, combine
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
    catalog = chips.set_index("id")
    out = combined.by_chip.copy(deep=False)  # copy-on-write: new columns never reach combined.by_chip
    only = out["chip_key"] == H100E_ONLY
    out["factor"] = np.where(only, 1.0, out["chip_key"].map(factor_series(catalog, basis)).astype("float64"))
    out["chip"] = np.where(only, H100E_ONLY_NAME, out["chip_key"].map(catalog["name"]))
    families = catalog["family"] if "family" in catalog else pd.Series(dtype=object)
    out["family"] = np.where(only, "Unspecified", out["chip_key"].map(families).fillna("Other"))
    out["spec_known"] = out["factor"].notna()
    for src, dst in (("qty", "h100e"), ("low", "h100e_low"), ("high", "h100e_high")):
        out[dst] = out[src] * out["factor"]
    return pd.concat([out, _whole_remainder(combined.whole, out)], ignore_index=True)


def _whole_remainder(whole: pd.DataFrame, priced: pd.DataFrame) -> pd.DataFrame:
    if whole.empty:
        return pd.DataFrame(columns=priced.columns)
    known = priced.loc[priced["spec_known"]].groupby("holder_id")[["h100e", "h100e_low", "h100e_high"]].sum()
    w = whole.join(known, on="holder_id").fillna({"h100e": 0.0, "h100e_low": 0.0, "h100e_high": 0.0})
    rest = pd.DataFrame({"holder_id": w["holder_id"], "chip_key": WHOLE, "basis": "whole",
                         "valid_on": w["valid_on"], "whole_qty": w["qty"], "whole_low": w["low"],
                         "whole_high": w["high"], "factor": 1.0, "chip": WHOLE_NAME, "family": "Unspecified",
                         "spec_known": True, "n_clusters": 0})
    for src, dst in (("qty", "h100e"), ("low", "h100e_low"), ("high", "h100e_high")):
        rest[dst] = (w[src] - w[dst]).clip(lower=0.0)
        rest[src] = rest[dst]
    return rest


def counted(contributions: pd.DataFrame, by_chip: pd.DataFrame) -> pd.Series:
    """Which contributing estimates a total rests on (organisation-wide ones only if they add)."""
    adding = by_chip.loc[(by_chip["chip_key"] == WHOLE) & (by_chip["qty"] > 0), "holder_id"]
    is_whole = contributions["component"] == "whole"
    return (contributions["counted"] & ~is_whole) | (is_whole & contributions["holder_id"].isin(adding))


def chip_mix(known: pd.DataFrame) -> pd.Series:
    """"H100 80%, A100 20%" per holder: chips by share of its H100e, largest first (< 0.5% left out)."""
    ordered = known.sort_values(["holder_id", "h100e"], ascending=[True, False], kind="stable")
    share = ordered["h100e"] / ordered.groupby("holder_id", sort=False)["h100e"].transform("sum")
    listed = (share >= 0.005).to_numpy()
    ordered, share = ordered.loc[listed], share.loc[listed]
    labels = (ordered["chip"].astype(str) + " " + (share * 100).round(0).astype("Int64").astype(str) + "%").to_numpy()
    holders = ordered["holder_id"].to_numpy()
    if not len(holders):
        return pd.Series(dtype=object)
    # one join per holder over contiguous runs (the rows are sorted by holder)
    starts = np.flatnonzero(np.r_[True, holders[1:] != holders[:-1]])
    ends = np.r_[starts[1:], len(holders)]
    return pd.Series([", ".join(labels[a:b]) for a, b in zip(starts, ends)], index=holders[starts])


def _certainty_label(ranks: pd.Series) -> pd.Series:
    names = {rank: str(c) for c, rank in CERTAINTY_RANK.items()}
    return ranks.map(names)


def org_totals(by_chip: pd.DataFrame, contributions: pd.DataFrame) -> pd.DataFrame:
    """One row per holder: H100e total and range, chip mix, last date, sources, certainty."""
    known = by_chip.loc[by_chip["spec_known"] & (by_chip["qty"] > 0)]
    grouped = known.groupby("holder_id")
    totals = grouped.agg(h100e=("h100e", "sum"), h100e_low=("h100e_low", "sum"),
                         h100e_high=("h100e_high", "sum"), last_valid_on=("valid_on", "max"))
    totals["chip_mix"] = chip_mix(known)
    unknown = by_chip.loc[~by_chip["spec_known"] & (by_chip["qty"] > 0)].groupby("holder_id").size()
    totals = totals.join(unknown.rename("chips_unknown_spec"), how="outer")
    totals["chips_unknown_spec"] = totals["chips_unknown_spec"].fillna(0).astype("int64")
    used = contributions.loc[counted(contributions, by_chip), ["holder_id", "id", "source_url", "certainty"]]
    # distinct sources counted on integer codes: a string nunique is most of the cost at scale
    codes = pd.Series(pd.factorize(used["source_url"])[0], index=used.index).where(used["source_url"].notna())
    totals["n_sources"] = codes.groupby(used["holder_id"]).nunique().reindex(totals.index).fillna(0).astype("int64")
    totals["n_estimates"] = used.groupby("holder_id")["id"].size().reindex(totals.index).fillna(0).astype("int64")
    ranks = pd.Series({str(c): rank for c, rank in CERTAINTY_RANK.items()})
    lowest = pd.Series(ranks.reindex(used["certainty"].astype(object)).to_numpy(), index=used.index).groupby(
        used["holder_id"]).min()
    totals["certainty"] = _certainty_label(lowest.reindex(totals.index))
    for column in ("h100e", "h100e_low", "h100e_high"):
        totals[column] = totals[column].fillna(0.0)
    return totals.reset_index().sort_values("h100e", ascending=False, ignore_index=True)


@dataclass
class FleetState:
    """Everything a page needs about fleets at one (as-of, known-at, basis, filters)."""

    by_chip: pd.DataFrame  # (holder, chip) figures with h100e columns
    totals: pd.DataFrame  # one row per organisation, joined with its name/kind/country
    contributions: pd.DataFrame  # the estimates behind the figures
    excluded_unknown_spec: int  # (holder, chip) figures left out for lack of a spec on the basis


def fleet_state(estimates: pd.DataFrame, chips: pd.DataFrame, organisations: pd.DataFrame, *,
                as_of, basis: Basis | str = Basis.EIGHT_BIT, include_planned: bool = False,
                min_certainty: str = "speculative", attribute_to: str = "owner",
                kinds: tuple[str, ...] = (), countries: tuple[str, ...] = ()) -> FleetState:
    """Combine, convert to H100e and total per organisation, then apply organisation filters."""
    options = CombineOptions(as_of=as_of, include_planned=include_planned, min_certainty=min_certainty,
                             attribute_to=attribute_to)
    combined = combine(estimates, options)
    by_chip = h100e_by_chip(combined, chips, basis)
    orgs = organisations.set_index("id")[["name", "kind", "country", "parent_id"]]
    keep = orgs.index
    if kinds:
        keep = keep[orgs.loc[keep, "kind"].isin(kinds)]
    if countries:
        keep = keep[orgs.loc[keep, "country"].isin(countries)]
    by_chip = by_chip.loc[by_chip["holder_id"].isin(keep)]
    listed = combined.contributions["holder_id"].isin(keep)
    contributions = combined.contributions if listed.all() else combined.contributions.loc[listed]
    contributions["counted"] = counted(contributions, by_chip)
    totals = org_totals(by_chip, contributions).join(orgs, on="holder_id")
    unknown = int((~by_chip["spec_known"] & (by_chip["qty"] > 0)).sum())
    return FleetState(by_chip=by_chip, totals=totals, contributions=contributions, excluded_unknown_spec=unknown)
