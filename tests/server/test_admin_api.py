"""The admin API: connections, catalog, mapping, audit log; secrets masked; OpenAPI."""

from __future__ import annotations

import copy

import httpx
from crmlink.server.demo import DEMO_MAPPING
from crmlink.testing import DEMO_OBJECTS

from tests.server.conftest import App, envelope, paths


def test_put_connection_answers_the_connection_with_mapping_status(app: App) -> None:
    with app.http() as http:
        created = http.put(
            "/api/v1/crm/acme",
            json={"connector": "memory", "settings": {}, "objects": DEMO_OBJECTS},
        )
        assert created.status_code == 200, created.text
        body = created.json()
        assert body["id"] == "acme"
        assert body["connector"] == "memory"
        assert body["objects"]["opportunity"]["events"]["create_opportunity"]["payloadSchema"]
        assert body["mapping_status"]["opportunity"] == {
            "create_opportunity": "not_mapped",
            "document_updated": "not_mapped",
        }
        mapped = http.put("/api/v1/crm/acme/mapping", json=DEMO_MAPPING)
        assert mapped.status_code == 200, mapped.text
        assert mapped.json()["mapping_status"]["opportunity"]["create_opportunity"] == "mapped"
        fetched = http.get("/api/v1/crm/acme")
        assert fetched.json()["mapping_status"]["contact"]["contact_deleted"] == "mapped"
        assert (
            http.get("/api/v1/crm/acme/mapping").json()["mapping"]["objects"]["opportunity"][
                "crm_object"
            ]
            == "Opportunity"
        )


def test_settings_come_back_with_secrets_masked(app: App) -> None:
    with app.http() as http:
        body = http.put(
            "/api/v1/crm/vaulted",
            json={
                "connector": "vault",
                "settings": {"api_token": "tok-SUPERSECRET-123"},
                "objects": DEMO_OBJECTS,
            },
        ).json()
        assert body["settings"]["api_token"] == "**********"
        listed = http.get("/api/v1/crm").json()["connections"]
        assert "SUPERSECRET" not in str(listed)
        assert "SUPERSECRET" not in http.get("/api/v1/crm/vaulted").text


def test_connections_are_listed_in_pages(app: App) -> None:
    with app.http() as http:
        for name in ["c1", "c2", "c3", "c4", "c5"]:
            http.put(
                f"/api/v1/crm/{name}", json={"connector": "memory", "objects": DEMO_OBJECTS}
            ).raise_for_status()
        first = http.get("/api/v1/crm", params={"limit": 2}).json()
        assert [c["id"] for c in first["connections"]] == ["c1", "c2"]
        second = http.get("/api/v1/crm", params={"limit": 2, "after": first["next"]}).json()
        assert [c["id"] for c in second["connections"]] == ["c3", "c4"]
        last = http.get("/api/v1/crm", params={"limit": 2, "after": second["next"]}).json()
        assert [c["id"] for c in last["connections"]] == ["c5"]
        assert last["next"] is None


def test_delete_connection_removes_it(app: App) -> None:
    app.link_demo("short-lived")
    with app.http() as http:
        assert http.delete("/api/v1/crm/short-lived").status_code == 204
        envelope(http.get("/api/v1/crm/short-lived"), 404, "not_found")
        envelope(http.delete("/api/v1/crm/short-lived"), 404, "not_found")


def test_catalog_lists_objects_and_describes_fields(app: App) -> None:
    app.link_demo("cat")
    with app.http() as http:
        objects = http.get("/api/v1/crm/cat/catalog").json()["objects"]
        assert {"Account", "Contact", "Lead", "Opportunity"} <= {o["name"] for o in objects}
        opp = http.get("/api/v1/crm/cat/catalog/Opportunity").json()
        stage = opp["fields"]["StageName"]
        assert stage["required"]
        assert stage["restricted_picklist"]
        assert "Prospecting" in [v["value"] for v in stage["picklist"]]
        assert opp["fields"]["IsClosed"]["createable"] is False
        envelope(http.get("/api/v1/crm/cat/catalog/Invoice__c"), 404, "not_found")


def test_an_invalid_mapping_is_refused_with_paths_and_the_old_one_kept(app: App) -> None:
    app.link_demo("strict")
    bad = copy.deepcopy(DEMO_MAPPING)
    fields = bad["objects"]["opportunity"]["events"]["create_opportunity"]["fields"]
    del fields["CloseDate"]
    fields["StageName"] = {"value": "Sold"}
    with app.http() as http:
        error = envelope(http.put("/api/v1/crm/strict/mapping", json=bad), 422, "mapping_invalid")
        prefix = "objects.opportunity.events.create_opportunity.fields"
        assert {f"{prefix}.CloseDate", f"{prefix}.StageName.value"} <= set(paths(error))
        kept = http.get("/api/v1/crm/strict/mapping").json()["mapping"]
        assert kept["objects"]["opportunity"]["events"]["create_opportunity"]["fields"][
            "StageName"
        ] == {"value": "Prospecting"}


