"""Helpers shared by the store tests (imported by conftest.py and the test modules)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from crmlink.store.sql import SqlStore
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

POSTGRES_URL = os.environ.get("CRMLINK_TEST_POSTGRES_URL", "").strip() or None
TABLES = (
    "crmlink_api_keys",
    "crmlink_apps",
    "crmlink_connections",
    "crmlink_invocations",
    "crmlink_idempotency_keys",
)


def backends(*names: str) -> list[Any]:
    """Fixture params: the PostgreSQL one only when a server is configured."""
    params: list[Any] = []
    for name in names:
        if name == "postgres":
            if POSTGRES_URL:
                params.append(pytest.param(name, id=name, marks=pytest.mark.postgres))
        else:
            params.append(pytest.param(name, id=name))
    return params


class PostgresServer:
    """Creates and drops throwaway databases on the configured server."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        self.url: URL = parsed
        self._admin = create_engine(parsed, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        self._created: list[str] = []

    def create_database(self) -> str:
        name = f"crmlink_test_{uuid.uuid4().hex[:16]}"
        with self._admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        self._created.append(name)
        return self.url.set(database=name).render_as_string(hide_password=False)

    def drop_database(self, url: str) -> None:
        name = make_url(url).database
        assert name in self._created
        with self._admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._created.remove(name)

    def close(self) -> None:
        for name in list(self._created):
            with self._admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._created.clear()
        self._admin.dispose()


def empty_database(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of a database that exists but has never been migrated."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    url = server.create_database()
    request.addfinalizer(lambda: server.drop_database(url))
    return url


def open_sql_store(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, secret_key: str
) -> SqlStore:
    """A migrated, empty SqlStore (closed after the test)."""
    if backend == "sqlite":
        store = SqlStore(f"sqlite:///{tmp_path / 'crmlink.db'}", secret_key=secret_key)
        store.upgrade()
    else:
        url: str = request.getfixturevalue("postgres_url")
        store = SqlStore(url, secret_key=secret_key)
        with store.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY"))
    request.addfinalizer(store.close)
    return store


def race_claim(url: str, secret_key: str, barrier: Any, key: str, results: Any) -> None:
    """In a child process: open a store, wait for the others, claim ``key``, report the state."""
    from datetime import timedelta

    store = SqlStore(url, secret_key=secret_key)
    try:
        store.connection_version("app-a", "warm-up")  # connect before the start line
        barrier.wait(timeout=60)
        results.put(store.claim_idempotency_key("app-a", key, "fp", timedelta(hours=1)).state)
    finally:
        store.close()
