"""Edit page: forms for one estimate (add, correct, retract), an organisation (add, edit)
and a headcount. Values go through the same checks as CSV rows; each save is one
audited, revertable batch. Only editors see the forms."""

from __future__ import annotations

from datetime import date

import streamlit as st

from fleet.auth import AuthError
from fleet.countries import country_name
from fleet.db import read_session
from fleet.ingest.errors import IngestError
from fleet.ingest.manual import (
    EntryError, add_estimate, add_headcount, estimate_values, retract_estimate, save_organisation_entry,
)
from fleet.ingest.organisations import OrganisationFields
from fleet.ui import cached
from fleet.ui.editor import need_editor
from fleet.vocab import Access, Certainty, HeadcountKind, OrgKind, Scope, Status, values


def _report(action, success: str) -> None:
    try:
        ident = action()
    except EntryError as exc:
        for problem in exc.problems:
            st.error(problem)
        return
    except (IngestError, AuthError) as exc:
        st.error(str(exc))
        return
    st.success(success.format(id=ident))


def _estimate_fields(prefix: str, start: dict | None = None) -> dict:
    start = start or {}
    orgs = cached.organisations(cached.version())["name"].tolist()
    chips = [""] + cached.chips(cached.version())["name"].tolist()
    pick = lambda options, value: options.index(value) if value in options else 0  # noqa: E731
    fields = {
        "organisation": st.selectbox("Organisation", orgs, index=pick(orgs, start.get("organisation")),
                                     key=f"{prefix}.org"),
        "chip": st.selectbox("Chip (empty for an estimate in H100e)", chips, index=pick(chips, start.get("chip")),
                             key=f"{prefix}.chip"),
        "count": st.text_input("Count (chips)", value=str(start.get("count") or ""), key=f"{prefix}.count"),
        "count_low": st.text_input("Count low", value=str(start.get("count_low") or ""), key=f"{prefix}.low"),
        "count_high": st.text_input("Count high", value=str(start.get("count_high") or ""), key=f"{prefix}.high"),
        "h100e": st.text_input("H100-equivalents (instead of chip and count)", value=str(start.get("h100e") or ""),
                               key=f"{prefix}.h100e"),
        "valid_on": st.date_input("Valid on", value=start.get("valid_on") or date.today(), key=f"{prefix}.date",
                                  min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)).isoformat(),
        "scope": st.selectbox("Scope", values(Scope), index=pick(values(Scope), start.get("scope")),
                              key=f"{prefix}.scope"),
        "cluster": st.text_input("Cluster or site (for scope cluster)", value=start.get("cluster") or "",
                                 key=f"{prefix}.cluster"),
        "status": st.selectbox("Status", values(Status), index=pick(values(Status), start.get("status") or "operational"),
                               key=f"{prefix}.status"),
        "certainty": st.selectbox("Certainty", values(Certainty),
                                  index=pick(values(Certainty), start.get("certainty") or "likely"),
                                  key=f"{prefix}.certainty"),
        "access": st.selectbox("Access", values(Access), index=pick(values(Access), start.get("access")),
                               key=f"{prefix}.access"),
        "source_url": st.text_input("Source URL (required)", value=start.get("source_url") or "",
                                    key=f"{prefix}.url"),
        "source_title": st.text_input("Source title", value=start.get("source_title") or "", key=f"{prefix}.title"),
        "quote": st.text_area("Quote", value=start.get("quote") or "", key=f"{prefix}.quote"),
        "note": st.text_area("Note", value=start.get("note") or "", key=f"{prefix}.note"),
    }
    return fields


def _add_estimate_tab(actor) -> None:
    with st.form("add_estimate"):
        fields = _estimate_fields("add")
        if st.form_submit_button("Add estimate", type="primary"):
            _report(lambda: add_estimate(cached.current_engine(), actor, fields), "Added estimate {id}.")


def _named(estimate: dict) -> dict:
    orgs = cached.organisations(cached.version()).set_index("id")["name"]
    chips = cached.chips(cached.version()).set_index("id")["name"]
    return {**estimate, "organisation": orgs.get(estimate["organisation_id"]),
            "chip": chips.get(estimate["chip_id"]) if estimate["chip_id"] else ""}


