"""Fixtures for the store tests: a real SQLite file, and a real PostgreSQL server when
``CRMLINK_TEST_POSTGRES_URL`` names one (e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``).

Without that variable the PostgreSQL parameters are not generated at all (nothing is skipped).
With it, one uniquely named database is created for the run (migrated once, emptied before each
test) and dropped at the end; tests that need an empty database get their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from crmlink.secrets import generate_key
from crmlink.store import MemoryStore
from crmlink.store.sql import SqlStore, upgrade

from tests.store._store_helpers import (
    POSTGRES_URL,
    PostgresServer,
    backends,
    empty_database,
    open_sql_store,
)


@pytest.fixture(scope="session")
def secret_key() -> str:
    return generate_key()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    assert POSTGRES_URL, "only PostgreSQL-parametrized tests use this fixture"
    server = PostgresServer(POSTGRES_URL)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def postgres_url(postgres: PostgresServer) -> str:
    """The run's database, migrated to head."""
    url: str = postgres.create_database()
    upgrade(url)
    return url


@pytest.fixture(params=backends("sqlite", "postgres"))
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def sql_store(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, secret_key: str
) -> SqlStore:
    opened: SqlStore = open_sql_store(backend, request, tmp_path, secret_key)
    return opened


@pytest.fixture
def empty_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    url: str = empty_database(backend, request, tmp_path)
    return url


@pytest.fixture(params=backends("memory", "sqlite", "postgres"))
def store(
    request: pytest.FixtureRequest, tmp_path: Path, secret_key: str
) -> MemoryStore | SqlStore:
    """Every Store implementation: the shared behaviour tests run against each."""
    if request.param == "memory":
        return MemoryStore()
    opened: SqlStore = open_sql_store(request.param, request, tmp_path, secret_key)
    return opened
