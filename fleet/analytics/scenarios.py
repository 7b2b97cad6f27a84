"""Scenarios: "add N chips of type X to organisation Y by date D", applied on top of the data.

A scenario never changes the store or the growth fit: the fit describes what the
estimates show, and each scenario adds its chips' peak FLOP/s (and H100e) from its date
on, to the observed series and the projection alike. For the largest trainable run a
scenario's chips are one new cluster (a run can use them, or the largest existing
cluster, whichever is larger); with a fixed share of the fleet they simply add to it.

Text form (what the URL holds): ``Meta:B200:100000:2026-06-30;xAI:GB200:50000:2025-12-31``.
Parsing is pure; resolving names against the store's organisations and chips (with
aliases) is a separate step that reports unknown names with "did you mean".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from fleet.chips import Basis, FlopFormat, factor_series
from fleet.analytics.compute_series import chip_flops
from fleet.names import did_you_mean, name_key

MAX_SCENARIOS = 20
MAX_COUNT = 100_000_000


@dataclass(frozen=True)
class Scenario:
    organisation: str
    chip: str
    count: int
    by: date

    def to_text(self) -> str:
        return f"{self.organisation}:{self.chip}:{self.count}:{self.by.isoformat()}"


def _parse_one(text: str, number: int) -> Scenario:
    parts = text.rsplit(":", 3)
    where = f"scenario {number} ({text!r})"
    if len(parts) != 4 or not parts[0].strip() or not parts[1].strip():
        raise ValueError(f"{where}: expected organisation:chip:count:YYYY-MM-DD")
    org, chip, count_text, date_text = (p.strip() for p in parts)
    try:
        count = int(count_text.replace("_", ""))
    except ValueError:
        raise ValueError(f"{where}: count {count_text!r} is not a whole number") from None
    if not 1 <= count <= MAX_COUNT:
        raise ValueError(f"{where}: count must be from 1 to {MAX_COUNT:,}")
    try:
        by = date.fromisoformat(date_text)
    except ValueError:
        raise ValueError(f"{where}: date {date_text!r} is not YYYY-MM-DD") from None
    if not date(1990, 1, 1) <= by <= date(2100, 12, 31):
        raise ValueError(f"{where}: date outside 1990-2100")
    return Scenario(org, chip, count, by)


def parse_scenarios(text: str) -> tuple[Scenario, ...]:
    """``"Org:Chip:N:YYYY-MM-DD;..."`` -> scenarios; ``ValueError`` naming the bad one."""
    items = [t.strip() for t in text.split(";") if t.strip()]
    if len(items) > MAX_SCENARIOS:
        raise ValueError(f"at most {MAX_SCENARIOS} scenarios, got {len(items)}")
    return tuple(_parse_one(item, i) for i, item in enumerate(items, start=1))


def format_scenarios(scenarios) -> str:
    return ";".join(s.to_text() for s in scenarios)


def _lookup(names: pd.DataFrame) -> tuple[dict[str, int], dict[int, str]]:
    """Name and alias keys -> id (the first holder of a key wins), and id -> name."""
    ids = names["id"].astype(int).tolist()
    aliases = names["aliases"].fillna("").astype(str).tolist() if "aliases" in names else [""] * len(ids)
    keys: dict[str, int] = {}
    for ident, name, alias in zip(ids, names["name"].tolist(), aliases):
        for text in (name, *(a for a in alias.split("|") if a)):
            keys.setdefault(name_key(text), ident)
    return keys, dict(zip(ids, names["name"].tolist()))


def resolve_scenarios(scenarios, organisations: pd.DataFrame, chips: pd.DataFrame, *,
                      fmt: FlopFormat | str = FlopFormat.BF16,
                      basis: Basis | str = Basis.EIGHT_BIT) -> tuple[pd.DataFrame, list[str]]:
    """Scenarios -> rows with ids, FLOP/s and H100e; unknown names become messages, not rows."""
    columns = ["scenario", "holder_id", "organisation", "chip_id", "chip", "count", "by", "peak_flops", "h100e"]
    if not scenarios:  # the usual case: no name tables to build (10k organisations at scale)
        return pd.DataFrame(columns=columns), []
    org_keys, org_names = _lookup(organisations)
    chip_keys, chip_names = _lookup(chips)
    flops = chip_flops(chips, fmt)
    factors = factor_series(chips.set_index("id"), basis)
    rows, problems = [], []
    for number, s in enumerate(scenarios, start=1):
        org_id, chip_id = org_keys.get(name_key(s.organisation)), chip_keys.get(name_key(s.chip))
        if org_id is None:
            problems.append(f"Scenario {number}: unknown organisation {s.organisation!r}"
                            f"{did_you_mean(s.organisation, org_names.values())}; left out.")
        if chip_id is None:
            problems.append(f"Scenario {number}: unknown chip {s.chip!r}{did_you_mean(s.chip, chip_names.values())}; "
                            "left out.")
        if org_id is None or chip_id is None:
            continue
        per_chip = flops.get(chip_id, np.nan)
        if pd.isna(per_chip):
            problems.append(f"Scenario {number}: the catalog has no {FlopFormat(fmt).value} figure for "
                            f"{chip_names[chip_id]}; its FLOP/s are unknown and left out.")
        rows.append({"scenario": number, "holder_id": org_id, "organisation": org_names[org_id], "chip_id": chip_id,
                     "chip": chip_names[chip_id], "count": s.count, "by": pd.Timestamp(s.by),
                     "peak_flops": s.count * per_chip, "h100e": s.count * factors.get(chip_id, np.nan)})
    return pd.DataFrame(rows, columns=columns), problems


def added(resolved: pd.DataFrame, holder_ids, dates, column: str) -> np.ndarray:
    """Per date, the sum of ``column`` over the scenarios of ``holder_ids`` in effect by then."""
    mine = resolved.loc[resolved["holder_id"].isin(list(holder_ids))]
    when = pd.to_datetime(pd.Series(list(dates))).to_numpy()
    if mine.empty:
        return np.zeros(len(when))
    active = mine["by"].to_numpy()[None, :] <= when[:, None]
    return (active * np.nan_to_num(mine[column].to_numpy(dtype="float64"))[None, :]).sum(axis=1)


def largest_added_cluster(resolved: pd.DataFrame, holder_ids, dates) -> np.ndarray:
    """Per date, the FLOP/s of the largest single scenario (each is one new cluster) in effect."""
    mine = resolved.loc[resolved["holder_id"].isin(list(holder_ids))]
    when = pd.to_datetime(pd.Series(list(dates))).to_numpy()
    if mine.empty:
        return np.zeros(len(when))
    active = mine["by"].to_numpy()[None, :] <= when[:, None]
    return (active * np.nan_to_num(mine["peak_flops"].to_numpy(dtype="float64"))[None, :]).max(axis=1)
