"""Fixtures shared by the cross-package tests: databases and live servers on 127.0.0.1."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

POSTGRES_ENV = "CRMLINK_TEST_POSTGRES_URL"


def _database_params() -> list[object]:
    params: list[object] = ["sqlite"]
    if os.environ.get(POSTGRES_ENV):
        params.append(pytest.param("postgresql", marks=pytest.mark.postgres))
    return params


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A fresh, uniquely named PostgreSQL database for this test run (dropped afterwards)."""
    admin_url = make_url(os.environ[POSTGRES_ENV])
    name = f"crmlink_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module", params=_database_params())
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A real SQLite file, and a real PostgreSQL when CRMLINK_TEST_POSTGRES_URL is set."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'crmlink.db'}"
    url: str = request.getfixturevalue("postgres_server")
    return url
