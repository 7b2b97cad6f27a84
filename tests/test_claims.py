"""The claims ledger on SQLite and Postgres: adding claims (editor check, validation,
duplicates), seeding them, and every status reachable from a small fixture store, as
known at the target date and as known now."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.pool import NullPool

from fleet import migrate
from fleet.db import data_version, make_engine, read_session, write_session
from fleet.ingest import load
from fleet.auth import Actor, NotAnEditor
from fleet.ingest.audit import audit_frame
from fleet.ledger import (
    ClaimError, add_claim, claims_frame, evaluate_ledger, ledger_frame, parse_claim,
)
from fleet.models import Claim
from fleet.seed import seed
from fleet.vocab import BatchKind
from tests.conftest import SEED_DIR
from tests.factories import add_chip, add_estimates, add_org, estimate_row

TODAY = date.today()
SPEC = dict(peak_ops_8bit=1.979e15, peak_flops_bf16=9.894e14, tdp_w=700.0)
EDITOR = Actor.cli("ada")


def add_model_runs(engine, rows: list[dict]) -> None:
    with write_session(engine) as (session, stamp):
        batch = load.new_batch(session, stamp, kind=BatchKind.MANUAL, source_name="test", actor=Actor.system("test"))
        frame = pd.DataFrame([{"source_url": "https://example.org/run", "milestone": False, **r} for r in rows])
        frame["published_on"] = pd.to_datetime(frame["published_on"]).dt.date
        load.add_model_runs(session, stamp, batch, frame)


def claim(key: str, subject: str, metric: str, comparator: str, value: float, target: date | str, **extra) -> dict:
    return {"claim_key": key, "text": f"claim {key}", "author": "Tester", "made_on": "2023-08-27",
            "subject": subject, "metric": metric, "comparator": comparator, "value": value, "unit": "x",
            "target_date": str(target), "source_url": "https://example.org/article", **extra}


@pytest.fixture
def store(engine):
    """A small store: chips, organisations (with a subsidiary and a lease), estimates, model runs."""
    h100 = add_chip(engine, "NVIDIA H100 SXM5 80GB", family="H100", vendor="NVIDIA", **SPEC)
    a100 = add_chip(engine, "NVIDIA A100", family="A100", vendor="NVIDIA", peak_flops_bf16=3.12e14,
                    peak_ops_8bit=6.24e14)
    tpu = add_chip(engine, "Google TPU v5p", family="TPU v5p", vendor="Google", peak_flops_bf16=4.59e14)
    orgs = {name: add_org(engine, name) for name in ("Google", "Meta", "OpenAI", "Microsoft", "Tiny Lab")}
    orgs["Google DeepMind"] = add_org(engine, "Google DeepMind", country="GBR")
    with write_session(engine) as (session, _):
        from fleet.models import Organisation

        session.get(Organisation, orgs["Google DeepMind"]).parent_id = orgs["Google"]
    _, ids, _ = add_estimates(engine, [
        estimate_row(orgs["Meta"], h100, 350_000, "2024-06-30"),
        estimate_row(orgs["Meta"], a100, 16_000, "2023-01-01"),
        estimate_row(orgs["Microsoft"], a100, 25_000, "2023-01-01", scope="cluster", cluster="Azure OpenAI",
                     access="leased", user_organisation_id=orgs["OpenAI"]),
        estimate_row(orgs["Google"], tpu, 100_000, "2024-06-01", scope="cluster", cluster="TPU pod farm"),
    ])
    add_model_runs(engine, [
        {"name": "GPT-2 (1.5B)", "organisation_id": orgs["OpenAI"], "published_on": "2019-02-14",
         "training_flop": 1.92e21, "milestone": True},
        {"name": "Meena", "organisation_id": orgs["Google"], "published_on": "2020-01-28", "training_flop": 1.12e23,
         "milestone": True},
        {"name": "GPT-4", "organisation_id": orgs["OpenAI"], "published_on": "2023-03-15", "training_flop": 2.1e25,
         "milestone": True},
        {"name": "Gemini 1.0 Ultra", "organisation_id": orgs["Google DeepMind"], "published_on": "2023-12-06",
         "training_flop": 5e25},
    ])
    return engine, orgs, ids


CASES = [
    # (claim, status now, reason fragment)
    (claim("meta-h100", "Meta", "h100_count", ">=", 100_000, "2024-12-31"), "met", "350,000 >= 100,000"),
    (claim("gemini-5x", "Google", "largest_training_run_flop_vs_gpt4", ">=", 5, "2023-12-31"), "not met",
     "not 2.381 >= 5"),
    (claim("gemini-2x", "Google", "largest_training_run_flop_vs_gpt4", ">=", 2, "2023-12-31"), "met", "2.381"),
    (claim("future", "Meta", "h100_count", ">=", 1e7, "2099-12-31"), "pending", "so far"),
    (claim("tiny-poor", "Tiny Lab", "h100e", "<", 20_000, "2024-12-31"), "insufficient data",
     "Tiny Lab: no estimates"),
    (claim("vibes", "Meta", "vibes_index", ">", 3, "2024-12-31"), "insufficient data", "unevaluable"),
    (claim("nobody", "(several firms)", "gpu_count", ">=", 100_000, "2024-12-31"), "insufficient data",
     "names no organisation"),
    (claim("openai-leases", "OpenAI;Meta", "a100_h100_count", ">=", 20_000, "2023-08-27"), "not met",
     "Meta: not 16,000 >= 20,000"),
    (claim("openai-rents", "OpenAI", "a100_h100_count", ">=", 20_000, "2023-08-27"), "met", "25,000"),
    (claim("google-no-a100", "Google", "a100_h100_count", ">=", 1, "2024-12-31"), "insufficient data",
     "no estimates of these chips"),
    (claim("world-h100", "World", "h100_count", ">", 100_000, "2024-12-31"), "met", "350,000"),
    (claim("world-lower-bound", "World", "h100_count", ">", 3_500_000, "2024-12-31"), "insufficient data",
     "lower bound"),
    (claim("meta-second", "Meta", "h100_rank", "<=", 2, "2024-12-31"), "met", "1 <= 2"),
    (claim("tpu-vs-gpus", "Google vs Meta+OpenAI", "tpuv5_count_vs_sum_of_gpu_counts", ">", 1, "2024-12-31"),
     "not met", "not 0.2558 > 1"),
    (claim("meena-gpt2", "Google", "training_flop_ratio_meena_gpt2", ">", 14, "2020-01-28"), "met", "58.33"),
    (claim("gpt4-gpt2", "OpenAI", "training_flop_ratio_gpt4_gpt2", ">", 1e5, "2023-03-15"), "not met",
     "not 10,938 > 100,000"),
    (claim("unknown-model", "OpenAI", "training_flop_ratio_gpt9_gpt2", ">", 1, "2023-03-15"), "insufficient data",
     "no model run matches 'gpt9'"),
]


@pytest.mark.parametrize("raw, expected, fragment", CASES, ids=[c[0]["claim_key"] for c in CASES])
def test_each_status_is_reachable(store, raw, expected, fragment):
    engine, _, _ = store
    add_claim(engine, raw, actor=EDITOR)
    with read_session(engine) as session:
        [entry] = evaluate_ledger(session)
    assert entry.now.status.value == expected, entry.now.reason
    assert fragment in entry.now.reason


def test_figures_name_the_estimates_and_model_runs_they_came_from(store):
    engine, orgs, ids = store
    add_claim(engine, claim("meta-h100", "Meta", "h100_count", ">=", 100_000, "2024-12-31"), actor=EDITOR)
    add_claim(engine, claim("gemini-20x", "Google", "largest_training_run_flop_vs_gpt4", ">=", 20, "2024-12-31"),
              actor=EDITOR)
    with read_session(engine) as session:
        meta, gemini = sorted(evaluate_ledger(session), key=lambda e: e.claim["claim_key"], reverse=True)
    assert meta.now.estimate_ids() == [ids[0]]  # the H100 estimate, not the A100 one
    assert len(gemini.now.model_run_ids()) == 2  # Gemini 1.0 Ultra (a subsidiary's run) and GPT-4
    labels = " ".join(f.label for f in gemini.now.figures)
    assert "Gemini 1.0 Ultra" in labels and "trainable run" in labels  # capacity, as context
    assert gemini.now.estimate_ids() == [ids[3]]  # the TPU cluster behind the capacity figure
    assert gemini.now.status.value == "not met"


def test_as_known_at_the_target_date_versus_now(store):
    """The fixture's rows were recorded today: at a past target date the store knew nothing."""
    engine, orgs, _ = store
    today = date.today()  # not the module's TODAY: the fixture may have been written after midnight
    add_claim(engine, claim("past", "Meta", "h100_count", ">=", 100_000, "2024-12-31"), actor=EDITOR)
    add_claim(engine, claim("today", "Meta", "h100_count", ">=", 100_000, today), actor=EDITOR)
    with read_session(engine) as session:
        entries = {e.claim["claim_key"]: e for e in evaluate_ledger(session)}
    assert entries["past"].then.status.value == "insufficient data" and entries["past"].now.status.value == "met"
    assert entries["today"].then.status.value == "met"


