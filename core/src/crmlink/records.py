"""Results: what a connector returns (CRM-native) and what an app gets back (mapped)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from crmlink.errors import CrmError, NotFound

__all__ = [
    "Action",
    "BatchResult",
    "CrmRecord",
    "InvocationResult",
    "Record",
    "format_record_id",
    "parse_record_id",
]


class Action(StrEnum):
    """What an event did in the CRM, as the end user's mapping decided."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    NOOP = "noop"
    WORKFLOW = "workflow"


@dataclass(slots=True)
class CrmRecord:
    """A record as the connector sees it: CRM object name, native id, CRM field values."""

    object: str
    id: str
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class BatchResult:
    """One entry of a batch call: the record, or the error that refused it."""

    record: CrmRecord | None = None
    error: CrmError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(slots=True)
class Record:
    """A record in the app's vocabulary: ``type`` is the app object slug."""

    type: str
    id: str
    data: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "id": self.id, "data": self.data}


@dataclass(slots=True)
class InvocationResult:
    """The answer to an event invocation: the seed's ``record`` plus what was done."""

    action: Action
    record: Record | None
    workflow_event: str | None = None

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "record": self.record.as_dict() if self.record is not None else None,
            "action": self.action.value,
        }
        if self.workflow_event is not None:
            body["workflow_event"] = self.workflow_event
        return body

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> InvocationResult:
        rec = body.get("record")
        return cls(
            action=Action(body["action"]),
            record=Record(rec["type"], rec["id"], rec["data"]) if rec else None,
            workflow_event=body.get("workflow_event"),
        )


def format_record_id(crm_object: str, native_id: str) -> str:
    """``Opportunity`` + ``006...`` → ``Opportunity:006...``."""
    return f"{crm_object}:{native_id}"


def parse_record_id(record_id: str) -> tuple[str, str]:
    """Split a record id into CRM object and native id; unusable ids are ``not_found``."""
    crm_object, sep, native_id = record_id.partition(":")
    if not sep or not crm_object or not native_id:
        raise NotFound(
            f"record {record_id!r} is not a crmlink record id (expected '<CRM object>:<id>')"
        )
    return crm_object, native_id
