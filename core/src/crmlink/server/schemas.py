"""Request and response bodies of the HTTP API, as documented in ``/openapi.json``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from crmlink.catalog import CatalogObject, ObjectSummary

__all__ = [
    "CatalogList",
    "ConnectionIn",
    "ConnectionList",
    "ConnectionOut",
    "ErrorEnvelope",
    "InvocationList",
    "InvocationOut",
    "InvokeIn",
    "InvokeOut",
    "MappingOut",
]


class _ErrorItem(BaseModel):
    path: str
    error: str


class _CrmErrorOut(BaseModel):
    code: str
    message: str
    fields: list[str] = Field(default_factory=list)
    existing_id: str | None = None


class _ErrorBody(BaseModel):
    type: str = Field(description="bad_request, unauthorized, not_found, conflict, …")
    message: str
    errors: list[_ErrorItem] | None = None
    crm: _CrmErrorOut | None = None
    mapping_path: str | None = None


class ErrorEnvelope(BaseModel):
    """Every error answer has this shape."""

    error: _ErrorBody


class InvokeIn(BaseModel):
    """Invoke an event: the payload, checked against the event's ``payloadSchema``."""

    model_config = ConfigDict(extra="forbid")

    payload: dict[str, Any] = Field(default_factory=dict)


class _RecordOut(BaseModel):
    type: str = Field(description="The app object slug, e.g. `opportunity`.")
    id: str = Field(
        description="`<CRM object>:<native id>`, e.g. `Opportunity:0065g00000AbCdEAAV`."
    )
    data: dict[str, Any] = Field(description="The record's fields, read-mapped; `{}` on delete.")


class InvokeOut(BaseModel):
    """The seed's answer, plus what was done."""

    record: _RecordOut | None
    action: Literal["create", "update", "delete", "noop", "workflow"]
    workflow_event: str | None = None


class ConnectionIn(BaseModel):
    """Create or update a connection and its definition (the server side of ``linkCRM``)."""

    model_config = ConfigDict(extra="forbid")

    connector: str = Field(min_length=1, description="`memory`, `salesforce`, `hubspot`, …")
    settings: dict[str, Any] = Field(default_factory=dict)
    objects: dict[str, Any] = Field(description="The definition: Xkit-flavored JSON objects.")


class ConnectionOut(BaseModel):
    id: str
    connector: str
    settings: dict[str, Any] = Field(description="Secrets are masked.")
    objects: dict[str, Any]
    mapping_status: dict[str, dict[str, str]] = Field(
        description="Per object and event: mapped, not_mapped, opted_out or broken."
    )
    created_at: datetime
    updated_at: datetime


class ConnectionList(BaseModel):
    connections: list[ConnectionOut]
    next: str | None = Field(description="Pass as `after` for the next page.")


class CatalogList(BaseModel):
    objects: list[ObjectSummary]


class MappingOut(BaseModel):
    mapping: dict[str, Any] | None
    mapping_status: dict[str, dict[str, str]]


class InvocationOut(BaseModel):
    id: str
    connection_id: str
    object: str
    event: str
    status: Literal["succeeded", "failed"]
    action: str | None
    record_id: str | None
    error_type: str | None
    error_message: str | None
    duration_ms: float
    crm_calls: int
    idempotency_key: str | None
    created_at: datetime


class InvocationList(BaseModel):
    invocations: list[InvocationOut]
    next: str | None = Field(description="Pass as `before` for the next (older) page.")


class HealthOut(BaseModel):
    ok: bool
    message: str | None = None
    api_usage: dict[str, int] | None = None


CatalogObjectOut = CatalogObject
