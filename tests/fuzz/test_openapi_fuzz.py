"""A bounded schemathesis run against /openapi.json: no 5xx, no answer off the documented schema.

Runs in its own nox session (`nox -s fuzz`), against a live server on a real SQLite file, as an
app that owns a mapped connection (so some generated requests reach the engine and the CRM).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from crmlink.emulator import ThreadedServer
from crmlink.secrets import generate_key
from crmlink.server import ServerSettings, create_app
from crmlink.server.demo import DEMO_MAPPING
from crmlink.store.sql import SqlStore
from crmlink.testing import DEMO_OBJECTS
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.fuzz


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    database = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}"
    key = generate_key()
    store = SqlStore(database, secret_key=key)
    store.upgrade()
    app_id = store.ensure_app("fuzzer")
    key_id, secret = store.create_api_key(app_id)
    server = ThreadedServer(
        create_app(ServerSettings(database_url=database, secret_key=key), store=store)
    ).start()
    engine = server._server.config.app.state.engine.for_app(app_id)  # the served engine
    engine.link("demo", "memory", {}, DEMO_OBJECTS)
    engine.set_mapping("demo", DEMO_MAPPING)
    token = base64.b64encode(f"{key_id}:{secret}".encode()).decode()
    try:
        yield {"url": server.url, "headers": {"Authorization": f"Basic {token}"}}
    finally:
        server.stop()
        store.close()


CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]


def test_no_server_error_and_every_answer_is_documented(live: dict[str, Any]) -> None:
    schema = schemathesis.openapi.from_url(f"{live['url']}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 11
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=40,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def fuzz(case: Any) -> None:
            case.call_and_validate(base_url=live["url"], headers=live["headers"], checks=CHECKS)

        fuzz()
