"""Every FLOP column a page shows reads in scientific notation. Streamlit's number columns
refuse whole numbers above 2^53 (every float that large is one), showing raw digits with a
warning mark instead of ``%.3e``; so the pages hand over text (``projection_views.scientific``).
The Projections page's tables are checked in test_app_projection.py."""

from __future__ import annotations

from tests.apptest import ok
from tests.test_app_projection import SCIENTIFIC


def _organisation():
    from fleet.ui.pages import organisation

    organisation.render()


def test_the_organisation_page_shows_training_compute_in_scientific_notation(seeded_sqlite, open_page):
    at = ok(open_page(seeded_sqlite, _organisation, org="Google"))
    runs = next(d.value for d in at.dataframe if "Training compute (FLOP)" in d.value.columns)
    flop = runs["Training compute (FLOP)"]
    assert len(flop) and flop.str.fullmatch(SCIENTIFIC).all()
    assert (flop.astype(float) > 2 ** 53).any()  # the figures NumberColumn could not format
