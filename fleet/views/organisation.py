"""Organisation page data: one organisation's fleet over time by chip, its estimates (live,
superseded, retracted) with their ranges, how its figure combines, headcounts and model runs.

The view describes the organisation *as of* a date, as ``fleet_state`` does: its figures rest
on estimates valid on or before that date. Estimates valid, and model runs published, after
it are plans, forecasts and later events (as recorded by the known-at time), not its state
then. They are kept apart in their own tables (``estimates_after_as_of`` and
``model_runs_after_as_of``, present when they have rows), not dropped: the main tables list
exactly what the figures can rest on, yet a plan such as a 2030 target stays in sight when
the as-of date is today.

``org`` names the organisation (case-insensitive; aliases accepted). Empty or unknown means
the largest organisation at the as-of date; the ``organisation`` table's ``Notice`` says when
a name was not found, so the CLI and the page report it alike.
"""

from __future__ import annotations

from typing import Any, Mapping
from urllib.parse import quote

import pandas as pd

from fleet.analytics import breakdown
from fleet.analytics.compute_series import chip_series, relevant_estimates, series_dates
from fleet.countries import country_name
from fleet.view_state import Filters, Param
from fleet.views.base import Store, register, series_options
from fleet.vocab import OrgKind


def _org_text(text: str) -> str:
    value = " ".join(text.split())
    if len(value) > 200:
        raise ValueError("longer than 200 characters")
    return value


PARAMS = (Param("org", _org_text, str, "", "Organisation (empty: the largest)"),)


def page_url(name: str) -> str:
    """The link to an organisation's page (a LinkColumn shows it as the name)."""
    return f"/organisation?org={quote(str(name))}"


def h100e_col(basis: str, which: str = "") -> str:
    return f"H100e {which + ' ' if which else ''}({basis} basis)"


def largest(store: Store, filters: Filters) -> int | None:
    """The organisation with the most H100e at the as-of date (else any organisation with estimates)."""
    totals = store.fleet(filters).holders
    named = totals.loc[(totals["kind"] != OrgKind.UNATTRIBUTED) & (totals["h100e"] > 0)]
    if len(named):
        return int(named["holder_id"].iloc[0])
    held = store.estimates(filters.known_at)["organisation_id"]
    return int(held.value_counts().index[0]) if len(held) else None


def pick(store: Store, filters: Filters, text: str) -> tuple[int | None, str]:
    """(organisation id, notice): the named organisation, or the largest one with a notice why."""
    found = breakdown.resolve_organisation(store.organisations(), text) if text else None
    if found is not None:
        return found, ""
    fallback = largest(store, filters)
    if not text:
        return fallback, ""
    return fallback, f"Unknown organisation {text!r}; showing the largest organisation instead."


def timeline(store: Store, filters: Filters, holder_id: int) -> pd.DataFrame:
    """Its fleet by chip at quarter ends and at its estimates' dates (chips with a spec on the basis)."""
    options = series_options(filters, (holder_id,))
    pool = relevant_estimates(store.estimates(filters.known_at), [holder_id])
    dates = series_dates(pool, filters.as_of, include_estimate_dates=True)
    series = chip_series(pool, store.chips(), store.organisations(), dates, options)
    series = series.loc[(series["holder_id"] == holder_id) & series["spec_known"].astype(bool)]
    b = filters.basis.value
    return pd.DataFrame({"Date": series["date"].dt.date, "Chip": series["chip"],
                         h100e_col(b): series["h100e"].round(1)}).reset_index(drop=True)


