"""Payloads are checked against the event's schema before anything touches a CRM."""

from __future__ import annotations

from typing import Any

import pytest
from crmlink import PayloadInvalid, parse_definition
from crmlink.payloads import validate_payload

SCHEMA = (
    parse_definition(
        {
            "o": {
                "events": {
                    "e": {
                        "type": "create",
                        "label": "E",
                        "payloadSchema": {
                            "name": {"type": "string", "required": True},
                            "when": {"type": "string", "format": "datetime"},
                            "day": {"type": "string", "format": "date"},
                            "email": {"type": "string", "format": "email"},
                            "site": {"type": "string", "format": "uri"},
                            "count": {"type": "integer"},
                            "amount": {"type": "number"},
                            "active": {"type": "boolean"},
                            "stage": {"type": "string", "enum": ["draft", "sent"]},
                            "address": {
                                "type": "object",
                                "properties": {"city": {"type": "string", "required": True}},
                            },
                            "tags": {"type": "object", "additionalProperties": True},
                            "owners": {
                                "type": "array",
                                "items": {"type": "string", "format": "email"},
                            },
                        },
                    }
                }
            }
        }
    )
    .objects["o"]
    .events["e"]
    .payload_schema
)


def _violations(payload: Any) -> dict[str, str]:
    with pytest.raises(PayloadInvalid) as caught:
        validate_payload(SCHEMA, payload, where="o.e")
    return {item.path: item.error for item in caught.value.errors}


def test_a_full_valid_payload_passes() -> None:
    validate_payload(
        SCHEMA,
        {
            "name": "Apple Sales Contract",
            "when": "2022-05-17T23:17:53Z",
            "day": "2022-05-17",
            "email": "ada@example.com",
            "site": "https://example.com/x",
            "count": 3,
            "amount": 2.5,
            "active": False,
            "stage": "sent",
            "address": {"city": "Zürich"},
            "tags": {"anything": {"goes": 1}},
            "owners": ["a@example.com"],
        },
        where="o.e",
    )


def test_only_required_fields_are_needed() -> None:
    validate_payload(SCHEMA, {"name": "x"}, where="o.e")


@pytest.mark.parametrize(
    ("payload", "path", "fragment"),
    [
        ({}, "payload.name", "required field is missing"),
        ({"name": None}, "payload.name", "required field is null"),
        ({"name": 7}, "payload.name", "expected a string, got integer"),
        ({"name": "x", "when": "yesterday"}, "payload.when", "not an ISO 8601 date-time"),
        ({"name": "x", "when": "2022-05-17"}, "payload.when", "a date, not a date-time"),
        ({"name": "x", "day": "17/05/2022"}, "payload.day", "not an ISO 8601 date"),
        ({"name": "x", "email": "not-an-email"}, "payload.email", "not an email address"),
        ({"name": "x", "site": "example"}, "payload.site", "not an absolute URI"),
        ({"name": "x", "count": 1.5}, "payload.count", "expected an integer"),
        ({"name": "x", "count": True}, "payload.count", "expected an integer"),
        ({"name": "x", "amount": "12"}, "payload.amount", "expected a number"),
        ({"name": "x", "active": "true"}, "payload.active", "expected a boolean"),
        ({"name": "x", "stage": "lost"}, "payload.stage", "not one of"),
        ({"name": "x", "address": {}}, "payload.address.city", "required field is missing"),
        (
            {"name": "x", "address": {"city": "Bern", "zip": 1}},
            "payload.address.zip",
            "unknown field",
        ),
        (
            {"name": "x", "owners": ["ok@example.com", "nope"]},
            "payload.owners.1",
            "not an email address",
        ),
        ({"name": "x", "owners": "a@example.com"}, "payload.owners", "expected an array"),
        ({"name": "x", "surprise": 1}, "payload.surprise", "unknown field"),
    ],
)
def test_each_violation_is_named_with_its_path(payload: Any, path: str, fragment: str) -> None:
    violations = _violations(payload)
    assert path in violations, violations
    assert fragment in violations[path]


def test_every_violation_is_reported_at_once() -> None:
    violations = _violations({"count": "many", "stage": "lost", "extra": True})
    assert set(violations) == {"payload.name", "payload.count", "payload.stage", "payload.extra"}


@pytest.mark.parametrize("payload", [[], "text", 3, None])
def test_a_payload_that_is_not_an_object_is_refused(payload: Any) -> None:
    assert "payload" in _violations(payload)


def test_unicode_values_pass_untouched() -> None:
    validate_payload(SCHEMA, {"name": "Contrat de vente « Pomme » 🍎"}, where="o.e")
