"""The synthetic store the benchmarks run on: built once per size, cached under bench/.cache/.

``generate(spec)`` draws, with a fixed seed, organisations with a realistic skew (a few
giant fleets, a long tail), estimates over ten years of the seed catalog's chips (fleet
and cluster scope, chip counts and H100e-only figures, conflicting same-day estimates
from different sources, corrections that supersede earlier rows, a few retractions),
recorded in monthly batches after the date they describe; plus headcounts and model runs.

``sqlite_store(spec)`` writes it into a migrated SQLite file with one direct bulk load
(``fleet.ingest.bulk``: multi-row INSERT, indexes rebuilt after), with the batch rows the
facts point at. ``postgres_store(spec)`` does the same into a ``bench_synth`` database
(dropped and recreated when its marker comment does not match). ``import_csv(spec)``
writes the same estimates in the import format (``fleet.ingest.template``) for the
import benchmark. No streamlit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

CACHE = Path(__file__).resolve().parent / ".cache"
SEED_DIR = Path(__file__).resolve().parent.parent / "data" / "seed"
GENERATOR_VERSION = 3  # bump when the generator changes, so cached stores are rebuilt
START, END, NOW = pd.Timestamp("2016-01-01"), pd.Timestamp("2025-12-31"), pd.Timestamp("2026-06-30")
POPULAR = ("H100", "A100", "H200", "B200", "GB200", "V100", "MI300", "TPU v5", "TPU v4", "Trainium")
KINDS = ("company", "lab", "cloud", "hyperscaler", "academic", "government", "other")
COUNTRIES = ("USA", "CHN", "GBR", "FRA", "DEU", "JPN", "KOR", "IND", "CAN", "SAU", "ARE", "SGP")


@dataclass(frozen=True)
class Spec:
    organisations: int
    estimates: int
    seed: int = 20231128

    @property
    def label(self) -> str:
        n = self.estimates
        return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else f"{n // 1000}k"

    @property
    def key(self) -> str:
        return f"v{GENERATOR_VERSION}_{self.organisations}o_{self.estimates}e_{self.seed}"


FULL = Spec(organisations=10_000, estimates=1_000_000)
QUICK = Spec(organisations=1_000, estimates=10_000)


def spec_for(quick: bool) -> Spec:
    return QUICK if quick else FULL


# --- the catalog and the organisations --------------------------------------------------------

def catalog() -> pd.DataFrame:
    """The seed's chips (name, release date, weight): popular data-centre chips drawn more often."""
    chips = pd.read_csv(SEED_DIR / "chips.csv", dtype=str, keep_default_na=False)
    release = pd.to_datetime(chips["release_date"].replace("", None), errors="coerce")
    popular = chips["name"].str.contains("|".join(POPULAR), regex=True)
    weight = np.where(popular, 25.0, 1.0) * np.where(chips["peak_ops_8bit"] == "", 0.3, 1.0)
    return pd.DataFrame({"name": chips["name"], "release": release.fillna(START), "weight": weight / weight.sum()})


def org_name(i: int) -> str:
    return f"Synthetic Org {i:05d}"


def organisations(spec: Spec, rng: np.random.Generator) -> pd.DataFrame:
    """Ids 1..n; ``size`` is the fleet scale in chips: Pareto tail, five giants on top."""
    n = spec.organisations
    size = np.minimum(16 * (rng.pareto(1.1, n) + 1), 300_000)
    size[: min(5, n)] = [600_000, 450_000, 350_000, 250_000, 200_000][: min(5, n)]
    return pd.DataFrame({
        "id": np.arange(1, n + 1),
        "name": [org_name(i) for i in range(1, n + 1)],
        "kind": rng.choice(KINDS, n, p=[0.45, 0.15, 0.12, 0.03, 0.15, 0.05, 0.05]),
        "country": rng.choice(COUNTRIES, n),
        "size": size,
    })


# --- the estimates ------------------------------------------------------------------------------

