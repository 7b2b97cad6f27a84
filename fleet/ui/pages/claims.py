"""Claims page: the ledger of claims about compute, each checked against the store as known
at its target date and as known now, with the figures and the estimates behind them; editors add
claims."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from fleet.analytics.claims import ClaimStatus
from fleet.auth import AuthError
from fleet.ledger import ClaimError, add_claim, figures_frame, ledger_frame
from fleet.projection_state import CLAIMS_PARAMS
from fleet.ui import cached, editor
from fleet.ui import projection_widgets as widgets
from fleet.ui.page import page
from fleet.vocab import Comparator

ICON = {"met": "✅ met", "not met": "❌ not met", "pending": "⏳ pending", "insufficient data": "❔ insufficient data"}
METRICS_HELP = ("Metrics Fleet can check: `<families>_count` (e.g. `h100_count`, `a100_h100_count`, `gpu_count`), "
                "`<families>_rank`, `h100e`, `largest_training_run_flop_vs_gpt4`, `trainable_run_flop_vs_gpt4`, "
                "`<families>_count_vs_sum_of_gpu_counts` (subject 'X vs A+B'), `training_flop_ratio_<a>_<b>`. "
                "Others are kept and shown as unevaluable.")
EXPLAIN = ("Each claim is checked twice: with the store **as known at the end of its target date** (the "
           "bitemporal record: what could have been checked then) and **as known now** (or at the sidebar's "
           "*known at*). Statuses: met, not met, pending (target date ahead), insufficient data (a figure is "
           "missing, the subject names no known organisation, or the metric is unevaluable — nothing is guessed, "
           "and an organisation without estimates is not counted as zero). Chip counts attribute leased capacity "
           "to its user; H100e use the 8-bit basis (Epoch AI); tracked fleets are a lower bound of world totals.")


def display(entries) -> pd.DataFrame:
    frame = ledger_frame(entries)
    if frame.empty:
        return frame
    return pd.DataFrame({
        "Claim": frame["claim"], "Subject": frame["subject"], "Line": frame["line"],
        "Target date": frame["target_date"], "As known at target": frame["status_as_known_at_target"].map(ICON),
        "As known now": frame["status_as_known_now"].map(ICON), "Figure now": frame["value_now"],
        "Why (now)": frame["reason_now"], "Author": frame["author"], "Made on": frame["made_on"],
        "Metric": frame["metric"], "Figures used (now)": frame["figures_now"],
        "Estimate ids": frame["estimate_ids_now"], "Model run ids": frame["model_run_ids_now"],
        "Source": frame["source_url"], "Key": frame["claim_key"]})


def detail(ctx, entries) -> None:
    keys = [e.claim["claim_key"] for e in entries]
    key = ctx.key("claim")
    if st.session_state.get(key) not in ["", *keys]:
        st.warning(f"Unknown claim {st.session_state.get(key)!r} in the link.")
        st.session_state[key] = ""
    texts = {e.claim["claim_key"]: e.claim["text"] for e in entries}
    st.selectbox("Show the figures behind a claim", ["", *keys], key=key,
                 format_func=lambda k: texts.get(k, "— pick a claim —")[:120])
    chosen = next((e for e in entries if e.claim["claim_key"] == ctx.value("claim")), None)
    if chosen is None:
        return
    sources = ctx.estimates().set_index("id")["source_url"]
    for column, (label, evaluation) in zip(st.columns(2), (("As known at the target date", chosen.then),
                                                            ("As known now", chosen.now))):
        with column:
            st.markdown(f"**{label}: {ICON[evaluation.status.value]}**")
            st.text(evaluation.reason)  # user-supplied names: shown as text, never markup
            figures = figures_frame(evaluation)
            if not figures.empty:
                widgets.frame(figures)
            links = sorted({sources[i] for i in evaluation.estimate_ids() if i in sources.index})
            if links:
                widgets.frame(pd.DataFrame({"Estimate sources": links}),
                              column_config={"Estimate sources": st.column_config.LinkColumn()})
    st.link_button("Claim's source", chosen.claim["source_url"])


def _submit() -> None:
    s = st.session_state
    raw = {"claim_key": s.get("claim.add.key") or None, "text": s.get("claim.add.text"),
           "author": s.get("claim.add.author"), "made_on": s.get("claim.add.made_on"),
           "subject": s.get("claim.add.subject"), "metric": s.get("claim.add.metric"),
           "comparator": s.get("claim.add.comparator"), "value": s.get("claim.add.value"),
           "unit": s.get("claim.add.unit"), "target_date": s.get("claim.add.target"),
           "source_name": s.get("claim.add.source_name") or None, "source_url": s.get("claim.add.source_url"),
           "note": s.get("claim.add.note") or None}
    try:
        actor = editor.current_actor()
        if actor is None:
            raise ClaimError("adding a claim needs a logged-in editor — log in first")
        add_claim(cached.current_engine(), raw, actor=actor)
        s["claim.add.result"] = ("success", f"Added the claim by {raw['author']}.")
    except (ClaimError, AuthError) as exc:
        s["claim.add.result"] = ("error", str(exc))


def add_form() -> None:
    with st.expander("Add a claim (editors)"):
        if editor.need_editor("add a claim") is None:
            return
        with st.form("claim.add", clear_on_submit=False):
            st.text_area("Claim, as its author put it", key="claim.add.text")
            a, b, c = st.columns(3)
            a.text_input("Author", key="claim.add.author")
            b.date_input("Made on", value=None, key="claim.add.made_on", min_value=date(1990, 1, 1))
            c.date_input("Target date", value=None, key="claim.add.target", min_value=date(1990, 1, 1),
                         max_value=date(2100, 12, 31))
            a, b, c, d = st.columns([3, 3, 1, 2])
            a.text_input("Subject", key="claim.add.subject", help="Organisation(s) ';'-separated, World, or 'X vs A+B'")
            b.text_input("Metric", key="claim.add.metric", help=METRICS_HELP)
            c.selectbox("Comparator", [c.value for c in Comparator], key="claim.add.comparator")
            d.number_input("Value", key="claim.add.value", value=None, format="%g")
            a, b, c = st.columns(3)
            a.text_input("Unit", key="claim.add.unit")
            b.text_input("Source URL", key="claim.add.source_url")
            c.text_input("Source name", key="claim.add.source_name")
            a, b = st.columns(2)
            a.text_input("Key (optional)", key="claim.add.key")
            b.text_input("Note (optional)", key="claim.add.note")
            st.form_submit_button("Add claim", on_click=_submit)
        result = st.session_state.pop("claim.add.result", None)
        if result:
            (st.success if result[0] == "success" else st.error)(result[1])


def render() -> None:
    with page("claims", CLAIMS_PARAMS) as ctx:
        st.title("Claims")
        st.caption(EXPLAIN)
        today = ctx.today()
        entries = cached.ledger(ctx.version, ctx.filters.known_at, today)
        if not entries:
            st.info("No claims in the store. `python -m fleet seed` loads the seed article's claims; editors can "
                    "add more below.", icon="🔍")
            add_form()
            return
        counts = pd.Series([e.now.status.value for e in entries]).value_counts()
        for column, status in zip(st.columns(4), ClaimStatus):
            column.metric(ICON[status.value], int(counts.get(status.value, 0)))
        st.multiselect("Status (as known now)", [s.value for s in ClaimStatus], key=ctx.key("status"),
                       format_func=ICON.get, placeholder="all statuses")
        wanted = set(ctx.value("status"))
        shown_entries = [e for e in entries if not wanted or e.now.status.value in wanted]
        table = display(shown_entries)
        # a claim's text is long: at full width it pushed both statuses, the point of the table, off screen
        widgets.frame(table,
                      column_config={"Claim": st.column_config.TextColumn(width="medium", pinned=True),
                                     "Line": st.column_config.TextColumn(width="small"),
                                     "Source": st.column_config.LinkColumn(),
                                     "Figure now": st.column_config.NumberColumn(format="%.4g")})
        widgets.download(ctx, table, "claims ledger", extra=["H100e basis for claims: 8bit (Epoch AI)",
                                                             f"evaluated on: {today}"])
        detail(ctx, entries)
        add_form()


if __name__ == "__main__":
    render()