def test_an_invalid_definition_is_refused_and_nothing_is_stored(app: App) -> None:
    with app.http() as http:
        error = envelope(
            http.put(
                "/api/v1/crm/broken",
                json={
                    "connector": "memory",
                    "objects": {"o": {"events": {"e": {"type": "upsert"}}}},
                },
            ),
            422,
            "definition_invalid",
        )
        assert {"objects.o.events.e.type", "objects.o.events.e.label"} <= set(paths(error))
        envelope(http.get("/api/v1/crm/broken"), 404, "not_found")
        envelope(
            http.put(
                "/api/v1/crm/broken",
                json={"connector": "memory", "settings": {"nope": 1}, "objects": DEMO_OBJECTS},
            ),
            422,
            "settings_invalid",
        )
        envelope(
            http.put(
                "/api/v1/crm/broken", json={"connector": "pipedrive", "objects": DEMO_OBJECTS}
            ),
            404,
            "not_found",
        )


def test_the_audit_log_is_newest_first_filterable_and_paginated(app: App) -> None:
    app.link_demo("audited")
    with app.http() as http:
        url = "/api/v1/crm/audited/objects/opportunity/events/create_opportunity"
        for i in range(3):
            http.post(url, json={"payload": {"name": f"n{i}"}}).raise_for_status()
        http.post(url, json={"payload": {"name": 42}})
        log = http.get("/api/v1/crm/audited/invocations", params={"limit": 2}).json()
        assert [e["status"] for e in log["invocations"]] == ["failed", "succeeded"]
        assert log["invocations"][0]["error_type"] == "payload_invalid"
        older = http.get(
            "/api/v1/crm/audited/invocations", params={"limit": 2, "before": log["next"]}
        ).json()
        assert len(older["invocations"]) == 2
        assert older["next"] is None
        failed = http.get("/api/v1/crm/audited/invocations", params={"status": "failed"}).json()
        assert len(failed["invocations"]) == 1
        by_event = http.get(
            "/api/v1/crm/audited/invocations", params={"event": "document_updated"}
        ).json()
        assert by_event["invocations"] == []
        entry = log["invocations"][1]
        assert entry["crm_calls"] == 1
        assert entry["duration_ms"] > 0
        assert entry["record_id"].startswith("Opportunity:")


def test_openapi_documents_every_route_and_error(app: App) -> None:
    spec = httpx.get(f"{app.base_url}/openapi.json").json()
    expected = {
        ("post", "/api/v1/crm/{connectionID}/objects/{object}/events/{event}"),
        ("post", "/api/v1/crm/{connectionID}/objects/{object}/{recordID}/events/{event}"),
        ("get", "/api/v1/crm"),
        ("put", "/api/v1/crm/{connectionID}"),
        ("get", "/api/v1/crm/{connectionID}"),
        ("delete", "/api/v1/crm/{connectionID}"),
        ("get", "/api/v1/crm/{connectionID}/catalog"),
        ("get", "/api/v1/crm/{connectionID}/catalog/{crmObject}"),
        ("get", "/api/v1/crm/{connectionID}/mapping"),
        ("put", "/api/v1/crm/{connectionID}/mapping"),
        ("get", "/api/v1/crm/{connectionID}/invocations"),
    }
    documented = {(m, p) for p, ops in spec["paths"].items() for m in ops}
    assert expected <= documented
    invoke = spec["paths"]["/api/v1/crm/{connectionID}/objects/{object}/events/{event}"]["post"]
    assert {"400", "401", "404", "409", "413", "422", "424", "429", "502"} <= set(
        invoke["responses"]
    )
    assert invoke["requestBody"]["content"]["application/json"]["schema"]["properties"]["payload"]
    # Every route names HTTP Basic, the invoke routes included (they check it in their thread).
    [scheme] = spec["components"]["securitySchemes"]
    assert spec["components"]["securitySchemes"][scheme] == {
        "type": "http",
        "scheme": "basic",
        "description": "API key: `KEY_ID:SECRET` from `crmlink keys create`.",
    }
    for path, ops in spec["paths"].items():
        if path.startswith("/api/v1/crm"):
            for method, op in ops.items():
                assert op.get("security") == [{scheme: []}], (method, path)
    assert "ErrorEnvelope" in spec["components"]["schemas"]
