"""CLI commands of the projections issue: ``project``, ``claims`` and ``claims add``.

Registered on the one Typer app by ``fleet.cli`` (``register(app)``). Thin: they read the
store once and call the same functions as the Projections and Claims pages.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated, Optional

import pandas as pd
import typer

from fleet.chips import Basis, FlopFormat
from fleet.cli_ingest import AsUser
from fleet.db import read_session

FORMATS = ("json", "csv")
LICENCE = "Data: Epoch AI (CC-BY 4.0) and the sources linked on each estimate"


def _clean(value):
    """JSON-safe: dates as ISO text, NaN/inf as null, numpy scalars as Python numbers."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if value is pd.NaT or value is None:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _choice(value: str, allowed, what: str) -> str:
    if value.casefold() not in [a.casefold() for a in allowed]:
        raise typer.BadParameter(f"{what} must be one of {', '.join(allowed)} (got {value!r})")
    return value.casefold()


def _share(text: str) -> float | None:
    if text.strip().casefold() in {"cluster", "auto", ""}:
        return None
    try:
        percent = float(text.rstrip("%"))
    except ValueError:
        raise typer.BadParameter(f"--share must be 'cluster' or a percentage 1-100 (got {text!r})") from None
    if not 1 <= percent <= 100:
        raise typer.BadParameter(f"--share must be 'cluster' or a percentage 1-100 (got {text!r})")
    return percent / 100


def _run(mfu: float, days: float, share: str):
    from fleet.analytics.projection import RunSettings

    if not 0 < mfu <= 1:
        raise typer.BadParameter(f"--mfu must be a fraction in (0, 1] (got {mfu:g})")
    if not 0 < days <= 3650:
        raise typer.BadParameter(f"--days must be from 0 to 3650 (got {days:g})")
    return RunSettings(mfu=mfu, days=days, share=_share(share))


def _when(text: str | None, parse, option: str):
    try:
        return parse(text) if text else None
    except ValueError:
        raise typer.BadParameter(f"{option} {text!r} is not an ISO date/time") from None


def _write(frame: pd.DataFrame, header: list[str]) -> None:
    from fleet.exports import write_csv

    write_csv(frame, sys.stdout, header_lines=header)


def project_cmd(
    ctx: typer.Context,
    org: Annotated[str, typer.Option("--org", help="Organisation name or alias.")],
    until: Annotated[Optional[str], typer.Option(help="Project up to this date (default: as-of + 3 years).")] = None,
    basis: Annotated[str, typer.Option(help="H100e basis: 8bit, bf16, price or power.")] = "8bit",
    flops: Annotated[str, typer.Option(help="Peak FLOP/s number format: bf16 (dense) or fp8.")] = "bf16",
    mfu: Annotated[float, typer.Option(help="Model FLOP/s utilisation, 0-1.")] = 0.40,
    days: Annotated[float, typer.Option(help="Training run length in days.")] = 90.0,
    share: Annotated[str, typer.Option(help="'cluster' (largest cluster) or a percentage of the fleet.")] = "cluster",
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Describe fleets at this date (default today).")] = None,
    known_at: Annotated[Optional[str], typer.Option("--known-at", help="What the store knew then (ISO time).")] = None,
    scenario: Annotated[Optional[list[str]], typer.Option(help="ORG:CHIP:COUNT:YYYY-MM-DD (repeatable).")] = None,
    attribute: Annotated[str, typer.Option(help="Count leased/rented capacity under its 'owner' or 'user'.")]
    = "owner",
    fmt: Annotated[str, typer.Option("--format", help="json or csv.")] = "json",
):
    """Growth fit, projected H100e and peak FLOP/s at the horizon, and milestone crossing dates."""
    from fleet.analytics.projection import horizon_date
    from fleet.cli import engine_of, fail
    from fleet.projection_report import ProjectionRequest, run_projection

    fmt = _choice(fmt, FORMATS, "--format")
    as_of_day = _when(as_of, date.fromisoformat, "--as-of") or date.today()
    until_day = _when(until, date.fromisoformat, "--until") or horizon_date(as_of_day, 3)
    known = _when(known_at, datetime.fromisoformat, "--known-at")
    if until_day <= as_of_day:
        fail(f"--until {until_day} must be after the as-of date {as_of_day}")
    request = ProjectionRequest(
        organisation=org, as_of=as_of_day, until=until_day, known_at=known,
        basis=Basis(_choice(basis, [b.value for b in Basis], "--basis")),
        fmt=FlopFormat(_choice(flops, [f.value for f in FlopFormat], "--flops")),
        attribute_to=_choice(attribute, ["owner", "user"], "--attribute"),
        run=_run(mfu, days, share), scenarios=";".join(scenario or []))
    with read_session(engine_of(ctx)) as session:
        try:
            report = run_projection(session, request)
        except (LookupError, ValueError) as exc:
            fail(str(exc).strip("'\""))
    if fmt == "json":
        typer.echo(json.dumps(_clean(report.as_dict()), indent=2, ensure_ascii=False))
    else:
        _write(report.as_frame(), report.header_lines())


