"""Error normalization, Sforce-Limit-Info parsing, describe conversion and value encoding."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from crmlink.catalog import CrmFieldType
from crmlink.connector import counting_crm_calls
from crmlink.errors import (
    ConnectionUnhealthy,
    CrmlinkError,
    CrmRateLimited,
    CrmUnavailable,
    CrmValidation,
    NotFound,
)
from crmlink_salesforce import SalesforceConnector
from crmlink_salesforce.catalog import field_from_describe
from crmlink_salesforce.emulator import SalesforceEmulator
from crmlink_salesforce.errors import error_from_items, is_rolled_back
from crmlink_salesforce.transport import parse_limit_info


@pytest.mark.parametrize(
    ("status", "body", "expected", "code"),
    [
        (
            400,
            [{"errorCode": "REQUIRED_FIELD_MISSING", "message": "m", "fields": ["A"]}],
            CrmValidation,
            "REQUIRED_FIELD_MISSING",
        ),
        (
            400,
            [{"errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION", "message": "no", "fields": []}],
            CrmValidation,
            "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        ),
        (
            404,
            [{"errorCode": "ENTITY_IS_DELETED", "message": "entity is deleted"}],
            NotFound,
            "ENTITY_IS_DELETED",
        ),
        (404, [{"errorCode": "NOT_FOUND", "message": "gone"}], NotFound, "NOT_FOUND"),
        (
            400,
            [{"errorCode": "MALFORMED_ID", "message": "x", "fields": ["Id"]}],
            NotFound,
            "MALFORMED_ID",
        ),
        (
            400,
            [{"errorCode": "MALFORMED_ID", "message": "x", "fields": ["AccountId"]}],
            CrmValidation,
            "MALFORMED_ID",
        ),
        (
            403,
            [{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "TotalRequests Limit exceeded."}],
            CrmRateLimited,
            "REQUEST_LIMIT_EXCEEDED",
        ),
        (
            401,
            [{"errorCode": "INVALID_SESSION_ID", "message": "Session expired or invalid"}],
            ConnectionUnhealthy,
            "INVALID_SESSION_ID",
        ),
        (
            403,
            [{"errorCode": "API_DISABLED_FOR_ORG", "message": "API is not enabled"}],
            ConnectionUnhealthy,
            "API_DISABLED_FOR_ORG",
        ),
        (503, "<html>Service Unavailable</html>", CrmUnavailable, "HTTP_503"),
        (
            500,
            [{"errorCode": "UNKNOWN_EXCEPTION", "message": "boom"}],
            CrmUnavailable,
            "UNKNOWN_EXCEPTION",
        ),
    ],
)
def test_error_normalization(
    status: int, body: Any, expected: type[CrmlinkError], code: str
) -> None:
    error = error_from_items(status, body)
    assert type(error) is expected
    assert error.crm is not None
    assert error.crm.code == code


def test_normalization_prefers_the_cause_over_rolled_back_entries() -> None:
    body = [
        {"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK", "message": "rolled back"},
        {
            "statusCode": "STRING_TOO_LONG",
            "message": "Name: data value too large",
            "fields": ["Name"],
        },
    ]
    error = error_from_items(400, body)
    assert error.crm is not None
    assert (error.crm.code, tuple(error.crm.fields)) == ("STRING_TOO_LONG", ("Name",))
    assert is_rolled_back([{"errorCode": "PROCESSING_HALTED", "message": "x"}])
    assert not is_rolled_back(body)
    assert not is_rolled_back(None)


def test_oauth_error_bodies_are_normalized() -> None:
    error = error_from_items(400, {"error": "invalid_grant", "error_description": "expired"})
    assert isinstance(error, CrmValidation)
    assert error.crm is not None
    assert (error.crm.code, error.crm.message) == ("invalid_grant", "expired")


@pytest.mark.parametrize(
    ("header", "usage"),
    [
        ("api-usage=18/5000", (18, 5000)),
        ("api-usage=25/5000; per-app-api-usage=17/250(appName=sample-connected-app)", (25, 5000)),
        ("per-app-api-usage=17/250(appName=x); api-usage=3/100", (3, 100)),
        ("", None),
        (None, None),
        ("nonsense", None),
    ],
)
def test_limit_info_parsing(header: str | None, usage: tuple[int, int] | None) -> None:
    assert parse_limit_info(header) == usage


def test_describe_conversion_edge_cases() -> None:
    checkbox = field_from_describe(
        {
            "name": "Active__c",
            "label": "Active",
            "type": "boolean",
            "createable": True,
            "updateable": True,
            "nillable": False,
            "defaultedOnCreate": False,
        }
    )
    assert checkbox.required is False
    assert checkbox.type is CrmFieldType.BOOLEAN
    picklist = field_from_describe(
        {
            "name": "Tier__c",
            "type": "picklist",
            "createable": True,
            "nillable": True,
            "picklistValues": [
                {"value": "Gold", "label": "Gold", "active": True},
                {"value": "Old", "label": "Old", "active": False},
            ],
            "restrictedPicklist": True,
        }
    )
    assert [v.value for v in picklist.picklist or []] == ["Gold"]
    assert picklist.label == "Tier__c"
    compound = field_from_describe({"name": "BillingAddress", "type": "address"})
    assert compound.type is CrmFieldType.STRING
    assert compound.native_type == "address"
    assert compound.createable is False


def test_python_dates_and_decimals_are_sent_as_json(
    connector_settings: dict[str, Any], emulator: SalesforceEmulator
) -> None:
    crm = SalesforceConnector.from_settings(connector_settings)
    record = crm.create(
        "Opportunity",
        {
            "Name": "Typed",
            "StageName": "Prospecting",
            "CloseDate": date(2027, 1, 2),
            "Amount": Decimal("12.50"),
        },
        returning=["CloseDate", "Amount"],
    )
    assert (record.fields["CloseDate"], record.fields["Amount"]) == ("2027-01-02", 12.5)


def test_https_instance_urls_are_not_rewritten(emulator: SalesforceEmulator) -> None:
    """An https:// instance URL is spoken as TLS even on loopback: the plain-HTTP emulator
    cannot answer it, which shows the scheme is only rewritten for http:// settings."""
    crm = SalesforceConnector.from_settings(
        {
            "instance_url": emulator.url.replace("http://", "https://"),
            "access_token": emulator.token,
            "max_retries": 0,
        }
    )
    before = emulator.request_count
    with pytest.raises(CrmUnavailable):
        crm.list_objects()
    assert emulator.request_count == before


def test_rate_limit_fault_reports_the_whole_allocation_used(
    connector_settings: dict[str, Any], emulator: SalesforceEmulator
) -> None:
    crm = SalesforceConnector.from_settings(connector_settings)
    emulator.control.rate_limit()
    health = crm.health()
    assert health.ok is False
    assert health.api_usage == {"used": 15000, "limit": 15000}
    emulator.control.reset()
    health = crm.health()
    assert health.ok is True
    assert health.api_usage == {"used": 1, "limit": 15000}


def test_unanswered_attempts_are_counted_as_crm_calls() -> None:
    crm = SalesforceConnector.from_settings(
        {
            "instance_url": "http://127.0.0.1:9",
            "access_token": "t",
            "max_retries": 2,
            "retry_backoff": 0.001,
        }
    )
    with counting_crm_calls() as calls, pytest.raises(CrmUnavailable):
        crm.get("Contact", "0035g0000000001AAA")
    assert calls.calls == 3
