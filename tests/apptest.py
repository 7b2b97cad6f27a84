"""What the AppTest page tests share: open a page function on a store, and check a run."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest


@pytest.fixture
def open_page(monkeypatch):
    """``open_page(url, script, **query)``: run a page function against ``url`` with URL params."""
    def make(url: str, script, **query) -> AppTest:
        monkeypatch.setenv("FLEET_DATABASE_URL", url)
        at = AppTest.from_function(script, default_timeout=120)
        for key, value in query.items():
            at.query_params[key] = value
        return at.run()
    return make


@pytest.fixture
def seeded_sqlite(templates):
    """A seeded SQLite store only, for page behaviour that does not depend on the database."""
    url, drop = templates.clone("sqlite", "seeded")
    yield url
    drop()


def ok(at: AppTest) -> AppTest:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def query(at: AppTest) -> dict:
    return {k: at.query_params[k][0] if isinstance(at.query_params[k], list) else at.query_params[k]
            for k in at.query_params}
