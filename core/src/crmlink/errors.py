"""The error taxonomy: one exception class per envelope ``type``.

Every failure that reaches an app, in-process or over HTTP, is one of these. Each carries what
the HTTP envelope needs (``type``, status, message, ``errors`` paths, CRM details) so the server
renders ``exc.envelope()`` and never invents an error shape of its own. Connectors raise these,
never a client library's exception.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = [
    "BadRequest",
    "Conflict",
    "ConnectionUnhealthy",
    "CrmError",
    "CrmRateLimited",
    "CrmUnavailable",
    "CrmValidation",
    "CrmlinkError",
    "DefinitionInvalid",
    "ErrorItem",
    "MappingInvalid",
    "NotFound",
    "NotMapped",
    "PayloadInvalid",
    "PayloadTooLarge",
    "SettingsInvalid",
    "Unauthorized",
    "error_class_for",
]


@dataclass(frozen=True, slots=True)
class ErrorItem:
    """One problem at one place: ``path`` is dotted (``objects.opportunity.events.x.type``)."""

    path: str
    error: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "error": self.error}


@dataclass(frozen=True, slots=True)
class CrmError:
    """What the CRM itself said: its error code, message and the fields it named."""

    code: str
    message: str
    fields: Sequence[str] = field(default_factory=tuple)
    existing_id: str | None = None
    """For duplicates: the native id of the record the CRM says already exists."""

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "fields": list(self.fields),
        }
        if self.existing_id is not None:
            body["existing_id"] = self.existing_id
        return body


class CrmlinkError(Exception):
    """Base of every error crmlink raises on purpose."""

    type: ClassVar[str] = "error"
    status: ClassVar[int] = 500

    def __init__(
        self,
        message: str,
        *,
        errors: Iterable[ErrorItem] = (),
        crm: CrmError | None = None,
        mapping_path: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errors: list[ErrorItem] = list(errors)
        self.crm = crm
        self.mapping_path = mapping_path
        self.retry_after = retry_after

    def envelope(self) -> dict[str, Any]:
        """The ``{"error": {...}}`` body of the design's error envelope."""
        body: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.errors:
            body["errors"] = [item.as_dict() for item in self.errors]
        if self.crm is not None:
            body["crm"] = self.crm.as_dict()
        if self.mapping_path is not None:
            body["mapping_path"] = self.mapping_path
        return {"error": body}

    @staticmethod
    def from_envelope(envelope: dict[str, Any]) -> CrmlinkError:
        """Rebuild the exception an envelope describes (for clients and replays)."""
        body = envelope.get("error") or {}
        cls = error_class_for(str(body.get("type", "")))
        crm = body.get("crm")
        exc = cls(
            str(body.get("message", "")),
            errors=[
                ErrorItem(str(e.get("path", "")), str(e.get("error", "")))
                for e in body.get("errors") or []
            ],
            crm=CrmError(
                code=str(crm.get("code", "")),
                message=str(crm.get("message", "")),
                fields=tuple(crm.get("fields") or ()),
                existing_id=crm.get("existing_id"),
            )
            if isinstance(crm, dict)
            else None,
            mapping_path=body.get("mapping_path"),
        )
        if cls is CrmlinkError:
            exc.type = str(body.get("type", "error"))  # type: ignore[misc]
        return exc

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class BadRequest(CrmlinkError):
    """The request body is not JSON, not an object, or otherwise unusable."""

    type = "bad_request"
    status = 400


class Unauthorized(CrmlinkError):
    """Missing, wrong, revoked or expired credentials."""

    type = "unauthorized"
    status = 401


class NotFound(CrmlinkError):
    """A connection, object, event or record that does not exist (or is not yours)."""

    type = "not_found"
    status = 404


class Conflict(CrmlinkError):
    """An idempotency key reused with another body or still running; a record of another type."""

    type = "conflict"
    status = 409


class SettingsInvalid(CrmlinkError):
    """The connector settings are refused; ``errors`` lists every problem."""

    type = "settings_invalid"
    status = 422


class PayloadTooLarge(CrmlinkError):
    """The request body is over the server's limit."""

    type = "payload_too_large"
    status = 413


class _Unprocessable(CrmlinkError):
    status = 422


class PayloadInvalid(_Unprocessable):
    """The payload breaks the event's ``payloadSchema``; ``errors`` lists every violation."""

    type = "payload_invalid"


class DefinitionInvalid(_Unprocessable):
    """The app's object/event definition is refused whole; ``errors`` lists every problem."""

    type = "definition_invalid"


class MappingInvalid(_Unprocessable):
    """The end user's mapping does not fit the definition or the CRM's catalog."""

    type = "mapping_invalid"


class NotMapped(_Unprocessable):
    """The end user has not mapped this object or event yet."""

    type = "not_mapped"


class CrmValidation(_Unprocessable):
    """The CRM refused the data; ``crm`` names its code and ``mapping_path`` the row to fix."""

    type = "crm_validation"


class ConnectionUnhealthy(CrmlinkError):
    """The CRM credentials are expired, revoked or lack scopes."""

    type = "connection_unhealthy"
    status = 424


class CrmRateLimited(CrmlinkError):
    """The CRM's rate limit, still hit after bounded retries; ``retry_after`` in seconds."""

    type = "crm_rate_limited"
    status = 429


class CrmUnavailable(CrmlinkError):
    """The CRM failed or timed out after bounded retries."""

    type = "crm_unavailable"
    status = 502


_BY_TYPE: dict[str, type[CrmlinkError]] = {
    cls.type: cls
    for cls in (
        BadRequest,
        Unauthorized,
        NotFound,
        Conflict,
        PayloadTooLarge,
        SettingsInvalid,
        PayloadInvalid,
        DefinitionInvalid,
        MappingInvalid,
        NotMapped,
        CrmValidation,
        ConnectionUnhealthy,
        CrmRateLimited,
        CrmUnavailable,
    )
}


def error_class_for(type_: str) -> type[CrmlinkError]:
    """The exception class for an envelope ``type`` (``CrmlinkError`` when unknown)."""
    return _BY_TYPE.get(type_, CrmlinkError)
