"""AppTest of the Projections and Claims pages on a seeded store: default state, each
control, URL round trips (MFU, days, scenarios, ...), bad parameters -> warning, never
an exception."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest
from tests.apptest import ok, query

SCEN = "Meta:B200:100000:2027-06-30;xAI:GB200:50000:2026-12-31"
SCIENTIFIC = r"\d(\.\d+)?e\+\d\d"  # how a FLOP figure reads: 3.9e+18


def _projections():
    from fleet.ui.pages import projections

    projections.render()


def _claims():
    from fleet.ui.pages import claims

    claims.render()


def subheaders(at: AppTest) -> list[str]:
    return [s.value for s in at.subheader]


# --- Projections ----------------------------------------------------------------------------------

def test_both_pages_are_in_the_navigation():
    def script():
        import streamlit as st

        from fleet.ui.frame import pages

        st.text(",".join(p.url_path for group in pages().values() for p in group))

    at = ok(AppTest.from_function(script, default_timeout=60).run())
    assert {"projections", "claims"} <= set(at.text[0].value.split(","))


@pytest.mark.parametrize("script", [_projections, _claims], ids=["projections", "claims"])
def test_pages_load_on_both_databases(seeded_url, open_page, script):
    at = ok(open_page(seeded_url, script))
    assert at.title[0].value in {"Projections", "Claims"} and at.metric


def test_projections_default_is_the_top_n_total_with_charts_and_downloads(seeded_sqlite, open_page):
    at = ok(open_page(seeded_sqlite, _projections))
    assert subheaders(at)[:3] == ["Fleet compute over time", f"Top 10 organisations together: growth and "
                                  f"projection to {subheaders(at)[1].rsplit(' ', 1)[-1]}", "What each can train now"]
    assert len(at.get("plotly_chart")) == 3 and len(at.download_button) >= 3
    assert at.metric[0].label == "Growth of H100e (× per year)" and at.metric[0].value.endswith("×")
    assert query(at) == {} and not at.warning


def test_url_state_round_trips_and_drives_the_widgets(seeded_sqlite, open_page):
    params = {"org": "Meta", "mfu": "35", "days": "95", "scen": SCEN, "format": "fp8", "run_on": "share",
              "share": "50", "horizon": "5", "top": "7"}
    at = ok(open_page(seeded_sqlite, _projections, **params))
    assert query(at) == params
    assert at.slider(key="v.projections.mfu").value == 35.0 and at.number_input(key="v.projections.days").value == 95
    assert at.selectbox(key="v.projections.org").value == "Meta"
    assert any(s.startswith("Meta: fleet compute and its projection to 20") for s in subheaders(at))
    assert len(at.get("plotly_chart")) == 3
    tables = [d.value for d in at.dataframe]
    scenarios = next(t for t in tables if "Peak FLOP/s added" in t.columns)
    assert list(scenarios["Organisation"]) == ["Meta", "xAI"]
    assert scenarios["Peak FLOP/s added"].str.fullmatch(SCIENTIFIC).all()  # text: Streamlit cannot format > 2^53
    assert (scenarios["Peak FLOP/s added"].astype(float) > 0).all()
    crossings = next(t for t in tables if "Crossing" in t.columns)
    assert "With scenarios" in crossings.columns and "GPT-4 × 100" in set(crossings["Milestone"])


def test_one_organisation_crossings_show_flop_as_text_and_no_crossing_on_the_as_of_date(seeded_sqlite, open_page):
    at = ok(open_page(seeded_sqlite, _projections, org="Meta"))
    crossings = next(d.value for d in at.dataframe if "Crossing" in d.value.columns)
    assert crossings["Training compute (FLOP)"].str.fullmatch(SCIENTIFIC).all()
    as_of = next(c.value for c in at.caption if c.value.startswith("As of "))[6:16]
    ahead = crossings.loc[crossings["Crossing"] == "projected"]
    assert len(ahead) and not (ahead[["Date", "Earliest (band top)", "Latest (band bottom)"]] == as_of).any().any()
    assert any(c.value.startswith("The projection starts at the latest figure") for c in at.caption)


def test_the_top_n_crossings_never_put_a_projected_crossing_on_the_as_of_date(seeded_sqlite, open_page):
    at = ok(open_page(seeded_sqlite, _projections))
    as_of = next(c.value for c in at.caption if c.value.startswith("As of "))[6:16]
    table = next(d.value for d in at.dataframe if "GPT-4 × 20" in d.value.columns)
    cells = table.drop(columns="Organisation").to_numpy().ravel().tolist()
    assert any(c.endswith("(projected)") for c in cells) and f"~{as_of} (projected)" not in cells


def test_each_control_changes_the_view_and_the_url(seeded_sqlite, open_page):
    at = ok(open_page(seeded_sqlite, _projections))
    at.selectbox(key="v.projections.org").set_value("Meta")
    ok(at.run())
    assert query(at) == {"org": "Meta"} and any(s.startswith("What Meta can train") for s in subheaders(at))
    at.slider(key="v.projections.mfu").set_value(50.0)
    at.number_input(key="v.projections.days").set_value(120)
    at.segmented_control(key="v.projections.format").set_value("fp8")
    at.slider(key="v.projections.horizon").set_value(2.0)
    ok(at.run())
    assert query(at) == {"org": "Meta", "mfu": "50", "days": "120", "format": "fp8", "horizon": "2"}
    at.segmented_control(key="v.projections.run_on").set_value("share")
    ok(at.run())
    at.slider(key="v.projections.share").set_value(25)
    ok(at.run())
    assert query(at)["run_on"] == "share" and query(at)["share"] == "25"
    assert any("25% of the fleet" in c.value for c in at.caption)
    at.selectbox(key="v.projections.org").set_value("")
    at.number_input(key="v.projections.top").set_value(3)
    ok(at.run())
    assert "org" not in query(at) and query(at)["top"] == "3"
    assert any(s.startswith("Top 3 organisations together") for s in subheaders(at))


def test_scenarios_are_added_and_removed_through_the_form_and_kept_in_the_url(seeded_sqlite, open_page):
    at = ok(open_page(seeded_sqlite, _projections, org="xAI"))
    at.selectbox(key="proj.add.chip").set_value("NVIDIA GB200")
    at.number_input(key="proj.add.count").set_value(200_000)
    at.button(key="FormSubmitter:proj.add-Add scenario").click()
    ok(at.run())
    scen = query(at)["scen"]
    assert scen.startswith("xAI:NVIDIA GB200:200000:")
    at.multiselect(key="proj.remove").set_value([scen])
    at.button(key="proj.remove.go").click()
    ok(at.run())
    assert "scen" not in query(at)


@pytest.mark.parametrize("params, fragment", [
    ({"mfu": "abc"}, "mfu='abc'"), ({"days": "-3"}, "days='-3'"), ({"scen": "junk"}, "scenario 1"),
    ({"scen": "Meta:B200:x:2026-01-01"}, "count 'x' is not a whole number"), ({"format": "fp4"}, "format='fp4'"),
    ({"horizon": "99"}, "horizon='99'"), ({"top": "0"}, "top='0'"), ({"run_on": "moon"}, "run_on='moon'"),
    ({"org": "Nobody Inc"}, "Unknown organisation 'Nobody Inc'"),
    ({"scen": "Metaa:B200:5:2026-01-01"}, "unknown organisation 'Metaa'"),
])
def test_bad_projection_params_warn_and_fall_back(seeded_sqlite, open_page, params, fragment):
    at = ok(open_page(seeded_sqlite, _projections, **params))
    assert any(fragment in w.value for w in at.warning), [w.value for w in at.warning]
    assert "Fleet compute over time" in subheaders(at)


def test_an_organisation_with_too_few_estimates_says_why_there_is_no_fit(seeded_sqlite, open_page):
    at = ok(open_page(seeded_sqlite, _projections, org="Anthropic", attribute="user"))
    assert any("a growth fit needs at least 3" in i.value for i in at.info)


def test_an_empty_store_says_how_to_seed(db_url, open_page):
    at = ok(open_page(db_url, _projections))
    assert any("fleet seed" in i.value for i in at.info)


# --- Claims ---------------------------------------------------------------------------------------------

def test_claims_ledger_lists_every_claim_with_both_statuses(seeded_sqlite, open_page):
    at = ok(open_page(seeded_sqlite, _claims))
    table = at.dataframe[0].value
    assert len(table) == 11 and {"As known at target", "As known now", "Figures used (now)"} <= set(table.columns)
    assert sum(int(m.value) for m in at.metric) == 11
    assert len(at.download_button) == 1
    config = json.loads(at.dataframe[0].proto.columns)  # the long claim text no longer hides both statuses
    assert config["Claim"]["pinned"] is True and config["Claim"]["width"] == "medium"


def test_claims_filter_and_detail_round_trip_through_the_url(seeded_sqlite, open_page):
    at = ok(open_page(seeded_sqlite, _claims, status="met", claim="semi-2023-meena-vs-gpt2"))
    assert set(at.dataframe[0].value["As known now"]) == {"✅ met"}
    assert query(at) == {"status": "met", "claim": "semi-2023-meena-vs-gpt2"}
    assert any("58.33 > 14" in t.value for t in at.text)
    at.multiselect(key="v.claims.status").set_value(["not met", "pending"])
    ok(at.run())
    assert query(at)["status"] == "not met,pending"
    assert set(at.dataframe[0].value["As known now"]) <= {"❌ not met", "⏳ pending"}


@pytest.mark.parametrize("params, fragment", [({"status": "maybe"}, "status='maybe'"),
                                              ({"claim": "no-such-claim"}, "Unknown claim 'no-such-claim'")])
def test_bad_claims_params_warn(seeded_sqlite, open_page, params, fragment):
    at = ok(open_page(seeded_sqlite, _claims, **params))
    assert any(fragment in w.value for w in at.warning)


def _fill(at: AppTest) -> None:
    for key, value in (("claim.add.text", "Meta will hold a million H100s"), ("claim.add.author", "Analyst"),
                       ("claim.add.subject", "Meta"), ("claim.add.metric", "h100_count"), ("claim.add.unit", "chips"),
                       ("claim.add.source_url", "https://example.org/c")):
        at.text_input(key=key).input(value) if key != "claim.add.text" else at.text_area(key=key).input(value)
    import datetime as dt

    at.date_input(key="claim.add.made_on").set_value(dt.date(2025, 1, 1))
    at.date_input(key="claim.add.target").set_value(dt.date(2099, 12, 31))
    at.number_input(key="claim.add.value").set_value(1_000_000.0)
    at.button(key="FormSubmitter:claim.add-Add claim").click()


def test_an_editor_adds_a_claim_through_the_form(seeded_sqlite, open_page):
    from fleet.ui.editor import ACTOR
    from tests.factories import EDITOR

    at = ok(open_page(seeded_sqlite, _claims))
    assert any("log in as an editor" in i.value for i in at.info) and len(at.dataframe[0].value) == 11
    assert not [t for t in at.text_input if t.key == "claim.add.subject"]  # viewers get no form
    at.session_state[ACTOR] = EDITOR
    ok(at.run())
    _fill(at)
    ok(at.run())
    assert any("Added the claim" in s.value for s in at.success)
    ok(at.run())
    table = at.dataframe[0].value
    assert len(table) == 12 and "⏳ pending" in set(table["As known now"])


def test_the_charts_follow_the_controls_and_come_back_when_a_control_does(seeded_sqlite, open_page):
    import json

    def drawn(at: AppTest) -> list[dict]:
        return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]

    at = ok(open_page(seeded_sqlite, _projections))
    first = drawn(at)
    assert "BF16" in first[0]["layout"]["title"]["text"]
    at.segmented_control(key="v.projections.format").set_value("fp8")
    ok(at.run())
    fp8 = drawn(at)
    assert "FP8" in fp8[0]["layout"]["title"]["text"] and fp8[0]["data"] != first[0]["data"]
    default_mfu = at.slider(key="v.projections.mfu").value
    at.slider(key="v.projections.mfu").set_value(default_mfu / 2)
    ok(at.run())
    halved = drawn(at)
    assert halved[2]["data"] != fp8[2]["data"]  # the trainable-run bars scale with MFU
    at.slider(key="v.projections.mfu").set_value(default_mfu)
    at.segmented_control(key="v.projections.format").set_value("bf16")
    ok(at.run())
    assert drawn(at) == first  # the first drawing again, for the first state
