"""The memory CRM itself: schema, extension through settings, refusals, thread safety."""

from __future__ import annotations

import threading

import pytest
from crmlink import CrmValidation, Engine, MemoryStore, NotFound, SettingsInvalid
from crmlink.catalog import CrmFieldType
from crmlink_memory import MemoryConnector, MemorySettings


def _connector(**settings: object) -> MemoryConnector:
    return MemoryConnector(MemorySettings.model_validate(settings))


def test_default_schema_has_the_usual_objects_and_flags() -> None:
    crm = _connector()
    assert {o.name for o in crm.list_objects()} == {"Account", "Contact", "Lead", "Opportunity"}
    opp = crm.describe_object("Opportunity")
    assert {f.name for f in opp.required_on_create()} == {"Name", "StageName", "CloseDate"}
    assert opp.fields["StageName"].restricted_picklist
    assert opp.fields["Id"].createable is False
    assert opp.fields["CreatedDate"].updateable is False
    assert opp.fields["External_Id__c"].unique
    assert opp.fields["External_Id__c"].external_id
    lead = crm.describe_object("Lead")
    assert {f.name for f in lead.required_on_create()} == {"LastName", "Company"}


def test_settings_add_objects_and_fields() -> None:
    crm = _connector(
        objects=[
            {
                "name": "Invoice__c",
                "label": "Invoice",
                "custom": True,
                "fields": {
                    "Amount__c": {
                        "name": "Amount__c",
                        "label": "Amount",
                        "type": "number",
                        "required": True,
                    }
                },
            },
            {
                "name": "Contact",
                "label": "Contact",
                "fields": {
                    "Tier__c": {
                        "name": "Tier__c",
                        "label": "Tier",
                        "type": "picklist",
                        "picklist": [{"value": "Gold", "label": "Gold"}],
                        "restricted_picklist": True,
                    }
                },
            },
        ]
    )
    invoice = crm.describe_object("Invoice__c")
    assert invoice.custom
    assert invoice.fields["Amount__c"].type is CrmFieldType.NUMBER
    assert "Tier__c" in crm.describe_object("Contact").fields
    assert "LastName" in crm.describe_object("Contact").fields
    with pytest.raises(CrmValidation) as caught:
        crm.create("Invoice__c", {})
    assert caught.value.crm is not None
    assert caught.value.crm.fields == ("Amount__c",)


@pytest.mark.parametrize(
    "objects", ["Invoice", [{"label": "no name"}], [{"name": "X", "fields": {"f": {"type": "?"}}}]]
)
def test_a_bad_schema_extension_is_refused_at_link_time(objects: object) -> None:
    with pytest.raises(SettingsInvalid):
        Engine(MemoryStore()).link(
            "x", "memory", {"objects": objects}, {"o": {"fields": {"f": {"type": "string"}}}}
        )


@pytest.mark.parametrize(
    ("values", "code", "field"),
    [
        (
            {"Name": "x", "StageName": "Prospecting", "CloseDate": "2026-01-01", "Bogus": 1},
            "INVALID_FIELD",
            "Bogus",
        ),
        (
            {"Name": "x", "StageName": "Prospecting", "CloseDate": "2026-01-01", "IsClosed": True},
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            "IsClosed",
        ),
        (
            {"Name": "x", "StageName": "Won?", "CloseDate": "2026-01-01"},
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            "StageName",
        ),
        (
            {"Name": "x", "StageName": "Prospecting", "CloseDate": "soon"},
            "INVALID_TYPE",
            "CloseDate",
        ),
        (
            {"Name": "x" * 121, "StageName": "Prospecting", "CloseDate": "2026-01-01"},
            "STRING_TOO_LONG",
            "Name",
        ),
        ({"Name": "x", "StageName": "Prospecting"}, "REQUIRED_FIELD_MISSING", "CloseDate"),
    ],
)
def test_refusals_name_the_crm_code_and_field(
    values: dict[str, object], code: str, field: str
) -> None:
    with pytest.raises(CrmValidation) as caught:
        _connector().create("Opportunity", values)
    assert caught.value.crm is not None
    assert (caught.value.crm.code, caught.value.crm.fields) == (code, (field,))


def test_duplicates_of_unique_fields_name_the_existing_record() -> None:
    crm = _connector()
    first = crm.create("Contact", {"LastName": "A", "External_Id__c": "ext-1"})
    with pytest.raises(CrmValidation) as caught:
        crm.create("Contact", {"LastName": "B", "External_Id__c": "ext-1"})
    assert caught.value.crm is not None
    assert caught.value.crm.code == "DUPLICATE_VALUE"
    assert caught.value.crm.existing_id == first.id


def test_deleted_records_are_entity_is_deleted() -> None:
    crm = _connector()
    record = crm.create("Contact", {"LastName": "A"})
    crm.delete("Contact", record.id)
    with pytest.raises(NotFound) as caught:
        crm.update("Contact", record.id, {"LastName": "B"})
    assert caught.value.crm is not None
    assert caught.value.crm.code == "ENTITY_IS_DELETED"


def test_concurrent_writers_get_distinct_ids_and_lose_nothing() -> None:
    crm = _connector()
    ids: list[str] = []
    lock = threading.Lock()

    def writer() -> None:
        for i in range(200):
            record = crm.create("Contact", {"LastName": f"n{i}"})
            with lock:
                ids.append(record.id)

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ids) == len(set(ids)) == 1600
    assert len(crm.crm.records("Contact")) == 1600