def _base_rows(spec: Spec, orgs: pd.DataFrame, chips: pd.DataFrame, rng: np.random.Generator, n: int) -> pd.DataFrame:
    """``n`` independent estimates: big fleets are reported on more often."""
    weight = orgs["size"].to_numpy() ** 0.6
    org = rng.choice(len(orgs), n, p=weight / weight.sum())
    chip = rng.choice(len(chips), n, p=chips["weight"].to_numpy())
    days = (END - START).days
    valid = START + pd.to_timedelta(rng.integers(0, days, n), unit="D")
    valid = np.maximum(valid.to_numpy(), chips["release"].to_numpy()[chip])  # no chip before its release
    years = (pd.DatetimeIndex(valid) - END).days.to_numpy() / 365.25
    share = rng.dirichlet(np.ones(4), n)[:, 0]  # this chip's share of the holder's fleet
    count = orgs["size"].to_numpy()[org] * 2.0 ** (years / 1.5) * share * rng.lognormal(0, 0.3, n)
    count = np.clip(np.round(count), 1, 5_000_000).astype("int64")
    cluster = rng.random(n) < 0.15
    return pd.DataFrame({
        "org": org, "chip": chip, "valid_on": valid, "count": count,
        "ranged": rng.random(n) < 0.3, "scope": np.where(cluster, "cluster", "fleet"),
        "site": np.where(cluster, rng.integers(0, 5, n), -1),
        "status": rng.choice(["operational", "planned", "decommissioned"], n, p=[0.92, 0.05, 0.03]),
        "certainty": rng.choice(["confirmed", "likely", "speculative"], n, p=[0.3, 0.5, 0.2]),
        "access": rng.choice(["owned", "leased", "rented"], n, p=[0.9, 0.07, 0.03]),
        "user": rng.integers(0, len(orgs), n), "h100e_only": rng.random(n) < 0.02, "source": np.arange(n),
        "lag_days": rng.integers(0, 180, n), "supersedes": -1,
    })


def _variants(base: pd.DataFrame, rng: np.random.Generator, n: int, *, correction: bool) -> pd.DataFrame:
    """Copies of ``n`` base rows with a different count: same-day conflicts from another
    source, or corrections (same source) that supersede their original later."""
    picked = rng.choice(len(base), n, replace=False)
    out = base.iloc[picked].copy()
    out["count"] = np.maximum(1, np.round(out["count"] * rng.uniform(0.6, 1.5, n))).astype("int64")
    out["source"] = np.arange(n) + len(base) + (n if correction else 0)
    if correction:
        out["supersedes"] = picked
        out["lag_days"] = out["lag_days"] + rng.integers(30, 365, n)
    return out