def _correct_tab(actor) -> None:
    ident = st.number_input("Estimate id to correct", min_value=1, step=1, value=None, key="correct.id")
    if ident is None:
        return
    with read_session(cached.current_engine()) as session:
        try:
            current = _named(estimate_values(session, int(ident)))
        except EntryError as exc:
            st.error(exc.problems[0])
            return
    with st.form("correct_estimate"):
        fields = _estimate_fields(f"correct{int(ident)}", current)
        if st.form_submit_button("Save the correction", type="primary"):
            _report(lambda: add_estimate(cached.current_engine(), actor, fields, supersedes_id=int(ident)),
                    f"Estimate {{id}} now supersedes estimate {int(ident)}.")


def _retract_tab(actor) -> None:
    with st.form("retract_estimate"):
        ident = st.number_input("Estimate id to retract", min_value=1, step=1, value=None, key="retract.id")
        reason = st.text_input("Why (required)", key="retract.reason")
        if st.form_submit_button("Retract", type="primary") and ident is not None:
            _report(lambda: retract_estimate(cached.current_engine(), actor, int(ident), reason),
                    f"Retracted estimate {int(ident)}.")


def _organisation_tab(actor) -> None:
    orgs = cached.organisations(cached.version())
    choice = st.selectbox("Organisation", ["(new organisation)"] + orgs["name"].tolist(), key="org.pick")
    row = orgs.set_index("name").loc[choice] if choice in set(orgs["name"]) else None
    with st.form(f"organisation.{choice}"):
        kinds = values(OrgKind)
        fields = OrganisationFields(
            name=st.text_input("Name", value="" if row is None else choice),
            kind=st.selectbox("Kind", kinds, index=kinds.index(row["kind"]) if row is not None else kinds.index("other")),
            country=st.text_input("Country (name or ISO code)", value="" if row is None or not row["country"]
                                  else country_name(row["country"])),
            parent=st.text_input("Parent organisation", value="" if row is None or not row["parent"] else row["parent"]),
            aliases=tuple(a.strip() for a in st.text_input(
                "Aliases (separated by |)", value="" if row is None else row["aliases"]).split("|") if a.strip()),
            note=st.text_area("Note", value="" if row is None or not row["note"] else row["note"]),
        )
        if st.form_submit_button("Save organisation", type="primary"):
            ident = None if row is None else int(row["id"])
            _report(lambda: save_organisation_entry(cached.current_engine(), actor, fields, ident),
                    "Saved organisation {id}.")


def _headcount_tab(actor) -> None:
    orgs = cached.organisations(cached.version())["name"].tolist()
    with st.form("headcount"):
        fields = {
            "organisation": st.selectbox("Organisation", orgs, key="hc.org"),
            "count": st.text_input("Count (people)", key="hc.count"),
            "kind": st.selectbox("Kind", values(HeadcountKind), key="hc.kind"),
            "valid_on": st.date_input("Valid on", value=date.today(), key="hc.date").isoformat(),
            "source_url": st.text_input("Source URL (required)", key="hc.url"),
            "scope_note": st.text_input("Scope note (e.g. 'DeepMind division only')", key="hc.scope"),
            "note": st.text_area("Note", key="hc.note"),
        }
        if st.form_submit_button("Add headcount", type="primary"):
            _report(lambda: add_headcount(cached.current_engine(), actor, fields), "Added headcount {id}.")


def render() -> None:
    st.title("Edit")
    st.caption("Every change is one batch in the audit log, with the values before and after, and can be reverted.")
    actor = need_editor("add or change data")
    if actor is None:
        return
    tabs = st.tabs(["Add estimate", "Correct estimate", "Retract estimate", "Organisation", "Headcount"])
    for tab, draw in zip(tabs, (_add_estimate_tab, _correct_tab, _retract_tab, _organisation_tab, _headcount_tab)):
        with tab:
            draw(actor)
