"""HubSpotConnector against the emulator: catalog, records, errors, retries, batches, OAuth."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pluggy
import pytest
from crmlink.catalog import CrmFieldType
from crmlink.connector import Capability, counting_crm_calls
from crmlink.errors import (
    ConnectionUnhealthy,
    CrmlinkError,
    CrmRateLimited,
    CrmUnavailable,
    CrmValidation,
    NotFound,
)
from crmlink.hookspecs import hookspec  # noqa: F401 - the specs module must import
from crmlink_hubspot import HubSpotConnector, HubSpotSettings
from crmlink_hubspot.emulator import HubSpotEmulator
from crmlink_hubspot.pacing import Pacer
from crmlink_hubspot.values import to_hubspot
from pydantic import ValidationError

EVENT = "pe24681357_crmlink_event"


def _deal(**extra: Any) -> dict[str, Any]:
    return {"dealname": "Apple Sales Contract", "dealstage": "appointmentscheduled", **extra}


def _oauth(emulator: HubSpotEmulator, **extra: Any) -> dict[str, Any]:
    return {
        "client_id": "crmlink-emulator-client",
        "client_secret": "crmlink-emulator-secret",
        "refresh_token": "crmlink-emulator-refresh",
        "base_url": emulator.url,
        "backoff": 0.01,
        "max_wait": 0.05,
        **extra,
    }


# -- settings ----------------------------------------------------------------------------------
def test_settings_need_a_token_or_an_oauth_triple() -> None:
    with pytest.raises(ValidationError):
        HubSpotSettings.model_validate({"client_id": "only"})
    with pytest.raises(ValidationError):
        HubSpotSettings.model_validate({"access_token": "pat", "surprise": 1})
    settings = HubSpotSettings.model_validate({"access_token": "pat-secret"})
    assert "pat-secret" not in repr(settings)
    assert settings.base_url == "https://api.hubapi.com"
    assert HubSpotSettings.model_validate(
        {"client_id": "c", "client_secret": "s", "refresh_token": "r"}
    ).uses_oauth


def test_declares_name_and_capabilities() -> None:
    assert HubSpotConnector.name == "hubspot"
    assert HubSpotConnector.capabilities == {
        Capability.WORKFLOW,
        Capability.BATCH,
        Capability.UPSERT,
    }


# -- catalog -----------------------------------------------------------------------------------
def test_list_objects_has_standard_and_custom_objects(connector: HubSpotConnector) -> None:
    objects = {o.name: o for o in connector.list_objects()}
    assert {"contacts", "companies", "deals", "2-9001", "2-9002"} <= set(objects)
    assert objects["2-9001"].label == "Car"
    assert objects["2-9001"].custom
    assert not objects["deals"].custom


def test_describe_deals_normalizes_types_flags_and_required(connector: HubSpotConnector) -> None:
    deals = connector.describe_object("deals")
    assert [f.name for f in deals.required_on_create()] == ["dealname", "dealstage"]
    stage = deals.fields["dealstage"]
    assert stage.type is CrmFieldType.PICKLIST
    assert stage.restricted_picklist
    assert stage.allows("closedwon")
    assert not stage.allows("Closed Won")
    assert deals.fields["amount"].type is CrmFieldType.NUMBER
    assert deals.fields["closedate"].type is CrmFieldType.DATETIME
    assert deals.fields["description"].type is CrmFieldType.TEXT
    closed = deals.fields["hs_is_closed"]
    assert closed.type is CrmFieldType.BOOLEAN
    assert not closed.createable
    assert not closed.updateable
    contacts = connector.describe_object("contacts")
    assert contacts.required_on_create() == []
    assert contacts.fields["email"].type is CrmFieldType.EMAIL
    assert contacts.fields["email"].unique
    assert contacts.fields["phone"].type is CrmFieldType.PHONE
    assert contacts.fields["hs_buying_role"].type is CrmFieldType.MULTIPICKLIST
    assert contacts.fields["lifecyclestage"].picklist is not None
    assert contacts.fields["lifecyclestage"].picklist[0].label == "Subscriber"


def test_describe_custom_object_uses_its_schemas_required_properties(
    connector: HubSpotConnector,
) -> None:
    cars = connector.describe_object("2-9001")
    assert cars.label == "Car"
    assert [f.name for f in cars.required_on_create()] == ["vin", "model"]
    assert cars.fields["year"].type is CrmFieldType.NUMBER


def test_unknown_objects_are_not_found(connector: HubSpotConnector) -> None:
    with pytest.raises(NotFound):
        connector.describe_object("No_Such_Object_xyz")
    with pytest.raises(NotFound):
        connector.describe_object("2-12345")


def test_catalog_is_cached_until_refreshed(
    connector: HubSpotConnector, emulator: HubSpotEmulator
) -> None:
    connector.describe_object("deals")
    before = emulator.request_count
    connector.describe_object("deals")
    assert emulator.request_count == before
    connector.refresh_catalog()
    connector.describe_object("deals")
    assert emulator.request_count == before + 1


# -- records -----------------------------------------------------------------------------------
def test_create_is_one_call_returning_id_and_properties(
    connector: HubSpotConnector, emulator: HubSpotEmulator
) -> None:
    before = emulator.request_count
    with counting_crm_calls() as counter:
        record = connector.create("deals", _deal(amount=Decimal("12.50")), returning=["dealname"])
    assert counter.calls == 1
    assert emulator.request_count == before + 1
    assert record.object == "deals"
    assert record.id.isdigit()
    assert record.fields["dealname"] == "Apple Sales Contract"
    assert record.fields["amount"] == "12.50"
    stored = emulator.records("deals")[0]
    assert stored["id"] == record.id
    assert stored["properties"]["pipeline"] == "default"


def test_update_get_and_delete(connector: HubSpotConnector, emulator: HubSpotEmulator) -> None:
    record = connector.create("deals", _deal())
    updated = connector.update(
        "deals",
        record.id,
        {"description": "renewal", "closedate": date(2026, 12, 31)},
        returning=["description", "closedate", "hs_priority"],
    )
    assert updated.fields["description"] == "renewal"
    assert updated.fields["closedate"] == "2026-12-31T00:00:00.000Z"
    assert updated.fields["hs_priority"] is None
    got = connector.get("deals", record.id)
    assert got.fields["description"] == "renewal"
    assert got.fields["dealstage"] == "appointmentscheduled"
    with counting_crm_calls() as counter:
        connector.delete("deals", record.id)
    assert counter.calls == 2
    assert emulator.records("deals") == []
    for call in (
        lambda: connector.get("deals", record.id),
        lambda: connector.update("deals", record.id, {"description": "late"}),
        lambda: connector.delete("deals", record.id),
    ):
        with pytest.raises(NotFound):
            call()


def test_values_are_sent_as_hubspot_strings(
    connector: HubSpotConnector, emulator: HubSpotEmulator
) -> None:
    connector.create(
        "contacts",
        {"email": "v@x.io", "hs_email_optout": True, "hs_buying_role": ["CHAMPION", "END_USER"]},
    )
    props = emulator.records("contacts")[0]["properties"]
    assert props["hs_email_optout"] == "true"
    assert props["hs_buying_role"] == "CHAMPION;END_USER"


def test_to_hubspot_conversions() -> None:
    assert to_hubspot(None) == ""
    assert to_hubspot(False) == "false"
    assert to_hubspot(3.0) == "3"
    assert to_hubspot(2.5) == "2.5"
    assert to_hubspot(date(2024, 5, 1)) == "2024-05-01"
    assert to_hubspot("2024-05-01", "datetime") == "2024-05-01T00:00:00.000Z"
    assert to_hubspot(datetime(2024, 5, 1, 12, 30, tzinfo=UTC)) == "2024-05-01T12:30:00.000Z"
    assert to_hubspot(("A", "B")) == "A;B"


def test_upsert_creates_then_updates_by_unique_property(
    connector: HubSpotConnector, emulator: HubSpotEmulator
) -> None:
    first, created = connector.upsert("contacts", "email", {"email": "u@x.io", "lastname": "One"})
    second, created_again = connector.upsert(
        "contacts", "email", {"email": "u@x.io", "lastname": "Two"}
    )
    assert (created, created_again) == (True, False)
    assert first.id == second.id
    assert [r["properties"]["lastname"] for r in emulator.records("contacts")] == ["Two"]


# -- error normalization -----------------------------------------------------------------------
def test_duplicate_email_is_crm_validation_naming_the_existing_record(
    connector: HubSpotConnector,
) -> None:
    existing = connector.create("contacts", {"email": "dup@x.io"})
    with pytest.raises(CrmValidation) as caught:
        connector.create("contacts", {"email": "dup@x.io", "lastname": "Again"})
    crm = caught.value.crm
    assert crm is not None
    assert crm.code == "CONFLICT"
    assert crm.existing_id == existing.id
    assert crm.fields == ("email",)
    assert f"contacts:{existing.id}" in caught.value.message


@pytest.mark.parametrize(
    ("values", "code", "field"),
    [
        (_deal(nope="x"), "PROPERTY_DOESNT_EXIST", "nope"),
        (_deal(dealstage="Not A Stage"), "INVALID_OPTION", "dealstage"),
        ({"dealname": "x"}, "REQUIRED_PROPERTY", "dealstage"),
        (_deal(hs_is_closed=True), "READ_ONLY_VALUE", "hs_is_closed"),
    ],
)
def test_refused_values_are_crm_validation_with_code_and_fields(
    connector: HubSpotConnector, values: dict[str, Any], code: str, field: str
) -> None:
    with pytest.raises(CrmValidation) as caught:
        connector.create("deals", values)
    assert caught.value.crm is not None
    assert caught.value.crm.code == code
    assert caught.value.crm.fields == (field,)


def test_invalid_email_is_crm_validation(connector: HubSpotConnector) -> None:
    with pytest.raises(CrmValidation) as caught:
        connector.create("contacts", {"email": "example.lcom"})
    assert caught.value.crm is not None
    assert (caught.value.crm.code, caught.value.crm.fields) == ("INVALID_EMAIL", ("email",))


def test_missing_scopes_from_every_sub_package_are_connection_unhealthy(
    connector: HubSpotConnector, emulator: HubSpotEmulator
) -> None:
    emulator.control.revoke_scopes(
        "crm.objects.deals.write", "crm.schemas.deals.read", "analytics.behavioral_events.send"
    )
    calls = [
        lambda: connector.create("deals", _deal()),  # hubspot.crm.objects
        lambda: connector.describe_object("deals"),  # hubspot.crm.properties
        lambda: connector.publish_workflow_event(EVENT, {"name": "x"}),  # hubspot.events.send
    ]
    for call in calls:
        with pytest.raises(ConnectionUnhealthy) as caught:
            call()
        assert caught.value.crm is not None
        assert caught.value.crm.code == "MISSING_SCOPES"


def test_custom_objects_need_the_schemas_scope(
    connector: HubSpotConnector, emulator: HubSpotEmulator
) -> None:
    emulator.control.revoke_scopes("crm.schemas.custom.read")
    assert {o.name for o in connector.list_objects()} == {"contacts", "companies", "deals"}
    emulator.control.reset()
    emulator.control.expire_credentials()
    connector.refresh_catalog()
    with pytest.raises(ConnectionUnhealthy):  # hubspot.crm.schemas raises its own classes
        connector.list_objects()


def test_expired_private_app_token_is_connection_unhealthy(
    connector: HubSpotConnector, emulator: HubSpotEmulator
) -> None:
    emulator.control.expire_credentials()
    with pytest.raises(ConnectionUnhealthy):
        connector.get("contacts", "1", returning=["email"])
    health = connector.health()
    assert health.ok is False
    assert "EXPIRED_AUTHENTICATION" in (health.message or "")


def test_wrong_token_is_connection_unhealthy(emulator: HubSpotEmulator) -> None:
    crm = HubSpotConnector.from_settings({"access_token": "pat-wrong", "base_url": emulator.url})
    with pytest.raises(ConnectionUnhealthy) as caught:
        crm.create("contacts", {"email": "x@x.io"})
    assert caught.value.crm is not None
    assert caught.value.crm.code == "INVALID_AUTHENTICATION"


# -- retries -----------------------------------------------------------------------------------
def test_a_passing_burst_429_is_retried_then_succeeds(
    connector: HubSpotConnector, emulator: HubSpotEmulator
) -> None:
    emulator.control.fail_next(429, count=2)
    before = emulator.request_count
    with counting_crm_calls() as counter:
        record = connector.create("contacts", {"email": "retry@x.io"})
    assert record.id
    assert counter.calls == 3
    assert emulator.request_count == before + 3


def test_persistent_burst_429_gives_up_boundedly(
    connector: HubSpotConnector, emulator: HubSpotEmulator
) -> None:
    emulator.control.fail_next(429, count=50)
    before = emulator.request_count
    with pytest.raises(CrmRateLimited) as caught:
        connector.create("contacts", {"email": "limited@x.io"})
    assert emulator.request_count == before + 1 + connector.settings.max_retries
    assert caught.value.retry_after is not None
    assert caught.value.crm is not None
    assert caught.value.crm.code == "TEN_SECONDLY_ROLLING"


def test_daily_429_is_not_retried(connector: HubSpotConnector, emulator: HubSpotEmulator) -> None:
    emulator.control.rate_limit()
    before = emulator.request_count
    with pytest.raises(CrmRateLimited) as caught:
        connector.create("contacts", {"email": "daily@x.io"})
    assert emulator.request_count == before + 1
    assert caught.value.crm is not None
    assert caught.value.crm.code == "DAILY"


def test_passing_5xx_is_retried_and_persistent_5xx_is_unavailable(
    connector: HubSpotConnector, emulator: HubSpotEmulator
) -> None:
    emulator.control.fail_next(503)
    assert connector.create("contacts", {"email": "flaky@x.io"}).id
    emulator.control.unavailable()
    before = emulator.request_count
    with pytest.raises(CrmUnavailable):
        connector.create("contacts", {"email": "down@x.io"})
    assert emulator.request_count == before + 1 + connector.settings.max_retries


def test_refused_connection_is_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    crm = HubSpotConnector.from_settings(
        {
            "access_token": "pat",
            "base_url": f"http://127.0.0.1:{port}",
            "backoff": 0.01,
            "max_retries": 1,
        }
    )
    with pytest.raises(CrmUnavailable):
        crm.create("contacts", {"email": "nobody@x.io"})


# -- OAuth -------------------------------------------------------------------------------------
def test_oauth_connection_gets_and_renews_its_token(emulator: HubSpotEmulator) -> None:
    crm = HubSpotConnector.from_settings(_oauth(emulator))
    first = crm.create("contacts", {"email": "o1@x.io"})
    emulator.control.expire_credentials()
    second = crm.create("contacts", {"email": "o2@x.io"})
    assert first.id != second.id
    assert len(emulator.records("contacts")) == 2


def test_oauth_with_a_bad_secret_is_connection_unhealthy(emulator: HubSpotEmulator) -> None:
    crm = HubSpotConnector.from_settings(_oauth(emulator, client_secret="wrong"))
    with pytest.raises(ConnectionUnhealthy) as caught:
        crm.create("contacts", {"email": "o@x.io"})
    assert caught.value.crm is not None
    assert caught.value.crm.code == "BAD_REFRESH_TOKEN"


# -- workflow and health -----------------------------------------------------------------------
def test_workflow_sends_the_named_custom_event(
    connector: HubSpotConnector, emulator: HubSpotEmulator
) -> None:
    receipt = connector.publish_workflow_event(
        EVENT, {"name": "Flow me", "payload": 3}, object="deals", id="512"
    )
    assert receipt
    assert emulator.control.workflow_events() == [(EVENT, {"name": "Flow me", "payload": "3"})]
    occurrence = emulator.control.occurrences()[0]
    assert (occurrence.object_id, occurrence.raw["uuid"]) == ("512", receipt)
    with pytest.raises(CrmValidation):
        connector.publish_workflow_event("pe24681357_not_defined", {"name": "x"})


def test_health_reports_api_usage_from_the_headers(
    connector: HubSpotConnector, emulator: HubSpotEmulator
) -> None:
    health = connector.health()
    assert health.ok is True
    assert health.api_usage is not None
    assert health.api_usage["limit"] == 250_000
    assert health.api_usage["used"] >= 1
    assert health.api_usage["burst_limit"] == 100_000


def test_unknown_object_type_is_not_found(connector: HubSpotConnector) -> None:
    with pytest.raises(NotFound):
        connector.create("spaceships", {"name": "x"})


def test_a_create_that_timed_out_is_not_resent_but_a_read_is(
    emulator: HubSpotEmulator, settings_dict: dict[str, Any]
) -> None:
    crm = HubSpotConnector.from_settings({**settings_dict, "timeout": 0.2})
    emulator.control.set_latency(0.4)
    before = emulator.request_count
    with pytest.raises(CrmUnavailable):
        crm.create("contacts", {"email": "slow@x.io"})
    assert emulator.request_count == before + 1
    time.sleep(0.4)  # the emulator finishes the slow create: stored once, not twice
    assert len(emulator.records("contacts")) == 1
    before = emulator.request_count
    with pytest.raises(CrmUnavailable):
        crm.get("contacts", "1", returning=["email"])
    assert emulator.request_count == before + 1 + crm.settings.max_retries
    assert isinstance(CrmUnavailable("x"), CrmlinkError)


# -- batches -----------------------------------------------------------------------------------
def test_create_many_uses_chunks_of_100_with_a_result_per_record(
    connector: HubSpotConnector, emulator: HubSpotEmulator
) -> None:
    taken = connector.create("contacts", {"email": "taken@x.io"})
    records = [{"email": f"c{i}@x.io"} for i in range(250)]
    records[120] = {"email": "taken@x.io"}
    records[249] = {"email": "not-an-email"}
    before = emulator.request_count
    with counting_crm_calls() as counter:
        results = connector.create_many("contacts", records, returning=["email"])
    assert counter.calls == 3
    assert emulator.request_count == before + 3
    assert len(results) == 250
    assert [i for i, r in enumerate(results) if not r.ok] == [120, 249]
    assert results[120].error is not None
    assert results[120].error.existing_id == taken.id
    assert results[249].error is not None
    assert results[249].error.code == "INVALID_EMAIL"
    assert results[5].record is not None
    assert results[5].record.fields["email"] == "c5@x.io"
    assert len(emulator.records("contacts")) == 249


def test_update_many_and_delete_many(
    connector: HubSpotConnector, emulator: HubSpotEmulator
) -> None:
    created = connector.create_many("deals", [_deal(dealname=f"D{i}") for i in range(3)])
    ids = [r.record.id for r in created if r.record is not None]
    updated = connector.update_many(
        "deals",
        [
            (ids[0], {"description": "x"}),
            ("999999", {"description": "y"}),
            (ids[1], {"dealstage": "nope"}),
        ],
    )
    assert [r.ok for r in updated] == [True, False, False]
    assert updated[1].error is not None
    assert updated[1].error.code == "OBJECT_NOT_FOUND"
    assert updated[2].error is not None
    assert updated[2].error.fields == ("dealstage",)
    deleted = connector.delete_many("deals", [ids[0], "999999", ids[0]])
    assert [r.ok for r in deleted] == [True, False, False]
    assert [r["id"] for r in emulator.records("deals")] == ids[1:]


def test_a_failed_batch_call_fails_each_record_of_it(
    connector: HubSpotConnector, emulator: HubSpotEmulator
) -> None:
    emulator.control.unavailable()
    results = connector.create_many("contacts", [{"email": "a@x.io"}, {"email": "b@x.io"}])
    assert [r.error.code if r.error else None for r in results] == ["SERVICE_UNAVAILABLE"] * 2


@pytest.fixture
def paced() -> Iterator[HubSpotEmulator]:
    emulator = HubSpotEmulator(burst_limit=10, burst_window=0.5).start()
    yield emulator
    emulator.stop()


def test_pacing_keeps_large_batches_inside_the_burst_limit(paced: HubSpotEmulator) -> None:
    crm = HubSpotConnector.from_settings({"access_token": paced.token, "base_url": paced.url})
    crm.health()  # the first answer announces the limit: 10 per 0.5 s
    started = time.monotonic()
    results = crm.create_many("companies", [{"name": f"Co {i}"} for i in range(3000)])
    elapsed = time.monotonic() - started
    assert all(r.ok for r in results)
    assert paced.request_count == 31
    assert paced.rate_limited_count == 0
    assert elapsed >= 1.0  # 30 calls at 10 per 0.5 s need at least two more windows
    assert len(paced.records("companies")) == 3000


def test_pacer_learns_the_limit_from_headers() -> None:
    pacer = Pacer()
    pacer.observe(
        {
            "X-HubSpot-RateLimit-Max": "3",
            "X-HubSpot-RateLimit-Interval-Milliseconds": "200",
            "X-HubSpot-RateLimit-Remaining": "2",
        }
    )
    assert (pacer.limit, pacer.window, pacer.remaining) == (3, 0.2, 2)
    started = time.monotonic()
    waits = [pacer.acquire() for _ in range(4)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3] > 0
    assert time.monotonic() - started >= 0.2
    fixed = Pacer(5, 1.0, fixed=True)
    fixed.observe({"X-HubSpot-RateLimit-Max": "100"})
    assert fixed.limit == 5


# -- plugin --------------------------------------------------------------------------------------
def test_plugin_registers_the_connector_and_the_emulator() -> None:
    from importlib.metadata import entry_points

    from crmlink import hookspecs
    from crmlink_hubspot import plugin

    (entry,) = [e for e in entry_points(group="crmlink") if e.name == "hubspot"]
    assert entry.load() is plugin
    manager = pluggy.PluginManager("crmlink")
    manager.add_hookspecs(hookspecs)
    manager.register(plugin)
    connectors: list[Any] = []
    emulators: dict[str, Any] = {}
    manager.hook.register_connectors(register=connectors.append)
    manager.hook.register_emulators(register=emulators.__setitem__)
    assert connectors == [HubSpotConnector]
    emulator = emulators["hubspot"](host="127.0.0.1", port=0, token="pat-cli")
    assert isinstance(emulator, HubSpotEmulator)
    assert emulator.token == "pat-cli"
    assert emulator.schema.find("2-9002") is None


def test_emulator_factory_reads_a_portal_file_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from crmlink_hubspot.plugin import emulator_factory

    portal_file = Path(__file__).parent / "data" / "conformance_portal.json"
    monkeypatch.setenv("CRMLINK_HUBSPOT_PORTAL_FILE", str(portal_file))
    emulator = emulator_factory(port=0)
    assert emulator.schema.find("2-9002") is not None
    assert emulator.schema.find("contacts") is not None
