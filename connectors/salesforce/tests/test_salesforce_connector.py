"""SalesforceConnector against the emulator over real HTTP (real simple-salesforce inside)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from crmlink.catalog import CrmFieldType
from crmlink.connector import Capability, counting_crm_calls
from crmlink.errors import (
    ConnectionUnhealthy,
    CrmRateLimited,
    CrmUnavailable,
    CrmValidation,
    NotFound,
)
from crmlink.plugins import PluginHost
from crmlink_salesforce import SalesforceConnector, SalesforceSettings
from crmlink_salesforce.emulator import SalesforceEmulator
from pydantic import ValidationError

OPP = {"Name": "Apple Sales Contract", "StageName": "Prospecting", "CloseDate": "2026-12-31"}


def _connector(settings: dict[str, Any]) -> SalesforceConnector:
    made = SalesforceConnector.from_settings(settings)
    assert isinstance(made, SalesforceConnector)
    return made


@pytest.fixture
def crm(connector_settings: dict[str, Any]) -> Iterator[SalesforceConnector]:
    connector = _connector(connector_settings)
    yield connector
    connector.close()


# -- settings and plugin ------------------------------------------------------------------------
def test_plugin_registers_connector_and_emulator() -> None:
    host = PluginHost()
    assert host.connector("salesforce") is SalesforceConnector
    assert host.emulators()["salesforce"] is SalesforceEmulator
    assert SalesforceConnector.capabilities == {
        Capability.WORKFLOW,
        Capability.BATCH,
        Capability.UPSERT,
    }


def test_settings_refuse_plain_http_off_loopback_and_missing_credentials() -> None:
    with pytest.raises(ValidationError, match="https"):
        SalesforceSettings(instance_url="http://acme.my.salesforce.com", access_token="t")
    with pytest.raises(ValidationError, match="access_token"):
        SalesforceSettings(instance_url="https://acme.my.salesforce.com")
    with pytest.raises(ValidationError):
        SalesforceSettings.model_validate(
            {"instance_url": "https://a.my.salesforce.com", "access_token": "t", "extra": 1}
        )
    ok = SalesforceSettings(
        instance_url="https://acme.my.salesforce.com/",
        client_id="ck",
        client_secret="cs",
        refresh_token="rt",
        api_version="v60.0",
    )
    assert ok.instance_url == "https://acme.my.salesforce.com"
    assert ok.api_version == "60.0"
    assert ok.oauth_token_url == "https://login.salesforce.com/services/oauth2/token"
    assert "cs" not in repr(ok)
    assert "rt" not in str(ok.model_dump())
    local = SalesforceSettings(instance_url="http://127.0.0.1:9999", access_token="t")
    assert local.instance_url == "http://127.0.0.1:9999"


# -- catalog ------------------------------------------------------------------------------------
def test_list_objects(crm: SalesforceConnector) -> None:
    names = {o.name for o in crm.list_objects()}
    assert {"Account", "Contact", "Lead", "Opportunity", "Task", "Crmlink_Event__e"} <= names
    opp = next(o for o in crm.list_objects() if o.name == "Opportunity")
    assert (opp.label, opp.label_plural, opp.custom) == ("Opportunity", "Opportunities", False)


def test_describe_normalizes_types_and_flags(crm: SalesforceConnector) -> None:
    opp = crm.describe_object("Opportunity")
    assert [f.name for f in opp.required_on_create()] == ["Name", "StageName", "CloseDate"]
    types = {name: f.type for name, f in opp.fields.items()}
    assert types["Id"] is CrmFieldType.ID
    assert types["Name"] is CrmFieldType.STRING
    assert types["Description"] is CrmFieldType.TEXT
    assert types["Amount"] is CrmFieldType.NUMBER
    assert types["CloseDate"] is CrmFieldType.DATE
    assert types["CreatedDate"] is CrmFieldType.DATETIME
    assert types["IsClosed"] is CrmFieldType.BOOLEAN
    assert types["AccountId"] is CrmFieldType.REFERENCE
    stage = opp.fields["StageName"]
    assert stage.native_type == "picklist"
    assert stage.restricted_picklist
    assert stage.allows("Closed Won")
    assert not stage.allows("Nope")
    assert opp.fields["AccountId"].references == ["Account"]
    assert not opp.fields["IsClosed"].createable
    assert not opp.fields["IsClosed"].updateable
    assert opp.fields["External_Id__c"].external_id
    assert opp.fields["External_Id__c"].unique
    assert not opp.fields["OwnerId"].required
    contact = crm.describe_object("Contact")
    assert contact.fields["Email"].type is CrmFieldType.EMAIL
    assert contact.fields["Phone"].type is CrmFieldType.PHONE
    assert contact.fields["HasOptedOutOfEmail"].required is False
    account = crm.describe_object("Account")
    assert account.fields["NumberOfEmployees"].type is CrmFieldType.INTEGER
    assert account.fields["Website"].type is CrmFieldType.URL


def test_describe_is_cached_until_refreshed(
    crm: SalesforceConnector, emulator: SalesforceEmulator
) -> None:
    crm.describe_object("Lead")
    before = emulator.request_count
    crm.describe_object("Lead")
    crm.list_objects()
    crm.list_objects()
    assert emulator.request_count == before + 1
    crm.refresh_catalog()
    crm.describe_object("Lead")
    assert emulator.request_count == before + 2


def test_unknown_object_is_not_found(crm: SalesforceConnector) -> None:
    with pytest.raises(NotFound):
        crm.describe_object("Nope__c")
    with pytest.raises(NotFound):
        crm.describe_object("../limits")


# -- records ------------------------------------------------------------------------------------
def test_create_is_one_call_and_returns_the_stored_record(
    crm: SalesforceConnector, emulator: SalesforceEmulator
) -> None:
    before = emulator.request_count
    with counting_crm_calls() as calls:
        record = crm.create("Opportunity", OPP, returning=["Name", "StageName", "Probability"])
    assert calls.calls == 1
    assert emulator.request_count == before + 1
    assert record.object == "Opportunity"
    assert record.id.startswith("006")
    assert record.fields == {
        "Id": record.id,
        "Name": "Apple Sales Contract",
        "StageName": "Prospecting",
        "Probability": 10.0,
    }
    assert emulator.records("Opportunity")[0]["Id"] == record.id
    everything = crm.create("Contact", {"LastName": "Lovelace", "FirstName": "Ada"})
    assert everything.fields["Name"] == "Ada Lovelace"
    assert "CreatedDate" in everything.fields


def test_update_get_delete(crm: SalesforceConnector, emulator: SalesforceEmulator) -> None:
    created = crm.create("Opportunity", OPP)
    with counting_crm_calls() as calls:
        updated = crm.update(
            "Opportunity", created.id, {"StageName": "Closed Won"}, returning=["IsWon"]
        )
    assert calls.calls == 1
    assert updated.fields == {"Id": created.id, "IsWon": True}
    got = crm.get("Opportunity", created.id, returning=["StageName"])
    assert got.fields["StageName"] == "Closed Won"
    with counting_crm_calls() as calls:
        crm.delete("Opportunity", created.id)
    assert calls.calls == 1
    assert emulator.records("Opportunity") == []
    for call in (
        lambda: crm.get("Opportunity", created.id),
        lambda: crm.delete("Opportunity", created.id),
        lambda: crm.update("Opportunity", created.id, {"Name": "x"}),
    ):
        with pytest.raises(NotFound) as caught:
            call()
        assert caught.value.crm is not None
        assert caught.value.crm.code == "ENTITY_IS_DELETED"


def test_ids_of_another_object_or_malformed_are_not_found(crm: SalesforceConnector) -> None:
    contact = crm.create("Contact", {"LastName": "C"})
    with pytest.raises(NotFound):
        crm.update("Opportunity", contact.id, {"Name": "x"})
    with pytest.raises(NotFound):
        crm.get("Opportunity", contact.id)
    with pytest.raises(NotFound):
        crm.get("Opportunity", "../../limits")
    with pytest.raises(NotFound):
        crm.delete("Opportunity", "0065g0000000999AAA")


def test_failed_read_back_rolls_the_create_back(
    crm: SalesforceConnector, emulator: SalesforceEmulator
) -> None:
    with pytest.raises(CrmValidation) as caught:
        crm.create("Opportunity", OPP, returning=["No_Such_Field__c"])
    assert caught.value.crm is not None
    assert caught.value.crm.code == "INVALID_FIELD"
    assert emulator.records("Opportunity") == []


@pytest.mark.parametrize(
    ("values", "code", "fields"),
    [
        ({"Name": "x"}, "REQUIRED_FIELD_MISSING", ("StageName", "CloseDate")),
        ({**OPP, "StageName": "Nope"}, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", ("StageName",)),
        ({**OPP, "Amount": -1}, "FIELD_CUSTOM_VALIDATION_EXCEPTION", ("Amount",)),
        ({**OPP, "IsWon": True}, "INVALID_FIELD_FOR_INSERT_UPDATE", ("IsWon",)),
        ({**OPP, "Bogus__c": 1}, "INVALID_FIELD", ("Bogus__c",)),
    ],
)
def test_crm_refusals_are_crm_validation(
    crm: SalesforceConnector, values: dict[str, Any], code: str, fields: tuple[str, ...]
) -> None:
    with pytest.raises(CrmValidation) as caught:
        crm.create("Opportunity", values)
    error = caught.value
    assert error.crm is not None
    assert (error.crm.code, tuple(error.crm.fields)) == (code, fields)
    assert error.crm.message
    assert code in error.message
    assert error.envelope()["error"]["crm"]["code"] == code


def test_duplicate_value_names_the_field(crm: SalesforceConnector) -> None:
    crm.create("Account", {"Name": "A", "External_Id__c": "x1"})
    with pytest.raises(CrmValidation) as caught:
        crm.create("Account", {"Name": "B", "External_Id__c": "x1"})
    assert caught.value.crm is not None
    assert caught.value.crm.code == "DUPLICATE_VALUE"
    assert list(caught.value.crm.fields) == ["External_Id__c"]


def test_upsert(crm: SalesforceConnector, emulator: SalesforceEmulator) -> None:
    with counting_crm_calls() as calls:
        first, created = crm.upsert("Account", "External_Id__c", "k/1", {"Name": "One"})
    assert calls.calls == 1
    assert created is True
    assert first.fields["External_Id__c"] == "k/1"
    second, created = crm.upsert(
        "Account", "External_Id__c", "k/1", {"Name": "Uno"}, returning=["Name"]
    )
    assert created is False
    assert (second.id, second.fields["Name"]) == (first.id, "Uno")
    assert len(emulator.records("Account")) == 1


# -- workflow -----------------------------------------------------------------------------------
def test_workflow_publishes_the_named_platform_event(
    crm: SalesforceConnector, emulator: SalesforceEmulator
) -> None:
    with counting_crm_calls() as calls:
        receipt = crm.publish_workflow_event("Crmlink_Event__e", {"Name__c": "Flow me"})
    assert calls.calls == 1
    assert receipt is not None
    assert len(receipt) == 36
    assert emulator.control.workflow_events() == [
        ("Crmlink_Event__e", {**emulator.control.workflow_events()[0][1], "Name__c": "Flow me"})
    ]
    assert emulator.control.workflow_events()[0][1]["EventUuid"] == receipt
    with pytest.raises(CrmValidation):
        crm.publish_workflow_event("Crmlink_Event__e", {"Nope__c": "x"})
    with pytest.raises(NotFound):
        crm.publish_workflow_event("No_Such__e", {})


def test_workflow_can_carry_object_and_record_id(
    connector_settings: dict[str, Any], emulator: SalesforceEmulator
) -> None:
    crm = _connector(
        {
            **connector_settings,
            "workflow_object_field": "Object__c",
            "workflow_record_id_field": "Record_Id__c",
        }
    )
    crm.publish_workflow_event(
        "Crmlink_Event__e", {"Name__c": "n"}, object="Opportunity", id="0065g0000000001AAA"
    )
    values = emulator.control.workflow_events()[0][1]
    assert (values["Object__c"], values["Record_Id__c"]) == ("Opportunity", "0065g0000000001AAA")


# -- faults -------------------------------------------------------------------------------------
def test_rate_limit_is_crm_rate_limited_without_retry(
    crm: SalesforceConnector, emulator: SalesforceEmulator
) -> None:
    emulator.control.rate_limit()
    before = emulator.request_count
    with pytest.raises(CrmRateLimited) as caught:
        crm.create("Opportunity", OPP)
    assert caught.value.crm is not None
    assert caught.value.crm.code == "REQUEST_LIMIT_EXCEEDED"
    assert emulator.request_count == before + 1
    assert crm.api_usage == {"used": 15000, "limit": 15000}


def test_5xx_is_retried_then_crm_unavailable(
    crm: SalesforceConnector, emulator: SalesforceEmulator
) -> None:
    emulator.control.unavailable()
    before = emulator.request_count
    with counting_crm_calls() as calls, pytest.raises(CrmUnavailable):
        crm.create("Opportunity", OPP)
    assert emulator.request_count == before + 3  # max_retries=2
    assert calls.calls == 3


def test_transient_5xx_is_retried_successfully(
    crm: SalesforceConnector, emulator: SalesforceEmulator
) -> None:
    emulator.control.unavailable(times=2)
    record = crm.create("Opportunity", OPP)
    assert record.id.startswith("006")
    assert len(emulator.records("Opportunity")) == 1


def test_timeout_is_crm_unavailable(
    connector_settings: dict[str, Any], emulator: SalesforceEmulator
) -> None:
    crm = _connector({**connector_settings, "timeout": 0.2, "max_retries": 0})
    emulator.control.latency(0.6)
    with pytest.raises(CrmUnavailable, match="timed out"):
        crm.get("Opportunity", "0065g0000000001AAA")


def test_unreachable_crm_is_crm_unavailable() -> None:
    crm = _connector(
        {"instance_url": "http://127.0.0.1:9", "access_token": "t", "retry_backoff": 0.001}
    )
    with pytest.raises(CrmUnavailable):
        crm.list_objects()


def test_expired_access_token_without_oauth_is_connection_unhealthy(
    crm: SalesforceConnector, emulator: SalesforceEmulator
) -> None:
    emulator.control.expire_credentials()
    with pytest.raises(ConnectionUnhealthy) as caught:
        crm.create("Opportunity", OPP)
    assert caught.value.crm is not None
    assert caught.value.crm.code == "INVALID_SESSION_ID"
    health = crm.health()
    assert health.ok is False
    assert health.message is not None
    assert "connection_unhealthy" in health.message


def test_oauth_refreshes_once_and_retries(
    oauth_settings: dict[str, Any], emulator: SalesforceEmulator
) -> None:
    crm = _connector({**oauth_settings, "access_token": emulator.token})
    crm.create("Opportunity", OPP)
    emulator.control.expire_credentials()
    before = emulator.request_count
    with counting_crm_calls() as calls:
        record = crm.create("Opportunity", {**OPP, "Name": "after refresh"})
    assert record.fields["Name"] == "after refresh"
    assert emulator.request_count == before + 3  # 401, token refresh, retry
    assert calls.calls == 3


def test_oauth_only_settings_fetch_a_token_first(
    oauth_settings: dict[str, Any], emulator: SalesforceEmulator
) -> None:
    crm = _connector(oauth_settings)
    assert crm.health().ok is True
    assert len(emulator.records("Opportunity")) == 0


def test_refresh_is_bounded_when_the_crm_keeps_refusing(
    oauth_settings: dict[str, Any], emulator: SalesforceEmulator
) -> None:
    """The opposite of simple-salesforce#804: one refresh, then connection_unhealthy."""
    crm = _connector({**oauth_settings, "access_token": emulator.token})
    original = emulator.api.issue_token

    def useless_token() -> str:
        original()
        return "never-valid"

    emulator.api.issue_token = useless_token  # type: ignore[method-assign]
    try:
        emulator.control.expire_credentials()
        before = emulator.request_count
        with pytest.raises(ConnectionUnhealthy):
            crm.create("Opportunity", OPP)
        assert emulator.request_count - before == 3
    finally:
        emulator.api.issue_token = original  # type: ignore[method-assign]