def test_time_travel_evaluates_as_the_store_knew_then(store):
    engine, orgs, _ = store
    with read_session(engine) as session:
        _, before = data_version(session)
    h100 = add_chip(engine, "H100 clone", family="H100", vendor="NVIDIA", **SPEC)
    add_estimates(engine, [estimate_row(orgs["Tiny Lab"], h100, 30_000, "2024-01-01")])
    add_claim(engine, claim("tiny", "Tiny Lab", "h100_count", ">=", 20_000, TODAY), actor=EDITOR)
    with read_session(engine) as session:
        [now] = evaluate_ledger(session)
    assert now.now.status.value == "met"
    with read_session(engine) as session:
        assert evaluate_ledger(session, known_at=before) == []  # the claim itself was not in the store yet
        frame = claims_frame(session)
    assert list(frame["claim_key"]) == ["tiny"]


def test_ledger_frame_has_both_statuses_and_the_sources(store):
    engine, _, ids = store
    add_claim(engine, claim("meta-h100", "Meta", "h100_count", ">=", 100_000, "2024-12-31"), actor=EDITOR)
    with read_session(engine) as session:
        frame = ledger_frame(evaluate_ledger(session))
    row = frame.iloc[0]
    assert row["status_as_known_now"] == "met" and row["status_as_known_at_target"] == "insufficient data"
    assert row["estimate_ids_now"] == str(ids[0]) and row["line"] == ">= 100000 x"
    assert "Meta: H100 chips: 350,000 chips" in row["figures_now"]


