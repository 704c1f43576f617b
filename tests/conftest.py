"""Fixtures shared by the tests: database URLs (SQLite file and a fresh PostgreSQL database)."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_ADMIN = os.environ.get("MONITOR_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def pytest_configure(config: pytest.Config) -> None:
    """The tests and the commands they run keep their caches (monitor.wordfreqs' tables) in a directory of
    the session's own, not in the user's: every run starts from nothing, as a fresh install does."""
    os.environ["MONITOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="monitor-test-cache-")


def _pg_available() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN, connect_timeout=3):
            return None
    except Exception as exc:  # any failure means: no server to test against
        return f"PostgreSQL at {PG_ADMIN} not reachable: {exc.__class__.__name__}"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    reason = _pg_available()
    if reason:
        if os.environ.get("MONITOR_REQUIRE_POSTGRES"):
            pytest.fail(reason)
        pytest.skip(reason)
    import psycopg

    name = f"monitor_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each store test runs on a new SQLite file and on a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'monitor.db'}"
        return
    pg: str = request.getfixturevalue("postgres_url")
    import psycopg

    # Everything goes, alembic_version and tables of older revisions included: the next test starts empty.
    with psycopg.connect(pg.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    yield pg