def test_revoked_refresh_token_is_connection_unhealthy(
    oauth_settings: dict[str, Any], emulator: SalesforceEmulator
) -> None:
    crm = _connector({**oauth_settings, "refresh_token": "revoked"})
    with pytest.raises(ConnectionUnhealthy) as caught:
        crm.list_objects()
    assert caught.value.crm is not None
    assert caught.value.crm.code == "invalid_grant"


# -- health -------------------------------------------------------------------------------------
def test_health_reports_api_usage(crm: SalesforceConnector, emulator: SalesforceEmulator) -> None:
    crm.create("Contact", {"LastName": "x"})
    health = crm.health()
    assert health.ok is True
    assert health.api_usage == {"used": 2, "limit": 15000}
    assert emulator.api_usage == (2, 15000)


# -- batches ------------------------------------------------------------------------------------
def test_create_many_chunks_and_reads_back(
    crm: SalesforceConnector, emulator: SalesforceEmulator
) -> None:
    records = [{**OPP, "Name": f"Deal {i}"} for i in range(450)]
    records[7] = {**OPP, "StageName": "Nope"}
    records[420] = {"Name": "missing stage"}
    with counting_crm_calls() as calls:
        results = crm.create_many("Opportunity", records, returning=["Name", "IsClosed"])
    assert len(results) == 450
    # 2 x 200 in one Composite call and 50 in another, plus one read-back for each chunk with a
    # failed record (its id cannot be referenced inside the Composite call)
    assert calls.calls == 4
    assert [i for i, r in enumerate(results) if not r.ok] == [7, 420]
    bad = results[7].error
    assert bad is not None
    assert (bad.code, tuple(bad.fields)) == (
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        ("StageName",),
    )
    first = results[0].record
    assert first is not None
    assert first.fields == {"Id": first.id, "Name": "Deal 0", "IsClosed": False}
    assert results[449].record is not None
    assert results[449].record.fields["Name"] == "Deal 449"
    assert len(emulator.records("Opportunity")) == 448


