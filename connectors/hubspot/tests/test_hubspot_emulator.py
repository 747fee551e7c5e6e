"""The emulator, driven by the real hubspot-api-client over real HTTP.

Nothing here mocks the client, urllib3 or the emulator: each test makes the calls an app would
make and checks HubSpot's status codes, bodies, headers and id formats (reference/crm-apis.md B).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import hubspot
import pytest
from crmlink_hubspot.emulator import HubSpotEmulator
from hubspot.crm.associations.v4 import (
    AssociationSpec,
    BatchInputPublicAssociationMultiArchive,
    BatchInputPublicAssociationMultiPost,
    BatchInputPublicDefaultAssociationMultiPost,
    BatchInputPublicFetchAssociationsBatchRequest,
    PublicAssociationMultiArchive,
    PublicAssociationMultiPost,
    PublicDefaultAssociationMultiPost,
    PublicFetchAssociationsBatchRequest,
    PublicObjectId,
)
from hubspot.crm.objects import (
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchInputSimplePublicObjectBatchInputUpsert,
    BatchInputSimplePublicObjectId,
    BatchReadInputSimplePublicObjectId,
    Filter,
    FilterGroup,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInput,
    SimplePublicObjectBatchInputForCreate,
    SimplePublicObjectBatchInputUpsert,
    SimplePublicObjectId,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.properties import PropertyCreate, PropertyUpdate
from hubspot.events.send import (
    BatchedBehavioralEventHttpCompletionRequest,
    BehavioralEventHttpCompletionRequest,
)

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
EVENT = "pe24681357_crmlink_event"


def _error(exc: Any) -> dict[str, Any]:
    body = json.loads(exc.body)
    assert body["status"] == "error"
    assert body["correlationId"]
    return dict(body)


def _create(hs: Any, object_type: str, **props: Any) -> Any:
    return hs.crm.objects.basic_api.create(
        object_type, SimplePublicObjectInputForCreate(properties=props)
    )


# -- objects: CRUD ---------------------------------------------------------------------------
def test_create_answers_201_with_numeric_string_id_string_values_and_iso_times(
    hs: Any, emulator: HubSpotEmulator
) -> None:
    api = hs.crm.objects.basic_api
    data, status, headers = api.create_with_http_info(
        "deals",
        SimplePublicObjectInputForCreate(
            properties={"dealname": "Big", "dealstage": "contractsent", "amount": 1500}
        ),
    )
    assert status == 201
    assert data.id.isdigit()
    assert data.properties["amount"] == "1500"
    assert data.properties["pipeline"] == "default"
    assert data.properties["hs_object_id"] == data.id
    assert ISO.match(data.properties["createdate"])
    assert data.archived is False
    assert headers["X-HubSpot-RateLimit-Max"] == "100000"
    assert [r["id"] for r in emulator.records("deals")] == [data.id]


def test_get_update_archive_round_trip(hs: Any) -> None:
    api = hs.crm.objects.basic_api
    created = _create(hs, "contacts", email="ada@example.com", lastname="Lovelace")
    got = api.get_by_id("contacts", created.id, properties=["lastname", "phone"])
    assert got.properties["lastname"] == "Lovelace"
    assert got.properties["phone"] is None
    by_email = api.get_by_id("contacts", "ada@example.com", id_property="email")
    assert by_email.id == created.id
    _, status, _ = api.update_with_http_info(
        "contacts", created.id, SimplePublicObjectInput(properties={"firstname": "Ada"})
    )
    assert status == 200
    assert api.get_by_id("contacts", created.id).properties["firstname"] == "Ada"
    _, status, _ = api.archive_with_http_info("contacts", created.id)
    assert status == 204
    with pytest.raises(hubspot.crm.objects.exceptions.NotFoundException) as caught:
        api.get_by_id("contacts", created.id)
    body = _error(caught.value)
    assert body["category"] == "OBJECT_NOT_FOUND"
    assert body["context"] == {"id": [created.id]}


def test_archive_of_an_unknown_id_is_still_204(hs: Any) -> None:
    assert hs.crm.objects.basic_api.archive("contacts", "987654321") is None


def test_non_numeric_id_is_404_with_hubspots_message(hs: Any) -> None:
    with pytest.raises(hubspot.crm.objects.exceptions.NotFoundException) as caught:
        hs.crm.objects.basic_api.get_by_id("deals", "abc")
    assert _error(caught.value)["message"] == "Object not found.  objectId are usually numeric."


def test_generated_per_object_apis_work_too(hs: Any) -> None:
    from hubspot.crm.companies import SimplePublicObjectInputForCreate as CompanyInput

    company = hs.crm.companies.basic_api.create(CompanyInput(properties={"name": "Acme"}))
    assert hs.crm.companies.basic_api.get_by_id(company.id).properties["name"] == "Acme"


def test_list_pages_follow_paging_next_after(hs: Any) -> None:
    ids = [_create(hs, "companies", name=f"C{i}").id for i in range(5)]
    page = hs.crm.objects.basic_api.get_page("companies", limit=2)
    seen = [r.id for r in page.results]
    while page.paging is not None:
        page = hs.crm.objects.basic_api.get_page("companies", limit=2, after=page.paging.next.after)
        seen += [r.id for r in page.results]
    assert seen == ids
    assert [c.id for c in hs.crm.companies.get_all()] == ids


# -- validation --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("object_type", "props", "code", "name"),
    [
        (
            "deals",
            {"dealname": "x", "dealstage": "closedwon", "nope": "1"},
            "PROPERTY_DOESNT_EXIST",
            "nope",
        ),
        ("contacts", {"email": "example.lcom"}, "INVALID_EMAIL", "email"),
        ("deals", {"dealname": "x", "dealstage": "NAM Only"}, "INVALID_OPTION", "dealstage"),
        ("deals", {"dealname": "x"}, "REQUIRED_PROPERTY", "dealstage"),
        (
            "deals",
            {"dealname": "x", "dealstage": "closedwon", "amount": "lots"},
            "INVALID_DECIMAL",
            "amount",
        ),
        (
            "deals",
            {"dealname": "x", "dealstage": "closedwon", "hs_is_closed": "true"},
            "READ_ONLY_VALUE",
            "hs_is_closed",
        ),
        ("2-9001", {"vin": "V1"}, "REQUIRED_PROPERTY", "model"),
        (
            "2-9002",
            {"opportunity_name": "x", "close_date": "2024-05-01T10:12:00Z"},
            "INVALID_DATE",
            "close_date",
        ),
        ("contacts", {"hs_buying_role": "CHAMPION;KING"}, "INVALID_OPTION", "hs_buying_role"),
    ],
)
def test_refused_values_are_400_validation_error(
    hs: Any,
    emulator: HubSpotEmulator,
    object_type: str,
    props: dict[str, Any],
    code: str,
    name: str,
) -> None:
    with pytest.raises(hubspot.crm.objects.exceptions.ApiException) as caught:
        _create(hs, object_type, **props)
    assert caught.value.status == 400
    body = _error(caught.value)
    assert body["category"] == "VALIDATION_ERROR"
    assert body["message"].startswith("Property values were not valid: [")
    assert {"code": code, "name": name} in [
        {"code": e["code"], "name": e["context"]["propertyName"][0]} for e in body["errors"]
    ]
    assert emulator.records(object_type) == []


def test_multi_valued_checkbox_and_dates_are_normalized(hs: Any) -> None:
    contact = _create(hs, "contacts", hs_buying_role="CHAMPION;END_USER", hs_email_optout=True)
    assert contact.properties["hs_buying_role"] == "CHAMPION;END_USER"
    assert contact.properties["hs_email_optout"] == "true"
    deal = _create(hs, "deals", dealname="d", dealstage="closedwon", closedate="2024-05-01")
    assert deal.properties["closedate"] == "2024-05-01T00:00:00.000Z"
    opp = _create(hs, "2-9002", opportunity_name="o", close_date="1714521600000")
    assert opp.properties["close_date"] == "2024-05-01"


def test_empty_patch_is_refused(hs: Any) -> None:
    created = _create(hs, "contacts", lastname="X")
    with pytest.raises(hubspot.crm.objects.exceptions.ApiException) as caught:
        hs.crm.objects.basic_api.update(
            "contacts", created.id, SimplePublicObjectInput(properties={})
        )
    assert caught.value.status == 400
    assert _error(caught.value)["message"] == (
        "No properties found to update, please provide at least one."
    )


def test_duplicate_contact_email_is_409_naming_the_existing_id(hs: Any) -> None:
    first = _create(hs, "contacts", email="dup@example.com")
    with pytest.raises(hubspot.crm.objects.exceptions.ApiException) as caught:
        _create(hs, "contacts", email="DUP@example.com")
    assert caught.value.status == 409
    body = _error(caught.value)
    assert body["category"] == "CONFLICT"
    assert body["message"] == f"Contact already exists. Existing ID: {first.id}"
    other = _create(hs, "contacts", email="other@example.com")
    with pytest.raises(hubspot.crm.objects.exceptions.ApiException) as again:
        hs.crm.objects.basic_api.update(
            "contacts", other.id, SimplePublicObjectInput(properties={"email": "dup@example.com"})
        )
    assert again.value.status == 409


def test_unknown_object_type_is_400(hs: Any) -> None:
    with pytest.raises(hubspot.crm.objects.exceptions.ApiException) as caught:
        _create(hs, "spaceships", name="x")
    assert caught.value.status == 400
    assert "Unable to infer object type" in _error(caught.value)["message"]


# -- authentication, scopes --------------------------------------------------------------------
def test_wrong_token_is_401_invalid_authentication(emulator: HubSpotEmulator) -> None:
    wrong = hubspot.Client.create(access_token="pat-na1-wrong", host=emulator.url)
    with pytest.raises(hubspot.crm.objects.exceptions.UnauthorizedException) as caught:
        wrong.crm.objects.basic_api.get_page("contacts")
    assert _error(caught.value)["category"] == "INVALID_AUTHENTICATION"


def test_expired_credentials_until_a_refresh_token_grant(
    hs: Any, emulator: HubSpotEmulator
) -> None:
    emulator.control.expire_credentials()
    with pytest.raises(hubspot.crm.objects.exceptions.UnauthorizedException) as caught:
        hs.crm.objects.basic_api.get_page("contacts")
    assert _error(caught.value)["category"] == "EXPIRED_AUTHENTICATION"
    tokens = hs.oauth.tokens_api.create(
        grant_type="refresh_token",
        client_id="crmlink-emulator-client",
        client_secret="crmlink-emulator-secret",
        refresh_token="crmlink-emulator-refresh",
    )
    assert tokens.token_type == "bearer"
    assert tokens.expires_in == 1800
    fresh = hubspot.Client.create(access_token=tokens.access_token, host=emulator.url)
    page, _, headers = fresh.crm.objects.basic_api.get_page_with_http_info("contacts")
    assert page.results == []
    assert "X-HubSpot-RateLimit-Max" in headers
    assert "X-HubSpot-RateLimit-Daily" not in headers  # not sent on OAuth calls


def test_bad_refresh_token_is_refused(hs: Any) -> None:
    with pytest.raises(hubspot.oauth.exceptions.ApiException) as caught:
        hs.oauth.tokens_api.create(
            grant_type="refresh_token",
            client_id="crmlink-emulator-client",
            client_secret="crmlink-emulator-secret",
            refresh_token="stolen",
        )
    assert caught.value.status == 400
    assert json.loads(caught.value.body)["status"] == "BAD_REFRESH_TOKEN"


def test_missing_scope_is_403(hs: Any, emulator: HubSpotEmulator) -> None:
    emulator.control.revoke_scopes("crm.objects.deals.write")
    with pytest.raises(hubspot.crm.objects.exceptions.ForbiddenException) as caught:
        _create(hs, "deals", dealname="x", dealstage="closedwon")
    body = _error(caught.value)
    assert body["category"] == "MISSING_SCOPES"
    assert body["errors"][0]["context"] == {"requiredGranularScopes": ["crm.objects.deals.write"]}
    assert hs.crm.objects.basic_api.get_page("deals").results == []


# -- rate limits and faults ------------------------------------------------------------------
@pytest.fixture
def tight() -> Iterator[HubSpotEmulator]:
    emulator = HubSpotEmulator(burst_limit=3, burst_window=0.5, daily_limit=5).start()
    yield emulator
    emulator.stop()


def test_burst_limit_answers_429_ten_secondly_rolling_with_headers(tight: HubSpotEmulator) -> None:
    hs = hubspot.Client.create(access_token=tight.token, host=tight.url)
    api = hs.crm.objects.basic_api
    remaining = [
        api.get_page_with_http_info("contacts")[2]["X-HubSpot-RateLimit-Remaining"]
        for _ in range(3)
    ]
    assert remaining == ["2", "1", "0"]
    with pytest.raises(hubspot.crm.objects.exceptions.ApiException) as caught:
        api.get_page("contacts")
    assert caught.value.status == 429
    body = _error(caught.value)
    assert body["policyName"] == "TEN_SECONDLY_ROLLING"
    assert caught.value.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "500"
    assert caught.value.headers["X-HubSpot-RateLimit-Max"] == "3"
    assert tight.rate_limited_count == 1


def test_daily_limit_answers_429_daily(tight: HubSpotEmulator) -> None:
    import time

    hs = hubspot.Client.create(access_token=tight.token, host=tight.url)
    for _ in range(5):
        hs.crm.objects.basic_api.get_page("contacts")
        time.sleep(0.2)
    with pytest.raises(hubspot.crm.objects.exceptions.ApiException) as caught:
        hs.crm.objects.basic_api.get_page("contacts")
    assert _error(caught.value)["policyName"] == "DAILY"
    assert caught.value.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "0"


def test_forced_faults_and_reset(hs: Any, emulator: HubSpotEmulator) -> None:
    api = hs.crm.objects.basic_api
    emulator.control.rate_limit()
    with pytest.raises(hubspot.crm.objects.exceptions.ApiException) as limited:
        api.get_page("contacts")
    assert _error(limited.value)["policyName"] == "DAILY"
    emulator.control.reset()
    emulator.control.unavailable(503)
    with pytest.raises(hubspot.crm.objects.exceptions.ServiceException) as down:
        api.get_page("contacts")
    assert down.value.status == 503
    emulator.control.reset()
    emulator.control.fail_next(502, count=2)
    for _ in range(2):
        with pytest.raises(hubspot.crm.objects.exceptions.ServiceException):
            api.get_page("contacts")
    assert api.get_page("contacts").results == []


def test_latency_is_injected(hs: Any, emulator: HubSpotEmulator) -> None:
    import time

    emulator.control.set_latency(0.2)
    started = time.monotonic()
    hs.crm.objects.basic_api.get_page("contacts")
    assert time.monotonic() - started >= 0.2


# -- batch -------------------------------------------------------------------------------------
def test_batch_create_201_and_trace_ids_give_207_per_input(
    hs: Any, emulator: HubSpotEmulator
) -> None:
    api = hs.crm.objects.batch_api
    inputs = [
        SimplePublicObjectBatchInputForCreate(properties={"email": f"b{i}@x.io"}, associations=[])
        for i in range(3)
    ]
    data, status, _ = api.create_with_http_info(
        "contacts", BatchInputSimplePublicObjectBatchInputForCreate(inputs=inputs)
    )
    assert status == 201
    assert data.status == "COMPLETE"
    assert sorted(r.properties["email"] for r in data.results) == ["b0@x.io", "b1@x.io", "b2@x.io"]
    traced = [
        SimplePublicObjectBatchInputForCreate(properties=p, object_write_trace_id=str(i))
        for i, p in enumerate([{"email": "new@x.io"}, {"email": "b1@x.io"}, {"email": "bad"}])
    ]
    data, status, _ = api.create_with_http_info(
        "contacts", BatchInputSimplePublicObjectBatchInputForCreate(inputs=traced)
    )
    assert status == 207
    assert data.num_errors == 2
    assert [r.object_write_trace_id for r in data.results] == ["0"]
    by_trace = {e.context["objectWriteTraceId"][0]: e for e in data.errors}
    assert by_trace["1"].category == "CONFLICT"
    assert by_trace["2"].category == "VALIDATION_ERROR"
    assert len(emulator.records("contacts")) == 4


def test_batch_create_without_trace_ids_is_all_or_nothing(
    hs: Any, emulator: HubSpotEmulator
) -> None:
    first = _create(hs, "contacts", email="taken@x.io")
    inputs = [
        SimplePublicObjectBatchInputForCreate(properties={"email": e})
        for e in ("fresh@x.io", "taken@x.io")
    ]
    with pytest.raises(hubspot.crm.objects.exceptions.ApiException) as caught:
        hs.crm.objects.batch_api.create(
            "contacts", BatchInputSimplePublicObjectBatchInputForCreate(inputs=inputs)
        )
    assert caught.value.status == 409
    assert _error(caught.value)["message"] == f"Contact already exists. Existing ID: {first.id}"
    assert [r["properties"]["email"] for r in emulator.records("contacts")] == ["taken@x.io"]


def test_batch_of_more_than_100_inputs_is_refused(hs: Any, emulator: HubSpotEmulator) -> None:
    inputs = [
        SimplePublicObjectBatchInputForCreate(properties={"name": str(i)}) for i in range(101)
    ]
    with pytest.raises(hubspot.crm.objects.exceptions.ApiException) as caught:
        hs.crm.objects.batch_api.create(
            "companies", BatchInputSimplePublicObjectBatchInputForCreate(inputs=inputs)
        )
    assert caught.value.status == 400
    assert emulator.records("companies") == []


def test_batch_update_upsert_read_archive(hs: Any, emulator: HubSpotEmulator) -> None:
    api = hs.crm.objects.batch_api
    a = _create(hs, "contacts", email="a@x.io")
    b = _create(hs, "contacts", email="b@x.io")
    data, status, _ = api.update_with_http_info(
        "contacts",
        BatchInputSimplePublicObjectBatchInput(
            inputs=[
                SimplePublicObjectBatchInput(id=i, properties={"city": "Paris"})
                for i in (a.id, b.id)
            ]
        ),
    )
    assert status == 200
    assert {r.properties["city"] for r in data.results} == {"Paris"}
    data, status, _ = api.upsert_with_http_info(
        "contacts",
        BatchInputSimplePublicObjectBatchInputUpsert(
            inputs=[
                SimplePublicObjectBatchInputUpsert(
                    id="a@x.io", id_property="email", properties={"firstname": "A"}
                ),
                SimplePublicObjectBatchInputUpsert(
                    id="c@x.io", id_property="email", properties={"firstname": "C"}
                ),
            ]
        ),
    )
    assert status == 200
    assert {(r.properties["email"], r.new) for r in data.results} == {
        ("a@x.io", False),
        ("c@x.io", True),
    }
    read, status, _ = api.read_with_http_info(
        "contacts",
        BatchReadInputSimplePublicObjectId(
            inputs=[SimplePublicObjectId(id=a.id), SimplePublicObjectId(id="424242")],
            properties=["firstname"],
            properties_with_history=[],
        ),
    )
    assert status == 207
    assert [r.properties["firstname"] for r in read.results] == ["A"]
    assert read.errors[0].context == {"ids": ["424242"]}
    _, status, _ = api.archive_with_http_info(
        "contacts",
        BatchInputSimplePublicObjectId(
            inputs=[SimplePublicObjectId(id=a.id), SimplePublicObjectId(id=b.id)]
        ),
    )
    assert status == 204
    assert [r["properties"]["email"] for r in emulator.records("contacts")] == ["c@x.io"]


# -- search ------------------------------------------------------------------------------------
def test_search_filters_sorts_and_pages(hs: Any) -> None:
    for i, stage in enumerate(["closedwon", "closedlost", "closedwon", "contractsent"]):
        _create(hs, "deals", dealname=f"D{i}", dealstage=stage, amount=str(100 * (i + 1)))
    request = PublicObjectSearchRequest(
        filter_groups=[
            FilterGroup(
                filters=[
                    Filter(property_name="dealstage", operator="EQ", value="closedwon"),
                ]
            ),
            FilterGroup(
                filters=[
                    Filter(property_name="amount", operator="GT", value="350"),
                ]
            ),
        ],
        sorts=[{"propertyName": "amount", "direction": "DESCENDING"}],
        properties=["dealname", "amount"],
        limit=2,
    )
    found = hs.crm.objects.search_api.do_search("deals", request)
    assert found.total == 3
    assert [r.properties["dealname"] for r in found.results] == ["D3", "D2"]
    request.after = found.paging.next.after
    rest = hs.crm.objects.search_api.do_search("deals", request)
    assert [r.properties["dealname"] for r in rest.results] == ["D0"]
    assert rest.paging is None
    names_in = PublicObjectSearchRequest(
        filter_groups=[
            FilterGroup(
                filters=[
                    Filter(property_name="dealname", operator="IN", values=["D1", "D2"]),
                ]
            )
        ],
        limit=10,
    )
    assert hs.crm.objects.search_api.do_search("deals", names_in).total == 2


# -- properties and schemas --------------------------------------------------------------------
def test_properties_api_describes_standard_and_custom_objects(hs: Any) -> None:
    core = hs.crm.properties.core_api
    deal_props = {p.name: p for p in core.get_all("deals").results}
    stage = deal_props["dealstage"]
    assert stage.type == "enumeration"
    assert "closedwon" in [o.value for o in stage.options]
    assert deal_props["hs_is_closed"].modification_metadata.read_only_value is True
    assert {"email", "firstname", "lastname"} <= {p.name for p in core.get_all("contacts").results}
    assert "domain" in {p.name for p in core.get_all("companies").results}
    assert core.get_by_name("2-9001", "vin").has_unique_value is True
    schemas = {s.object_type_id: s for s in hs.crm.schemas.core_api.get_all().results}
    assert schemas["2-9001"].required_properties == ["vin", "model"]
    assert schemas["2-9002"].labels.singular == "Opportunity"


def test_created_property_is_usable(hs: Any) -> None:
    created = hs.crm.properties.core_api.create(
        "deals",
        PropertyCreate(
            name="crmlink_ref",
            label="Ref",
            type="string",
            field_type="text",
            group_name="dealinformation",
        ),
    )
    assert created.name == "crmlink_ref"
    deal = _create(hs, "deals", dealname="x", dealstage="closedwon", crmlink_ref="R-1")
    assert deal.properties["crmlink_ref"] == "R-1"


def test_properties_can_be_updated_and_custom_ones_archived(
    hs: Any, emulator: HubSpotEmulator
) -> None:
    core = hs.crm.properties.core_api
    core.create(
        "contacts",
        PropertyCreate(
            name="tier",
            label="Tier",
            type="enumeration",
            field_type="select",
            group_name="contactinformation",
            options=[{"label": "Gold", "value": "gold", "hidden": False, "displayOrder": 0}],
        ),
    )
    updated = core.update(
        "contacts",
        "tier",
        PropertyUpdate(
            label="Customer tier",
            options=[
                {"label": "Gold", "value": "gold", "hidden": False, "displayOrder": 0},
                {"label": "Silver", "value": "silver", "hidden": False, "displayOrder": 1},
            ],
        ),
    )
    assert updated.label == "Customer tier"
    assert _create(hs, "contacts", tier="silver").properties["tier"] == "silver"
    _, status, _ = core.archive_with_http_info("contacts", "tier")
    assert status == 204
    with pytest.raises(hubspot.crm.properties.exceptions.NotFoundException):
        core.get_by_name("contacts", "tier")
    with pytest.raises(hubspot.crm.properties.exceptions.ApiException) as caught:
        core.archive("contacts", "email")
    assert caught.value.status == 400
    emulator.reset()
    assert "tier" not in {p.name for p in core.get_all("contacts").results}


# -- associations v4 -------------------------------------------------------------------------
def test_associations_single_default_and_batch(hs: Any) -> None:
    v4 = hs.crm.associations.v4
    deal = _create(hs, "deals", dealname="x", dealstage="closedwon")
    c1 = _create(hs, "contacts", email="c1@x.io")
    c2 = _create(hs, "contacts", email="c2@x.io")
    company = _create(hs, "companies", name="Acme")
    pair, status, _ = v4.basic_api.create_with_http_info(
        "deals",
        deal.id,
        "contacts",
        c1.id,
        [AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=3)],
    )
    assert status == 201
    assert (pair.from_object_type_id, pair.to_object_id) == ("0-3", c1.id)
    default, status, _ = v4.basic_api.create_default_with_http_info(
        "contacts", c2.id, "companies", company.id
    )
    assert status == 200
    assert default.results[0].association_spec.association_type_id == 279
    back = v4.basic_api.get_page("contacts", c1.id, "deals")
    assert [(r.to_object_id, r.association_types[0].type_id) for r in back.results] == [
        (deal.id, 4)
    ]
    created = v4.batch_api.create(
        "deals",
        "companies",
        BatchInputPublicAssociationMultiPost(
            inputs=[
                PublicAssociationMultiPost(
                    _from=PublicObjectId(id=deal.id),
                    to=PublicObjectId(id=company.id),
                    types=[
                        AssociationSpec(
                            association_category="HUBSPOT_DEFINED", association_type_id=341
                        )
                    ],
                )
            ]
        ),
    )
    assert created.results[0].to_object_id == company.id
    v4.batch_api.create_default(
        "deals",
        "contacts",
        BatchInputPublicDefaultAssociationMultiPost(
            inputs=[
                PublicDefaultAssociationMultiPost(
                    _from=PublicObjectId(id=deal.id), to=PublicObjectId(id=c2.id)
                )
            ]
        ),
    )
    read = v4.batch_api.get_page(
        "deals",
        "contacts",
        BatchInputPublicFetchAssociationsBatchRequest(
            inputs=[PublicFetchAssociationsBatchRequest(id=deal.id)]
        ),
    )
    assert sorted(t.to_object_id for t in read.results[0].to) == sorted([c1.id, c2.id])
    v4.batch_api.archive(
        "deals",
        "contacts",
        BatchInputPublicAssociationMultiArchive(
            inputs=[
                PublicAssociationMultiArchive(
                    _from=PublicObjectId(id=deal.id), to=[PublicObjectId(id=c1.id)]
                )
            ]
        ),
    )
    assert [
        r.to_object_id for r in v4.basic_api.get_page("deals", deal.id, "contacts").results
    ] == [c2.id]
    v4.basic_api.archive("deals", deal.id, "contacts", c2.id)
    assert v4.basic_api.get_page("deals", deal.id, "contacts").results == []


def test_create_with_associations_in_the_body(hs: Any) -> None:
    company = _create(hs, "companies", name="Acme")
    contact = hs.crm.objects.basic_api.create(
        "contacts",
        SimplePublicObjectInputForCreate(
            properties={"email": "with@x.io"},
            associations=[
                {
                    "to": {"id": company.id},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}],
                }
            ],
        ),
    )
    got = hs.crm.objects.basic_api.get_by_id("contacts", contact.id, associations=["companies"])
    assert [r.id for r in got.associations["companies"].results] == [company.id]
    with pytest.raises(hubspot.crm.objects.exceptions.ApiException) as caught:
        hs.crm.objects.basic_api.create(
            "contacts",
            SimplePublicObjectInputForCreate(
                properties={"email": "bad-link@x.io"},
                associations=[
                    {
                        "to": {"id": "999999"},
                        "types": [
                            {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}
                        ],
                    }
                ],
            ),
        )
    assert caught.value.status == 400


# -- custom events -----------------------------------------------------------------------------
def test_custom_event_occurrences_are_recorded(hs: Any, emulator: HubSpotEmulator) -> None:
    send = hs.events.send
    result = send.basic_api.send(
        BehavioralEventHttpCompletionRequest(
            event_name=EVENT, object_id="512", properties={"name": "Deal won"}
        )
    )
    assert result is None
    send.batch_api.send(
        BatchedBehavioralEventHttpCompletionRequest(
            inputs=[
                BehavioralEventHttpCompletionRequest(event_name=EVENT, properties={"name": "n2"})
            ]
        )
    )
    assert emulator.control.workflow_events() == [
        (EVENT, {"name": "Deal won"}),
        (EVENT, {"name": "n2"}),
    ]
    assert emulator.control.occurrences()[0].object_id == "512"
    with pytest.raises(hubspot.events.send.exceptions.ApiException) as caught:
        send.basic_api.send(
            BehavioralEventHttpCompletionRequest(event_name="pe24681357_unknown", properties={})
        )
    assert caught.value.status == 400
    with pytest.raises(hubspot.events.send.exceptions.ApiException):
        send.basic_api.send(
            BehavioralEventHttpCompletionRequest(
                event_name=EVENT, properties={"undefined_prop": "x"}
            )
        )


# -- inspection and the HTTP control surface -------------------------------------------------
def test_request_count_and_http_control_surface(hs: Any, emulator: HubSpotEmulator) -> None:
    before = emulator.request_count
    _create(hs, "contacts", email="seen@x.io")
    assert emulator.request_count == before + 1
    with httpx.Client(base_url=emulator.url) as http:
        assert (
            http.get("/__emulator__/records/contacts").json()["results"][0]["properties"]["email"]
            == "seen@x.io"
        )
        assert (
            http.post("/__emulator__/faults", json={"unavailable": True, "status": 503}).status_code
            == 204
        )
        assert (
            http.get(
                "/crm/v3/objects/contacts", headers={"Authorization": f"Bearer {emulator.token}"}
            ).status_code
            == 503
        )
        http.post("/__emulator__/faults", json={"clear": True})
        assert http.get("/__emulator__/stats").json()["requests"] == emulator.request_count
        assert http.post("/__emulator__/reset").status_code == 204
    assert emulator.records("contacts") == []
