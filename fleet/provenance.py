"""The ``# `` provenance lines every CSV download and export carries (no streamlit).

Shared by the app's downloads (``fleet.ui.widgets``) and snapshot exports
(``fleet.snapshots``), so a download on screen and a CLI export name the view, basis,
dates, data cut-off and licence in the same words.
"""

from __future__ import annotations

from datetime import datetime

from fleet.chips import BASIS_LABEL
from fleet.view_state import Filters

LICENCE = ("licence: Epoch AI datasets CC-BY 4.0 (https://epoch.ai/data, Epoch AI); other figures from the public "
           "sources linked on each estimate")


def data_cutoff(filters: Filters, high_water: datetime | None) -> datetime | None:
    """What the data reflects: the store's high-water mark, or ``known_at`` if that is earlier."""
    if filters.known_at is None:
        return high_water
    return filters.known_at if high_water is None else min(filters.known_at, high_water)


def header_lines(filters: Filters, view: str, high_water: datetime | None,
                 extra: list[str] | None = None) -> list[str]:
    known = "now" if filters.known_at is None else f"{filters.known_at:%Y-%m-%d %H:%M:%S} UTC"
    lines = [f"view: {view}", f"basis: {filters.basis.value} ({BASIS_LABEL[filters.basis]})",
             f"as of: {filters.as_of:%Y-%m-%d}; known at: {known}"]
    cutoff = data_cutoff(filters, high_water)
    if cutoff is not None:
        lines.append(f"data cut-off (store recorded_at high-water mark): {cutoff:%Y-%m-%d %H:%M:%S.%f} UTC")
    return [*lines, *(extra or []), LICENCE]