def test_create_many_without_failures_is_one_call_per_400(crm: SalesforceConnector) -> None:
    with counting_crm_calls() as calls:
        results = crm.create_many("Contact", [{"LastName": f"C{i}"} for i in range(800)])
    assert calls.calls == 2
    assert all(r.ok for r in results)
    assert results[799].record is not None
    assert results[799].record.fields["LastName"] == "C799"


def test_update_many_and_delete_many(
    crm: SalesforceConnector, emulator: SalesforceEmulator
) -> None:
    created = crm.create_many("Contact", [{"LastName": f"C{i}"} for i in range(250)])
    ids = [r.record.id for r in created if r.record is not None]
    updates = [(i, {"Title": "CEO"}) for i in ids]
    updates[3] = (ids[3], {"LastName": None})
    with counting_crm_calls() as calls:
        updated = crm.update_many("Contact", updates, returning=["Title"])
    assert calls.calls == 1
    assert [i for i, r in enumerate(updated) if not r.ok] == [3]
    assert updated[0].record is not None
    assert updated[0].record.fields == {"Id": ids[0], "Title": "CEO"}
    with counting_crm_calls() as calls:
        deleted = crm.delete_many("Contact", [*ids, ids[0], "0035g0000000999AAA"])
    assert calls.calls == 1
    assert [r.ok for r in deleted[-3:]] == [True, False, False]
    assert deleted[250].error is not None
    assert deleted[250].error.code == "ENTITY_IS_DELETED"
    assert emulator.records("Contact") == []