# --- adding claims -------------------------------------------------------------------------------------

def _claims(engine) -> int:
    with read_session(engine) as session:
        return session.execute(select(func.count()).select_from(Claim)).scalar_one()


@pytest.mark.parametrize("who", [None, "ada", Actor("ghost", "password", "store")])
def test_adding_a_claim_needs_an_editor(engine, who):
    """Not an Actor, or a store account that does not exist: refused, nothing written."""
    with pytest.raises(NotAnEditor, match="editor"):
        add_claim(engine, claim("k", "Meta", "h100_count", ">=", 1, "2024-12-31"), actor=who)
    assert _claims(engine) == 0


def test_an_added_claim_is_in_the_audit_log(engine):
    ident = add_claim(engine, claim("audited", "Meta", "h100_count", ">=", 1, "2024-12-31"), actor=EDITOR)
    with read_session(engine) as session:
        log = audit_frame(session, action="claim.add")
    assert log["entity_id"].tolist() == [ident] and log["actor"].tolist() == ["ada (cli)"]


BAD = [
    ({"value": "lots"}, "'value'"), ({"comparator": "=>"}, "'comparator'"), ({"target_date": "2024-13-01"},
                                                                              "'target_date'"),
    ({"source_url": "javascript:alert(1)"}, "'source_url'"), ({"metric": "H100 Count"}, "'metric'"),
    ({"text": ""}, "'text'"), ({"value": "inf"}, "'value'"), ({"surprise": 1}, "'surprise'"),
]


@pytest.mark.parametrize("change, column", BAD, ids=[b[1] for b in BAD])
def test_a_bad_claim_is_refused_naming_the_field_and_nothing_is_written(engine, change, column):
    with read_session(engine) as session:
        version = data_version(session)
    with pytest.raises(ClaimError, match=column):
        add_claim(engine, {**claim("k", "Meta", "h100_count", ">=", 1, "2024-12-31"), **change}, actor=EDITOR)
    with read_session(engine) as session:
        assert data_version(session) == version
    assert _claims(engine) == 0


def test_a_duplicate_key_is_refused_and_the_writer_is_recorded(engine):
    first = add_claim(engine, claim("k", "Meta", "h100_count", ">=", 1, "2024-12-31"), actor=EDITOR)
    with pytest.raises(ClaimError, match="already exists"):
        add_claim(engine, claim("k", "Meta", "h100_count", ">=", 2, "2024-12-31"), actor=EDITOR)
    with read_session(engine) as session:
        row = session.get(Claim, first)
        assert row.created_by == "ada (cli)" and row.value == 1
    assert _claims(engine) == 1


def test_a_claim_without_a_key_gets_a_stable_one():
    raw = claim("x", "Meta", "h100_count", ">=", 1, "2024-12-31")
    raw.pop("claim_key")
    assert parse_claim(raw).key() == parse_claim(dict(raw)).key()
    assert parse_claim(raw).key().startswith("tester-2023-h100_count-")


