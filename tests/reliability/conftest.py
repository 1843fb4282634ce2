"""Databases for the reliability tests: a file SQLite database, and (slow) a real PostgreSQL server."""

import itertools
from collections.abc import Iterator

import pytest

from db.engine import make_engine
from db.migrate import upgrade_to_head
from tests.reliability.pg_server import PostgresServer, PostgresUnavailable, start_postgres

_names = itertools.count()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        server = start_postgres()
    except PostgresUnavailable as reason:
        pytest.skip(f"PostgreSQL tests skipped: {reason}")
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """A fresh database migrated to head: an SQLite file, or a new database on the session's server."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'studio.db'}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.create_database(f"studio_{next(_names)}")
    engine = make_engine(url)
    upgrade_to_head(engine)
    engine.dispose()
    return url
