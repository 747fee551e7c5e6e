"""The Engine in-process: link, map, invoke; errors, idempotency, audit and observers."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from crmlink import (
    BadRequest,
    CrmValidation,
    Engine,
    InvocationLog,
    MemoryStore,
    NotFound,
    NotMapped,
    PayloadInvalid,
    PluginHost,
    SettingsInvalid,
    hookimpl,
)
from crmlink.server.demo import DEMO_MAPPING
from crmlink.testing import DEMO_OBJECTS
from crmlink_memory import memory_crm


@pytest.fixture
def engine() -> Engine:
    engine = Engine(MemoryStore())
    engine.link("acme", "memory", {}, DEMO_OBJECTS)
    engine.set_mapping("acme", DEMO_MAPPING)
    return engine


def test_the_seed_answer_shape(engine: Engine) -> None:
    result = engine.invoke("acme", "opportunity", "create_opportunity", {"name": "Apple"})
    body = result.as_dict()
    assert set(body) == {"record", "action"}
    assert body["action"] == "create"
    assert body["record"]["type"] == "opportunity"
    assert body["record"]["id"].startswith("Opportunity:006")
    assert body["record"]["data"] == {"document_name": "Apple", "document_tags": {}}


def test_delete_as_update_answers_empty_data_and_marks_the_record(engine: Engine) -> None:
    contact = engine.invoke("acme", "contact", "create_contact", {"name": "Ann"})
    assert contact.record is not None
    result = engine.invoke(
        "acme",
        "contact",
        "contact_deleted",
        {"deleted_at": "2022-05-17T23:17:53Z"},
        record_id=contact.record.id,
    )
    assert result.as_dict() == {
        "record": {"type": "contact", "id": contact.record.id, "data": {}},
        "action": "update",
    }
    stored = engine.connector("acme").get("Contact", contact.record.id.split(":")[1])
    assert stored.fields["Status__c"] == "Deleted"


def test_unknown_names_are_not_found(engine: Engine) -> None:
    with pytest.raises(NotFound, match="no connection 'nope'"):
        engine.invoke("nope", "opportunity", "create_opportunity", {"name": "x"})
    with pytest.raises(NotFound, match="no object 'invoice'"):
        engine.invoke("acme", "invoice", "create_opportunity", {"name": "x"})
    with pytest.raises(NotFound, match="no event 'create_invoice'"):
        engine.invoke("acme", "opportunity", "create_invoice", {"name": "x"})
    with pytest.raises(NotFound, match="not a crmlink record id"):
        engine.invoke("acme", "opportunity", "document_updated", {}, record_id="0065g00000")


def test_record_id_must_match_the_event_type(engine: Engine) -> None:
    with pytest.raises(BadRequest, match="create event"):
        engine.invoke(
            "acme", "opportunity", "create_opportunity", {"name": "x"}, record_id="Opportunity:1"
        )
    with pytest.raises(BadRequest, match="update event"):
        engine.invoke("acme", "opportunity", "document_updated", {"name": "x"})


def test_payload_is_validated_before_the_crm_is_called(engine: Engine) -> None:
    crm = engine.connector("acme").crm  # type: ignore[attr-defined]
    before = crm.calls
    with pytest.raises(PayloadInvalid) as caught:
        engine.invoke("acme", "opportunity", "create_opportunity", {"name": 1, "nme": "typo"})
    assert {e.path for e in caught.value.errors} == {"payload.name", "payload.nme"}
    assert crm.calls == before


def test_unmapped_connection_and_opted_out_object_are_not_mapped() -> None:
    engine = Engine(MemoryStore())
    engine.link("fresh", "memory", {}, DEMO_OBJECTS)
    with pytest.raises(NotMapped, match="has not mapped"):
        engine.invoke("fresh", "opportunity", "create_opportunity", {"name": "x"})
    mapping: dict[str, Any] = {
        "objects": {**DEMO_MAPPING["objects"], "contact": {"crm_object": None}}
    }
    engine.set_mapping("fresh", mapping)
    with pytest.raises(NotMapped, match="chose not to map"):
        engine.invoke("fresh", "contact", "create_contact", {"name": "x"})
    assert engine.mapping_status("fresh")["contact"] == {
        "contact_deleted": "opted_out",
        "create_contact": "opted_out",
    }


def test_relinking_with_a_new_event_keeps_the_mapping_for_the_others(engine: Engine) -> None:
    objects = {
        **DEMO_OBJECTS,
        "opportunity": {
            **DEMO_OBJECTS["opportunity"],
            "events": {
                **DEMO_OBJECTS["opportunity"]["events"],
                "document_signed": {"type": "update", "label": "Signed", "payloadSchema": {}},
            },
        },
    }
    engine.link("acme", "memory", {}, objects)
    assert engine.invoke("acme", "opportunity", "create_opportunity", {"name": "kept"}).record
    assert engine.mapping_status("acme")["opportunity"]["document_signed"] == "not_mapped"
    with pytest.raises(NotMapped):
        engine.invoke("acme", "opportunity", "document_signed", {}, record_id="Opportunity:1")


def test_connector_settings_are_validated() -> None:
    engine = Engine(MemoryStore())
    with pytest.raises(SettingsInvalid) as caught:
        engine.link("x", "memory", {"instanse": "typo"}, DEMO_OBJECTS)
    assert [e.path for e in caught.value.errors] == ["settings.instanse"]
    with pytest.raises(NotFound, match="no connector named 'pipedrive'"):
        engine.link("x", "pipedrive", {}, DEMO_OBJECTS)


def test_apps_do_not_see_each_others_connections(engine: Engine) -> None:
    other = engine.for_app("other-app")
    with pytest.raises(NotFound):
        other.invoke("acme", "opportunity", "create_opportunity", {"name": "x"})
    with pytest.raises(NotFound):
        other.connection("acme")
    assert other.connections() == []
    assert [c.connection_id for c in engine.connections()] == ["acme"]


def test_concurrent_retries_with_one_idempotency_key_write_once() -> None:
    engine = Engine(MemoryStore())
    engine.link("acme", "memory", {"instance": "idem"}, DEMO_OBJECTS)
    engine.set_mapping("acme", DEMO_MAPPING)
    ids: list[str] = []

    def call() -> None:
        result = engine.invoke(
            "acme", "opportunity", "create_opportunity", {"name": "one"}, idempotency_key="same"
        )
        assert result.record is not None
        ids.append(result.record.id)

    threads = [threading.Thread(target=call) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 1
    assert len(ids) == 20
    assert [r["Name"] for r in memory_crm("idem").records("Opportunity")] == ["one"]


def test_errors_are_replayed_for_the_same_key(engine: Engine) -> None:
    for _ in range(2):
        with pytest.raises(PayloadInvalid):
            engine.invoke(
                "acme", "opportunity", "create_opportunity", {"name": 5}, idempotency_key="bad"
            )


def test_observer_hooks_see_every_invocation_and_cannot_break_it() -> None:
    seen: list[InvocationLog] = []

    class Audit:
        @hookimpl
        def after_invoke(self, log: InvocationLog) -> None:
            seen.append(log)

    class Broken:
        @hookimpl
        def before_invoke(self, **kwargs: Any) -> None:
            raise RuntimeError("observer bug")

    engine = Engine(MemoryStore(), plugins=PluginHost(plugins=[Audit(), Broken()]))
    engine.link("acme", "memory", {}, DEMO_OBJECTS)
    engine.set_mapping("acme", DEMO_MAPPING)
    engine.invoke("acme", "opportunity", "create_opportunity", {"name": "x"})
    with pytest.raises(PayloadInvalid):
        engine.invoke("acme", "opportunity", "create_opportunity", {"name": 5})
    assert [(log.status, log.error_type) for log in seen] == [
        ("succeeded", None),
        ("failed", "payload_invalid"),
    ]
    assert seen[0].crm_calls == 1
    assert seen[0].duration_ms > 0


def test_invocation_log_pages_and_filters(engine: Engine) -> None:
    for i in range(5):
        engine.invoke("acme", "opportunity", "create_opportunity", {"name": f"n{i}"})
    with pytest.raises(CrmValidation) as caught:
        engine.invoke("acme", "opportunity", "create_opportunity", {})
    assert caught.value.crm is not None
    assert caught.value.crm.code == "REQUIRED_FIELD_MISSING"
    assert caught.value.mapping_path == "objects.opportunity.events.create_opportunity.fields.Name"
    first = engine.invocations("acme", limit=3)
    assert first[0].status == "failed"
    rest = engine.invocations("acme", limit=10, before=first[-1].id)
    assert len(first) + len(rest) == 6
    assert len({log.id for log in first + rest}) == 6
    assert [log.status for log in engine.invocations("acme", status="failed")] == ["failed"]


def test_crm_call_counters_nest(engine: Engine) -> None:
    from crmlink.connector import counting_crm_calls

    with counting_crm_calls() as outer:
        engine.invoke("acme", "opportunity", "create_opportunity", {"name": "x"})
        engine.invoke("acme", "opportunity", "create_opportunity", {"name": "y"})
    assert outer.calls == 2
    assert engine.invocations("acme", limit=1)[0].crm_calls == 1
