"""End to end: the seed's three requests over crmlink's HTTP API, a Salesforce connection,
the real simple-salesforce inside the connector, and the emulator's stored records."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from crmlink.emulator import ThreadedServer
from crmlink.secrets import generate_key
from crmlink.server.app import create_app
from crmlink.server.settings import ServerSettings
from crmlink.store.sql import SqlStore
from crmlink.testing import DEMO_OBJECTS, SEED_REQUESTS
from crmlink_salesforce.emulator import SalesforceEmulator

MAPPING: dict[str, Any] = {
    "objects": {
        "opportunity": {
            "crm_object": "Opportunity",
            "fields": {"document_name": {"from": "Name"}, "document_tags": None},
            "events": {
                "create_opportunity": {
                    "action": "create",
                    "fields": {
                        "Name": {"from": "name"},
                        "StageName": {"value": "Prospecting"},
                        "CloseDate": {"value": "2026-12-31"},
                    },
                },
                "document_updated": {
                    "action": "update",
                    "fields": {"Name": {"from": "name"}, "Description": {"from": "updated_at"}},
                },
            },
        },
        "contact": {
            "crm_object": "Contact",
            "fields": {"name": {"from": "LastName"}},
            "events": {
                "create_contact": {"action": "create", "fields": {"LastName": {"from": "name"}}},
                "contact_deleted": {"action": "delete"},
            },
        },
    }
}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[httpx.Client]:
    """crmlink's HTTP server on a SQLite store, with an API key, served over real HTTP."""
    url = f"sqlite:///{tmp_path / 'crmlink.db'}"
    store = SqlStore(url, secret_key=generate_key())
    store.upgrade()
    key_id, secret = store.create_api_key(store.ensure_app("e2e"))
    app = create_app(ServerSettings(database_url=url), store=store)
    server = ThreadedServer(app).start()
    try:
        with httpx.Client(base_url=server.url, auth=(key_id, secret), timeout=30) as client:
            yield client
    finally:
        server.stop()


def test_seed_requests_reach_salesforce(api: httpx.Client, emulator: SalesforceEmulator) -> None:
    connection = {
        "connector": "salesforce",
        "settings": {"instance_url": emulator.url, "access_token": emulator.token},
        "objects": DEMO_OBJECTS,
    }
    response = api.put("/api/v1/crm/acme", json=connection)
    assert response.status_code in (200, 201), response.text
    assert emulator.token not in response.text  # the access token is masked
    response = api.put("/api/v1/crm/acme/mapping", json=MAPPING)
    assert response.status_code == 200, response.text

    # 1. create_opportunity
    create, update, delete = SEED_REQUESTS
    response = api.post(create["path"].format(connectionID="acme"), json=create["body"])
    assert response.status_code == 200, response.text
    record = response.json()["record"]
    assert record["type"] == "opportunity"
    assert record["data"] == {"document_name": "Apple Sales Contract", "document_tags": {}}
    crm_object, native_id = record["id"].split(":")
    assert crm_object == "Opportunity"
    stored = emulator.records("Opportunity")
    assert [(r["Id"], r["Name"], r["StageName"]) for r in stored] == [
        (native_id, "Apple Sales Contract", "Prospecting")
    ]

    # 2. document_updated on that record
    path = update["path"].format(connectionID="acme", recordID=record["id"])
    response = api.post(path, json=update["body"])
    assert response.status_code == 200, response.text
    assert response.json()["record"] == {
        "type": "opportunity",
        "id": record["id"],
        "data": {"document_name": "Sales Contract", "document_tags": {}},
    }
    stored_opp = emulator.records("Opportunity")[0]
    assert stored_opp["Name"] == "Sales Contract"
    assert stored_opp["Description"] == "2022-05-17T23:17:53Z"

    # 3. contact_deleted on a contact created in Salesforce beforehand
    contact = api.post(
        "/api/v1/crm/acme/objects/contact/events/create_contact",
        json={"payload": {"name": "Ada Lovelace"}},
    )
    assert contact.status_code == 200, contact.text
    contact_id = contact.json()["record"]["id"]
    assert contact_id.startswith("Contact:003")
    assert [r["LastName"] for r in emulator.records("Contact")] == ["Ada Lovelace"]
    path = delete["path"].format(connectionID="acme", recordID=contact_id)
    response = api.post(path, json=delete["body"])
    assert response.status_code == 200, response.text
    assert response.json()["record"] == {"type": "contact", "id": contact_id, "data": {}}
    assert emulator.records("Contact") == []

    # a Salesforce refusal comes back in crmlink's envelope
    emulator.control.rate_limit()
    response = api.post(create["path"].format(connectionID="acme"), json=create["body"])
    assert response.status_code == 429
    assert response.json()["error"]["type"] == "crm_rate_limited"
    assert response.json()["error"]["crm"]["code"] == "REQUEST_LIMIT_EXCEEDED"
