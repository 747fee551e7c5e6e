"""HubSpot's error envelope, as the emulator answers it.

Every error body carries ``status`` (``"error"``), ``message``, ``correlationId`` and
``category``, plus ``errors`` / ``context`` where HubSpot sends them (reference/crm-apis.md B5).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ApiError", "PropertyProblem", "property_validation_error"]


@dataclass
class PropertyProblem:
    """One refused property value (an entry of HubSpot's ``Property values were not valid``)."""

    name: str
    code: str
    message: str


@dataclass
class ApiError(Exception):
    """An error answer: HTTP status plus HubSpot's JSON body."""

    status: int
    category: str
    message: str
    errors: list[dict[str, Any]] = field(default_factory=list)
    context: dict[str, list[str]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        """The JSON body HubSpot sends for this error."""
        body: dict[str, Any] = {
            "status": "error",
            "message": self.message,
            "correlationId": str(uuid.uuid4()),
        }
        if self.errors:
            body["errors"] = self.errors
        if self.context is not None:
            body["context"] = self.context
        body["category"] = self.category
        body.update(self.extra)
        return body

    def batch_entry(self, trace_id: str | None) -> dict[str, Any]:
        """This error as one entry of a 207 multi-status ``errors`` list (``StandardError``)."""
        context = dict(self.context or {})
        if trace_id is not None:
            context["objectWriteTraceId"] = [trace_id]
        return {
            "status": "error",
            "category": self.category,
            "message": self.message,
            "context": context,
            "errors": self.errors,
            "links": {},
        }


def property_validation_error(problems: list[PropertyProblem], portal_id: int) -> ApiError:
    """HubSpot's 400 VALIDATION_ERROR for refused property values."""
    inner = [
        {
            "isValid": False,
            "message": p.message,
            "error": p.code,
            "name": p.name,
            "localizedErrorMessage": p.message,
            "portalId": portal_id,
        }
        for p in problems
    ]
    return ApiError(
        status=400,
        category="VALIDATION_ERROR",
        message="Property values were not valid: " + json.dumps(inner, separators=(",", ":")),
        errors=[
            {"message": p.message, "code": p.code, "context": {"propertyName": [p.name]}}
            for p in problems
        ],
    )
