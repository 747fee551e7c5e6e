"""App A's keys cannot read, map, invoke, list or delete app B's connections, nor see them."""

from __future__ import annotations

import pytest
from crmlink.server.demo import DEMO_MAPPING
from crmlink.testing import DEMO_OBJECTS

from tests.server.conftest import App, envelope

ROUTES = [
    ("GET", "/api/v1/crm/secret-co", None),
    ("DELETE", "/api/v1/crm/secret-co", None),
    ("GET", "/api/v1/crm/secret-co/catalog", None),
    ("GET", "/api/v1/crm/secret-co/catalog/Opportunity", None),
    ("GET", "/api/v1/crm/secret-co/mapping", None),
    ("PUT", "/api/v1/crm/secret-co/mapping", DEMO_MAPPING),
    ("GET", "/api/v1/crm/secret-co/invocations", None),
    ("GET", "/api/v1/crm/secret-co/health", None),
    (
        "POST",
        "/api/v1/crm/secret-co/objects/opportunity/events/create_opportunity",
        {"payload": {"name": "x"}},
    ),
    (
        "POST",
        "/api/v1/crm/secret-co/objects/opportunity/Opportunity:006000000000001/events/"
        "document_updated",
        {"payload": {"name": "x"}},
    ),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_another_apps_connection_is_not_found_like_an_unknown_one(
    app: App, other_app: App, method: str, path: str, body: object
) -> None:
    other_app.link_demo("secret-co")
    with app.http() as http:
        theirs = http.request(method, path, json=body)
        unknown = http.request(method, path.replace("secret-co", "never-existed"), json=body)
    error = envelope(theirs, 404, "not_found")
    assert error["message"] == envelope(unknown, 404, "not_found")["message"].replace(
        "never-existed", "secret-co"
    )
    with other_app.http() as http:
        assert http.get("/api/v1/crm/secret-co").status_code == 200


def test_listing_shows_only_the_callers_connections(app: App, other_app: App) -> None:
    other_app.link_demo("theirs")
    app.link_demo("mine")
    with app.http() as http:
        assert [c["id"] for c in http.get("/api/v1/crm").json()["connections"]] == ["mine"]


def test_same_connection_id_in_two_apps_are_two_connections(app: App, other_app: App) -> None:
    app.link_demo("shared-name")
    with other_app.http() as http:
        http.put(
            "/api/v1/crm/shared-name", json={"connector": "memory", "objects": DEMO_OBJECTS}
        ).raise_for_status()
        assert (
            http.get("/api/v1/crm/shared-name").json()["mapping_status"]["opportunity"][
                "create_opportunity"
            ]
            == "not_mapped"
        )
    with app.http() as http:
        assert (
            http.get("/api/v1/crm/shared-name").json()["mapping_status"]["opportunity"][
                "create_opportunity"
            ]
            == "mapped"
        )
