"""The sidebar controls every page shares, held in the URL (see fleet.view_state.SHARED)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from fleet.analytics.combine import RULE_SUMMARY
from fleet.chips import BASIS_LABEL, Basis
from fleet.countries import country_name
from fleet.ui.state import UrlState
from fleet.view_state import Filters
from fleet.vocab import Certainty, OrgKind

KIND_LABEL = {OrgKind.CLOUD: "cloud / neocloud"}


def render(state: UrlState, organisations: pd.DataFrame) -> Filters:
    """Draw the shared controls (keys from ``state``) and return them typed."""
    bar = st.sidebar
    bar.header("View")
    bar.date_input("As of", key=state.key("as_of"), min_value=date(1990, 1, 1), max_value=date(2100, 12, 31),
                   help="The date the fleets are described at. Empty = today.")
    bar.datetime_input("Known at (UTC)", key=state.key("known_at"),
                       help="Time travel: show only what the store knew at that moment. Empty = now.")
    bar.selectbox("H100-equivalent basis", list(Basis), key=state.key("basis"),
                  format_func=lambda b: f"{b.value} — {BASIS_LABEL[Basis(b)]}")
    bar.subheader("Filters")
    kinds = [k.value for k in OrgKind if k is not OrgKind.UNATTRIBUTED]
    bar.multiselect("Organisation kind", kinds, key=state.key("kind"),
                    format_func=lambda k: KIND_LABEL.get(k, k), placeholder="all kinds")
    countries = sorted(organisations["country"].dropna().unique(), key=country_name)
    bar.multiselect("Country", countries, key=state.key("country"), format_func=country_name,
                    placeholder="all countries")
    bar.toggle("Include planned capacity", key=state.key("planned"))
    bar.selectbox("Minimum certainty", list(reversed(list(Certainty))), key=state.key("certainty"),
                  format_func=lambda c: Certainty(c).value)
    bar.radio("Count leased/rented capacity under its", ["owner", "user"], key=state.key("attribute"),
              horizontal=True, help="Owner by default, so nothing is counted twice.")
    with bar.expander("How estimates combine"):
        st.markdown(RULE_SUMMARY)
    return Filters.from_values(state.values())
