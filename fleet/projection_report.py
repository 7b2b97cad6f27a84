"""One organisation's projection, read from the store: what ``python -m fleet project`` prints.

Loads the frames "as known at" the request's time, resolves the organisation (aliases,
"did you mean"), resolves scenarios, and runs ``fleet.analytics.forecast.project_holder``.
The report is the fit (growth per year with its 80 % interval), the projected H100e and
peak FLOP/s (and trainable run) at the horizon, and each milestone's crossing date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd
from sqlalchemy.orm import Session

from fleet import queries
from fleet.analytics.compute_series import SeriesOptions
from fleet.analytics.forecast import Outlook, project_holder
from fleet.analytics.projection import INTERVAL_METHOD, RunSettings
from fleet.analytics.scenarios import parse_scenarios, resolve_scenarios
from fleet.chips import BASIS_LABEL, Basis, FlopFormat
from fleet.resolve import Resolver

LICENCE = "licence: Epoch AI data CC-BY 4.0 (https://epoch.ai/data); other sources linked on each estimate"


@dataclass(frozen=True)
class ProjectionRequest:
    organisation: str
    as_of: date
    until: date
    known_at: datetime | None = None
    basis: Basis = Basis.EIGHT_BIT
    fmt: FlopFormat = FlopFormat.BF16
    attribute_to: str = "owner"
    run: RunSettings = RunSettings()
    scenarios: str = ""  # "Org:Chip:N:YYYY-MM-DD;..."


@dataclass
class ProjectionReport:
    request: ProjectionRequest
    outlook: Outlook
    warnings: list[str] = field(default_factory=list)

    def fits(self) -> dict:
        out = {}
        for quantity in ("h100e", "peak_flops"):
            fit = self.outlook.fits.get(quantity)
            out[quantity] = fit.summary() if fit else {"refused": self.outlook.refused.get(quantity)}
        return out

    def as_dict(self) -> dict:
        r = self.request
        crossings = self.outlook.crossings.to_dict("records")
        return {
            "organisation": self.outlook.subject, "as_of": r.as_of, "until": r.until,
            "known_at": r.known_at.isoformat() if r.known_at else "now", "h100e_basis": r.basis.value,
            "flop_format": r.fmt.value, "attribute_to": r.attribute_to, "run": {"mfu": r.run.mfu, "days": r.run.days, "share": r.run.share,
                                                "described": r.run.describe()},
            "interval": INTERVAL_METHOD, "fit": self.fits(), "at_horizon": self.outlook.at_horizon(),
            "crossings": crossings, "scenarios": self.outlook.scenarios.drop(columns=["holder_id", "chip_id"])
            .to_dict("records"), "warnings": self.warnings,
        }

    def as_frame(self) -> pd.DataFrame:
        """A tidy table: one row per figure (item, value, low, high, unit, date, note)."""
        rows = []
        for quantity, fit in self.fits().items():
            unit = "× per year"
            if "refused" in fit:
                rows.append({"item": f"growth of {quantity}", "note": fit["refused"], "unit": unit})
                continue
            rows.append({"item": f"growth of {quantity}", "value": fit["growth_per_year"],
                         "low": fit["growth_per_year_low"], "high": fit["growth_per_year_high"], "unit": unit,
                         "note": f"{fit['n_points']} dated points {fit['first']}..{fit['last']}"})
        horizon = self.outlook.at_horizon()
        for quantity, unit in (("h100e", f"H100e ({self.request.basis.value})"),
                               ("peak_flops", f"FLOP/s (dense {self.request.fmt.value})"), ("run_flop", "FLOP")):
            if f"{quantity}_median" in horizon:
                rows.append({"item": f"{quantity} at horizon", "value": horizon[f"{quantity}_median"],
                             "low": horizon.get(f"{quantity}_low"), "high": horizon.get(f"{quantity}_high"),
                             "unit": unit, "date": self.request.until})
        for c in self.outlook.crossings.to_dict("records"):
            note = f"{c['kind']}; band {c['early'] or '-'} .. {c['late'] or 'after horizon'}"
            if "kind_with_scenarios" in c:
                note += f"; with scenarios: {c['date_with_scenarios'] or c['kind_with_scenarios']}"
            rows.append({"item": f"crosses {c['milestone']}", "value": c["flop"], "unit": "FLOP", "date": c["date"],
                         "low": None, "high": None, "note": note})
        return pd.DataFrame(rows, columns=["item", "value", "low", "high", "unit", "date", "note"])

    def header_lines(self) -> list[str]:
        r = self.request
        return [f"view: projection of {self.outlook.subject}",
                f"basis: H100e {r.basis.value} ({BASIS_LABEL[r.basis]}); peak FLOP/s dense {r.fmt.value}",
                f"as of: {r.as_of}; until: {r.until}; known at: {r.known_at.isoformat() if r.known_at else 'now'}",
                f"run: {r.run.describe()}; leased capacity under its {r.attribute_to}",
                f"projection: {INTERVAL_METHOD}", *(f"scenarios: {r.scenarios}" for _ in [1] if r.scenarios),
                *(f"warning: {w}" for w in self.warnings), LICENCE]


def run_projection(session: Session, request: ProjectionRequest) -> ProjectionReport:
    """Raises ``fleet.resolve.UnknownName`` (with "did you mean") for an unknown organisation."""
    holder = Resolver.load(session).organisations.resolve(request.organisation)
    organisations = queries.organisations_frame(session)
    chips = queries.chips_frame(session)
    resolved, warnings = resolve_scenarios(parse_scenarios(request.scenarios), organisations, chips,
                                           fmt=request.fmt, basis=request.basis)
    outlook = project_holder(
        queries.estimates_frame(session, known_at=request.known_at), chips, organisations,
        queries.model_runs_frame(session, known_at=request.known_at), holder, as_of=request.as_of,
        until=request.until, run=request.run,
        options=SeriesOptions(basis=request.basis, fmt=request.fmt, attribute_to=request.attribute_to),
        resolved=resolved)
    return ProjectionReport(request, outlook, warnings)
