"""The Projections page's tables as ``st.dataframe`` and the CSV get them: FLOP figures as
scientific text (Streamlit cannot format whole numbers above 2^53), one type per column (so
Arrow takes the frame as it is), and crossing dates that never fall on the as-of date for a
line the fleet has not reached. Synthetic frames, then the seeded store on both databases."""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from fleet import projection_views as views
from fleet.analytics.forecast import project_holder, top_holders
from fleet.analytics.scenarios import parse_scenarios, resolve_scenarios
from tests.test_combine import est, frame
from tests.test_projection import CHIPS, ORGS, RUNS, doubling_estimates

SCIENTIFIC = re.compile(r"^\d(\.\d+)?e[+-]\d\d$")


@pytest.mark.parametrize("value, text", [
    (3.9e18, "3.9e+18"),  # the review's example: a whole number above 2^53
    (2.1e25, "2.1e+25"),
    (3.4912896e22, "3.4912896e+22"),  # a source's figure keeps its digits
    (0.35 * 2.2e25, "7.7e+24"),  # a product's float noise (7.699999999999999e+24) does not show
    (5 * 2.1e25, "1.05e+26"),
    (1e26, "1e+26"),
    (np.nan, ""),
])
def test_flop_figures_read_in_scientific_notation(value, text):
    out = views.scientific(pd.Series([value], index=[7]))
    assert out.tolist() == [text] and list(out.index) == [7] and pd.api.types.is_string_dtype(out)


def _outlook(resolved=None):
    return project_holder(frame(*doubling_estimates()), CHIPS, ORGS, RUNS, 1, as_of=date(2024, 6, 30),
                          until=date(2027, 6, 30), resolved=resolved)


def assert_one_type_per_column(table: pd.DataFrame) -> None:
    """What ``st.dataframe`` needs to skip its "unsuccessful Arrow serialisation" fallback."""
    pa.Table.from_pandas(table, preserve_index=False)  # raises ArrowTypeError on a mixed column
    for column in table.columns:
        assert {type(v) for v in table[column]} <= {str}, column


def test_the_crossings_table_is_text_throughout_with_flop_in_scientific_notation():
    table = views.crossings_table(_outlook())
    assert_one_type_per_column(table)
    assert table[views.MILESTONE_FLOP].map(SCIENTIFIC.match).all()
    rows = table.set_index("Milestone")
    assert rows.loc["GPT-4", ["Crossing", "Date"]].tolist() == ["historical", "2022-01-01"]
    # GPT-4 × 100 (682k H100) is past the horizon even at the rate's fast end
    assert rows.loc["GPT-4 × 100", ["Date", "Latest (band bottom)"]].tolist() == [views.AFTER_HORIZON] * 2
    assert rows.loc["GPT-4 × 20", "Crossing"] == "projected" and date.fromisoformat(rows.loc["GPT-4 × 20", "Date"])


def test_with_scenarios_the_extra_column_is_text_too():
    resolved, _ = resolve_scenarios(parse_scenarios("OpenAI:H100:500000:2025-06-30"), ORGS, CHIPS)
    table = views.crossings_table(_outlook(resolved))
    assert_one_type_per_column(table)
    assert table["With scenarios"].str.fullmatch(r"\d{4}-\d\d-\d\d|not by \d{4}-\d\d-\d\d").all()
    assert table.set_index("Milestone").loc["GPT-4 × 20", "With scenarios"] <= "2025-07-07"  # ISO text sorts


def test_without_a_fit_there_is_no_band_and_its_cells_say_so():
    outlook = project_holder(frame(est(1, "2023-01-01", 1_000), est(2, "2024-01-01", 2_000)), CHIPS, ORGS, RUNS, 1,
                             as_of=date(2024, 6, 30), until=date(2027, 6, 30))
    table = views.crossings_table(outlook)
    assert_one_type_per_column(table)
    unreached = table.loc[table["Crossing"].str.startswith("not by")]
    assert len(unreached) and (unreached[["Date", "Earliest (band top)", "Latest (band bottom)"]] == "—").all().all()


def test_the_projection_is_named_for_what_it_is():
    lines = set(views.holder_table(_outlook(), "bf16", "8bit")["Line"])
    assert views.PROJECTION in lines and "latest figure" in views.PROJECTION


# --- the seeded store ---------------------------------------------------------------------------------

def test_on_the_seeded_store_no_line_is_crossed_on_the_as_of_date(seeded_engine):
    """The review's "~2026-11-29 (projected)" for Microsoft, Tesla and EuroHPC, and Meta's band
    top "crossing" everything on the as-of date: the projection started at the fitted line's level."""
    from fleet.analytics.compute_series import SeriesOptions
    from fleet.analytics.forecast import all_holders_series
    from fleet.views.base import SessionStore

    store = SessionStore(seeded_engine)
    estimates, chips, orgs, runs = store.estimates(None), store.chips(), store.organisations(), store.model_runs(None)
    as_of, until = date(2026, 11, 29), date(2029, 11, 29)
    holders = top_holders(all_holders_series(estimates, chips, orgs, as_of=as_of), orgs, as_of, 10)
    assert len(holders) == 10
    projected = 0
    for holder in holders:
        outlook = project_holder(estimates, chips, orgs, runs, holder, as_of=as_of, until=until,
                                 options=SeriesOptions())
        table = views.crossings_table(outlook)
        assert_one_type_per_column(table)
        ahead = table.loc[table["Crossing"] == "projected", ["Date", "Earliest (band top)", "Latest (band bottom)"]]
        projected += len(ahead)
        assert not (ahead == as_of.isoformat()).any().any(), orgs.set_index("id")["name"][holder]
    assert projected >= 10
