"""The seed's definition and requests, end to end, on a HubSpot connection.

The app's ``opportunity`` is mapped to HubSpot ``deals`` and its ``contact`` to ``contacts``.
The seed's three requests run over the HTTP API (a live crmlink server on a SQLite database,
Basic auth with an API key) and through the Engine (the in-process API); the results are checked
in the emulator's stored records. The duplicate-email upsert the end user can opt into and the
``workflow`` action are checked the same way.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import hubspot
import pytest
from crmlink import Client, Engine, MemoryStore
from crmlink.emulator import ThreadedServer
from crmlink.errors import CrmValidation
from crmlink.records import Action
from crmlink.secrets import generate_key
from crmlink.server import ServerSettings, create_app
from crmlink.store.sql import SqlStore
from crmlink.testing import DEMO_OBJECTS, SEED_REQUESTS
from crmlink_hubspot.emulator import HubSpotEmulator
from hubspot.crm.objects import SimplePublicObjectInputForCreate

MAPPING: dict[str, Any] = {
    "objects": {
        "opportunity": {
            "crm_object": "deals",
            "fields": {"document_name": {"from": "dealname"}, "document_tags": None},
            "events": {
                "create_opportunity": {
                    "action": "create",
                    "fields": {
                        "dealname": {"from": "name"},
                        "dealstage": {"value": "appointmentscheduled"},
                        "closedate": {"value": "2026-12-31"},
                    },
                },
                "document_updated": {
                    "action": "update",
                    "fields": {"dealname": {"from": "name"}, "description": {"from": "updated_at"}},
                },
            },
        },
        "contact": {
            "crm_object": "contacts",
            "fields": {"name": {"from": "lastname"}},
            "events": {
                "create_contact": {
                    "action": "create",
                    "fields": {"lastname": {"from": "name"}, "email": {"from": "email"}},
                },
                "contact_deleted": {"action": "delete"},
            },
        },
    }
}


def _seed(index: int) -> tuple[str, str, str, dict[str, Any]]:
    """(object, event, record placeholder, payload) of one seed request."""
    request = SEED_REQUESTS[index]
    parts = request["path"].split("/")
    objects_at = parts.index("objects")
    return parts[objects_at + 1], parts[-1], parts[objects_at + 2], request["body"]["payload"]


@pytest.fixture
def engine(settings_dict: dict[str, Any]) -> Engine:
    engine = Engine(MemoryStore())
    engine.link("acme", "hubspot", settings_dict, DEMO_OBJECTS)
    engine.set_mapping("acme", MAPPING)
    return engine


def test_seed_requests_on_hubspot(engine: Engine, emulator: HubSpotEmulator) -> None:
    obj, event, _, payload = _seed(0)
    created = engine.invoke("acme", obj, event, payload)
    assert created.action is Action.CREATE
    assert created.record is not None
    kind, native = created.record.id.split(":")
    assert kind == "deals"
    assert native.isdigit()
    assert created.record.data == {"document_name": "Apple Sales Contract", "document_tags": {}}
    assert engine.invocations("acme", limit=1)[0].crm_calls == 1
    (deal,) = emulator.records("deals")
    assert deal["id"] == native
    assert deal["properties"]["dealname"] == "Apple Sales Contract"
    assert deal["properties"]["dealstage"] == "appointmentscheduled"
    assert deal["properties"]["closedate"] == "2026-12-31T00:00:00.000Z"

    obj, event, _, payload = _seed(1)
    updated = engine.invoke("acme", obj, event, payload, record_id=created.record.id)
    assert updated.record is not None
    assert updated.record.id == created.record.id
    assert updated.record.data["document_name"] == "Sales Contract"
    (deal,) = emulator.records("deals")
    assert deal["properties"]["dealname"] == "Sales Contract"
    assert deal["properties"]["description"] == "2022-05-17T23:17:53Z"

    hs = hubspot.Client.create(access_token=emulator.token, host=emulator.url)
    contact = hs.crm.objects.basic_api.create(
        "contacts", SimplePublicObjectInputForCreate(properties={"lastname": "Signer"})
    )
    obj, event, _, payload = _seed(2)
    deleted = engine.invoke("acme", obj, event, payload, record_id=f"contacts:{contact.id}")
    assert deleted.action is Action.DELETE
    assert deleted.record is not None
    assert (deleted.record.id, deleted.record.data) == (f"contacts:{contact.id}", {})
    assert emulator.records("contacts") == []


def test_duplicate_email_fails_or_updates_as_the_end_user_chose(
    engine: Engine, emulator: HubSpotEmulator
) -> None:
    payload = {"name": "Lovelace", "email": "ada@example.com"}
    first = engine.invoke("acme", "contact", "create_contact", payload)
    assert first.record is not None
    with pytest.raises(CrmValidation) as caught:
        engine.invoke("acme", "contact", "create_contact", {**payload, "name": "King"})
    assert caught.value.crm is not None
    assert caught.value.crm.existing_id == first.record.id.split(":")[1]
    mapping = copy.deepcopy(MAPPING)
    mapping["objects"]["contact"]["events"]["create_contact"]["on_duplicate"] = "update"
    engine.set_mapping("acme", mapping)
    again = engine.invoke("acme", "contact", "create_contact", {**payload, "name": "King"})
    assert again.record is not None
    assert again.record.id == first.record.id
    assert again.record.data == {"name": "King"}
    assert [c["properties"]["lastname"] for c in emulator.records("contacts")] == ["King"]


def test_workflow_sends_the_custom_event_the_end_user_named(
    engine: Engine, emulator: HubSpotEmulator
) -> None:
    mapping = copy.deepcopy(MAPPING)
    mapping["objects"]["opportunity"]["events"]["create_opportunity"] = {
        "action": "workflow",
        "workflow": f"pe{emulator.portal_id}_crmlink_event",
        "fields": {"name": {"from": "name"}},
    }
    engine.set_mapping("acme", mapping)
    result = engine.invoke("acme", "opportunity", "create_opportunity", {"name": "Hand over"})
    assert result.action is Action.WORKFLOW
    assert result.record is None
    assert emulator.control.workflow_events() == [
        (f"pe{emulator.portal_id}_crmlink_event", {"name": "Hand over"})
    ]
    assert emulator.records("deals") == []


# -- over the HTTP API -------------------------------------------------------------------------
@pytest.fixture
def crmlink_server(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """A live crmlink server on 127.0.0.1 over SQLite: (url, key id, secret)."""
    database_url = f"sqlite:///{tmp_path / 'crmlink.db'}"
    secret_key = generate_key()
    store = SqlStore(database_url, secret_key=secret_key)
    store.upgrade()
    app_id = store.ensure_app("hubspot-e2e")
    key_id, secret = store.create_api_key(app_id)
    settings = ServerSettings(database_url=database_url, secret_key=secret_key)
    running = ThreadedServer(create_app(settings, store=store)).start()
    try:
        yield running.url, key_id, secret
    finally:
        running.stop()
        store.close()


def _seed_post(server: tuple[str, str, str], path: str, body: dict[str, Any]) -> httpx.Response:
    url, key_id, secret = server
    credentials = base64.b64encode(f"{key_id}:{secret}".encode()).decode()
    return httpx.post(
        f"{url}{path}",
        content=json.dumps(body).encode(),
        headers={"Authorization": f"Basic {credentials}"},
        timeout=30,
    )


def test_seed_requests_over_the_http_api(
    crmlink_server: tuple[str, str, str], emulator: HubSpotEmulator, settings_dict: dict[str, Any]
) -> None:
    url, key_id, secret = crmlink_server
    with Client(url, key_id, secret) as client:
        client.link("context-id", "hubspot", settings_dict, DEMO_OBJECTS)
        client.set_mapping("context-id", MAPPING)

    create, update, delete = SEED_REQUESTS
    created = _seed_post(
        crmlink_server, create["path"].format(connectionID="context-id"), create["body"]
    )
    assert created.status_code == 200, created.text
    record = created.json()["record"]
    assert record["id"].startswith("deals:")
    assert record["data"] == {"document_name": "Apple Sales Contract", "document_tags": {}}
    (deal,) = emulator.records("deals")
    assert f"deals:{deal['id']}" == record["id"]
    assert deal["properties"]["dealname"] == "Apple Sales Contract"

    updated = _seed_post(
        crmlink_server,
        update["path"].format(connectionID="context-id", recordID=record["id"]),
        update["body"],
    )
    assert updated.status_code == 200, updated.text
    assert updated.json() == {
        "record": {
            "type": "opportunity",
            "id": record["id"],
            "data": {"document_name": "Sales Contract", "document_tags": {}},
        },
        "action": "update",
    }
    assert emulator.records("deals")[0]["properties"]["dealname"] == "Sales Contract"

    hs = hubspot.Client.create(access_token=emulator.token, host=emulator.url)
    contact = hs.crm.objects.basic_api.create(
        "contacts", SimplePublicObjectInputForCreate(properties={"lastname": "Smith"})
    )
    deleted = _seed_post(
        crmlink_server,
        delete["path"].format(connectionID="context-id", recordID=f"contacts:{contact.id}"),
        delete["body"],
    )
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {
        "record": {"type": "contact", "id": f"contacts:{contact.id}", "data": {}},
        "action": "delete",
    }
    assert emulator.records("contacts") == []


def test_hubspot_errors_over_the_http_api(
    crmlink_server: tuple[str, str, str], emulator: HubSpotEmulator, settings_dict: dict[str, Any]
) -> None:
    url, key_id, secret = crmlink_server
    with Client(url, key_id, secret) as client:
        client.link("errors", "hubspot", settings_dict, DEMO_OBJECTS)
        client.set_mapping("errors", MAPPING)
    path = "/api/v1/crm/errors/objects/contact/events/create_contact"
    payload = {"payload": {"name": "Lovelace", "email": "ada@example.com"}}
    first = _seed_post(crmlink_server, path, payload)
    assert first.status_code == 200, first.text
    duplicate = _seed_post(crmlink_server, path, payload)
    assert duplicate.status_code == 422
    error = duplicate.json()["error"]
    assert error["type"] == "crm_validation"
    assert error["crm"]["code"] == "CONFLICT"
    assert error["crm"]["existing_id"] == first.json()["record"]["id"].split(":")[1]
    emulator.control.rate_limit()
    limited = _seed_post(crmlink_server, path, {"payload": {"name": "Later"}})
    assert limited.status_code == 429
    assert limited.json()["error"]["type"] == "crm_rate_limited"
    assert "Retry-After" in limited.headers
    emulator.control.reset()
    emulator.control.expire_credentials()
    expired = _seed_post(crmlink_server, path, {"payload": {"name": "Later"}})
    assert expired.status_code == 424
    assert expired.json()["error"]["type"] == "connection_unhealthy"
