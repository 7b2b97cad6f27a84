"""Load the sourced seed CSVs (``data/seed/``) into a store. Idempotent.

Chips and organisations are added where missing; facts go in one ingest batch per
dataset, skipping rows whose fingerprint is already in the store, so seeding twice adds
nothing (not even an empty batch). ``data/seed/README.md`` says where each file comes
from; ``data/seed/build.py`` rebuilds them from Epoch AI's datasets and the reference
facts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from fleet.auth import Actor
from fleet.db import NothingToWrite, write_session
from fleet.ingest import load
from fleet.ingest.catalog import CatalogReport, upsert_chips, upsert_organisations
from fleet.resolve import Resolver
from fleet.vocab import BatchKind

SEED_FILES = ("chips.csv", "organisations.csv", "estimates.csv", "headcounts.csv", "model_runs.csv")
CLAIMS_FILE = "claims.csv"  # optional: the seed article's claims (see fleet.ledger)


@dataclass
class SeedReport:
    catalog: CatalogReport = field(default_factory=CatalogReport)
    added: dict[str, int] = field(default_factory=dict)  # dataset -> rows added
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        c = self.catalog
        return bool(c.organisations_added or c.chips_added or c.aliases_added or any(self.added.values()))


def _read(seed_dir: Path, name: str) -> pd.DataFrame:
    path = seed_dir / name
    if not path.is_file():
        raise FileNotFoundError(f"seed file missing: {path}")
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""]).astype(object)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _resolve_names(frame: pd.DataFrame, resolver: Resolver, mapping: dict[str, tuple[str, str]]) -> pd.DataFrame:
    """Replace name columns by id columns: ``{"organisation": ("organisation_id", "organisations")}``."""
    out = frame.copy()
    for column, (target, index_name) in mapping.items():
        index = getattr(resolver, index_name)
        names = out[column]
        out[target] = names.map(lambda n: index.resolve(n) if isinstance(n, str) and n else None).astype("Int64")
    return out


def _estimates_frame(frame: pd.DataFrame, resolver: Resolver) -> pd.DataFrame:
    out = _resolve_names(frame, resolver, {
        "organisation": ("organisation_id", "organisations"),
        "user_organisation": ("user_organisation_id", "organisations"),
        "chip": ("chip_id", "chips"),
    })
    for column in ("count", "count_low", "count_high"):
        out[column] = load.as_nullable_int(out[column])
    for column in ("h100e", "h100e_low", "h100e_high", "power_mw"):
        out[column] = load.as_float(out[column])
    out["valid_on"] = pd.to_datetime(out["valid_on"]).dt.date
    out["extra_source_urls"] = out["extra_source_urls"].map(
        lambda v: "\n".join(u for u in v.split("|") if u) if isinstance(v, str) else None)
    return out


def _headcounts_frame(frame: pd.DataFrame, resolver: Resolver) -> pd.DataFrame:
    out = _resolve_names(frame, resolver, {"organisation": ("organisation_id", "organisations")})
    out["count"] = load.as_nullable_int(out["count"])
    out["valid_on"] = pd.to_datetime(out["valid_on"]).dt.date
    return out


def _model_runs_frame(frame: pd.DataFrame, resolver: Resolver) -> pd.DataFrame:
    out = _resolve_names(frame, resolver, {"organisation": ("organisation_id", "organisations"),
                                           "chip": ("chip_id", "chips")})
    for column in ("training_flop", "training_flop_low", "training_flop_high"):
        out[column] = load.as_float(out[column])
    out["hardware_quantity"] = load.as_nullable_int(out["hardware_quantity"])
    out["published_on"] = pd.to_datetime(out["published_on"]).dt.date
    out["milestone"] = out["milestone"].map(lambda v: str(v).strip().lower() == "true")
    return out


_FACTS = (
    # (file, dataset column or fixed dataset name, frame builder, writer)
    ("estimates.csv", "dataset", _estimates_frame, load.add_estimates),
    ("headcounts.csv", "seed-headcounts", _headcounts_frame, load.add_headcounts),
    ("model_runs.csv", "seed-model-runs", _model_runs_frame, load.add_model_runs),
)


def _seed_claims(session, stamp, seed_dir: Path, actor: Actor, report: SeedReport) -> None:
    """Add the claims in claims.csv whose keys are new (one batch; none if nothing is new)."""
    from fleet.ledger import add_claims, parse_claim

    path = seed_dir / CLAIMS_FILE
    if not path.is_file():
        return
    rows = _read(seed_dir, CLAIMS_FILE)
    claims = [parse_claim(row, f"{path.name} row {number}")
              for number, row in enumerate(rows.to_dict("records"), start=2)]
    batch = load.new_batch(session, stamp, kind=BatchKind.SEED, source_name="seed-claims", actor=actor,
                           location=f"data/seed/{CLAIMS_FILE}", sha256=_sha256(path))
    added, skipped = add_claims(session, stamp, batch, claims, actor.name)
    load.finish_batch(batch, stamp, rows_in=len(claims), added=added, skipped=skipped)
    report.added["seed-claims"], report.skipped["seed-claims"] = added, skipped
    if not added:
        session.delete(batch)


def seed(engine: Engine, seed_dir: str | Path, *, actor: Actor | None = None) -> SeedReport:
    """Load every seed file in one transaction; returns what was added."""
    actor = actor or Actor.system("seed")
    seed_dir = Path(seed_dir)
    frames = {name: _read(seed_dir, name) for name in SEED_FILES}
    report = SeedReport()
    try:
        with write_session(engine) as (session, stamp):
            resolver = Resolver.load(session)
            upsert_chips(session, resolver, frames["chips.csv"], report.catalog)
            upsert_organisations(session, resolver, frames["organisations.csv"], stamp, report.catalog)
            for file_name, dataset, build, write in _FACTS:
                raw = frames[file_name]
                groups = raw.groupby(dataset, sort=True) if dataset in raw else [(dataset, raw)]
                for name, rows in groups:
                    batch = load.new_batch(session, stamp, kind=BatchKind.SEED, source_name=str(name),
                                           actor=actor, location=f"data/seed/{file_name}",
                                           sha256=_sha256(seed_dir / file_name))
                    added, skipped = write(session, stamp, batch, build(rows, resolver))
                    report.added[str(name)], report.skipped[str(name)] = added, skipped
                    if added:
                        load.finish_batch(batch, stamp, rows_in=len(rows), added=added, skipped=skipped)
                    else:  # nothing new from this dataset: leave no empty batch behind
                        session.delete(batch)
            _seed_claims(session, stamp, seed_dir, actor, report)
            if not report.changed:
                raise NothingToWrite
    except NothingToWrite:
        pass
    return report
