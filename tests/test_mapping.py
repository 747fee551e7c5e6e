"""Mappings: validated against the definition and the catalog, then rendered and read back."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from crmlink import MappingInvalid, parse_definition
from crmlink.mapping import compile_mapping
from crmlink.plugins import PluginHost
from crmlink.testing import DEMO_OBJECTS
from crmlink_memory.schema import default_schema

CATALOG = default_schema()
DEFINITION = parse_definition(DEMO_OBJECTS)
TRANSFORMS = PluginHost(load_entry_points=False).transforms()

GOOD: dict[str, Any] = {
    "objects": {
        "opportunity": {
            "crm_object": "Opportunity",
            "fields": {
                "document_name": {"from": "Name"},
                "document_tags": {"fields": {"stage": {"from": "StageName"}}},
            },
            "events": {
                "create_opportunity": {
                    "action": "create",
                    "fields": {
                        "Name": {"from": "name"},
                        "StageName": {"value": "Prospecting"},
                        "CloseDate": {"value": "2026-12-31"},
                    },
                },
                "document_updated": {
                    "action": "update",
                    "fields": {
                        "Name": {"from": "name"},
                        "CloseDate": {"from": "updated_at", "transform": "date"},
                    },
                },
            },
        },
        "contact": {"crm_object": None},
    }
}


def _compile(mapping: dict[str, Any], *, strict: bool = True) -> Any:
    return compile_mapping(DEFINITION, mapping, CATALOG.get, TRANSFORMS, strict=strict)


def _problems(mapping: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(MappingInvalid) as caught:
        _compile(mapping)
    return {item.path: item.error for item in caught.value.errors}


def _changed(change: Any) -> dict[str, Any]:
    mapping = copy.deepcopy(GOOD)
    change(mapping["objects"])
    return mapping


EVENTS = "objects.opportunity.events"


def test_a_good_mapping_renders_payloads_and_reads_records() -> None:
    compiled = _compile(GOOD)
    create = compiled.events[("opportunity", "create_opportunity")]
    assert create.render({"name": "Deal"}) == {
        "Name": "Deal",
        "StageName": "Prospecting",
        "CloseDate": "2026-12-31",
    }
    update = compiled.events[("opportunity", "document_updated")]
    assert update.render({"name": "New", "updated_at": "2022-05-17T23:17:53Z"}) == {
        "Name": "New",
        "CloseDate": "2022-05-17",
    }
    assert update.render({}) == {}, "absent payload fields are not sent"
    read = compiled.reads["opportunity"]
    assert set(read.returning) == {"Name", "StageName"}
    assert read.apply({"Name": "Deal", "StageName": "Proposal"}) == {
        "document_name": "Deal",
        "document_tags": {"stage": "Proposal"},
    }
    assert compiled.crm_objects["contact"] is None


@pytest.mark.parametrize(
    ("change", "path", "fragment"),
    [
        (
            lambda o: o["opportunity"].__setitem__("crm_object", "Deal"),
            "objects.opportunity.crm_object",
            "no object 'Deal'",
        ),
        (
            lambda o: o["opportunity"]["events"]["create_opportunity"]["fields"].__setitem__(
                "Nmae", {"from": "name"}
            ),
            f"{EVENTS}.create_opportunity.fields.Nmae",
            "no field",
        ),
        (
            lambda o: o["opportunity"]["events"]["create_opportunity"]["fields"].__setitem__(
                "IsClosed", {"value": True}
            ),
            f"{EVENTS}.create_opportunity.fields.IsClosed",
            "cannot be set on create",
        ),
        (
            lambda o: o["opportunity"]["events"]["document_updated"]["fields"].__setitem__(
                "IsClosed", {"value": True}
            ),
            f"{EVENTS}.document_updated.fields.IsClosed",
            "cannot be updated",
        ),
        (
            lambda o: o["opportunity"]["events"]["create_opportunity"]["fields"].pop("CloseDate"),
            f"{EVENTS}.create_opportunity.fields.CloseDate",
            "required on create",
        ),
        (
            lambda o: o["opportunity"]["events"]["create_opportunity"]["fields"].__setitem__(
                "StageName", {"value": "Sold"}
            ),
            f"{EVENTS}.create_opportunity.fields.StageName.value",
            "not an allowed value of picklist",
        ),
        (
            lambda o: o["opportunity"]["events"]["create_opportunity"]["fields"].__setitem__(
                "Amount", {"from": "name"}
            ),
            f"{EVENTS}.create_opportunity.fields.Amount.from",
            "cannot be written",
        ),
        (
            lambda o: o["opportunity"]["events"]["document_updated"]["fields"].__setitem__(
                "CloseDate", {"from": "updated_at"}
            ),
            f"{EVENTS}.document_updated.fields.CloseDate.from",
            "transform",
        ),
        (
            lambda o: o["opportunity"]["events"]["create_opportunity"]["fields"].__setitem__(
                "Amount", {"value": "lots"}
            ),
            f"{EVENTS}.create_opportunity.fields.Amount.value",
            "cannot be written",
        ),
        (
            lambda o: o["opportunity"]["events"]["create_opportunity"]["fields"].__setitem__(
                "Name", {"from": "title"}
            ),
            f"{EVENTS}.create_opportunity.fields.Name.from",
            "no field 'title'",
        ),
        (
            lambda o: o["opportunity"]["events"]["document_updated"]["fields"][
                "CloseDate"
            ].__setitem__("transform", "rot13"),
            f"{EVENTS}.document_updated.fields.CloseDate.transform",
            "unknown transform",
        ),
        (
            lambda o: o["opportunity"]["events"].pop("document_updated"),
            f"{EVENTS}.document_updated",
            "no action chosen",
        ),
        (
            lambda o: o["opportunity"]["events"]["document_updated"].__setitem__(
                "action", "delete"
            ),
            f"{EVENTS}.document_updated.action",
            "cannot 'delete'",
        ),
        (
            lambda o: o["opportunity"]["fields"].pop("document_name"),
            "objects.opportunity.fields.document_name",
            "no choice made",
        ),
        (
            lambda o: o["opportunity"]["fields"].__setitem__("document_name", {"from": "IsClosed"}),
            "objects.opportunity.fields.document_name.from",
            "cannot be read",
        ),
        (lambda o: o.pop("contact"), "objects.contact", "no choice made"),
        (
            lambda o: o.__setitem__("invoice", {"crm_object": None}),
            "objects.invoice",
            "no such object in the definition",
        ),
        (
            lambda o: o["opportunity"]["events"]["create_opportunity"].__setitem__(
                "action", "workflow"
            ),
            f"{EVENTS}.create_opportunity.workflow",
            "name the CRM workflow",
        ),
    ],
)
def test_each_problem_is_named_with_its_path(change: Any, path: str, fragment: str) -> None:
    problems = _problems(_changed(change))
    assert path in problems, problems
    assert fragment in problems[path]


@pytest.mark.parametrize(
    ("rule", "fragment"),
    [
        ({"from": "name", "value": "x"}, "either 'from' or 'value'"),
        ({}, "give 'from'"),
        ({"value": "x", "transform": "date"}, "takes no 'transform'"),
        ({"form": "name"}, "Extra inputs"),
    ],
)
def test_malformed_rules_are_refused(rule: dict[str, Any], fragment: str) -> None:
    mapping = _changed(
        lambda o: o["opportunity"]["events"]["create_opportunity"]["fields"].__setitem__(
            "Description", rule
        )
    )
    problems = _problems(mapping)
    matching = [e for p, e in problems.items() if "Description" in p]
    assert matching, problems
    assert fragment in matching[0], problems


def test_value_maps_translate_payload_values() -> None:
    definition = parse_definition(
        {
            "deal": {
                "events": {
                    "made": {
                        "type": "create",
                        "label": "M",
                        "payloadSchema": {"name": {"type": "string"}, "state": {"type": "string"}},
                    }
                }
            }
        }
    )
    mapping = {
        "objects": {
            "deal": {
                "crm_object": "Opportunity",
                "events": {
                    "made": {
                        "action": "create",
                        "fields": {
                            "Name": {"from": "name"},
                            "CloseDate": {"value": "2026-01-31"},
                            "StageName": {
                                "from": "state",
                                "map": {"draft": "Prospecting", "won": "Closed Won"},
                            },
                        },
                    }
                },
            }
        }
    }
    plan = compile_mapping(definition, mapping, CATALOG.get, TRANSFORMS).events[("deal", "made")]
    assert plan.render({"name": "n", "state": "won"})["StageName"] == "Closed Won"
    bad = copy.deepcopy(mapping)
    bad["objects"]["deal"]["events"]["made"]["fields"]["StageName"]["map"]["won"] = "Victory"
    with pytest.raises(MappingInvalid) as caught:
        compile_mapping(definition, bad, CATALOG.get, TRANSFORMS)
    assert any(e.path.endswith("StageName.map.won") for e in caught.value.errors)


def test_lenient_compilation_leaves_out_what_no_longer_fits() -> None:
    mapping = _changed(lambda o: o["opportunity"]["events"].pop("document_updated"))
    compiled = _compile(mapping, strict=False)
    assert ("opportunity", "create_opportunity") in compiled.events
    assert ("opportunity", "document_updated") not in compiled.events
    broken = _changed(
        lambda o: o["opportunity"]["events"]["document_updated"]["fields"].__setitem__(
            "Gone__c", {"from": "name"}
        )
    )
    compiled = _compile(broken, strict=False)
    assert ("opportunity", "document_updated") in compiled.broken
