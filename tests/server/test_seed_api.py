"""The seed's three requests, byte for byte in path, headers and body."""

from __future__ import annotations

import base64
import json

import httpx
from crmlink_memory import memory_crm

from tests.server.conftest import App


def _seed_post(app: App, path: str, body: dict[str, object]) -> httpx.Response:
    # Exactly the seed's request: Host, Authorization: Basic, a JSON body (no Content-Type).
    credentials = base64.b64encode(f"{app.key_id}:{app.secret}".encode()).decode()
    return httpx.post(
        f"{app.base_url}{path}",
        content=json.dumps(body).encode(),
        headers={"Authorization": f"Basic {credentials}"},
    )


def test_the_seeds_three_requests(app: App) -> None:
    app.link_demo("context-id", instance=f"seed-{app.id}")
    crm = memory_crm(f"seed-{app.id}")

    created = _seed_post(
        app,
        "/api/v1/crm/context-id/objects/opportunity/events/create_opportunity",
        {"payload": {"name": "Apple Sales Contract"}},
    )
    assert created.status_code == 200, created.text
    assert created.headers["content-type"] == "application/json"
    record = created.json()["record"]
    assert record["type"] == "opportunity"
    assert record["id"].startswith("Opportunity:")
    assert record["data"] == {"document_name": "Apple Sales Contract", "document_tags": {}}
    assert created.json()["action"] == "create"

    updated = _seed_post(
        app,
        f"/api/v1/crm/context-id/objects/opportunity/{record['id']}/events/document_updated",
        {"payload": {"name": "Sales Contract", "updated_at": "2022-05-17T23:17:53Z"}},
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
    [stored] = [r for r in crm.records("Opportunity") if f"Opportunity:{r['Id']}" == record["id"]]
    assert stored["Name"] == "Sales Contract"

    contact = crm.insert("Contact", {"LastName": "Smith"})
    deleted = _seed_post(
        app,
        f"/api/v1/crm/context-id/objects/contact/Contact:{contact['Id']}/events/contact_deleted",
        {"payload": {"deleted_at": "2022-05-17T23:17:53Z"}},
    )
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {
        "record": {"type": "contact", "id": f"Contact:{contact['Id']}", "data": {}},
        "action": "update",
    }
    assert crm.read("Contact", contact["Id"])["Status__c"] == "Deleted"


def test_delete_action_removes_the_record(app: App) -> None:
    app.link_demo("deleting", instance=f"del-{app.id}")
    with app.client() as client:
        mapping = client.mapping("deleting")["mapping"]
        mapping["objects"]["contact"]["events"]["contact_deleted"] = {"action": "delete"}
        client.set_mapping("deleting", mapping)
        contact = client.invoke("deleting", "contact", "create_contact", {"name": "Gone"})
        assert contact.record is not None
        result = client.invoke(
            "deleting",
            "contact",
            "contact_deleted",
            {"deleted_at": "2022-05-17T23:17:53Z"},
            record_id=contact.record.id,
        )
    assert result.as_dict() == {
        "record": {"type": "contact", "id": contact.record.id, "data": {}},
        "action": "delete",
    }
    assert memory_crm(f"del-{app.id}").records("Contact") == []
