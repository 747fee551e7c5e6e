"""The connector conformance suite: every connector subclasses it and passes it unchanged.

Everything runs through the real :class:`~crmlink.Engine` with the seed's events and a mapping
built from the connector's :class:`~crmlink.testing.CrmProfile`, so a connector is judged by
what an app sees, not by its internals.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from crmlink.connector import Connector
from crmlink.engine import Engine
from crmlink.errors import (
    Conflict,
    ConnectionUnhealthy,
    CrmRateLimited,
    CrmUnavailable,
    CrmValidation,
    MappingInvalid,
    NotFound,
)
from crmlink.records import Action
from crmlink.store.memory import MemoryStore
from crmlink.testing.profile import CrmControl, CrmProfile
from crmlink.testing.seed import DEMO_OBJECTS

__all__ = ["CONFORMANCE_OBJECTS", "ConnectorConformance", "default_mapping"]


def _conformance_objects() -> dict[str, Any]:
    objects = copy.deepcopy(DEMO_OBJECTS)
    objects["opportunity"]["events"]["create_dated_opportunity"] = {
        "type": "create",
        "label": "Create dated opportunity",
        "payloadSchema": {
            "name": {"type": "string", "required": True},
            "close_date": {"type": "string", "format": "date"},
            "stage": {"type": "string"},
        },
    }
    return objects


CONFORMANCE_OBJECTS: dict[str, Any] = _conformance_objects()
"""The seed's three events plus ``create_contact`` and ``create_dated_opportunity``."""

DATE = "2026-12-31"


def default_mapping(p: CrmProfile) -> dict[str, Any]:
    """The mapping the suite starts from: every event mapped the obvious way."""
    constants = {k: {"value": v} for k, v in p.deal_required_constants.items()}
    dated = {k: v for k, v in constants.items() if k != p.deal_picklist_field}
    return {
        "objects": {
            "opportunity": {
                "crm_object": p.deal_object,
                "fields": {"document_name": {"from": p.deal_name_field}, "document_tags": None},
                "events": {
                    "create_opportunity": {
                        "action": "create",
                        "fields": {
                            p.deal_name_field: {"from": "name"},
                            p.deal_date_field: {"value": DATE},
                            **constants,
                        },
                    },
                    "create_dated_opportunity": {
                        "action": "create",
                        "fields": {
                            p.deal_name_field: {"from": "name"},
                            p.deal_date_field: {"from": "close_date"},
                            p.deal_picklist_field: {"from": "stage"},
                            **dated,
                        },
                    },
                    "document_updated": {
                        "action": "update",
                        "fields": {
                            p.deal_name_field: {"from": "name"},
                            p.deal_text_field: {"from": "updated_at"},
                        },
                    },
                },
            },
            "contact": {
                "crm_object": p.contact_object,
                "fields": {"name": {"from": p.contact_name_field}},
                "events": {
                    "create_contact": {
                        "action": "create",
                        "fields": {
                            p.contact_name_field: {"from": "name"},
                            **{k: {"value": v} for k, v in p.contact_required_constants.items()},
                        },
                    },
                    "contact_deleted": {"action": "delete"},
                },
            },
        }
    }


