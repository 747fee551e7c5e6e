"""The memory connector: the reference implementation of the Connector contract."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from crmlink.catalog import CatalogObject, ObjectSummary
from crmlink.connector import Capability, Connector, ConnectorSettings, Health, count_crm_call
from crmlink.errors import CrmlinkError
from crmlink.records import CrmRecord
from pydantic import Field

from crmlink_memory.crm import MemoryCrm, memory_crm

__all__ = ["MemoryConnector", "MemorySettings"]


class MemorySettings(ConnectorSettings):
    """Settings of a memory CRM connection."""

    instance: str | None = Field(
        default=None,
        max_length=200,
        description="Share the named in-process CRM (tests, the demo); omit for a CRM of its own.",
    )
    objects: list[CatalogObject] = Field(
        default_factory=list,
        description="Extra objects or fields, as catalog objects ({name, label, fields}).",
    )


class MemoryConnector(Connector[MemorySettings]):
    """A CRM in memory, with a realistic schema; workflow events go to an outbox."""

    name = "memory"
    settings_model = MemorySettings
    capabilities = frozenset({Capability.WORKFLOW, Capability.BATCH})

    def __init__(self, settings: MemorySettings) -> None:
        super().__init__(settings)
        self.crm = (
            memory_crm(settings.instance, settings.objects)
            if settings.instance
            else MemoryCrm(settings.objects)
        )

    def _enter(self) -> None:
        count_crm_call()
        self.crm.enter()

    def list_objects(self) -> list[ObjectSummary]:
        self._enter()
        return [
            ObjectSummary(name=o.name, label=o.label, label_plural=o.label_plural, custom=o.custom)
            for o in self.crm.schema.values()
        ]

    def describe_object(self, name: str) -> CatalogObject:
        self._enter()
        return self.crm.describe(name).model_copy(deep=True)

    def create(
        self, object: str, values: Mapping[str, Any], *, returning: Sequence[str] | None = None
    ) -> CrmRecord:
        self._enter()
        return _record(object, self.crm.insert(object, values), returning)

    def update(
        self,
        object: str,
        id: str,
        values: Mapping[str, Any],
        *,
        returning: Sequence[str] | None = None,
    ) -> CrmRecord:
        self._enter()
        return _record(object, self.crm.modify(object, id, values), returning)

    def delete(self, object: str, id: str) -> None:
        self._enter()
        self.crm.remove(object, id)

    def get(self, object: str, id: str, *, returning: Sequence[str] | None = None) -> CrmRecord:
        self._enter()
        return _record(object, self.crm.read(object, id), returning)

    def publish_workflow_event(
        self,
        event: str,
        values: Mapping[str, Any],
        *,
        object: str | None = None,
        id: str | None = None,
    ) -> str | None:
        self._enter()
        body = dict(values)
        if object is not None:
            body["_object"] = object
        if id is not None:
            body["_id"] = id
        return self.crm.publish(event, body)

    def health(self) -> Health:
        try:
            self._enter()
        except CrmlinkError as exc:
            return Health(ok=False, message=exc.message)
        return Health(ok=True, api_usage={"used": self.crm.calls})


def _record(object: str, fields: dict[str, Any], returning: Sequence[str] | None) -> CrmRecord:
    if returning is not None:
        fields = {name: fields.get(name) for name in ("Id", *returning)}
    return CrmRecord(object=object, id=fields["Id"], fields=fields)
