"""Shared fixtures: real databases, one per test.

Every store test takes ``db_url`` (or ``engine``/``seeded_url``) and so runs twice: on a
SQLite file and on the PostgreSQL server (``FLEET_TEST_PG_URL``, default
postgresql+psycopg://postgres@127.0.0.1:5432/test). Each test gets its own database:
SQLite copies a migrated (or seeded) template file; Postgres clones a template database
with ``CREATE DATABASE ... TEMPLATE``, which is much faster than migrating each time.
Without a reachable Postgres the Postgres half is skipped -- unless ``CI=true``, where
it fails.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from fleet import migrate
from fleet.db import make_engine

PG_URL = os.environ.get("FLEET_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SEED_DIR = Path(__file__).resolve().parent.parent / "data" / "seed"
BACKENDS = ["sqlite", "postgres"]
# AppTest fixtures (open_page, seeded_sqlite) shared by the page tests.
pytest_plugins = ["tests.apptest"]


def pytest_configure(config):
    # The app's frame cache (fleet.materialised) goes to a folder of this test process, not
    # the checkout's data/.frames: tests neither fill a developer's folder nor read from it.
    os.environ.setdefault("FLEET_FRAME_CACHE_DIR", tempfile.mkdtemp(prefix="fleet-test-frames-"))
    config.addinivalue_line("markers", "browser: drives Chromium against a real streamlit server")
    config.addinivalue_line("markers", "slow: takes more than a few seconds")


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _pg_admin():
    return create_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)


def _pg_available() -> str | None:
    try:
        with _pg_admin().connect() as conn:
            conn.execute(text("SELECT 1"))
        return None
    except Exception as exc:  # any connection failure means "no server"
        return f"PostgreSQL at {PG_URL} is not reachable: {exc.__class__.__name__}: {exc}"


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The admin URL of a reachable Postgres; skip (or fail under CI=true) if there is none."""
    problem = _pg_available()
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(problem + " (CI=true: a missing Postgres is a failure)")
        pytest.skip(problem)
    return PG_URL


def _pg_url(name: str) -> str:
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


def _pg_create(name: str, template: str | None = None) -> str:
    with _pg_admin().connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        suffix = f' TEMPLATE "{template}"' if template else ""
        conn.execute(text(f'CREATE DATABASE "{name}"{suffix}'))
    return _pg_url(name)


def _pg_drop(name: str) -> None:
    with _pg_admin().connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class Templates:
    """Lazily built template databases, one per backend and state, for this worker."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.built: dict[tuple[str, str], str] = {}
        self.token = f"{_worker()}_{os.getpid()}"

    def get(self, backend: str, state: str) -> str:
        key = (backend, state)
        if key not in self.built:
            self.built[key] = self._build(backend, state)
        return self.built[key]

    def _build(self, backend: str, state: str) -> str:
        name = f"fleet_tpl_{state}_{self.token}"
        url = f"sqlite:///{self.tmp / (name + '.db')}" if backend == "sqlite" else _pg_create(name)
        migrate.upgrade(url)
        if state == "seeded":
            from fleet.seed import seed

            engine = make_engine(url, poolclass=NullPool)
            seed(engine, SEED_DIR)
            engine.dispose()
        return name if backend == "postgres" else url

    def clone(self, backend: str, state: str) -> tuple[str, callable]:
        template = self.get(backend, state)
        if backend == "sqlite":
            path = self.tmp / f"t_{uuid.uuid4().hex[:10]}.db"
            shutil.copyfile(make_url(template).database, path)
            return f"sqlite:///{path}", lambda: [p.unlink(missing_ok=True) for p in path.parent.glob(path.name + "*")]
        name = f"fleet_t_{uuid.uuid4().hex[:12]}"
        return _pg_create(name, template), lambda: _pg_drop(name)

    def cleanup(self) -> None:
        for (backend, _), name in self.built.items():
            if backend == "postgres":
                _pg_drop(name)


@pytest.fixture(scope="session")
def templates(tmp_path_factory):
    registry = Templates(tmp_path_factory.mktemp("db"))
    yield registry
    registry.cleanup()


def _clone(request, templates, state: str):
    backend = request.param
    if backend == "postgres":
        request.getfixturevalue("pg_server")
    url, drop = templates.clone(backend, state)
    yield url
    drop()


@pytest.fixture(params=BACKENDS)
def db_url(request, templates):
    """A fresh, migrated, empty store: a SQLite file, then a Postgres database."""
    yield from _clone(request, templates, "migrated")


@pytest.fixture(params=BACKENDS)
def seeded_url(request, templates):
    """A fresh store holding the seed data."""
    yield from _clone(request, templates, "seeded")


@pytest.fixture(params=BACKENDS)
def empty_url(request, tmp_path):
    """A database with no tables at all (for migration tests)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    request.getfixturevalue("pg_server")
    name = f"fleet_e_{uuid.uuid4().hex[:12]}"
    yield _pg_create(name)
    _pg_drop(name)


@pytest.fixture
def engine(db_url):
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def seeded_engine(seeded_url):
    eng = make_engine(seeded_url)
    yield eng
    eng.dispose()
