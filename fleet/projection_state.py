"""Typed URL state of the Projections and Claims pages (``fleet.view_state.Param``s). No streamlit.

Projections: ``org`` (empty = the top-N total), ``top``, ``format`` (bf16/fp8), ``mfu`` (%),
``days``, ``run_on`` (largest ``cluster`` or a ``share`` of the fleet), ``share`` (%),
``horizon`` (years) and ``scen`` (``Org:Chip:N:YYYY-MM-DD;...``). Claims: ``status`` and
``claim``. Junk in any of them becomes a warning and the default (``view_state.decode``).
"""

from __future__ import annotations

from typing import Any, Mapping

from fleet.analytics.claims import ClaimStatus
from fleet.analytics.projection import RunSettings, percent_to_fraction
from fleet.analytics.scenarios import format_scenarios, parse_scenarios
from fleet.chips import FlopFormat
from fleet.view_state import Param, choice, fmt_number, number_in


def _text(limit: int):
    def parse(text: str) -> str:
        value = " ".join(text.split())
        if len(value) > limit:
            raise ValueError(f"longer than {limit} characters")
        return value
    return parse


PROJECTION_PARAMS: tuple[Param, ...] = (
    Param("org", _text(200), str, "", "Organisation (empty: the top-N total)"),
    Param("top", number_in(1, 50, int), str, 10, "Top N organisations"),
    Param("format", choice([f.value for f in FlopFormat]), str, FlopFormat.BF16.value, "Peak FLOP/s format"),
    Param("mfu", number_in(1, 100), fmt_number, 40.0, "MFU (%)"),
    Param("days", number_in(1, 3650, int), str, 90, "Run length (days)"),
    Param("run_on", choice(["cluster", "share"]), str, "cluster", "A run uses"),
    Param("share", number_in(1, 100, int), str, 100, "Share of the fleet in one cluster (%)"),
    Param("horizon", number_in(0.5, 10), fmt_number, 3.0, "Projection horizon (years)"),
    Param("scen", parse_scenarios, format_scenarios, (), "Scenarios"),
)

CLAIMS_PARAMS: tuple[Param, ...] = (
    Param("status", choice([s.value for s in ClaimStatus]), str, (), "Status (as known now)", multi=True),
    Param("claim", _text(120), str, "", "Claim shown in detail"),
)


def run_settings(values: Mapping[str, Any]) -> RunSettings:
    """The run the page's controls describe (MFU and share given in percent)."""
    share = None if values.get("run_on", "cluster") == "cluster" else percent_to_fraction(values.get("share", 100))
    return RunSettings(mfu=percent_to_fraction(values.get("mfu", 40.0)), days=float(values.get("days", 90)),
                       share=share)
