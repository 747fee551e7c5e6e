"""Bad input gets a clear envelope naming what was wrong: never a 500, never a traceback."""

from __future__ import annotations

import base64

import httpx
import pytest

from tests.server.conftest import MAX_BODY, App, envelope, paths

CREATE = "/api/v1/crm/bad/objects/opportunity/events/create_opportunity"


@pytest.fixture
def http(app: App) -> httpx.Client:
    app.link_demo("bad")
    return app.http()


@pytest.mark.parametrize(
    ("content", "headers", "fragment"),
    [
        (b"", {}, "empty"),
        (b"{not json", {"Content-Type": "application/json"}, "not valid JSON"),
        (b"[1, 2]", {}, "must be a JSON object, not list"),
        (b'"text"', {}, "must be a JSON object, not str"),
        (b'{"payload": {"name": "x"}}', {"Content-Type": "text/plain"}, "application/json"),
        (b"name=x", {"Content-Type": "application/x-www-form-urlencoded"}, "application/json"),
        ('{"payload": {"name": "\udcff"}}'.encode("utf-8", "surrogatepass"), {}, "not UTF-8"),
    ],
)
def test_unusable_bodies_are_bad_requests(
    http: httpx.Client, content: bytes, headers: dict[str, str], fragment: str
) -> None:
    error = envelope(http.post(CREATE, content=content, headers=headers), 400, "bad_request")
    assert fragment in error["message"]


def test_a_body_with_unknown_keys_or_wrong_types_names_them(http: httpx.Client) -> None:
    error = envelope(http.post(CREATE, json={"paylod": {}}), 400, "bad_request")
    assert paths(error) == ["paylod"]
    error = envelope(http.post(CREATE, json={"payload": "name"}), 400, "bad_request")
    assert paths(error) == ["payload"]


def test_bodies_over_the_limit_are_413(http: httpx.Client) -> None:
    huge = {"payload": {"name": "x" * (MAX_BODY + 10)}}
    envelope(http.post(CREATE, json=huge), 413, "payload_too_large")

    def chunks() -> object:
        for _ in range(MAX_BODY // 1000 + 5):
            yield b" " * 1000

    streamed = http.post(CREATE, content=chunks(), headers={"Content-Type": "application/json"})
    envelope(streamed, 413, "payload_too_large")


def test_payload_violations_are_listed_with_paths(http: httpx.Client) -> None:
    error = envelope(
        http.post(CREATE, json={"payload": {"name": 7, "nmae": "typo"}}), 422, "payload_invalid"
    )
    assert set(paths(error)) == {"payload.name", "payload.nmae"}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/crm/nobody/objects/opportunity/events/create_opportunity",
        "/api/v1/crm/bad/objects/invoice/events/create_opportunity",
        "/api/v1/crm/bad/objects/opportunity/events/create_invoice",
        "/api/v1/crm/bad/objects/opportunity/Opportunity:999999999999/events/document_updated",
        "/api/v1/crm/bad/objects/opportunity/not-a-record-id/events/document_updated",
        "/api/v1/crm/%E2%9C%93%F0%9F%8D%8E/objects/opportunity/events/create_opportunity",
        "/api/v1/crm/bad%2Fslash/objects/opportunity/events/create_opportunity",
        "/api/v1/crm/" + "x" * 300 + "/objects/opportunity/events/create_opportunity",
        "/api/v1/crm/bad/objects/opportunity/events/create_opportunity/extra",
        "/api/v1/crm/bad/objects/opp%00/events/create_opportunity",
        "/api/v1/crm/bad/objects/opportunity/events/create%00",
        "/api/v1/crm/bad/objects/opportunity/Opportunity:%00/events/document_updated",
        "/api/v2/crm/bad",
    ],
)
def test_unknown_things_are_not_found(http: httpx.Client, path: str) -> None:
    response = http.post(path, json={"payload": {"name": "x", "updated_at": None}})
    if "document_updated" in path:
        response = http.post(path, json={"payload": {"name": "x"}})
    envelope(response, 404, "not_found")


def test_a_record_of_another_crm_object_is_a_conflict(http: httpx.Client) -> None:
    url = "/api/v1/crm/bad/objects/opportunity/Contact:003000000000001/events/document_updated"
    envelope(http.post(url, json={"payload": {"name": "x"}}), 409, "conflict")


def test_wrong_methods_are_refused_with_an_envelope(http: httpx.Client) -> None:
    envelope(http.get(CREATE), 405, "method_not_allowed")


def test_query_parameters_out_of_range_are_bad_requests(http: httpx.Client) -> None:
    error = envelope(http.get("/api/v1/crm", params={"limit": 0}), 400, "bad_request")
    assert paths(error) == ["query.limit"]
    envelope(
        http.get("/api/v1/crm/bad/invocations", params={"status": "weird"}), 400, "bad_request"
    )


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer abc",
        "Basic",
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic " + base64.b64encode(b"ck_unknown:cs_wrong").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),
    ],
)
def test_missing_or_malformed_credentials_are_401(app: App, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = httpx.get(f"{app.base_url}/api/v1/crm", headers=headers)
    envelope(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == 'Basic realm="crmlink"'


def test_a_wrong_secret_for_a_real_key_is_401(app: App) -> None:
    envelope(
        httpx.get(f"{app.base_url}/api/v1/crm", auth=(app.key_id, "cs_wrong")), 401, "unauthorized"
    )


def test_unicode_round_trips(http: httpx.Client) -> None:
    name = "Contrat « Pomme » 🍎 — 東京"
    body = http.post(CREATE, json={"payload": {"name": name}}).json()
    assert body["record"]["data"]["document_name"] == name


def test_unpaired_surrogates_in_json_escapes_are_bad_requests(http: httpx.Client) -> None:
    content = b'{"payload": {"name": "\\ud800"}}'
    error = envelope(http.post(CREATE, content=content), 400, "bad_request")
    assert "surrogates" in error["message"]
