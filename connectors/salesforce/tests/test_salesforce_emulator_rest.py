"""The emulator's REST API, driven by the real simple-salesforce over real HTTP."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
from crmlink_salesforce.emulator import SalesforceEmulator
from crmlink_salesforce.emulator.client import emulator_session as _session
from crmlink_salesforce.emulator.client import simple_salesforce_client as make_client
from crmlink_salesforce.emulator.ids import is_valid_id
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

OPP = {"Name": "Apple Sales Contract", "StageName": "Prospecting", "CloseDate": "2026-12-31"}


def _error(exc: Any) -> dict[str, Any]:
    assert isinstance(exc.content, list), exc.content
    item: dict[str, Any] = exc.content[0]
    return item


# -- discovery ----------------------------------------------------------------------------------
def test_sobjects_list_shape(sf: Salesforce) -> None:
    body = sf.describe()
    assert body["encoding"] == "UTF-8"
    assert body["maxBatchSize"] == 200
    by_name = {o["name"]: o for o in body["sobjects"]}
    assert {"Account", "Contact", "Lead", "Opportunity", "Task", "Crmlink_Event__e"} <= set(by_name)
    opp = by_name["Opportunity"]
    assert (opp["keyPrefix"], opp["label"], opp["labelPlural"]) == (
        "006",
        "Opportunity",
        "Opportunities",
    )
    assert opp["custom"] is False
    assert opp["createable"] is True
    assert opp["urls"]["describe"] == "/services/data/v59.0/sobjects/Opportunity/describe"


def test_describe_reports_required_picklists_readonly_and_references(sf: Salesforce) -> None:
    body = sf.Opportunity.describe()
    assert body["name"] == "Opportunity"
    assert body["keyPrefix"] == "006"
    fields = {f["name"]: f for f in body["fields"]}
    required = {
        n
        for n, f in fields.items()
        if f["createable"] and not f["nillable"] and not f["defaultedOnCreate"]
    }
    assert required == {"Name", "StageName", "CloseDate"}
    stage = fields["StageName"]
    assert stage["type"] == "picklist"
    assert stage["restrictedPicklist"] is True
    assert {"value": "Prospecting", "label": "Prospecting", "active": True}.items() <= (
        stage["picklistValues"][0].items()
    )
    assert fields["IsClosed"]["createable"] is False
    assert fields["IsClosed"]["updateable"] is False
    assert fields["Id"]["type"] == "id"
    assert fields["CreatedDate"]["createable"] is False
    assert fields["AccountId"]["referenceTo"] == ["Account"]
    assert fields["External_Id__c"]["unique"]
    assert fields["External_Id__c"]["externalId"]
    assert fields["Name"]["length"] == 120
    keys = list(fields["Name"])
    assert keys == sorted(keys)
    lead = {f["name"]: f for f in sf.Lead.describe()["fields"]}
    assert lead["Status"]["restrictedPicklist"]
    assert lead["Status"]["defaultedOnCreate"]
    assert lead["Company"]["nillable"] is False


def test_unknown_object_is_404_not_found(sf: Salesforce) -> None:
    with pytest.raises(SalesforceResourceNotFound) as caught:
        sf.restful("sobjects/No_Such__c/describe")
    assert _error(caught.value)["errorCode"] == "NOT_FOUND"


# -- CRUD ---------------------------------------------------------------------------------------
def test_create_get_update_delete(sf: Salesforce, emulator: SalesforceEmulator) -> None:
    created = sf.Opportunity.create(OPP)
    assert created["success"] is True
    assert created["errors"] == []
    opp_id = created["id"]
    assert len(opp_id) == 18
    assert opp_id.startswith("006")
    assert is_valid_id(opp_id)
    record = sf.Opportunity.get(opp_id)
    assert record["attributes"] == {
        "type": "Opportunity",
        "url": f"/services/data/v59.0/sobjects/Opportunity/{opp_id}",
    }
    assert record["Name"] == "Apple Sales Contract"
    assert record["IsClosed"] is False
    assert record["Probability"] == 10.0
    assert record["CreatedDate"].endswith("+0000")
    assert "." in record["CreatedDate"]
    assert sf.Opportunity.update(opp_id, {"StageName": "Closed Won"}) == 204
    assert sf.Opportunity.get(opp_id)["IsWon"] is True
    assert emulator.records("Opportunity")[0]["StageName"] == "Closed Won"
    assert sf.Opportunity.delete(opp_id) == 204
    assert emulator.records("Opportunity") == []
    with pytest.raises(SalesforceResourceNotFound) as caught:
        sf.Opportunity.get(opp_id)
    assert _error(caught.value)["errorCode"] == "ENTITY_IS_DELETED"
    with pytest.raises(SalesforceResourceNotFound) as caught:
        sf.Opportunity.delete(opp_id)
    assert _error(caught.value)["errorCode"] == "ENTITY_IS_DELETED"


def test_get_with_fields_and_15_char_id(sf: Salesforce) -> None:
    contact_id = sf.Contact.create({"FirstName": "Ada", "LastName": "Lovelace"})["id"]
    body = sf.restful(f"sobjects/Contact/{contact_id[:15]}", params={"fields": "Name,Email"})
    assert body == {
        "attributes": {
            "type": "Contact",
            "url": f"/services/data/v59.0/sobjects/Contact/{contact_id}",
        },
        "Name": "Ada Lovelace",
        "Email": None,
        "Id": contact_id,
    }


def test_defaults_and_formulas(sf: Salesforce) -> None:
    lead = sf.Lead.get(sf.Lead.create({"LastName": "Smith", "Company": "Acme"})["id"])
    assert lead["Status"] == "Open - Not Contacted"
    assert lead["Name"] == "Smith"
    assert lead["OwnerId"].startswith("005")
    assert lead["IsConverted"] is False
    task = sf.Task.get(sf.Task.create({"Subject": "Call"})["id"])
    assert (task["Status"], task["Priority"]) == ("Not Started", "Normal")


def test_references_are_checked(sf: Salesforce) -> None:
    account_id = sf.Account.create({"Name": "Acme"})["id"]
    contact = sf.Contact.create({"LastName": "A", "AccountId": account_id})
    assert sf.Contact.get(contact["id"])["AccountId"] == account_id
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.create({"LastName": "B", "AccountId": contact["id"]})
    assert _error(caught.value) == {
        "message": f"Account ID: id value of incorrect type: {contact['id']}",
        "errorCode": "MALFORMED_ID",
        "fields": ["AccountId"],
    }
    task = sf.Task.create({"Subject": "x", "WhoId": contact["id"], "WhatId": account_id})
    assert task["success"]


# -- errors -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("values", "code", "fields"),
    [
        ({"Name": "x"}, "REQUIRED_FIELD_MISSING", ["StageName", "CloseDate"]),
        ({**OPP, "StageName": "Won-ish"}, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", ["StageName"]),
        ({**OPP, "IsClosed": True}, "INVALID_FIELD_FOR_INSERT_UPDATE", ["IsClosed"]),
        ({**OPP, "Amount": -5}, "FIELD_CUSTOM_VALIDATION_EXCEPTION", ["Amount"]),
        ({**OPP, "Name": "x" * 121}, "STRING_TOO_LONG", ["Name"]),
        ({**OPP, "CloseDate": "31/12/2026"}, "JSON_PARSER_ERROR", None),
    ],
)
def test_create_errors(
    sf: Salesforce, values: dict[str, Any], code: str, fields: list[str] | None
) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Opportunity.create(values)
    assert caught.value.status == 400
    error = _error(caught.value)
    assert error["errorCode"] == code
    assert error.get("fields") == fields


def test_error_messages_are_salesforce_s(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Lead.create({"LastName": "L", "Company": "C", "Status": "Foo"})
    assert (
        _error(caught.value)["message"]
        == "Lead Status: bad value for restricted picklist field: Foo"
    )
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.create({"LastName": "L", "Foo__c": 1})
    assert _error(caught.value) == {
        "message": "No such column 'Foo__c' on sobject of type Contact",
        "errorCode": "INVALID_FIELD",
    }
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.create({"LastName": "L", "Id": "003000000000000AAA"})
    assert _error(caught.value)["message"] == (
        "The Id field should not be specified in the sobject data."
    )
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.create({"LastName": "L", "Email": "not-an-email"})
    assert _error(caught.value)["errorCode"] == "INVALID_EMAIL_ADDRESS"


def test_update_errors(sf: Salesforce) -> None:
    opp_id = sf.Opportunity.create(OPP)["id"]
    contact_id = sf.Contact.create({"LastName": "C"})["id"]
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Opportunity.update(contact_id, {"Name": "x"})
    assert _error(caught.value)["errorCode"] == "MALFORMED_ID"
    with pytest.raises(SalesforceResourceNotFound) as caught:
        sf.Opportunity.update("0065g0000000999AAA", {"Name": "x"})
    assert _error(caught.value)["errorCode"] == "NOT_FOUND"
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Opportunity.update(opp_id, {"Name": None})
    assert _error(caught.value)["errorCode"] == "REQUIRED_FIELD_MISSING"
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Opportunity.update(opp_id, {"CreatedDate": "2020-01-01T00:00:00Z"})
    assert _error(caught.value)["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_unique_external_id_gives_duplicate_value(sf: Salesforce) -> None:
    first = sf.Account.create({"Name": "A", "External_Id__c": "ext-1"})["id"]
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Account.create({"Name": "B", "External_Id__c": "EXT-1"})
    assert _error(caught.value) == {
        "message": "duplicate value found: External_Id__c duplicates value on record with id: "
        + first,
        "errorCode": "DUPLICATE_VALUE",
        "fields": [],
    }


def test_bad_token_is_401_invalid_session_id(emulator: SalesforceEmulator) -> None:
    sf = make_client(emulator, token="wrong")
    with pytest.raises(SalesforceExpiredSession) as caught:
        sf.Account.create({"Name": "x"})
    assert caught.value.status == 401
    assert caught.value.content == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]


def test_malformed_json_body(emulator: SalesforceEmulator) -> None:
    response = requests.post(
        f"{emulator.url}/services/data/v59.0/sobjects/Account/",
        data="{not json",
        headers={"Authorization": f"Bearer {emulator.token}"},
        timeout=5,
    )
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "JSON_PARSER_ERROR"


def test_unknown_version_and_method(emulator: SalesforceEmulator) -> None:
    auth = {"Authorization": f"Bearer {emulator.token}"}
    assert (
        requests.get(
            f"{emulator.url}/services/data/v9.0/limits/", headers=auth, timeout=5
        ).status_code
        == 404
    )
    response = requests.put(
        f"{emulator.url}/services/data/v59.0/sobjects/Account/", headers=auth, json={}, timeout=5
    )
    assert response.status_code == 405
    assert response.json()[0]["errorCode"] == "METHOD_NOT_ALLOWED"
    versions = requests.get(f"{emulator.url}/services/data/", timeout=5).json()
    assert {"label": "v59.0", "url": "/services/data/v59.0", "version": "59.0"} in versions


# -- upsert -------------------------------------------------------------------------------------
def test_upsert_by_external_id(sf: Salesforce, emulator: SalesforceEmulator) -> None:
    contact = sf.Contact
    response = contact.upsert("External_Id__c/abc-1", {"LastName": "New"}, raw_response=True)
    assert response.status_code == 201
    body = response.json()
    assert body["created"] is True
    assert body["success"] is True
    response = contact.upsert("External_Id__c/abc-1", {"LastName": "Changed"}, raw_response=True)
    assert response.status_code == 200
    assert response.json() == {"id": body["id"], "success": True, "errors": [], "created": False}
    assert [r["LastName"] for r in emulator.records("Contact")] == ["Changed"]
    assert sf.Contact.get_by_custom_id("External_Id__c", "abc-1")["Id"] == body["id"]
    with pytest.raises(SalesforceResourceNotFound) as caught:
        contact.upsert("LastName/x", {"FirstName": "y"})
    assert "Provided external ID field does not exist" in _error(caught.value)["message"]


def test_upsert_with_several_matches_is_300(custom_emulator: SalesforceEmulator) -> None:
    sf = make_client(custom_emulator)
    for _ in range(2):
        sf.Invoice__c.create({"Amount__c": 1, "Legacy_Key__c": "dup"})
    with pytest.raises(SalesforceMoreThanOneRecord) as caught:
        sf.Invoice__c.upsert("Legacy_Key__c/dup", {"Amount__c": 2})
    assert caught.value.status == 300
    assert all(
        u.startswith("/services/data/v59.0/sobjects/Invoice__c/a0") for u in caught.value.content
    )


# -- query --------------------------------------------------------------------------------------
def test_query_where_and_limit(sf: Salesforce) -> None:
    for i, stage in enumerate(["Prospecting", "Qualification", "Prospecting", "Closed Won"]):
        sf.Opportunity.create({**OPP, "Name": f"Deal {i}", "StageName": stage, "Amount": i * 10})
    result = sf.query(
        "SELECT Id, Name, Amount FROM Opportunity WHERE StageName = 'Prospecting' "
        "AND Amount >= 0 ORDER BY Amount DESC LIMIT 5"
    )
    assert result["totalSize"] == 2
    assert result["done"] is True
    assert [r["Name"] for r in result["records"]] == ["Deal 2", "Deal 0"]
    assert set(result["records"][0]) == {"attributes", "Id", "Name", "Amount"}
    names = sf.query(
        "SELECT Name FROM Opportunity WHERE Name LIKE 'deal%' AND "
        "StageName IN ('Closed Won', 'Qualification') ORDER BY Name"
    )
    assert [r["Name"] for r in names["records"]] == ["Deal 1", "Deal 3"]
    assert set(names["records"][0]) == {"attributes", "Name"}
    assert sf.query("SELECT COUNT() FROM Opportunity")["totalSize"] == 4
    assert sf.query("SELECT Id FROM Opportunity LIMIT 1")["totalSize"] == 1


def test_query_errors(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query("SELECT Id FROM")
    assert _error(caught.value)["errorCode"] == "MALFORMED_QUERY"
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query("SELECT Nope FROM Account")
    assert _error(caught.value)["errorCode"] == "INVALID_FIELD"
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query("SELECT Id FROM Nope__c")
    assert _error(caught.value)["errorCode"] == "INVALID_TYPE"


def test_query_pages_through_next_records_url(sf: Salesforce, emulator: SalesforceEmulator) -> None:
    emulator.api.query_batch_size = 200
    records = [{"attributes": {"type": "Contact"}, "LastName": f"C{i:03d}"} for i in range(200)]
    for _ in range(2):
        sf.restful("composite/sobjects", method="POST", json={"records": records})
    sf.restful("composite/sobjects", method="POST", json={"records": records[:50]})
    first = sf.query("SELECT Id, LastName FROM Contact")
    assert first["totalSize"] == 450
    assert first["done"] is False
    assert len(first["records"]) == 200
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/01g")
    everything = sf.query_all("SELECT Id, LastName FROM Contact")
    assert everything["totalSize"] == 450
    assert len(everything["records"]) == 450
    assert len({r["Id"] for r in everything["records"]}) == 450


def test_query_all_includes_deleted(sf: Salesforce) -> None:
    gone = sf.Account.create({"Name": "Gone"})["id"]
    sf.Account.create({"Name": "Here"})
    sf.Account.delete(gone)
    assert sf.query("SELECT Id FROM Account")["totalSize"] == 1
    rows = sf.query_all(
        "SELECT Id, IsDeleted FROM Account WHERE IsDeleted = true", include_deleted=True
    )["records"]
    assert [r["Id"] for r in rows] == [gone]


# -- sObject Collections ------------------------------------------------------------------------
def test_collections_create_with_per_record_errors(
    sf: Salesforce, emulator: SalesforceEmulator
) -> None:
    body = {
        "allOrNone": False,
        "records": [
            {"attributes": {"type": "Contact"}, "LastName": "A"},
            {"attributes": {"type": "Contact"}, "FirstName": "no last name"},
            {"attributes": {"type": "Account"}, "Name": "Acme"},
        ],
    }
    results = sf.restful("composite/sobjects", method="POST", json=body)
    assert results[0]["success"]
    assert results[0]["id"].startswith("003")
    assert results[1] == {
        "success": False,
        "errors": [
            {
                "statusCode": "REQUIRED_FIELD_MISSING",
                "message": "Required fields are missing: [LastName]",
                "fields": ["LastName"],
            }
        ],
    }
    assert results[2]["success"]
    assert results[2]["id"].startswith("001")
    assert len(emulator.records("Contact")) == 1


def test_collections_all_or_none_rolls_back(sf: Salesforce, emulator: SalesforceEmulator) -> None:
    body = {
        "allOrNone": True,
        "records": [
            {"attributes": {"type": "Contact"}, "LastName": "A"},
            {"attributes": {"type": "Contact"}, "Email": "x"},
        ],
    }
    results = sf.restful("composite/sobjects", method="POST", json=body)
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert results[1]["errors"][0]["statusCode"] == "INVALID_EMAIL_ADDRESS"
    assert emulator.records("Contact") == []


def test_collections_limit_update_get_delete(sf: Salesforce, emulator: SalesforceEmulator) -> None:
    too_many = {"records": [{"attributes": {"type": "Contact"}, "LastName": "x"}] * 201}
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.restful("composite/sobjects", method="POST", json=too_many)
    assert _error(caught.value)["errorCode"] == "EXCEEDED_ID_LIMIT"
    created = sf.restful(
        "composite/sobjects",
        method="POST",
        json={"records": [{"attributes": {"type": "Contact"}, "LastName": n} for n in ("A", "B")]},
    )
    ids = [r["id"] for r in created]
    updated = sf.restful(
        "composite/sobjects",
        method="PATCH",
        json={
            "records": [
                {"attributes": {"type": "Contact"}, "id": ids[0], "Title": "CEO"},
                {"attributes": {"type": "Contact"}, "id": ids[1], "LastName": None},
            ]
        },
    )
    assert updated[0] == {"id": ids[0], "success": True, "errors": []}
    assert updated[1]["id"] == ids[1]
    assert updated[1]["success"] is False
    rows = sf.restful(
        f"composite/sobjects/Contact?ids={ids[0]},{ids[1]},0035g0000000999AAA&fields=Id,Title"
    )
    assert rows[0]["Title"] == "CEO"
    assert rows[1]["Title"] is None
    assert rows[2] is None
    deleted = sf.restful(
        f"composite/sobjects?ids={ids[0]},{ids[0]},bogus&allOrNone=false", method="DELETE"
    )
    assert deleted[0] == {"id": ids[0], "success": True, "errors": []}
    assert deleted[1]["errors"][0]["statusCode"] == "ENTITY_IS_DELETED"
    assert deleted[2]["errors"][0]["statusCode"] == "MALFORMED_ID"
    assert [r["Id"] for r in emulator.records("Contact")] == [ids[1]]


def test_collections_upsert(sf: Salesforce) -> None:
    body = {
        "allOrNone": False,
        "records": [
            {"attributes": {"type": "Account"}, "External_Id__c": "k1", "Name": "One"},
            {"attributes": {"type": "Account"}, "External_Id__c": "k2", "Name": "Two"},
        ],
    }
    first = sf.restful("composite/sobjects/Account/External_Id__c", method="PATCH", json=body)
    assert [r["created"] for r in first] == [True, True]
    again = sf.restful("composite/sobjects/Account/External_Id__c", method="PATCH", json=body)
    assert [r["created"] for r in again] == [False, False]
    assert [r["id"] for r in again] == [r["id"] for r in first]


# -- Composite ----------------------------------------------------------------------------------
def test_composite_references_and_read_back(sf: Salesforce) -> None:
    body = {
        "allOrNone": True,
        "compositeRequest": [
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Account",
                "referenceId": "acc",
                "body": {"Name": "Acme"},
            },
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Contact",
                "referenceId": "con",
                "body": {"LastName": "Y", "AccountId": "@{acc.id}"},
            },
            {
                "method": "GET",
                "url": "/services/data/v59.0/sobjects/Contact/@{con.id}?fields=AccountId",
                "referenceId": "read",
            },
            {
                "method": "GET",
                "url": "/services/data/v59.0/query/?q=SELECT+Id+FROM+Account",
                "referenceId": "q",
            },
        ],
    }
    responses = sf.restful("composite", method="POST", json=body)["compositeResponse"]
    acc, con, read, query = responses
    assert acc["httpStatusCode"] == 201
    assert acc["referenceId"] == "acc"
    assert (
        acc["httpHeaders"]["Location"]
        == f"/services/data/v59.0/sobjects/Account/{acc['body']['id']}"
    )
    assert read["body"]["AccountId"] == acc["body"]["id"]
    assert query["body"]["records"][0]["Id"] == acc["body"]["id"]
    assert con["httpStatusCode"] == 201


def test_composite_all_or_none_rolls_back(sf: Salesforce, emulator: SalesforceEmulator) -> None:
    body = {
        "allOrNone": True,
        "compositeRequest": [
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Account",
                "referenceId": "a",
                "body": {"Name": "Acme"},
            },
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Contact",
                "referenceId": "c",
                "body": {"FirstName": "no last name"},
            },
            {
                "method": "GET",
                "url": "/services/data/v59.0/sobjects/Contact/@{c.id}",
                "referenceId": "g",
            },
        ],
    }
    a, c, g = sf.restful("composite", method="POST", json=body)["compositeResponse"]
    assert c["httpStatusCode"] == 400
    assert c["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert a["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert g["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert emulator.records("Account") == []


def test_composite_without_all_or_none_keeps_successes(
    sf: Salesforce, emulator: SalesforceEmulator
) -> None:
    body = {
        "allOrNone": False,
        "compositeRequest": [
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Contact",
                "referenceId": "bad",
                "body": {},
            },
            {
                "method": "GET",
                "url": "/services/data/v59.0/sobjects/Contact/@{bad.id}",
                "referenceId": "dependent",
            },
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Account",
                "referenceId": "ok",
                "body": {"Name": "Acme"},
            },
        ],
    }
    bad, dependent, ok = sf.restful("composite", method="POST", json=body)["compositeResponse"]
    assert bad["httpStatusCode"] == 400
    assert dependent["httpStatusCode"] == 400
    assert dependent["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert ok["httpStatusCode"] == 201
    assert len(emulator.records("Account")) == 1


def test_composite_limits(sf: Salesforce) -> None:
    many = [
        {"method": "GET", "url": "/services/data/v59.0/limits", "referenceId": f"r{i}"}
        for i in range(26)
    ]
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful("composite", method="POST", json={"compositeRequest": many})
    assert sf.restful("composite", method="POST", json={"compositeRequest": many[:25]})
    queries = [
        {
            "method": "GET",
            "url": "/services/data/v59.0/query?q=SELECT+Id+FROM+Account",
            "referenceId": f"q{i}",
        }
        for i in range(6)
    ]
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful("composite", method="POST", json={"compositeRequest": queries})


# -- platform events ----------------------------------------------------------------------------
def test_platform_event_publish(sf: Salesforce, emulator: SalesforceEmulator) -> None:
    result = sf.Crmlink_Event__e.create({"Name__c": "Flow me", "Payload__c": "{}"})
    assert result["success"] is True
    assert result["id"].startswith("e00")
    assert result["errors"][0]["statusCode"] == "OPERATION_ENQUEUED"
    events = emulator.control.workflow_events()
    assert events[0][0] == "Crmlink_Event__e"
    assert events[0][1]["Name__c"] == "Flow me"
    with pytest.raises(SalesforceMalformedRequest):
        sf.Crmlink_Event__e.create({"Nope__c": 1})


# -- limits -------------------------------------------------------------------------------------
def test_limit_header_on_every_response_and_limits_resource(
    sf: Salesforce, emulator: SalesforceEmulator
) -> None:
    sf.limits()
    assert sf.api_usage["api-usage"].used == 1
    assert sf.api_usage["api-usage"].total == 15000
    body = sf.limits()
    assert body["DailyApiRequests"] == {"Max": 15000, "Remaining": 14998}
    response = requests.get(
        f"{emulator.url}/services/data/v59.0/sobjects/Account/0015g0000000999AAA",
        headers={"Authorization": f"Bearer {emulator.token}"},
        timeout=5,
    )
    assert response.status_code == 404
    assert response.headers["Sforce-Limit-Info"] == "api-usage=3/15000"


def test_daily_limit_exhausted_is_403(sf: Salesforce, emulator: SalesforceEmulator) -> None:
    emulator.control.set_daily_limit(3)
    for _ in range(3):
        sf.limits()
    with pytest.raises(SalesforceRefusedRequest) as caught:
        sf.limits()
    assert caught.value.status == 403
    assert caught.value.content == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]


# -- faults -------------------------------------------------------------------------------------
def test_fault_rate_limit_and_reset(sf: Salesforce, emulator: SalesforceEmulator) -> None:
    emulator.control.rate_limit()
    with pytest.raises(SalesforceRefusedRequest):
        sf.Account.create({"Name": "x"})
    emulator.control.reset()
    assert sf.Account.create({"Name": "x"})["success"]


def test_fault_unavailable(sf: Salesforce, emulator: SalesforceEmulator) -> None:
    emulator.control.unavailable(times=1)
    with pytest.raises(SalesforceGeneralError) as caught:
        sf.limits()
    assert caught.value.status == 503
    assert caught.value.content[0]["errorCode"] == "SERVER_UNAVAILABLE"
    assert sf.limits()
    emulator.control.unavailable()
    for _ in range(3):
        with pytest.raises(SalesforceGeneralError):
            sf.limits()


def test_fault_latency(sf: Salesforce, emulator: SalesforceEmulator) -> None:
    emulator.control.latency(0.3)
    started = time.perf_counter()
    sf.limits()
    assert time.perf_counter() - started >= 0.3


def test_expired_token_until_refresh_grant(emulator: SalesforceEmulator) -> None:
    sf = make_client(emulator)
    sf.limits()
    emulator.control.expire_credentials()
    with pytest.raises(SalesforceExpiredSession):
        sf.limits()
    response = requests.post(
        f"{emulator.url}/services/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "client_id": emulator.oauth.client_id,
            "client_secret": emulator.oauth.client_secret,
            "refresh_token": emulator.oauth.refresh_token,
        },
        timeout=5,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert "refresh_token" not in body
    assert body["instance_url"] == emulator.url
    assert make_client(emulator, token=body["access_token"]).limits()


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "client_credentials"}, "unsupported_grant_type"),
        (
            {"grant_type": "refresh_token", "client_id": "nope", "refresh_token": "x"},
            "invalid_client_id",
        ),
        (
            {
                "grant_type": "refresh_token",
                "client_id": "crmlink-emulator",
                "client_secret": "wrong",
                "refresh_token": "x",
            },
            "invalid_client",
        ),
        (
            {"grant_type": "refresh_token", "client_id": "crmlink-emulator", "refresh_token": "x"},
            "invalid_grant",
        ),
    ],
)
def test_token_endpoint_errors(
    emulator: SalesforceEmulator, form: dict[str, str], error: str
) -> None:
    response = requests.post(f"{emulator.url}/services/oauth2/token", data=form, timeout=5)
    assert response.status_code == 400
    assert response.json()["error"] == error


def test_simple_salesforce_password_login_and_relogin(emulator: SalesforceEmulator) -> None:
    session = _session(emulator.url)
    sf = Salesforce(
        username=emulator.oauth.username,
        password=emulator.oauth.password,
        consumer_key=emulator.oauth.client_id,
        consumer_secret=emulator.oauth.client_secret,
        session=session,
    )
    assert sf.sf_instance == emulator.url.removeprefix("http://")
    assert sf.Account.create({"Name": "Logged in"})["success"]
    emulator.control.expire_credentials()
    # simple-salesforce logs in again (password grant) and retries: the new token works.
    assert sf.Account.create({"Name": "After re-login"})["success"]
    assert len(emulator.records("Account")) == 2


# -- custom org file ----------------------------------------------------------------------------
def test_custom_objects_and_fields_from_org_file(custom_emulator: SalesforceEmulator) -> None:
    sf = make_client(custom_emulator)
    described = sf.Invoice__c.describe()
    assert described["custom"] is True
    assert described["keyPrefix"].startswith("a0")
    fields = {f["name"]: f for f in described["fields"]}
    assert fields["Amount__c"]["custom"]
    assert fields["Amount__c"]["type"] == "currency"
    assert fields["Name"]["nameField"]
    assert fields["Status__c"]["defaultedOnCreate"]
    created = sf.Invoice__c.create({"Amount__c": 12.5})
    record = sf.Invoice__c.get(created["id"])
    assert record["Status__c"] == "Draft"
    assert record["Name"] == created["id"]
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Invoice__c.create({"Status__c": "Paid"})
    assert _error(caught.value)["fields"] == ["Amount__c"]
    account_fields = {f["name"] for f in sf.Account.describe()["fields"]}
    assert {"Tier__c", "Name"} <= account_fields
    with pytest.raises(SalesforceMalformedRequest):
        sf.Account.create({"Name": "A", "Tier__c": "Bronze"})


# -- control surface ----------------------------------------------------------------------------
def test_http_control_surface(sf: Salesforce, emulator: SalesforceEmulator) -> None:
    base = f"{emulator.url}/__emulator__"
    state = requests.post(f"{base}/faults", json={"rate_limit": True}, timeout=5).json()
    assert state["rate_limited"] is True
    with pytest.raises(SalesforceRefusedRequest):
        sf.limits()
    requests.post(f"{base}/faults", json={"reset": True}, timeout=5)
    sf.Contact.create({"LastName": "Seen"})
    sf.Crmlink_Event__e.create({"Name__c": "evt"})
    records = requests.get(f"{base}/records/Contact", timeout=5).json()
    assert [r["LastName"] for r in records] == ["Seen"]
    events = requests.get(f"{base}/events", timeout=5).json()
    assert events[0]["event"] == "Crmlink_Event__e"
    assert requests.get(f"{base}/state", timeout=5).json()["api_usage"]["used"] == 2
    requests.post(f"{base}/reset", timeout=5)
    assert emulator.records("Contact") == []
    assert requests.get(f"{base}/records/Nope", timeout=5).status_code == 404


def test_request_count(sf: Salesforce, emulator: SalesforceEmulator) -> None:
    before = emulator.request_count
    sf.limits()
    sf.Account.describe()
    assert emulator.request_count == before + 2


# -- duplicate rules ----------------------------------------------------------------------------
def test_duplicate_rule_answers_duplicates_detected(sf: Salesforce) -> None:
    first = sf.Contact.create({"LastName": "A", "Email": "ada@example.com"})["id"]
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.create({"LastName": "B", "Email": "ADA@example.com"})
    error = _error(caught.value)
    assert error["errorCode"] == "DUPLICATES_DETECTED"
    result = error["duplicateResut"]  # sic: Salesforce's spelling
    assert result["duplicateRule"] == "Standard_Contact_Duplicate_Rule"
    assert result["allowSave"] is True
    match = result["matchResults"][0]["matchRecords"][0]["record"]
    assert match["Id"] == first
    allowed = sf.Contact.create(
        {"LastName": "B", "Email": "ada@example.com"},
        headers={"Sforce-Duplicate-Rule-Header": "allowSave=true"},
    )
    assert allowed["success"] is True
    results = sf.restful(
        "composite/sobjects",
        method="POST",
        json={
            "records": [
                {
                    "attributes": {"type": "Lead"},
                    "LastName": "L",
                    "Company": "C",
                    "Email": "x@example.com",
                }
            ]
            * 2
        },
    )
    assert results[0]["success"] is True
    assert results[1]["errors"] == [
        {"statusCode": "DUPLICATES_DETECTED", "message": "Use one of these records?", "fields": []}
    ]
