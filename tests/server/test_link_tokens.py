"""CRM Link tokens: one connection, short-lived, signed; expired, forged or revoked → 401."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
import pytest
from crmlink.server.app import _signing_key
from crmlink.server.demo import DEMO_MAPPING
from crmlink.server.link.tokens import decode_token, issue_token
from crmlink.server.settings import ServerSettings
from crmlink.testing import DEMO_OBJECTS

from tests.server.conftest import App, LiveServer, envelope, paths


def _token(app: App, connection_id: str, **body: Any) -> dict[str, Any]:
    with app.http() as http:
        response = http.post(f"/api/v1/crm/{connection_id}/link-token", json=body or None)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _page(server: LiveServer, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.Client(base_url=server.url, headers=headers, timeout=30)


def _signing(server: LiveServer) -> bytes:
    return _signing_key(
        ServerSettings(database_url=server.database_url, secret_key=server.secret_key)
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# -- issuing --------------------------------------------------------------------------------------
def test_a_token_is_signed_short_lived_and_names_one_connection(
    server: LiveServer, app: App
) -> None:
    app.link_demo("acme")
    answer = _token(app, "acme")
    assert answer["connection_id"] == "acme"
    assert answer["expires_in"] == 3600
    assert answer["page_url"] == f"{server.url}/link/"
    assert answer["script_url"] == f"{server.url}/link/crmlink.js"
    claims = decode_token(_signing(server), answer["token"])
    assert (claims.app_id, claims.connection_id, claims.key_id) == (app.id, "acme", app.key_id)
    assert claims.expires_at - claims.issued_at == 3600
    assert abs(claims.issued_at - time.time()) < 60
    assert claims.scope == ("mapping",)


def test_a_token_lifetime_can_be_shortened_and_is_bounded(app: App) -> None:
    app.link_demo("acme")
    assert _token(app, "acme", ttl_seconds=120)["expires_in"] == 120
    with app.http() as http:
        too_long = http.post("/api/v1/crm/acme/link-token", json={"ttl_seconds": 10**7})
        unknown_key = http.post("/api/v1/crm/acme/link-token", json={"connection": "x"})
    envelope(too_long, 400, "bad_request")
    assert paths(envelope(unknown_key, 400, "bad_request")) == ["connection"]


def test_issuing_needs_app_credentials_and_a_connection_of_the_app(
    server: LiveServer, app: App, other_app: App
) -> None:
    other_app.link_demo("theirs")
    with httpx.Client(base_url=server.url) as anonymous:
        envelope(anonymous.post("/api/v1/crm/theirs/link-token"), 401, "unauthorized")
    with app.http() as http:
        theirs = envelope(http.post("/api/v1/crm/theirs/link-token"), 404, "not_found")
        unknown = envelope(http.post("/api/v1/crm/nobody/link-token"), 404, "not_found")
    assert theirs["message"] == unknown["message"].replace("nobody", "theirs")
    # A link token is not an app credential.
    token = _token(other_app, "theirs")["token"]
    with _page(server, token) as page:
        envelope(page.post("/api/v1/crm/theirs/link-token"), 401, "unauthorized")
        envelope(page.get("/api/v1/crm/theirs"), 401, "unauthorized")


# -- using --------------------------------------------------------------------------------------
def test_the_page_api_serves_the_tokens_connection(server: LiveServer, app: App) -> None:
    app.link_demo("acme")
    with _page(server, _token(app, "acme")["token"]) as page:
        summary = page.get("/api/v1/link/connection").json()
        catalog = page.get("/api/v1/link/catalog").json()
        choices = page.get("/api/v1/link/catalog/Opportunity", params={"object": "opportunity"})
        mapping = page.get("/api/v1/link/mapping").json()
    assert summary["connection_id"] == "acme"
    assert summary["connector"] == "memory"
    assert summary["health"]["ok"] is True
    assert set(summary["objects"]) == {"opportunity", "contact"}
    assert summary["mapping_status"]["opportunity"]["create_opportunity"] == "mapped"
    assert catalog["suggestions"]["opportunity"] == ["Opportunity"]
    assert catalog["suggestions"]["contact"] == ["Contact"]
    assert choices.status_code == 200, choices.text
    event = choices.json()["events"]["create_opportunity"]
    assert event["actions"] == ["create", "noop", "workflow"]
    name_targets = [t["name"] for t in event["payload"][0]["targets"]["create"]]
    assert name_targets[0] == "Name"  # suggested first (same label)
    assert {"StageName", "CloseDate"} <= set(choices.json()["required_on_create"])
    assert mapping["mapping"] == DEMO_MAPPING


def test_a_token_for_one_connection_cannot_reach_another(
    server: LiveServer, app: App, other_app: App
) -> None:
    app.link_demo("alpha")
    app.link_demo("beta")
    other_app.link_demo("alpha")  # the same id in another app
    token = _token(app, "alpha")["token"]
    refused = {"objects": {}}
    with _page(server, token) as page:
        # Nothing in the URL, query or body can name another connection.
        assert page.get("/api/v1/link/connection?connectionID=beta").json()["connection_id"] == (
            "alpha"
        )
        envelope(page.put("/api/v1/link/mapping", json=refused), 422, "mapping_invalid")
        envelope(page.get("/api/v1/crm/beta/mapping"), 401, "unauthorized")
        envelope(page.put("/api/v1/crm/beta/mapping", json=refused), 401, "unauthorized")
        envelope(page.post("/api/v1/crm/beta/link-token"), 401, "unauthorized")
        opt_out = {
            "objects": {"opportunity": {"crm_object": None}, "contact": {"crm_object": None}}
        }
        assert page.put("/api/v1/link/mapping", json=opt_out).status_code == 200
    with app.http() as http:
        assert http.get("/api/v1/crm/alpha/mapping").json()["mapping"] == opt_out
        assert http.get("/api/v1/crm/beta/mapping").json()["mapping"] == DEMO_MAPPING
    with other_app.http() as http:
        assert http.get("/api/v1/crm/alpha/mapping").json()["mapping"] == DEMO_MAPPING


def test_an_expired_token_is_refused(server: LiveServer, app: App) -> None:
    app.link_demo("acme")
    token, _ = issue_token(
        _signing(server),
        app_id=app.id,
        connection_id="acme",
        key_id=app.key_id,
        ttl_seconds=60,
        now=time.time() - 61,
    )
    short = _token(app, "acme", ttl_seconds=1)["token"]
    time.sleep(1.1)
    for dead in (token, short):
        with _page(server, dead) as page:
            error = envelope(page.get("/api/v1/link/connection"), 401, "unauthorized")
        assert "expired" in error["message"]


@pytest.mark.parametrize(
    "forge",
    ["other-key", "altered-claims", "swapped-signature", "garbage", "empty", "none-alg"],
)
def test_a_forged_token_is_refused(server: LiveServer, app: App, forge: str) -> None:
    app.link_demo("acme")
    app.link_demo("beta")
    good = _token(app, "acme")["token"]
    other = _token(app, "beta")["token"]
    prefix, body, signature = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    forged = {
        "other-key": issue_token(
            b"k" * 32, app_id=app.id, connection_id="acme", key_id=app.key_id, ttl_seconds=60
        )[0],
        "altered-claims": f"{prefix}.{_b64(json.dumps({**claims, 'conn': 'beta'}).encode())}."
        f"{signature}",
        "swapped-signature": f"{prefix}.{body}.{other.split('.')[2]}",
        "garbage": "not-a-token",
        "empty": "cl1..",
        "none-alg": f"{prefix}.{body}.",
    }[forge]
    with _page(server, forged) as page:
        response = page.get("/api/v1/link/connection")
    envelope(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_missing_or_basic_credentials_are_refused_on_the_page_api(
    server: LiveServer, app: App
) -> None:
    app.link_demo("acme")
    with _page(server, None) as page:
        envelope(page.get("/api/v1/link/connection"), 401, "unauthorized")
    with app.http() as http:
        envelope(http.get("/api/v1/link/connection"), 401, "unauthorized")


def test_revoking_the_issuing_api_key_kills_its_tokens(server: LiveServer, app: App) -> None:
    app.link_demo("acme")
    doomed = _token(app, "acme")["token"]
    key_id, secret = server.store.create_api_key(app.id)
    with httpx.Client(base_url=server.url, auth=(key_id, secret)) as http:
        survivor = http.post("/api/v1/crm/acme/link-token").json()["token"]
    with _page(server, doomed) as page:
        assert page.get("/api/v1/link/connection").status_code == 200
    assert server.store.revoke_api_key(app.key_id)
    with _page(server, doomed) as page:
        error = envelope(page.get("/api/v1/link/connection"), 401, "unauthorized")
        envelope(page.put("/api/v1/link/mapping", json=DEMO_MAPPING), 401, "unauthorized")
    assert "revoked" in error["message"]
    with _page(server, survivor) as page:
        assert page.get("/api/v1/link/connection").status_code == 200


def test_a_deleted_connection_is_not_found(server: LiveServer, app: App) -> None:
    app.link_demo("acme")
    token = _token(app, "acme")["token"]
    with app.http() as http:
        assert http.delete("/api/v1/crm/acme").status_code == 204
    with _page(server, token) as page:
        envelope(page.get("/api/v1/link/connection"), 404, "not_found")


# -- what the page may change ---------------------------------------------------------------------
def test_a_refused_mapping_names_every_row(server: LiveServer, app: App) -> None:
    app.link_demo("acme")
    bad = json.loads(json.dumps(DEMO_MAPPING))
    create = bad["objects"]["opportunity"]["events"]["create_opportunity"]["fields"]
    del create["CloseDate"]
    create["StageName"] = {"value": "Nope"}
    with _page(server, _token(app, "acme")["token"]) as page:
        error = envelope(page.put("/api/v1/link/mapping", json=bad), 422, "mapping_invalid")
    prefix = "objects.opportunity.events.create_opportunity.fields"
    assert f"{prefix}.CloseDate" in paths(error)
    assert f"{prefix}.StageName.value" in paths(error)


def test_the_page_replaces_crm_settings_keeping_what_is_left_blank(
    server: LiveServer, app: App
) -> None:
    with app.client() as client:
        client.link("vaulted", "vault", {"api_token": "s3cret", "instance": "v1"}, DEMO_OBJECTS)
    with _page(server, _token(app, "vaulted")["token"]) as page:
        summary = page.get("/api/v1/link/connection").json()
        assert "s3cret" not in json.dumps(summary)
        form = {f["name"]: f for f in summary["settings_form"]}
        assert form["api_token"]["secret"]
        assert form["api_token"]["required"]
        assert form["api_token"]["value"] is None
        assert form["api_token"]["set"]
        assert form["instance"]["value"] == "v1"
        changed = page.put(
            "/api/v1/link/settings", json={"settings": {"api_token": "", "instance": "v2"}}
        )
        assert changed.status_code == 200, changed.text
        wrong = page.put("/api/v1/link/settings", json={"settings": {"bogus": 1}})
    assert paths(envelope(wrong, 422, "settings_invalid")) == ["settings.bogus"]
    stored = server.store.get_connection(app.id, "vaulted")
    assert stored is not None
    assert stored.settings == {"api_token": "s3cret", "instance": "v2"}


def test_the_definition_changes_only_with_a_token_that_allows_it(
    server: LiveServer, app: App
) -> None:
    app.link_demo("acme")
    smaller = {"opportunity": DEMO_OBJECTS["opportunity"]}
    with _page(server, _token(app, "acme")["token"]) as page:
        envelope(
            page.put("/api/v1/link/definition", json={"objects": smaller}), 401, "unauthorized"
        )
    with _page(server, _token(app, "acme", allow_definition=True)["token"]) as page:
        changed = page.put("/api/v1/link/definition", json={"objects": smaller})
        assert changed.status_code == 200, changed.text
        assert changed.json()["can_edit_definition"] is True
        reopened = page.get("/api/v1/link/mapping").json()
    assert set(reopened["mapping"]["objects"]) == {"opportunity"}
    assert reopened["dropped"] == ["objects.contact"]


def test_the_page_and_helper_are_served_from_the_package(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url) as http:
        page = http.get("/link/")
        helper = http.get("/link/crmlink.js")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert "frame-ancestors" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "no-referrer"
    assert helper.status_code == 200
    assert "javascript" in helper.headers["content-type"]
    assert "linkCRM" in helper.text


def test_reopening_drops_what_the_definition_no_longer_has(server: LiveServer, app: App) -> None:
    app.link_demo("acme")
    changed = json.loads(json.dumps(DEMO_OBJECTS))
    create = changed["opportunity"]["events"]["create_opportunity"]["payloadSchema"]
    create["title"] = create.pop("name")
    del changed["opportunity"]["events"]["document_updated"]
    del changed["opportunity"]["fields"]["document_tags"]
    with app.client() as client:
        client.link("acme", "memory", {}, changed)
    with _page(server, _token(app, "acme")["token"]) as page:
        reopened = page.get("/api/v1/link/mapping").json()
    prefix = "objects.opportunity"
    assert reopened["dropped"] == [
        f"{prefix}.fields.document_tags",
        f"{prefix}.events.create_opportunity.fields.Name",
        f"{prefix}.events.document_updated",
    ]
    opportunity = reopened["mapping"]["objects"]["opportunity"]
    assert opportunity["fields"] == {"document_name": {"from": "Name"}}
    assert opportunity["events"]["create_opportunity"]["fields"] == {
        "StageName": {"value": "Prospecting"},
        "CloseDate": {"value": "2026-12-31"},
    }
    assert reopened["mapping"]["objects"]["contact"] == DEMO_MAPPING["objects"]["contact"]


def test_suggested_crm_objects_follow_names_and_aliases() -> None:
    from crmlink.catalog import ObjectSummary
    from crmlink.definitions import parse_definition
    from crmlink.server.link.choices import suggest_objects

    event = {"type": "create", "label": "Create"}
    definition = parse_definition(
        {
            slug: {"label": label, "events": {"created": event}}
            for slug, label in [
                ("deal", "Deal"),
                ("company", "Company"),
                ("customer", "Customer"),
                ("prospect", "Prospect"),
                ("invoice", "Invoice"),
            ]
        }
    )
    crm = [
        ObjectSummary(name="Opportunity", label="Opportunity", label_plural="Opportunities"),
        ObjectSummary(name="Account", label="Account"),
        ObjectSummary(name="Contact", label="Contact"),
        ObjectSummary(name="Lead", label="Lead"),
        ObjectSummary(name="companies", label="Companies"),
    ]
    assert suggest_objects(definition, crm) == {
        "deal": ["Opportunity"],
        "company": ["Account", "companies"],
        "customer": ["Contact"],
        "prospect": ["Lead"],
        "invoice": [],
    }
