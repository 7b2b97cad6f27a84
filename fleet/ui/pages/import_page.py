"""Import page: upload a CSV -> preview (counts, every problem) -> commit as one batch.

The preview is computed once per file and options and kept in the session; the commit
goes through ``fleet.ingest.importer.commit_import`` with the logged-in editor, which
checks the editor's rights itself. Nothing is written before the commit button.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from fleet.auth import AuthError
from fleet.exports import to_csv_bytes
from fleet.ingest.errors import IngestError
from fleet.ingest.importer import ImportPlan, commit_import, plan_import
from fleet.ingest.template import HELP, format_frame, template_csv
from fleet.ui import cached, nav, widgets
from fleet.ui.editor import LOGIN_PATH, current_actor, need_editor

PLAN = "import.plan"
RESULT = "import.result"
SHOWN_PROBLEMS = 1000
SHOWN_ROWS = 1000
OUTCOMES = {"would be added": ["add"], "already in the store (skipped)": ["skip"], "with problems": ["problem"],
            "all": ["add", "skip", "problem"]}


def _help() -> None:
    with st.expander("The CSV format, and a template"):
        st.markdown(HELP)
        widgets.frame(format_frame())
        st.download_button("Download the template (CSV)", template_csv(), file_name="fleet-import-template.csv",
                           mime="text/csv")


def _plan(upload, create_orgs: bool) -> ImportPlan | None:
    key = (upload.file_id, upload.name, create_orgs)
    saved = st.session_state.get(PLAN)
    if saved is not None and saved[0] == key:
        return saved[1]
    bar = st.progress(0.0, text="Reading the file")
    try:
        plan = plan_import(cached.current_engine(), upload.getvalue(), file_name=upload.name,
                           create_orgs=create_orgs, progress=lambda f, m: bar.progress(min(f, 1.0), text=m))
    except IngestError as exc:
        bar.empty()
        st.error(f"{upload.name}: {exc}")
        return None
    bar.empty()
    st.session_state[PLAN] = (key, plan)
    return plan


def _problems_table(plan: ImportPlan) -> pd.DataFrame:
    problems = plan.problems
    header = plan.table.header
    return pd.DataFrame({"row": problems["row"], "column": problems["column"].map(lambda c: header.get(c, c)),
                         "value": problems["value"], "reason": problems["reason"]})


def _preview(plan: ImportPlan) -> None:
    for notice in plan.table.notices:
        st.warning(notice)
    cols = st.columns(4)
    cols[0].metric("Rows in the file", f"{plan.rows_in:,}")
    cols[1].metric("Would be added", f"{plan.rows_to_add:,}")
    cols[2].metric("Already in the store (skipped)", f"{plan.rows_duplicate:,}")
    cols[3].metric("Rows with problems", f"{plan.rows_rejected:,}")
    if plan.new_organisations:
        st.info("New organisations would be created: " + ", ".join(plan.new_organisations))
    if len(plan.problems):
        st.subheader("Problems")
        st.caption("Rows are numbered as a spreadsheet shows them: the header is row 1.")
        for line in plan.messages(limit=5):
            st.markdown(f"- {line}")
        table = _problems_table(plan)
        widgets.frame(table.head(SHOWN_PROBLEMS))
        if len(table) > SHOWN_PROBLEMS:
            st.caption(f"Showing {SHOWN_PROBLEMS:,} of {len(table):,} problems; download them all below.")
        st.download_button("Download the problems (CSV)", to_csv_bytes(table), file_name="problems.csv",
                           mime="text/csv")
    _rows(plan)


def _rows(plan: ImportPlan) -> None:
    """The file's rows as written, each with what the import would do with it."""
    st.subheader("Rows")
    which = st.selectbox("Show the rows", list(OUTCOMES), key="import.rows")
    outcomes = plan.outcomes()
    shown = outcomes[outcomes["outcome"].isin(OUTCOMES[which])]
    widgets.frame(shown.head(SHOWN_ROWS))
    if len(shown) > SHOWN_ROWS:
        st.caption(f"Showing the first {SHOWN_ROWS:,} of {len(shown):,} rows.")


def _commit(plan: ImportPlan, partial: bool) -> None:
    actor = need_editor("import")
    if actor is None:
        return
    blocked = plan.rows_rejected and not partial
    label = "Import the valid rows" if partial else "Import"
    if blocked:
        st.warning("Nothing can be imported while rows have problems: fix the file, or choose "
                   "“only the valid rows”.")
    if not st.button(label, type="primary", disabled=bool(blocked or plan.rows_to_add == 0
                                                         and not plan.new_organisations)):
        return
    bar = st.progress(0.6, text="Writing")
    try:
        result = commit_import(cached.current_engine(), plan, actor, partial=partial,
                               progress=lambda f, m: bar.progress(min(f, 1.0), text=m))
    except (IngestError, AuthError) as exc:
        bar.empty()
        st.error(str(exc))
        return
    bar.empty()
    rejects = to_csv_bytes(plan.rejects_frame()) if plan.rows_rejected else None
    st.session_state[RESULT] = (result, plan.file_name, rejects)
    st.session_state.pop(PLAN, None)
    st.rerun()


def _last_result() -> None:
    saved = st.session_state.get(RESULT)
    if saved is None:
        return
    result, name, rejects = saved
    if result.batch_id is None:
        st.info(f"{name}: nothing new — all {result.skipped:,} valid rows were already in the store.")
    else:
        st.success(f"{name}: imported {result.added:,} rows as batch {result.batch_id} "
                   f"({result.skipped:,} already in the store, {result.rejected:,} rejected). "
                   "It can be reverted from the audit log.")
        nav.link("audit", f"Batch {result.batch_id} in the audit log", query={"batch": str(result.batch_id)})
    if result.organisations_created:
        st.caption("Created organisations: " + ", ".join(result.organisations_created))
    if rejects is not None:
        st.download_button("Download the rejected rows (CSV)", rejects, file_name=f"rejected-{name}",
                           mime="text/csv")


def render() -> None:
    st.title("Import estimates")
    st.caption("Upload a CSV of estimates: you get a preview first, and nothing is written until you import.")
    if current_actor() is None:
        st.info("Anyone can preview a file here; importing it needs an editor login.")
        nav.link(LOGIN_PATH, "Log in as an editor")
    _help()
    _last_result()
    upload = st.file_uploader("CSV file", type=["csv", "txt", "tsv"], key="import.file")
    create_orgs = st.checkbox("Create organisations the store does not know", key="import.create_orgs",
                              help="Never chips: the chip catalog is curated.")
    partial = st.radio("If some rows have problems", ["import nothing (all or nothing)", "import only the valid rows"],
                       key="import.mode") == "import only the valid rows"
    if upload is None:
        return
    plan = _plan(upload, create_orgs)
    if plan is None:
        return
    _preview(plan)
    _commit(plan, partial)