def split_at(frame: pd.DataFrame, dates: str, as_of) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows dated on or before ``as_of``, rows dated after it). An undated row stays with the
    first: nothing says it lies after the date."""
    later = (pd.to_datetime(frame[dates]) > pd.Timestamp(as_of)).to_numpy()
    return frame.loc[~later].reset_index(drop=True), frame.loc[later].reset_index(drop=True)


def points(estimates: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """Its live estimates (``estimates`` holds those dated up to the as-of date), as points with ranges."""
    b = filters.basis.value
    live = estimates.loc[estimates["State"] == "live"]
    columns = ["Date", "Chip", h100e_col(b), h100e_col(b, "low"), h100e_col(b, "high"), "Scope", "Cluster",
               "Status", "Certainty", "Conflict", "Estimate id"]
    return live.loc[live[h100e_col(b)].notna(), columns].sort_values("Date", ignore_index=True)


def history_chart(fleet: pd.DataFrame, estimates: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """What the fleet-over-time chart draws: the combined fleet by chip (stacked) and the estimates."""
    b = filters.basis.value
    fleet = fleet.assign(Series="combined fleet (stacked by chip)")
    estimates = estimates.assign(Series="estimate")
    columns = ["Series", "Date", "Chip", h100e_col(b), h100e_col(b, "low"), h100e_col(b, "high"), "Scope",
               "Cluster", "Status", "Certainty", "Conflict", "Estimate id"]
    estimates = estimates.reindex(columns=columns)
    # the fleet rows (hundreds of thousands for a big fleet) have no estimate's text: blank in
    # the estimates' own string dtype, not NaN, which would turn each column into Python objects
    text = {c: estimates[c].dtype for c in columns if c not in fleet and isinstance(estimates[c].dtype, pd.StringDtype)}
    fleet = fleet.reindex(columns=columns).astype(text)
    return pd.concat([fleet, estimates], ignore_index=True)


def combined(store: Store, filters: Filters, holder_id: int) -> pd.DataFrame:
    rows = breakdown.combined_figure(store.fleet(filters).by_chip, holder_id)
    b = filters.basis.value
    return pd.DataFrame({
        "Chip": rows["chip"],
        "(a) Fleet-scope estimate (chips)": rows["fleet_chips"].round(0),
        "(b) Sum of operational clusters (chips)": rows["clusters_chips"].round(0),
        "Clusters": rows["n_clusters"],
        f"(a) in H100e ({b} basis)": rows["fleet_h100e"].round(0),
        f"(b) in H100e ({b} basis)": rows["clusters_h100e"].round(0),
        f"Counted: {h100e_col(b)}": rows["h100e"].round(0).where(rows["spec_known"]),
        h100e_col(b, "low"): rows["h100e_low"].round(0).where(rows["spec_known"]),
        h100e_col(b, "high"): rows["h100e_high"].round(0).where(rows["spec_known"]),
        "Counted from": rows["counted_from"].where(rows["spec_known"], "unknown spec on this basis: not counted"),
        "Latest date": pd.to_datetime(rows["valid_on"]).dt.date,
    })


def _round(value: float) -> float | None:
    return None if pd.isna(value) else float(round(value))


def summary(store: Store, filters: Filters, holder_id: int, notice: str) -> pd.DataFrame:
    org = store.organisations().set_index("id").loc[holder_id]
    totals = store.fleet(filters).holders.set_index("holder_id")
    row = totals.loc[holder_id] if holder_id in totals.index else None
    b = filters.basis.value
    both = breakdown.combined_totals(breakdown.combined_figure(store.fleet(filters).by_chip, holder_id))
    value = lambda col: float(row[col]) if row is not None else 0.0  # noqa: E731
    return pd.DataFrame([{
        "Organisation": org["name"], "Kind": org["kind"], "Country": country_name(org["country"]),
        "Parent": org["parent"] if isinstance(org["parent"], str) else "",
        "Aliases": str(org["aliases"] or "").replace("|", ", "),
        h100e_col(b): round(value("h100e")), h100e_col(b, "low"): round(value("h100e_low")),
        h100e_col(b, "high"): round(value("h100e_high")),
        f"(a) Fleet-scope figure, H100e ({b} basis)": _round(both["fleet"]),
        f"(b) Sum of clusters, H100e ({b} basis)": _round(both["clusters"]),
        "Chip figures without a spec on this basis (not counted)": int(value("chips_unknown_spec")),
        "Notice": notice, "id": int(holder_id),
    }])


def people_and_runs(store: Store, filters: Filters, holder_id: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    h = store.headcounts(filters.known_at)
    h = h.loc[h["organisation_id"] == holder_id].sort_values("valid_on", ascending=False)
    heads = pd.DataFrame({"Date": h["valid_on"].dt.date, "Headcount": h["count"], "Kind": h["kind"],
                          "Scope": h["scope_note"].fillna(""), "Source": h["source_url"]})
    r = store.model_runs(filters.known_at)
    r = r.loc[r["organisation_id"] == holder_id].sort_values("published_on", ascending=False)
    runs = pd.DataFrame({"Model": r["name"], "Published": r["published_on"].dt.date,
                         "Training compute (FLOP)": r["training_flop"], "Hardware": r["hardware"].fillna(""),
                         "Chips": r["hardware_quantity"], "Source": r["source_url"]})
    return heads.reset_index(drop=True), runs.reset_index(drop=True)


@register("organisation", "Organisation", PARAMS)
def build(store: Store, filters: Filters, values: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    holder_id, notice = pick(store, filters, values.get("org", ""))
    if holder_id is None:
        return {}
    history = store.estimate_history(holder_id, filters.known_at)
    every = breakdown.estimates_table(history, store.chips(), store.organisations(), holder_id, filters.basis)
    estimates, estimates_later = split_at(every, "Date", filters.as_of)
    parts = combined(store, filters, holder_id)
    heads, all_runs = people_and_runs(store, filters, holder_id)
    runs, runs_later = split_at(all_runs, "Published", filters.as_of)
    tables = {"organisation": summary(store, filters, holder_id, notice),
              "history": history_chart(timeline(store, filters, holder_id), points(estimates, filters), filters),
              "estimates": estimates, "combined": parts, "headcounts": heads, "model_runs": runs}
    return tables | later_tables(estimates_later, runs_later)


def later_tables(estimates: pd.DataFrame, runs: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The tables of what is dated after the as-of date, those with rows only: a view with nothing
    to list apart keeps the tables it had before they were split off, so the snapshots frozen
    from it then (hashed over every table) still reproduce."""
    later = {"estimates_after_as_of": estimates, "model_runs_after_as_of": runs}
    return {name: table for name, table in later.items() if len(table)}
