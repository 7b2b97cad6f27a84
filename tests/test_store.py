"""The store's guarantees on SQLite and Postgres: constraints, idempotent writes, and the
bitemporal "as known at T" view across additions, corrections and retractions."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from fleet.db import read_session
from fleet.queries import estimate_history, estimates_frame, store_stats
from tests.factories import add_chip, add_estimates, add_org, estimate_row, retract


@pytest.fixture
def org_chip(engine):
    return add_org(engine, "OpenAI"), add_chip(engine)


def _live_ids(engine, known_at=None) -> list[int]:
    with read_session(engine) as session:
        return estimates_frame(session, known_at=known_at)["id"].tolist()


BAD_ROWS = [
    ("count_low above count", {"count": 100, "count_low": 200}),
    ("count_high below count", {"count": 100, "count_high": 50}),
    ("negative count", {"count": -1}),
    ("both chips and h100e", {"count": 10, "h100e": 10.0}),
    ("neither chips nor h100e", {"count": None}),
    ("cluster scope without a name", {"count": 10, "scope": "cluster"}),
    ("unknown status", {"count": 10, "status": "rumoured"}),
    ("unknown certainty", {"count": 10, "certainty": "sure"}),
    ("unknown access", {"count": 10, "access": "borrowed"}),
]


@pytest.mark.parametrize("extra", [b[1] for b in BAD_ROWS], ids=[b[0] for b in BAD_ROWS])
def test_the_database_refuses_inconsistent_estimates(engine, org_chip, extra):
    org, chip = org_chip
    extra = dict(extra)
    count = extra.pop("count")
    with pytest.raises(IntegrityError):
        add_estimates(engine, [estimate_row(org, chip, count, **extra)])
    assert _live_ids(engine) == []


def test_h100e_only_estimates_have_no_chip(engine, org_chip):
    org, _ = org_chip
    _, ids, _ = add_estimates(engine, [estimate_row(org, None, h100e=1234.5, h100e_low=1000.0)])
    with read_session(engine) as session:
        frame = estimates_frame(session)
    assert frame.loc[0, "h100e"] == 1234.5 and frame["chip_id"].isna().all()


def test_writing_the_same_rows_twice_adds_nothing(engine, org_chip):
    org, chip = org_chip
    rows = [estimate_row(org, chip, 100), estimate_row(org, chip, 200, valid_on="2024-06-01")]
    _, first, _ = add_estimates(engine, rows)
    _, second, _ = add_estimates(engine, rows + [estimate_row(org, chip, 100)])
    assert len(first) == 2 and second == []
    with read_session(engine) as session:
        assert store_stats(session)["estimates"] == 2


def test_two_equal_clusters_from_one_source_are_not_duplicates(engine, org_chip):
    org, chip = org_chip
    rows = [estimate_row(org, chip, 24576, scope="cluster", cluster="RoCE cluster"),
            estimate_row(org, chip, 24576, scope="cluster", cluster="InfiniBand cluster")]
    _, ids, _ = add_estimates(engine, rows)
    assert len(ids) == 2


def test_as_known_at_sees_additions_corrections_and_retractions_in_time(engine, org_chip):
    org, chip = org_chip
    _, (original,), t1 = add_estimates(engine, [estimate_row(org, chip, 100)])
    _, (correction,), t2 = add_estimates(engine, [estimate_row(org, chip, 120, supersedes_id=original)])
    _, (other,), t3 = add_estimates(engine, [estimate_row(org, chip, 5, valid_on="2020-01-01")])
    t4 = retract(engine, [other])

    assert _live_ids(engine, t1.recorded_at) == [original]
    assert _live_ids(engine, t2.recorded_at) == [correction]
    assert _live_ids(engine, t3.recorded_at) == [correction, other]
    assert _live_ids(engine, t4.recorded_at) == [correction]
    assert _live_ids(engine) == [correction]


def test_retracting_a_correction_revives_what_it_corrected(engine, org_chip):
    org, chip = org_chip
    _, (original,), _ = add_estimates(engine, [estimate_row(org, chip, 100)])
    _, (correction,), t2 = add_estimates(engine, [estimate_row(org, chip, 120, supersedes_id=original)])
    retract(engine, [correction])
    assert _live_ids(engine) == [original]
    assert _live_ids(engine, t2.recorded_at) == [correction]


def test_retraction_is_set_once_and_history_keeps_every_row(engine, org_chip):
    org, chip = org_chip
    _, (first,), _ = add_estimates(engine, [estimate_row(org, chip, 100)])
    _, (second,), _ = add_estimates(engine, [estimate_row(org, chip, 150, supersedes_id=first)])
    t_retract = retract(engine, [second], reason="source withdrawn")
    retract(engine, [second], reason="again")
    with read_session(engine) as session:
        history = estimate_history(session, org).set_index("id")
    assert history.loc[first, "state"] == "live"
    assert history.loc[second, "state"] == "retracted"
    assert history.loc[second, "retraction_reason"] == "source withdrawn"
    assert history.loc[second, "retracted_at"] == t_retract.recorded_at


def test_stats_count_live_estimates_only(engine, org_chip):
    org, chip = org_chip
    _, (a, b), _ = add_estimates(engine, [estimate_row(org, chip, 1), estimate_row(org, chip, 2, valid_on="2023-01-01")])
    add_estimates(engine, [estimate_row(org, chip, 3, supersedes_id=a)])
    retract(engine, [b])
    with read_session(engine) as session:
        stats = store_stats(session)
    assert stats == {"organisations": 1, "estimates": 1, "chips": 1, "batches": 3}
