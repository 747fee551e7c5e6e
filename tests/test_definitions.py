"""Definitions: the seed's events are accepted verbatim; bad ones are refused whole, with paths."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from crmlink import DefinitionInvalid, parse_definition
from crmlink.definitions import MAX_NESTING, EventType, FieldFormat, FieldType
from crmlink.testing import DEMO_OBJECTS, SEED_OBJECTS


def _refused(objects: Any) -> dict[str, str]:
    with pytest.raises(DefinitionInvalid) as caught:
        parse_definition(objects)
    return {item.path: item.error for item in caught.value.errors}


def test_seed_events_are_accepted_verbatim() -> None:
    definition = parse_definition(SEED_OBJECTS)
    create = definition.objects["opportunity"].events["create_opportunity"]
    assert create.type is EventType.CREATE
    assert create.label == "Create Opportunity"
    assert create.payload_schema["name"].label == "Opportunity Name"
    updated = definition.objects["opportunity"].events["document_updated"]
    assert updated.payload_schema["updated_at"].format is FieldFormat.DATETIME
    deleted = definition.objects["contact"].events["contact_deleted"]
    assert deleted.type is EventType.DELETE


def test_name_is_an_alias_of_label() -> None:
    objects = {
        "deal": {
            "name": "Deal",
            "events": {"made": {"type": "create", "name": "Deal made", "payloadSchema": {}}},
        }
    }
    definition = parse_definition(objects)
    assert definition.objects["deal"].label == "Deal"
    assert definition.objects["deal"].events["made"].label == "Deal made"


def test_every_field_schema_key_is_understood() -> None:
    objects = {
        "doc": {
            "label": "Document",
            "description": "A document",
            "fields": {
                "tags": {"type": "object", "additionalProperties": True, "label": "Tags"},
                "meta": {"type": "object", "properties": {"pages": {"type": "integer"}}},
                "owners": {"type": "array", "items": {"type": "string", "format": "email"}},
                "state": {
                    "type": "string",
                    "enum": ["draft", "sent"],
                    "required": True,
                    "description": "Where it is",
                },
                "site": {"type": "string", "format": "uri"},
                "due": {"type": "string", "format": "date"},
                "ratio": {"type": "number"},
                "signed": {"type": "boolean"},
            },
        }
    }
    doc = parse_definition(objects).objects["doc"]
    assert doc.fields["tags"].additional_properties is True
    assert doc.fields["meta"].properties is not None
    assert doc.fields["meta"].properties["pages"].type is FieldType.INTEGER
    assert doc.fields["owners"].items is not None
    assert doc.fields["state"].enum == ["draft", "sent"]
    assert doc.fields["state"].required is True


def test_round_trip_keeps_the_xkit_spelling() -> None:
    dumped = parse_definition(DEMO_OBJECTS).to_json()
    assert "payloadSchema" in dumped["opportunity"]["events"]["create_opportunity"]
    assert dumped["opportunity"]["fields"]["document_tags"]["additionalProperties"] is True
    assert parse_definition(dumped) == parse_definition(DEMO_OBJECTS)


def _nested(depth: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(depth - 1):
        schema = {"type": "object", "properties": {"child": schema}}
    return schema


@pytest.mark.parametrize(
    ("objects", "path", "fragment"),
    [
        ({"o": {"fields": {"f": {"type": "text"}}}}, "o.fields.f.type", "Input should be"),
        (
            {"o": {"events": {"e": {"type": "upsert", "label": "E"}}}},
            "o.events.e.type",
            "Input should be",
        ),
        (
            {
                "o": {
                    "events": {
                        "e": {
                            "type": "create",
                            "label": "E",
                            "payloadSchema": {"x": {"label": "X"}},
                        }
                    }
                }
            },
            "o.events.e.payloadSchema.x.type",
            "required",
        ),
        (
            {"o": {"fields": {"f": {"type": "integer", "enum": [1, "two"]}}}},
            "o.fields.f",
            "not of type 'integer'",
        ),
        (
            {"o": {"fields": {"f": {"type": "number", "format": "date"}}}},
            "o.fields.f",
            "applies to strings only",
        ),
        (
            {"o": {"fields": {"Name": {"type": "string"}, "name": {"type": "string"}}}},
            "o.fields",
            "differ only in case",
        ),
        (
            {"o": {"fields": {"first name": {"type": "string"}}}},
            "o.fields.first name",
            "not a valid slug",
        ),
        ({"o": {"fields": {"deep": _nested(MAX_NESTING + 1)}}}, "o.fields", "nests deeper"),
        ({"o": {"label": "Empty"}}, "o", "at least one field or one event"),
        (
            {"o": {"fields": {"f": {"type": "string", "additionalProperties": True}}}},
            "o.fields.f",
            "type 'object' only",
        ),
        ({"o": {"fields": {"f": {"type": "array"}}}}, "o.fields.f", "needs 'items'"),
        ({"o": {"events": {"e": {"type": "create"}}}}, "o.events.e.label", "required"),
        (
            {"o": {"fields": {"f": {"type": "string", "colour": "red"}}}},
            "o.fields.f.colour",
            "unknown key",
        ),
        ({"2fast": {"fields": {"f": {"type": "string"}}}}, "2fast", "not a valid slug"),
        (
            {"o": {"fields": {"f": {"type": "string", "required": "yes"}}}},
            "o.fields.f.required",
            "boolean",
        ),
    ],
)
def test_a_bad_definition_is_refused_with_its_path(
    objects: dict[str, Any], path: str, fragment: str
) -> None:
    problems = _refused(objects)
    full = f"objects.{path}"
    assert full in problems, problems
    assert fragment in problems[full]


def test_every_problem_is_listed_at_once() -> None:
    objects = copy.deepcopy(SEED_OBJECTS)
    objects["opportunity"]["events"]["create_opportunity"]["type"] = "make"
    objects["contact"]["events"]["contact_deleted"]["payloadSchema"]["deleted_at"]["format"] = (
        "time"
    )
    objects["lead"] = {}
    problems = _refused(objects)
    assert set(problems) >= {
        "objects.opportunity.events.create_opportunity.type",
        "objects.contact.events.contact_deleted.payloadSchema.deleted_at.format",
        "objects.lead",
    }


@pytest.mark.parametrize("objects", [[], "opportunity", None, 3])
def test_a_definition_that_is_not_an_object_is_refused(objects: Any) -> None:
    assert "objects" in _refused(objects)


def test_an_empty_definition_is_refused() -> None:
    assert "objects" in _refused({})
