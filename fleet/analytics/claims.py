"""Evaluate a claim against what the store knows: met / not met / pending / insufficient data.

Each claim is read at its target date (the ``as_of`` of every figure) from a
``StoreView``; the caller evaluates it twice, with the store *as known at the target
date* (bitemporal ``known_at``) and *as known now*, so a reader sees both what could be
checked then and what is known since.

- **pending**: the target date is after the evaluation day (the figure so far is shown).
- **insufficient data**: the metric is unknown to Fleet (*unevaluable*: said so), the
  subject names no organisation the store knows, or a figure the metric needs is missing
  (an organisation without estimates of the chips counted is *not* counted as zero).
- **met / not met**: the figure compared with the claim's value. For several named
  organisations every one must meet it. A world total built from tracked fleets is a
  lower bound, so it can confirm "more than" but never refute it (and the reverse for
  "less than").

Nothing is guessed: every figure carries the estimate / model-run ids it came from.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Mapping

import pandas as pd

from fleet.analytics import claim_metrics as cm
from fleet.analytics.claim_metrics import Figure, Measurement, StoreView
from fleet.names import did_you_mean, name_key

COMPARE = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "=": operator.eq}
WORLD = {"world", "global", "all"}


class ClaimStatus(StrEnum):
    MET = "met"
    NOT_MET = "not met"
    PENDING = "pending"
    INSUFFICIENT = "insufficient data"


@dataclass
class Evaluation:
    status: ClaimStatus
    reason: str
    value: float | None = None  # the figure compared (the deciding subject's, for several)
    figures: list[Figure] = field(default_factory=list)
    evaluable: bool = True  # False when the metric itself is unknown

    def estimate_ids(self) -> list[int]:
        return sorted({i for f in self.figures for i in f.estimate_ids})

    def model_run_ids(self) -> list[int]:
        return sorted({i for f in self.figures for i in f.model_run_ids})


def number(value: float) -> str:
    """Readable figures: 350,000 / 2.381 / 2.1e+25."""
    magnitude = abs(value)
    if value == 0:
        return "0"
    if magnitude >= 1e7 or magnitude < 1e-3:
        return f"{value:.3g}"
    return f"{value:,.0f}" if magnitude >= 1000 else f"{value:.4g}"


def compare(value: float, comparator: str, target: float) -> bool:
    if comparator == "=":
        return abs(value - target) <= 1e-9 * max(abs(target), 1.0)
    return COMPARE[comparator](value, target)


def resolve_subjects(subject: str, organisations: pd.DataFrame) -> tuple[list[tuple[int, str]], list[str]]:
    """``"A;B;C"`` -> [(id, name)], problems. Names and aliases compare by name key."""
    keys: dict[str, int] = {}
    for _, row in organisations.iterrows():
        for alias in [row["name"], *(a for a in str(row.get("aliases") or "").split("|") if a)]:
            keys.setdefault(name_key(alias), int(row["id"]))
    names = organisations.set_index("id")["name"]
    found, problems = [], []
    for part in (p.strip() for p in subject.split(";")):
        if not part:
            continue
        ident = keys.get(name_key(part))
        if ident is None:
            problems.append(f"{part!r} is not an organisation in the store{did_you_mean(part, names.tolist())}")
        else:
            found.append((ident, str(names[ident])))
    return found, problems


def _judge(measurement: Measurement, comparator: str, target: float) -> tuple[ClaimStatus, str]:
    if measurement.value is None:
        return ClaimStatus.INSUFFICIENT, measurement.missing
    holds = compare(measurement.value, comparator, target)
    shown = f"{number(measurement.value)} {comparator} {number(target)}"
    if measurement.lower_bound and holds != (comparator in (">", ">=")):
        return ClaimStatus.INSUFFICIENT, (f"{shown} is {'true' if holds else 'false'} for tracked fleets, which are "
                                          "a lower bound of the world total, so it settles nothing")
    return (ClaimStatus.MET, shown) if holds else (ClaimStatus.NOT_MET, f"not {shown}")


def _combine(results: list[tuple[str, Measurement, ClaimStatus, str]]) -> Evaluation:
    """Several subjects: not met if any is not met; else insufficient if any lacks data; else met."""
    figures = [f for _, m, _, _ in results for f in m.figures]
    statuses = [s for _, _, s, _ in results]
    overall = (ClaimStatus.NOT_MET if ClaimStatus.NOT_MET in statuses else
               ClaimStatus.INSUFFICIENT if ClaimStatus.INSUFFICIENT in statuses else ClaimStatus.MET)
    reason = "; ".join(f"{name}: {why}" if len(results) > 1 and not why.startswith(f"{name}:") else why
                       for name, _, _, why in results)
    deciding = [m.value for _, m, s, _ in results if s == overall and m.value is not None]
    return Evaluation(overall, reason, deciding[0] if deciding else None, figures)


def _measure_orgs(handler, claim, view: StoreView, as_of: date) -> Evaluation:
    subjects, problems = resolve_subjects(str(claim["subject"]), view.organisations)
    if not subjects:
        why = "; ".join(problems) if problems else "the subject names no organisation"
        return Evaluation(ClaimStatus.INSUFFICIENT, f"the subject names no organisation the store knows ({why})")
    results = []
    for ident, name in subjects:
        measurement = handler(view, ident, name, as_of)
        status, why = _judge(measurement, claim["comparator"], float(claim["value"]))
        results.append((name, measurement, status, why))
    evaluation = _combine(results)
    if problems:
        evaluation.status = ClaimStatus.INSUFFICIENT if evaluation.status != ClaimStatus.NOT_MET else evaluation.status
        evaluation.reason += "; " + "; ".join(problems)
    return evaluation


def _above_the_line(view: StoreView, tokens: list[str], as_of: date, claim) -> list[Figure]:
    counts = cm.all_counts(view, tokens, as_of)
    names = view.organisations.set_index("id")
    hits = counts.loc[[compare(v, claim["comparator"], float(claim["value"])) for v in counts]]
    return [Figure(f"{names.at[h, 'name']} ({names.at[h, 'country'] or '?'}): "
                   f"{'/'.join(t.upper() for t in tokens)} chips", float(v), "chips", as_of,
                   note="context: meets the line") for h, v in hits.items()]


def _counts(tokens: list[str], claim, view: StoreView, as_of: date) -> Evaluation:
    if str(claim["subject"]).strip().casefold() in WORLD:
        measurement = cm.world_count(view, tokens, as_of)
        status, why = _judge(measurement, claim["comparator"], float(claim["value"]))
        return Evaluation(status, why, measurement.value, measurement.figures)
    evaluation = _measure_orgs(lambda v, i, n, d: cm.chip_count(v, i, n, tokens, d), claim, view, as_of)
    if not evaluation.figures:  # an unnamed subject: list who meets the line, for the reader to judge
        evaluation.figures = _above_the_line(view, tokens, as_of, claim)
    return evaluation


def _versus(tokens: list[str], claim, view: StoreView, as_of: date) -> Evaluation:
    left, _, right = str(claim["subject"]).partition(" vs ")
    if not right:
        return Evaluation(ClaimStatus.INSUFFICIENT, "the subject must read 'X vs A+B+C'")
    def count(subject: str, chips: list[str]) -> Evaluation:
        return _measure_orgs(lambda v, i, n, d: cm.chip_count(v, i, n, chips, d),
                             {**claim, "subject": subject, "comparator": ">=", "value": 0}, view, as_of)

    numerator = count(left, tokens)
    parts = [count(p, ["gpu"]) for p in right.split("+")]
    figures = numerator.figures + [f for p in parts for f in p.figures]
    missing = [e.reason for e in [numerator, *parts] if e.value is None]
    if missing:
        return Evaluation(ClaimStatus.INSUFFICIENT, "; ".join(missing), None, figures)
    ratio = numerator.value / sum(p.value for p in parts) if sum(p.value for p in parts) else float("inf")
    figures.append(Figure("ratio", ratio, "ratio", as_of))
    status, why = _judge(Measurement(ratio), claim["comparator"], float(claim["value"]))
    return Evaluation(status, why, ratio, figures)


def measure(claim: Mapping, view: StoreView, as_of: date) -> Evaluation:
    matched = cm.match_metric(str(claim["metric"]))
    if matched is None:
        return Evaluation(ClaimStatus.INSUFFICIENT, f"unevaluable: Fleet has no way to measure metric "
                                                    f"{claim['metric']!r} from the store", evaluable=False)
    kind, handler = matched
    if kind == "orgs":
        return _measure_orgs(handler, claim, view, as_of)
    if kind == "orgs_or_world":
        return _counts(handler, claim, view, as_of)
    if kind == "versus":
        return _versus(handler, claim, view, as_of)
    measurement = handler(view, as_of)  # "models": no subject organisation
    status, why = _judge(measurement, claim["comparator"], float(claim["value"]))
    return Evaluation(status, why, measurement.value, measurement.figures)


def evaluate(claim: Mapping, view: StoreView, *, today: date) -> Evaluation:
    """The claim's status against ``view`` on ``today`` (pending while its target date is ahead)."""
    target = pd.Timestamp(claim["target_date"]).date()
    if target > today:
        so_far = measure(claim, view, today)
        if not so_far.evaluable:
            return so_far
        shown = number(so_far.value) if so_far.value is not None else "no figure yet"
        return Evaluation(ClaimStatus.PENDING, f"target date {target.isoformat()} is ahead; so far ({today}): "
                                               f"{shown}", so_far.value, so_far.figures)
    return measure(claim, view, target)