class ConnectorConformance:
    """Base class of a connector's conformance tests.

    Subclass it in your connector's tests, name the connector and its profile, and provide two
    fixtures; pytest collects every test below for your connector::

        from crmlink.testing import ConnectorConformance, CrmProfile

        class TestMyCrmConformance(ConnectorConformance):
            connector = "mycrm"
            profile = CrmProfile(deal_object="Deal", deal_name_field="title", ...)

            @pytest.fixture
            def settings(self, my_emulator) -> dict[str, Any]:
                return {"base_url": my_emulator.url, "token": my_emulator.token}

            @pytest.fixture
            def crm_control(self, my_emulator) -> CrmControl:
                return my_emulator.control

    A test may be overridden only to mark it ``xfail`` with a reason (a known CRM limitation);
    anything else is refused when the subclass is defined.
    """

    connector: ClassVar[str]
    profile: ClassVar[CrmProfile]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, member in vars(cls).items():
            if not name.startswith("test_") or not hasattr(ConnectorConformance, name):
                continue
            marks = getattr(member, "pytestmark", [])
            if not any(m.name == "xfail" and m.kwargs.get("reason") for m in marks):
                raise TypeError(
                    f"{cls.__name__}.{name} overrides a conformance test; only an "
                    "@pytest.mark.xfail(reason=...) override is allowed"
                )

    # -- fixtures a subclass provides ------------------------------------------------------------
    @pytest.fixture
    def settings(self) -> dict[str, Any]:
        raise NotImplementedError("provide a `settings` fixture with the connection settings")

    @pytest.fixture
    def crm_control(self) -> CrmControl:
        raise NotImplementedError("provide a `crm_control` fixture for the CRM's fault switches")

    # -- fixtures of the suite -------------------------------------------------------------------
    @pytest.fixture
    def engine(self) -> Engine:
        return Engine(MemoryStore())

    @pytest.fixture
    def connection(
        self, engine: Engine, settings: dict[str, Any], crm_control: CrmControl
    ) -> Iterator[str]:
        crm_control.reset()
        connection_id = f"conformance-{uuid.uuid4().hex[:8]}"
        engine.link(connection_id, self.connector, settings, CONFORMANCE_OBJECTS)
        engine.set_mapping(connection_id, default_mapping(self.profile))
        try:
            yield connection_id
        finally:
            crm_control.reset()

    def _remap(self, engine: Engine, connection_id: str, change: Any) -> None:
        mapping = default_mapping(self.profile)
        change(mapping["objects"])
        engine.set_mapping(connection_id, mapping)

    def _create(
        self, engine: Engine, connection_id: str, name: str = "Apple Sales Contract"
    ) -> str:
        result = engine.invoke(connection_id, "opportunity", "create_opportunity", {"name": name})
        assert result.record is not None
        return result.record.id

    def _native(self, record_id: str) -> str:
        return record_id.split(":", 1)[1]

    # -- catalog -----------------------------------------------------------------------------
    def test_catalog_lists_mapped_objects(self, engine: Engine, connection: str) -> None:
        names = {o.name for o in engine.catalog(connection)}
        assert {self.profile.deal_object, self.profile.contact_object} <= names

    def test_catalog_describes_fields_and_flags(self, engine: Engine, connection: str) -> None:
        p = self.profile
        deal = engine.catalog_object(connection, p.deal_object)
        required = {f.name for f in deal.required_on_create()}
        assert p.deal_name_field in required
        assert (p.deal_date_field in required) is p.deal_date_required
        if not p.deal_date_required:
            assert p.deal_picklist_field in required
        assert set(p.deal_required_constants) <= required
        picklist = deal.fields[p.deal_picklist_field]
        assert picklist.restricted_picklist
        assert picklist.allows(p.deal_picklist_valid)
        assert not picklist.allows(p.deal_picklist_invalid)
        if p.readonly_field:
            readonly = deal.fields[p.readonly_field]
            assert not readonly.createable
            assert not readonly.updateable

    def test_catalog_unknown_object_is_not_found(self, engine: Engine, connection: str) -> None:
        with pytest.raises(NotFound):
            engine.catalog_object(connection, "No_Such_Object_xyz")

    # -- the seed's three events -------------------------------------------------------------
    def test_seed_create_returns_record_id_and_mapped_fields(
        self, engine: Engine, connection: str
    ) -> None:
        result = engine.invoke(
            connection, "opportunity", "create_opportunity", {"name": "Apple Sales Contract"}
        )
        assert result.action is Action.CREATE
        assert result.record is not None
        assert result.record.type == "opportunity"
        assert result.record.id.startswith(f"{self.profile.deal_object}:")
        assert result.record.data == {"document_name": "Apple Sales Contract", "document_tags": {}}
        stored = engine.connector(connection).get(
            self.profile.deal_object, self._native(result.record.id)
        )
        assert stored.fields[self.profile.deal_name_field] == "Apple Sales Contract"

    def test_seed_update_returns_updated_fields(self, engine: Engine, connection: str) -> None:
        record_id = self._create(engine, connection)
        result = engine.invoke(
            connection,
            "opportunity",
            "document_updated",
            {"name": "Sales Contract", "updated_at": "2022-05-17T23:17:53Z"},
            record_id=record_id,
        )
        assert result.action is Action.UPDATE
        assert result.record is not None
        assert result.record.id == record_id
        assert result.record.data["document_name"] == "Sales Contract"
        stored = engine.connector(connection).get(self.profile.deal_object, self._native(record_id))
        assert stored.fields[self.profile.deal_name_field] == "Sales Contract"
        assert "2022-05-17" in str(stored.fields[self.profile.deal_text_field])

    def test_seed_delete_removes_record_and_answers_empty_data(
        self, engine: Engine, connection: str
    ) -> None:
        created = engine.invoke(connection, "contact", "create_contact", {"name": "Ada Lovelace"})
        assert created.record is not None
        result = engine.invoke(
            connection,
            "contact",
            "contact_deleted",
            {"deleted_at": "2022-05-17T23:17:53Z"},
            record_id=created.record.id,
        )
        assert result.action is Action.DELETE
        assert result.record is not None
        assert (result.record.id, result.record.data) == (created.record.id, {})
        with pytest.raises(NotFound):
            engine.connector(connection).get(
                self.profile.contact_object, self._native(created.record.id)
            )

    def test_delete_as_update_keeps_record_and_answers_empty_data(
        self, engine: Engine, connection: str
    ) -> None:
        p = self.profile

        def as_update(objects: dict[str, Any]) -> None:
            objects["contact"]["events"]["contact_deleted"] = {
                "action": "update",
                "fields": {p.contact_text_field: {"from": "deleted_at"}},
            }

        self._remap(engine, connection, as_update)
        created = engine.invoke(connection, "contact", "create_contact", {"name": "Grace Hopper"})
        assert created.record is not None
        result = engine.invoke(
            connection,
            "contact",
            "contact_deleted",
            {"deleted_at": "2022-05-17T23:17:53Z"},
            record_id=created.record.id,
        )
        assert result.action is Action.UPDATE
        assert result.record is not None
        assert result.record.data == {}
        stored = engine.connector(connection).get(p.contact_object, self._native(created.record.id))
        assert "2022-05-17" in str(stored.fields[p.contact_text_field])

    def test_noop_returns_no_record_and_calls_no_crm(self, engine: Engine, connection: str) -> None:
        self._remap(
            engine,
            connection,
            lambda o: o["opportunity"]["events"].__setitem__(
                "create_opportunity", {"action": "noop"}
            ),
        )
        result = engine.invoke(connection, "opportunity", "create_opportunity", {"name": "X"})
        assert result.action is Action.NOOP
        assert result.record is None
        assert engine.invocations(connection, limit=1)[0].crm_calls == 0

    def test_workflow_hands_the_event_to_the_crm(
        self, engine: Engine, connection: str, crm_control: CrmControl
    ) -> None:
        p = self.profile
        self._remap(
            engine,
            connection,
            lambda o: o["opportunity"]["events"].__setitem__(
                "create_opportunity",
                {
                    "action": "workflow",
                    "workflow": p.workflow_event,
                    "fields": {p.workflow_field: {"from": "name"}},
                },
            ),
        )
        before = len(crm_control.workflow_events())
        result = engine.invoke(connection, "opportunity", "create_opportunity", {"name": "Flow me"})
        assert result.action is Action.WORKFLOW
        assert result.record is None
        events = crm_control.workflow_events()[before:]
        assert len(events) == 1
        name, values = events[0]
        assert name == p.workflow_event
        assert values[p.workflow_field] == "Flow me"

    # -- required fields and picklists -------------------------------------------------------
    def test_mapping_without_a_required_field_is_refused(
        self, engine: Engine, connection: str
    ) -> None:
        p = self.profile
        mapping = default_mapping(p)
        del mapping["objects"]["opportunity"]["events"]["create_opportunity"]["fields"][
            p.deal_name_field
        ]
        with pytest.raises(MappingInvalid) as caught:
            engine.set_mapping(connection, mapping)
        paths = [e.path for e in caught.value.errors]
        assert f"objects.opportunity.events.create_opportunity.fields.{p.deal_name_field}" in paths

    def test_required_field_missing_at_run_time_is_crm_validation(
        self, engine: Engine, connection: str
    ) -> None:
        p = self.profile
        # The mapping covers the required field from an optional payload field; the payload
        # leaves it out, so the CRM itself refuses the record.
        if p.deal_date_required:
            payload, missing = (
                {"name": "No date", "stage": p.deal_picklist_valid},
                p.deal_date_field,
            )
        else:
            payload, missing = {"name": "No stage", "close_date": DATE}, p.deal_picklist_field
        with pytest.raises(CrmValidation) as caught:
            engine.invoke(connection, "opportunity", "create_dated_opportunity", payload)
        exc = caught.value
        assert exc.crm is not None
        assert missing in exc.crm.fields
        assert exc.mapping_path == (
            f"objects.opportunity.events.create_dated_opportunity.fields.{missing}"
        )

    def test_restricted_picklist_constant_is_refused_at_mapping_time(
        self, engine: Engine, connection: str
    ) -> None:
        p = self.profile
        mapping = default_mapping(p)
        mapping["objects"]["opportunity"]["events"]["create_opportunity"]["fields"][
            p.deal_picklist_field
        ] = {"value": p.deal_picklist_invalid}
        with pytest.raises(MappingInvalid) as caught:
            engine.set_mapping(connection, mapping)
        assert any(p.deal_picklist_field in e.path for e in caught.value.errors)

    def test_restricted_picklist_violation_at_run_time_is_crm_validation(
        self, engine: Engine, connection: str
    ) -> None:
        p = self.profile
        with pytest.raises(CrmValidation) as caught:
            engine.invoke(
                connection,
                "opportunity",
                "create_dated_opportunity",
                {"name": "Bad stage", "close_date": DATE, "stage": p.deal_picklist_invalid},
            )
        assert caught.value.crm is not None
        assert p.deal_picklist_field in caught.value.crm.fields
        assert caught.value.mapping_path is not None
        assert caught.value.mapping_path.endswith(f".fields.{p.deal_picklist_field}")

    def test_dated_create_writes_the_payload_date_and_stage(
        self, engine: Engine, connection: str
    ) -> None:
        p = self.profile
        result = engine.invoke(
            connection,
            "opportunity",
            "create_dated_opportunity",
            {"name": "Dated", "close_date": DATE, "stage": p.deal_picklist_valid},
        )
        assert result.record is not None
        stored = engine.connector(connection).get(p.deal_object, self._native(result.record.id))
        assert stored.fields[p.deal_picklist_field] == p.deal_picklist_valid
        assert str(stored.fields[p.deal_date_field]).startswith(DATE)

    # -- records that are gone or of another type --------------------------------------------
    def test_update_of_a_deleted_record_is_not_found(self, engine: Engine, connection: str) -> None:
        record_id = self._create(engine, connection)
        engine.connector(connection).delete(self.profile.deal_object, self._native(record_id))
        with pytest.raises(NotFound):
            engine.invoke(
                connection,
                "opportunity",
                "document_updated",
                {"name": "Too late"},
                record_id=record_id,
            )

    def test_delete_of_a_deleted_record_is_not_found(self, engine: Engine, connection: str) -> None:
        created = engine.invoke(connection, "contact", "create_contact", {"name": "Twice"})
        assert created.record is not None
        payload = {"deleted_at": "2022-05-17T23:17:53Z"}
        engine.invoke(
            connection, "contact", "contact_deleted", payload, record_id=created.record.id
        )
        with pytest.raises(NotFound):
            engine.invoke(
                connection, "contact", "contact_deleted", payload, record_id=created.record.id
            )

    def test_record_of_another_crm_object_is_a_conflict(
        self, engine: Engine, connection: str
    ) -> None:
        contact = engine.invoke(connection, "contact", "create_contact", {"name": "Not a deal"})
        assert contact.record is not None
        with pytest.raises(Conflict):
            engine.invoke(
                connection,
                "opportunity",
                "document_updated",
                {"name": "x"},
                record_id=contact.record.id,
            )

    # -- faults -----------------------------------------------------------------------------
    def test_rate_limit_is_crm_rate_limited(
        self, engine: Engine, connection: str, crm_control: CrmControl
    ) -> None:
        crm_control.rate_limit()
        with pytest.raises(CrmRateLimited):
            self._create(engine, connection)

    def test_crm_outage_is_crm_unavailable(
        self, engine: Engine, connection: str, crm_control: CrmControl
    ) -> None:
        crm_control.unavailable()
        with pytest.raises(CrmUnavailable):
            self._create(engine, connection)

    def test_rejected_credentials_are_connection_unhealthy(
        self, engine: Engine, connection: str, crm_control: CrmControl
    ) -> None:
        crm_control.expire_credentials()
        with pytest.raises(ConnectionUnhealthy):
            self._create(engine, connection)
        assert engine.health(connection).ok is False

    def test_health_is_ok_with_working_credentials(self, engine: Engine, connection: str) -> None:
        assert engine.health(connection).ok is True

    def test_failures_are_recorded_in_the_invocation_log(
        self, engine: Engine, connection: str, crm_control: CrmControl
    ) -> None:
        self._create(engine, connection)
        crm_control.unavailable()
        with pytest.raises(CrmUnavailable):
            self._create(engine, connection)
        failed, succeeded = engine.invocations(connection, limit=2)
        assert (failed.status, failed.error_type) == ("failed", "crm_unavailable")
        assert succeeded.status == "succeeded"
        assert succeeded.crm_calls >= 1
        assert succeeded.record_id is not None

    # -- batches ----------------------------------------------------------------------------
    def test_batch_create_update_delete_give_one_result_per_record(
        self, engine: Engine, connection: str
    ) -> None:
        p = self.profile
        crm: Connector[Any] = engine.connector(connection)
        good = {p.deal_name_field: "Batch", p.deal_date_field: DATE, **p.deal_required_constants}
        bad = {**good, p.deal_picklist_field: p.deal_picklist_invalid}
        created = crm.create_many(p.deal_object, [good, bad, {**good, p.deal_name_field: "B2"}])
        assert [r.ok for r in created] == [True, False, True]
        assert created[1].error is not None
        ids = [r.record.id for r in created if r.record is not None]
        updated = crm.update_many(
            p.deal_object, [(i, {p.deal_text_field: "batch update"}) for i in ids]
        )
        assert all(r.ok for r in updated)
        deleted = crm.delete_many(p.deal_object, [*ids, ids[0]])
        assert [r.ok for r in deleted] == [True, True, False]
        for native in ids:
            with pytest.raises(NotFound):
                crm.get(p.deal_object, native)

    # -- idempotency and isolation ------------------------------------------------------------
    def test_idempotency_key_replays_without_a_second_write(
        self, engine: Engine, connection: str
    ) -> None:
        payload = {"name": "Once only"}
        first = engine.invoke(
            connection, "opportunity", "create_opportunity", payload, idempotency_key="k-1"
        )
        second = engine.invoke(
            connection, "opportunity", "create_opportunity", payload, idempotency_key="k-1"
        )
        assert first.record is not None
        assert second.record is not None
        assert second.record.id == first.record.id
        assert engine.invocations(connection, limit=1)[0].crm_calls == 0
        with pytest.raises(Conflict):
            engine.invoke(
                connection,
                "opportunity",
                "create_opportunity",
                {"name": "Other"},
                idempotency_key="k-1",
            )

    def test_connections_are_isolated(
        self, engine: Engine, connection: str, settings: dict[str, Any]
    ) -> None:
        p = self.profile
        other = f"{connection}-b"
        engine.link(other, self.connector, settings, CONFORMANCE_OBJECTS)
        mapping = default_mapping(p)
        mapping["objects"]["opportunity"]["fields"]["document_name"] = {"value": "constant"}
        engine.set_mapping(other, mapping)
        mine = engine.invoke(connection, "opportunity", "create_opportunity", {"name": "Mine"})
        theirs = engine.invoke(other, "opportunity", "create_opportunity", {"name": "Theirs"})
        assert mine.record is not None
        assert theirs.record is not None
        assert mine.record.data["document_name"] == "Mine"
        assert theirs.record.data["document_name"] == "constant"
        engine.unlink(other)
        with pytest.raises(NotFound):
            engine.invoke(other, "opportunity", "create_opportunity", {"name": "Gone"})
        assert engine.invoke(connection, "opportunity", "create_opportunity", {"name": "Still"})
        assert [log.connection_id for log in engine.invocations(connection)] == [connection] * 2