def test_bad_seed_rows_name_the_file_row_and_column(db_url, tmp_path):
    (tmp_path / "claims.csv").write_text(
        "claim_key,text,author,made_on,subject,metric,comparator,value,unit,target_date,source_url\n"
        "a,ok,Me,2023-01-01,Meta,h100_count,>=,1,chips,2024-01-01,https://example.org\n"
        "b,bad,Me,2023-01-01,Meta,h100_count,>=,many,chips,2024-01-01,https://example.org\n")
    for name in ("chips.csv", "organisations.csv", "estimates.csv", "headcounts.csv", "model_runs.csv"):
        (tmp_path / name).write_text(_header(name))
    engine = make_engine(db_url, poolclass=NullPool)
    with pytest.raises(ClaimError, match=r"claims.csv row 3, column 'value'"):
        seed(engine, tmp_path)
    assert _claims(engine) == 0
    engine.dispose()


def _header(name: str) -> str:
    return {
        "chips.csv": "name,aliases,vendor,family,release_date,peak_flops_fp32,peak_flops_bf16,peak_ops_8bit,"
                     "memory_gb,memory_bw_gb_s,tdp_w,price_usd,source_url,note\n",
        "organisations.csv": "name,aliases,kind,country,parent,note\n",
        "estimates.csv": "dataset,organisation,chip,user_organisation,count,count_low,count_high,h100e,h100e_low,"
                         "h100e_high,power_mw,valid_on,extra_source_urls\n",
        "headcounts.csv": "organisation,count,valid_on\n",
        "model_runs.csv": "organisation,chip,training_flop,training_flop_low,training_flop_high,hardware_quantity,"
                          "published_on,milestone\n",
    }[name]


def test_the_claims_migration_goes_down_alone_leaving_the_rest(empty_url):
    migrate.upgrade(empty_url)
    migrate.downgrade(empty_url, "0004")
    engine = make_engine(empty_url, poolclass=NullPool)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert "claim" not in tables and {"estimate", "model_run", "audit_log", "raw_document"} <= tables
    migrate.upgrade(empty_url)


def test_claims_of_the_seed_are_loaded_once(db_url):
    engine = make_engine(db_url, poolclass=NullPool)
    first = seed(engine, SEED_DIR)
    second = seed(engine, SEED_DIR)
    assert first.added["seed-claims"] == len(pd.read_csv(SEED_DIR / "claims.csv"))
    assert second.added.get("seed-claims", 0) == 0
    engine.dispose()


def test_the_seed_claims_are_exactly_what_the_script_derives_from_the_reference():
    import importlib.util

    from tests.conftest import SEED_DIR as seed_dir

    spec = importlib.util.spec_from_file_location("build_claims", seed_dir / "build_claims.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    reference = seed_dir.parent.parent / "tests" / "data" / "reference" / "article_claims.csv"
    derived = module.derive(pd.read_csv(reference, dtype=str, keep_default_na=False))
    committed = (seed_dir / "claims.csv").read_text(encoding="utf-8")
    assert derived.to_csv(index=False, lineterminator="\n") == committed
    assert list(derived["claim_key"]) == list(pd.read_csv(reference)["claim_id"])


def test_the_ledger_from_supplied_fleet_states_equals_the_ledger_from_estimates(seeded_engine):
    """The app hands the ledger its cached fleet states (states=...) instead of the estimates frame."""
    from fleet.analytics.claim_metrics import CLAIMS_ATTRIBUTE_TO, CLAIMS_BASIS, StoreView
    from fleet.view_state import Filters
    from fleet.views import SessionStore
    from fleet.views.base import compute_fleet

    store, asked = SessionStore(seeded_engine), []

    def state(as_of):
        asked.append(as_of)
        return compute_fleet(store, Filters(as_of=as_of, basis=CLAIMS_BASIS, attribute_to=CLAIMS_ATTRIBUTE_TO))

    supplied = StoreView(estimates=None, chips=store.chips(), organisations=store.organisations(),
                         model_runs=store.model_runs(None), states=state)
    with read_session(seeded_engine) as session:
        plain = ledger_frame(evaluate_ledger(session, today=date(2026, 11, 28)))
        fed = ledger_frame(evaluate_ledger(session, today=date(2026, 11, 28), now_view=supplied))
    assert asked and len(plain) >= 10
    pd.testing.assert_frame_equal(fed, plain)