claims_app = typer.Typer(help="The claims ledger: every claim with its status and the figures used.",
                         invoke_without_command=True)


@claims_app.callback()
def claims_cmd(ctx: typer.Context,
               fmt: Annotated[str, typer.Option("--format", help="json or csv.")] = "json",
               known_at: Annotated[Optional[str], typer.Option("--known-at", help="Evaluate as the store knew then.")]
               = None):
    """List every claim with its status as known at its target date and as known now."""
    if ctx.invoked_subcommand is not None:
        return
    from fleet.cli import engine_of
    from fleet.ledger import evaluate_ledger, ledger_frame

    fmt = _choice(fmt, FORMATS, "--format")
    known = _when(known_at, datetime.fromisoformat, "--known-at")
    with read_session(engine_of(ctx)) as session:
        entries = evaluate_ledger(session, known_at=known)
    if fmt == "json":
        payload = [{"claim": e.claim, "as_known_at_target": _evaluation(e.then), "as_known_now": _evaluation(e.now)}
                   for e in entries]
        typer.echo(json.dumps(_clean(payload), indent=2, ensure_ascii=False))
    else:
        stamp = known.isoformat() if known else "now"
        _write(ledger_frame(entries), ["view: claims ledger", f"known at: {stamp}", f"evaluated: {date.today()}",
                                       "H100e basis: 8bit (Epoch AI)", LICENCE])


def _evaluation(evaluation) -> dict:
    return {"status": evaluation.status.value, "reason": evaluation.reason, "value": evaluation.value,
            "evaluable": evaluation.evaluable, "figures": [asdict(f) for f in evaluation.figures],
            "estimate_ids": evaluation.estimate_ids(), "model_run_ids": evaluation.model_run_ids()}


@claims_app.command("add")
def claims_add(
    ctx: typer.Context,
    text: Annotated[str, typer.Option(help="The claim, as its author put it.")],
    author: Annotated[str, typer.Option(help="Who made the claim.")],
    made_on: Annotated[str, typer.Option("--made-on", help="When (YYYY-MM-DD).")],
    subject: Annotated[str, typer.Option(help="Organisation(s) ';'-separated, 'World', or 'X vs A+B'.")],
    metric: Annotated[str, typer.Option(help="e.g. h100_count, h100e, largest_training_run_flop_vs_gpt4.")],
    comparator: Annotated[str, typer.Option(help=">=, >, <=, < or =.")],
    value: Annotated[float, typer.Option(help="The claimed figure.")],
    unit: Annotated[str, typer.Option(help="Unit of the figure.")],
    target_date: Annotated[str, typer.Option("--target-date", help="By when (YYYY-MM-DD).")],
    source_url: Annotated[str, typer.Option("--source-url", help="Where the claim was made.")],
    source_name: Annotated[Optional[str], typer.Option("--source-name")] = None,
    key: Annotated[Optional[str], typer.Option("--key", help="Stable id (default: derived).")] = None,
    note: Annotated[Optional[str], typer.Option()] = None,
    user: AsUser = None,
):
    """Add a claim to the ledger (an editor's write, recorded in the audit log)."""
    from fleet.auth import AuthError
    from fleet.cli import engine_of, fail
    from fleet.cli_ingest import _actor
    from fleet.ledger import ClaimError, add_claim

    raw = {"claim_key": key, "text": text, "author": author, "made_on": made_on, "subject": subject,
           "metric": metric, "comparator": comparator, "value": value, "unit": unit, "target_date": target_date,
           "source_name": source_name, "source_url": source_url, "note": note}
    try:
        ident = add_claim(engine_of(ctx), raw, actor=_actor(user))
    except (ClaimError, AuthError) as exc:
        fail(str(exc))
    typer.echo(json.dumps({"added": ident}))


def register(app: typer.Typer) -> None:
    app.command("project")(project_cmd)
    app.add_typer(claims_app, name="claims")