def test_batch_of_10000_creates_stays_under_55_calls(crm: SalesforceConnector) -> None:
    with counting_crm_calls() as calls:
        results = crm.create_many("Contact", [{"LastName": f"C{i}"} for i in range(10_000)])
    assert all(r.ok for r in results)
    assert calls.calls == 25


def test_engine_connection_with_oauth_survives_an_expired_token(
    oauth_settings: dict[str, Any], emulator: SalesforceEmulator
) -> None:
    from crmlink import Engine, MemoryStore
    from crmlink.testing import DEMO_OBJECTS

    engine = Engine(MemoryStore())
    engine.link("oauth", "salesforce", oauth_settings, DEMO_OBJECTS)
    mapping = {
        "objects": {
            "opportunity": {
                "crm_object": "Opportunity",
                "fields": {"document_name": {"from": "Name"}, "document_tags": None},
                "events": {
                    "create_opportunity": {
                        "action": "create",
                        "fields": {
                            "Name": {"from": "name"},
                            "StageName": {"value": "Prospecting"},
                            "CloseDate": {"value": "2026-12-31"},
                        },
                    },
                    "document_updated": {"action": "noop"},
                },
            },
            "contact": {"crm_object": None},
        }
    }
    engine.set_mapping("oauth", mapping)
    emulator.control.expire_credentials()
    result = engine.invoke("oauth", "opportunity", "create_opportunity", {"name": "Renewed"})
    assert result.record is not None
    assert result.record.data["document_name"] == "Renewed"
    log = engine.invocations("oauth", limit=1)[0]
    assert log.crm_calls == 3  # 401, the refresh_token grant, the retried Composite call
    # describe, Composite, limits: the refused call and the token grants are not API usage
    assert engine.health("oauth").api_usage == {"used": 3, "limit": 15000}


def test_duplicate_rule_is_crm_validation(crm: SalesforceConnector) -> None:
    crm.create("Contact", {"LastName": "A", "Email": "ada@example.com"})
    with pytest.raises(CrmValidation) as caught:
        crm.create("Contact", {"LastName": "B", "Email": "ada@example.com"})
    assert caught.value.crm is not None
    assert caught.value.crm.code == "DUPLICATES_DETECTED"
