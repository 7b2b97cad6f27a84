"""Breakdowns of the combined fleets: by chip family and vendor, per staff member, by country.

Pure pandas over the frames ``fleet.analytics.fleet`` and ``compute_series`` produce; the
Chips, Compute-per-researcher and Countries pages draw what these return (the Organisation
page's own tables are in ``fleet.analytics.organisation``). Chip figures without a spec on
the basis (``spec_known`` False) never enter a total; each function that drops them says
how many it dropped.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from fleet.analytics.combine import H100E_ONLY, WHOLE
from fleet.chips import Basis, factor_series
from fleet.countries import country_name, region
from fleet.vocab import HeadcountKind

UNSPECIFIED = "Unspecified (H100e only)"
NVIDIA, TPU, OTHER = "Nvidia", "Google TPU", "Other chips"
VENDOR_ORDER = [NVIDIA, TPU, OTHER, UNSPECIFIED]
REGION_ORDER = ["United States", "China", "Europe", "Rest of world", "Unknown"]
HEADCOUNT_CHOICES = ("staff", "researchers", "any")


# --- chips -----------------------------------------------------------------------------------------

def vendor_groups(chips: pd.DataFrame) -> pd.Series:
    """Chip id -> Nvidia / Google TPU / Other chips (by the catalog's vendor and family)."""
    vendor = chips["vendor"].fillna("").str.casefold()
    family = chips["family"].fillna("").str.casefold()
    group = np.select([vendor.str.contains("nvidia"), family.str.startswith("tpu") | vendor.eq("google")],
                      [NVIDIA, TPU], OTHER)
    return pd.Series(group, index=chips["id"].to_numpy())


def grouped_over_time(series: pd.DataFrame, chips: pd.DataFrame, by: str) -> pd.DataFrame:
    """Per date and group (``family`` or ``vendor``): H100e and share of the date's total (%).

    Rows without a spec on the basis are left out and counted per date in ``excluded`` (a
    ``chip_totals`` row stands for its ``holders`` rows of ``chip_series``).
    """
    known = series.loc[series["spec_known"].astype(bool)]
    if by == "vendor":
        special = known["chip_key"].isin([H100E_ONLY, WHOLE])
        group = known["chip_key"].map(vendor_groups(chips)).where(~special, UNSPECIFIED).fillna(OTHER)
    else:
        group = known["family"].where(~known["chip_key"].isin([H100E_ONLY, WHOLE]), UNSPECIFIED).fillna("Other")
    out = known.assign(group=group).groupby(["date", "group"], as_index=False)["h100e"].sum()
    out["share"] = 100 * out["h100e"] / out.groupby("date")["h100e"].transform("sum")
    unknown = series.loc[~series["spec_known"].astype(bool)]
    excluded = unknown.groupby("date")["holders"].sum() if "holders" in unknown else unknown.groupby("date").size()
    out["excluded"] = out["date"].map(excluded).fillna(0).astype("int64")
    return out.sort_values(["date", "h100e"], ascending=[True, False], ignore_index=True)


def _factor_text(value: float) -> str:
    return "unknown" if pd.isna(value) else f"{value:.4g}"


def catalog_table(chips: pd.DataFrame, by_chip: pd.DataFrame, basis: Basis | str) -> pd.DataFrame:
    """The chip catalog with specs, the H100e factor on every basis ("unknown" where a figure is
    missing) and each chip's count and H100e in the fleets at the as-of date on ``basis``."""
    catalog = chips.set_index("id")
    counted = by_chip.loc[by_chip["chip_key"] >= 0].groupby("chip_key")
    out = pd.DataFrame({
        "Chip": catalog["name"], "Vendor": catalog["vendor"], "Family": catalog["family"],
        "Released": pd.to_datetime(catalog["release_date"]).dt.date,
        "Dense BF16 (TFLOP/s)": catalog["peak_flops_bf16"] / 1e12,
        "Dense 8-bit (TOP/s)": catalog["peak_ops_8bit"] / 1e12,
        "FP32 (TFLOP/s)": catalog["peak_flops_fp32"] / 1e12,
        "Memory (GB)": catalog["memory_gb"], "Memory bandwidth (GB/s)": catalog["memory_bw_gb_s"],
        "TDP (W)": catalog["tdp_w"], "Price (USD)": catalog["price_usd"],
    })
    for b in Basis:
        out[f"H100e per chip ({b.value} basis)"] = factor_series(catalog, b).map(_factor_text)
    out["Chips in tracked fleets"] = counted["qty"].sum().reindex(out.index).fillna(0.0).round(0)
    out[f"H100e in tracked fleets ({Basis(basis).value} basis)"] = (
        counted["h100e"].sum(min_count=1).reindex(out.index).round(0))
    out["Source"] = catalog["source_url"]
    return out.sort_values(["Chips in tracked fleets", "Chip"], ascending=[False, True]).reset_index(drop=True)


# --- compute per researcher -------------------------------------------------------------------------

def nearest_headcounts(headcounts: pd.DataFrame, as_of: date, kind: str = "staff") -> pd.DataFrame:
    """Per organisation, the headcount whose date is nearest ``as_of`` (either side).

    Ties in distance go to the date on or before ``as_of`` (known then); with ``kind="any"``
    staff beats researchers on the same date. Several reports of the chosen kind on that date
    give their median, and ``reports``/``low``/``high`` say so.
    """
    if kind not in HEADCOUNT_CHOICES:
        raise ValueError(f"headcount kind must be one of {', '.join(HEADCOUNT_CHOICES)}")
    h = headcounts if kind == "any" else headcounts.loc[headcounts["kind"] == kind]
    h = h.loc[h["count"].notna() & (h["count"] > 0)]
    columns = ["organisation_id", "headcount", "low", "high", "reports", "kind", "valid_on", "days_from_as_of",
               "source_url"]
    if h.empty:
        return pd.DataFrame(columns=columns)
    when = pd.to_datetime(h["valid_on"])
    days = (when - pd.Timestamp(as_of)).dt.days
    h = h.assign(days=days, distance=days.abs(), after=days > 0,
                 kind_rank=h["kind"].map({HeadcountKind.STAFF: 0}).fillna(1), when=when)
    h = h.sort_values(["organisation_id", "distance", "after", "kind_rank", "id"])
    best = h.groupby("organisation_id", sort=False).head(1)[["organisation_id", "when", "kind"]]
    chosen = h.merge(best, on=["organisation_id", "when", "kind"])
    grouped = chosen.groupby("organisation_id", sort=False)
    out = grouped.agg(headcount=("count", "median"), low=("count", "min"), high=("count", "max"),
                      reports=("count", "size"), kind=("kind", "first"), valid_on=("when", "first"),
                      days_from_as_of=("days", "first"), source_url=("source_url", "first"))
    return out.reset_index()[columns]


def per_staff(totals: pd.DataFrame, chosen: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Organisations with H100e and a headcount, ranked by H100e per head (ties share a rank)."""
    mine = totals.loc[totals["h100e"] > 0, ["holder_id", "name", "h100e", "h100e_low", "h100e_high"]]
    joined = mine.merge(chosen, left_on="holder_id", right_on="organisation_id", how="inner")
    joined["per_head"] = joined["h100e"] / joined["headcount"]
    joined["rank"] = joined["per_head"].rank(method="min", ascending=False).astype("int64")
    joined["group"] = np.where(joined["h100e"] >= threshold, "GPU-rich", "GPU-poor")
    return joined.sort_values(["rank", "name"], ignore_index=True)


# --- countries -------------------------------------------------------------------------------------

def country_totals(totals: pd.DataFrame) -> pd.DataFrame:
    """H100e per holder's home country (ISO3), with its region and largest organisation."""
    t = totals.loc[totals["h100e"] > 0].sort_values("h100e", ascending=False)
    iso = t["country"].fillna("")
    grouped = t.groupby(iso, sort=False)
    out = grouped.agg(h100e=("h100e", "sum"), h100e_low=("h100e_low", "sum"), h100e_high=("h100e_high", "sum"),
                      organisations=("holder_id", "nunique"), largest=("name", "first"))
    out.index.name = "iso3"
    out = out.reset_index()
    out["country"] = out["iso3"].map(country_name)
    out["region"] = out["iso3"].map(region)
    out["share"] = 100 * out["h100e"] / out["h100e"].sum() if len(out) else []
    return out.sort_values("h100e", ascending=False, ignore_index=True)


def region_map(organisations: pd.DataFrame) -> pd.Series:
    """Organisation id -> United States / China / Europe / Rest of world / Unknown (home country)."""
    return pd.Series(organisations["country"].map(region).to_numpy(), index=organisations["id"].to_numpy())


# --- one organisation ------------------------------------------------------------------------------

def resolve_organisation(organisations: pd.DataFrame, text: str) -> int | None:
    """The id of the organisation ``text`` names (name or alias, compared by name key), else None."""
    from fleet.names import name_key

    key = name_key(text or "")
    if not key:
        return None
    for org_id, name, aliases in organisations[["id", "name", "aliases"]].itertuples(index=False):
        if key == name_key(name) or key in {name_key(a) for a in str(aliases or "").split("|") if a}:
            return int(org_id)
    return None


def estimate_h100e(frame: pd.DataFrame, chips: pd.DataFrame, basis: Basis | str) -> pd.DataFrame:
    """Each estimate's own H100e (point, low, high) on the basis: count × factor, or its H100e figure."""
    factor = frame["chip_id"].map(factor_series(chips.set_index("id"), basis)).astype("float64")
    has_chip = frame["chip_id"].notna()
    out = {}
    for which, count, h in (("", "count", "h100e"), ("_low", "count_low", "h100e_low"),
                            ("_high", "count_high", "h100e_high")):
        priced = frame[count].astype("float64") * factor
        out["h100e" + which] = priced.where(has_chip, frame[h].astype("float64"))
    out = pd.DataFrame(out, index=frame.index)
    out["h100e_low"] = out["h100e_low"].fillna(out["h100e"])
    out["h100e_high"] = out["h100e_high"].fillna(out["h100e"])
    return out


def conflicts(history: pd.DataFrame) -> pd.Series:
    """How many live estimates share each live estimate's owner, chip, scope, cluster and date (1 = none)."""
    live = history.loc[history["state"] == "live"]
    keys = [live["organisation_id"], live["chip_id"].fillna(-1), live["scope"],
            live["cluster"].fillna("").astype(str).str.casefold().str.strip(), live["valid_on"]]
    sizes = live.groupby(keys, dropna=False)["id"].transform("size")
    return sizes.reindex(history.index).fillna(0).astype("int64")


def estimates_table(history: pd.DataFrame, chips: pd.DataFrame, organisations: pd.DataFrame,
                    holder_id: int, basis: Basis | str) -> pd.DataFrame:
    """Every estimate of the organisation (live, superseded, retracted) with its H100e and flags."""
    names = organisations.set_index("id")["name"]
    chip_names = chips.set_index("id")["name"]
    priced = estimate_h100e(history, chips, basis)
    n_same = conflicts(history)
    role = np.where(history["organisation_id"] == holder_id, "owner",
                    "user (from " + history["organisation_id"].map(names).fillna("?").astype(str) + ")")
    b = Basis(basis).value
    out = pd.DataFrame({
        "Date": pd.to_datetime(history["valid_on"]).dt.date,
        "State": history["state"],
        "Conflict": np.where(n_same > 1, "same-date conflict (" + n_same.astype(str) + " estimates)", ""),
        "Chip": history["chip_id"].map(chip_names).fillna("H100e (chips not specified)"),
        "Count": history["count"].astype("Float64"),
        "Count low": history["count_low"].astype("Float64"), "Count high": history["count_high"].astype("Float64"),
        f"H100e ({b} basis)": priced["h100e"].round(0),
        f"H100e low ({b} basis)": priced["h100e_low"].round(0),
        f"H100e high ({b} basis)": priced["h100e_high"].round(0),
        "Scope": history["scope"], "Cluster": history["cluster"].fillna(""),
        "Status": history["status"], "Certainty": history["certainty"], "Role": role,
        "Source": history["source_url"], "Source title": history["source_title"].fillna(""),
        "Quote": history["quote"].fillna(""), "Recorded at": history["recorded_at"],
        "Estimate id": history["id"].astype("int64"),
    })
    return out.sort_values(["Date", "Estimate id"], ascending=[False, True], ignore_index=True)


def combined_figure(by_chip: pd.DataFrame, holder_id: int) -> pd.DataFrame:
    """Per chip: (a) the fleet-scope figure, (b) the cluster sum, and the larger one counted, in H100e."""
    mine = by_chip.loc[by_chip["holder_id"] == holder_id].reindex(
        columns=[*by_chip.columns.drop("whole_qty", errors="ignore"), "whole_qty"])
    factor = mine["factor"]
    out = pd.DataFrame({
        "chip": mine["chip"], "spec_known": mine["spec_known"],
        "fleet_chips": mine["fleet_qty"], "clusters_chips": mine["clusters_qty"],
        "n_clusters": mine["n_clusters"].fillna(0).astype("int64"),
        "fleet_h100e": mine["fleet_qty"] * factor, "clusters_h100e": mine["clusters_qty"] * factor,
        "h100e": mine["h100e"], "h100e_low": mine["h100e_low"], "h100e_high": mine["h100e_high"],
        "counted_from": mine["basis"], "valid_on": mine["valid_on"],
    })
    whole = mine["chip_key"] == WHOLE
    out["org_wide"] = whole
    # The organisation-wide figure in full (not just the remainder the totals add).
    out.loc[whole, "fleet_h100e"] = mine.loc[whole, "whole_qty"]
    out.loc[whole, "counted_from"] = "organisation-wide figure (adds its excess over the chip figures)"
    return out.sort_values("h100e", ascending=False, ignore_index=True)


def combined_totals(parts: pd.DataFrame) -> dict[str, float]:
    """The organisation's (a) fleet-scope figure (its organisation-wide H100e, or the sum of its
    chip-level fleet estimates if larger) and (b) the sum of its clusters, in H100e (known specs)."""
    known = parts.loc[parts["spec_known"].astype(bool)]
    whole = known["org_wide"].astype(bool)
    chip_fleet = float(known.loc[~whole, "fleet_h100e"].sum())
    org_wide = float(known.loc[whole, "fleet_h100e"].sum())
    has_fleet = bool(known["fleet_h100e"].notna().any())
    has_clusters = bool(known["clusters_h100e"].notna().any())
    return {"fleet": max(chip_fleet, org_wide) if has_fleet else float("nan"),
            "clusters": float(known["clusters_h100e"].sum()) if has_clusters else float("nan")}