def estimates(spec: Spec, orgs: pd.DataFrame, chips: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The estimates in store terms (names, not ids), ordered by recording time; ``id`` 1..n."""
    n_conflict, n_correct = spec.estimates * 3 // 100, spec.estimates * 2 // 100
    base = _base_rows(spec, orgs, chips, rng, spec.estimates - n_conflict - n_correct)
    rows = pd.concat([base, _variants(base, rng, n_conflict, correction=False),
                      _variants(base, rng, n_correct, correction=True)], ignore_index=True)
    recorded = (pd.to_datetime(rows["valid_on"]) + pd.to_timedelta(rows["lag_days"], unit="D")).clip(upper=NOW)
    rows["month"] = recorded.dt.to_period("M")
    order = np.argsort(rows["month"].array.asi8, kind="stable")
    new_id = np.empty(len(rows), dtype="int64")
    new_id[order] = np.arange(1, len(rows) + 1)
    rows["supersedes_id"] = pd.Series(np.where(rows["supersedes"] >= 0, new_id[rows["supersedes"].clip(0)], 0),
                                     dtype="Int64").where(rows["supersedes"] >= 0)
    rows = rows.iloc[order].reset_index(drop=True)
    rows["id"] = np.arange(1, len(rows) + 1)
    return _named(rows, orgs, chips, rng)


def _named(rows: pd.DataFrame, orgs: pd.DataFrame, chips: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The drawn rows as estimate columns (organisation and chip names, ranges, sources)."""
    n, only = len(rows), rows["h100e_only"].to_numpy()
    count = rows["count"].to_numpy()
    ranged = rows["ranged"].to_numpy()
    names = orgs["name"].to_numpy()
    out = pd.DataFrame({
        "id": rows["id"].to_numpy(),
        "organisation": names[rows["org"]],
        "chip": np.where(only, None, chips["name"].to_numpy()[rows["chip"]]),
        "count": pd.Series(np.where(only, 0, count), dtype="Int64").where(~only),
        "count_low": pd.Series(np.maximum(1, count * 0.8).astype("int64"), dtype="Int64").where(~only & ranged),
        "count_high": pd.Series((count * 1.25).astype("int64"), dtype="Int64").where(~only & ranged),
        "h100e": np.where(only, count.astype("float64"), np.nan),
        "scope": rows["scope"].to_numpy(),
        "cluster": np.where(rows["site"] >= 0, [f"Site {s}" for s in rows["site"]], None),
        "valid_on": pd.DatetimeIndex(rows["valid_on"]).normalize(),
        "status": rows["status"].to_numpy(), "certainty": rows["certainty"].to_numpy(),
        "access": rows["access"].to_numpy(),
        "user_organisation": np.where(rows["access"] != "owned", names[rows["user"]], None),
        "country": orgs["country"].to_numpy()[rows["org"]],
        "source_url": [f"https://example.org/reports/{s}" for s in rows["source"]],
        "source_title": [f"Report {s % 50_000}" for s in rows["source"]],
        "note": np.where(np.arange(n) % 10 == 0, "synthetic row", None),
        "supersedes_id": rows["supersedes_id"].array,
        "month": rows["month"].to_numpy(),
    })
    retract = rng.random(n) < 0.005
    out["retracted"] = retract
    return out


# --- headcounts and model runs ------------------------------------------------------------------

def headcounts(orgs: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    per = rng.integers(0, 4, len(orgs))
    org = np.repeat(np.arange(len(orgs)), per)
    n = len(org)
    staff = np.clip(np.round(orgs["size"].to_numpy()[org] * rng.uniform(0.05, 0.5, n)), 1, 2_000_000)
    return pd.DataFrame({
        "organisation_id": orgs["id"].to_numpy()[org], "count": staff.astype("int64"),
        "kind": rng.choice(["staff", "researchers"], n, p=[0.8, 0.2]),
        "valid_on": START + pd.to_timedelta(rng.integers(0, (END - START).days, n), unit="D"),
        "source_url": [f"https://example.org/staff/{i}" for i in range(n)],
    })


def model_runs(orgs: pd.DataFrame, chips: pd.DataFrame, rng: np.random.Generator, n: int) -> pd.DataFrame:
    weight = orgs["size"].to_numpy()
    org = rng.choice(len(orgs), n, p=weight / weight.sum())
    published = START + pd.to_timedelta(rng.integers(0, (END - START).days, n), unit="D")
    years = (published - START).days.to_numpy() / 365.25
    return pd.DataFrame({
        "name": [f"Synthetic model {i}" for i in range(n)], "organisation_id": orgs["id"].to_numpy()[org],
        "published_on": published, "training_flop": 1e21 * 10 ** (years * 0.6) * rng.lognormal(0, 1, n),
        "chip": chips["name"].to_numpy()[rng.choice(len(chips), n, p=chips["weight"].to_numpy())],
        "hardware_quantity": rng.integers(8, 50_000, n), "milestone": rng.random(n) < 0.01,
        "source_url": [f"https://example.org/models/{i}" for i in range(n)],
    })


@dataclass
class Synthetic:
    spec: Spec
    organisations: pd.DataFrame
    estimates: pd.DataFrame
    headcounts: pd.DataFrame
    model_runs: pd.DataFrame


def generate(spec: Spec) -> Synthetic:
    rng = np.random.default_rng(spec.seed)
    chips = catalog()
    orgs = organisations(spec, rng)
    est = estimates(spec, orgs, chips, rng)
    return Synthetic(spec, orgs, est, headcounts(orgs, rng), model_runs(orgs, chips, rng, max(50, spec.organisations // 2)))


# --- the import CSV ------------------------------------------------------------------------------

CSV_COLUMNS = ("organisation", "chip", "count", "count_low", "count_high", "h100e", "valid_on", "source_url",
               "scope", "cluster", "status", "certainty", "access", "user_organisation", "country",
               "source_title", "note")


def import_csv(spec: Spec) -> Path:
    """The synthetic estimates in the import format (one row each, cached); written with
    Arrow so a million rows take seconds."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"estimates_{spec.key}.csv"
    if path.is_file():
        return path
    frame = generate(spec).estimates.loc[:, list(CSV_COLUMNS)].copy()
    frame["valid_on"] = frame["valid_on"].dt.strftime("%Y-%m-%d")
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    pacsv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), tmp,
                    pacsv.WriteOptions(quoting_style="needed"))
    tmp.replace(path)
    return path


def stamp_for(month: pd.Period, batch_id: int) -> datetime:
    """A batch's recorded_at: the end of its month, a microsecond per batch apart (strictly increasing)."""
    return (month.end_time.normalize() + pd.Timedelta(hours=12, microseconds=batch_id)).to_pydatetime()
