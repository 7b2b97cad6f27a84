"""On Postgres the big estimates read goes through connectorx (straight into Arrow) and gives
exactly the frame the driver gives, now and as known at a time; it is only used where it
cannot miss anything (read-only sessions on a plain Postgres URL), never on SQLite."""

from __future__ import annotations


import pandas as pd
import pytest
from sqlalchemy.orm import Session

from fleet import queries
from fleet.db import data_version, make_engine, read_session, write_session
from fleet.ingest.manual import add_estimate, retract_estimate
from tests.factories import EDITOR

ODD = {"organisation": "Meta", "chip": "H100", "count": "350000", "count_low": "300000", "valid_on": "2024-12-31",
       "source_url": "https://example.org/méta?q=1&x=ü", "certainty": "likely", "scope": "cluster",
       "cluster": "=SUM(A1) \"quoted\"\nsecond line", "quote": "日本語, 'quotes', and a tab\there",
       "note": "", "country": "USA", "access": "leased", "user_organisation": "OpenAI"}


@pytest.fixture
def pg_seeded(seeded_engine):
    if seeded_engine.url.get_backend_name() != "postgresql":
        pytest.skip("connectorx reads Postgres only")
    return seeded_engine


def both(engine, **kwargs) -> tuple[pd.DataFrame, pd.DataFrame]:
    with read_session(engine) as session:
        assert queries.arrow_url(session) is not None
        arrow = queries.estimates_frame(session, **kwargs)
    with Session(engine) as session:  # not read-only: through the driver
        assert queries.arrow_url(session) is None
        driver = queries.estimates_frame(session, **kwargs)
    return arrow, driver


def test_the_arrow_read_equals_the_driver_read(pg_seeded):
    seeded_engine = pg_seeded
    first = add_estimate(seeded_engine, EDITOR, ODD)
    with read_session(seeded_engine) as session:
        known_at = data_version(session)[1]
    add_estimate(seeded_engine, EDITOR, {**ODD, "count": "340000", "count_low": ""}, supersedes_id=first)
    retract_estimate(seeded_engine, EDITOR, first + 1, "withdrawn")
    arrow, driver = both(seeded_engine, columns=queries.ESTIMATE_FRAME_COLUMNS)  # the details too
    assert len(driver) > 100 and (driver["id"] == first).any()
    pd.testing.assert_frame_equal(arrow, driver)
    pd.testing.assert_frame_equal(both(seeded_engine)[0], arrow[list(queries.ESTIMATE_ANALYSIS_COLUMNS)])
    then_arrow, then_driver = both(seeded_engine, known_at=known_at)
    pd.testing.assert_frame_equal(then_arrow, then_driver)
    some = driver["organisation_id"].drop_duplicates().head(3).astype(int).tolist()
    pd.testing.assert_frame_equal(*both(seeded_engine, organisation_ids=some))
    row = arrow.set_index("id").loc[first]
    assert (row["cluster"], row["quote"], row["source_url"]) == (ODD["cluster"], ODD["quote"], ODD["source_url"])


def test_an_empty_result_has_the_same_columns_and_dtypes(db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("connectorx reads Postgres only")
    engine = make_engine(db_url)
    try:
        pd.testing.assert_frame_equal(*both(engine))
    finally:
        engine.dispose()


def test_write_sessions_and_unusual_urls_read_through_the_driver(engine):
    with write_session(engine) as (session, _):
        assert queries.arrow_url(session) is None  # it could not see the session's own rows
    with read_session(engine) as session:
        expected = engine.url.get_backend_name() == "postgresql"
        assert (queries.arrow_url(session) is not None) == expected  # a SQLite store: always the driver
    if expected:
        with_options = make_engine(engine.url.update_query_dict({"connect_timeout": "5"}).render_as_string(False))
        try:
            with read_session(with_options) as session:
                assert queries.arrow_url(session) is None
        finally:
            with_options.dispose()
