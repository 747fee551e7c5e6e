"""Salesforce errors normalized to the crmlink taxonomy.

Salesforce answers errors as a JSON array of ``{"errorCode", "message", "fields"}`` (single
record calls, Composite subresponses) or ``{"statusCode", ...}`` (sObject Collections results).
:func:`error_from_items` turns such a list, with its HTTP status, into one
:class:`crmlink.errors.CrmlinkError` carrying the CRM's code, message and fields.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from crmlink.errors import (
    ConnectionUnhealthy,
    CrmError,
    CrmlinkError,
    CrmRateLimited,
    CrmUnavailable,
    CrmValidation,
    NotFound,
)

__all__ = ["crm_error", "error_from_items", "first_error", "is_rolled_back"]

_NOT_FOUND = {"NOT_FOUND", "ENTITY_IS_DELETED"}
_UNHEALTHY = {
    "INVALID_SESSION_ID",
    "API_DISABLED_FOR_ORG",
    "API_CURRENTLY_DISABLED",
    "INSUFFICIENT_ACCESS",
    "INVALID_AUTH_HEADER",
}
_ROLLED_BACK = {"PROCESSING_HALTED", "ALL_OR_NONE_OPERATION_ROLLED_BACK"}
_FIELD_IN_MESSAGE = (
    re.compile(r"duplicate value found: (\w+) duplicates"),
    re.compile(r"No such column '(\w+)'"),
)


def crm_error(item: dict[str, Any]) -> CrmError:
    """One Salesforce error entry as a :class:`CrmError` (fields completed from the message)."""
    code = str(item.get("errorCode") or item.get("statusCode") or "UNKNOWN_EXCEPTION")
    message = str(item.get("message", ""))
    fields = [str(f) for f in item.get("fields") or []]
    if not fields:
        for pattern in _FIELD_IN_MESSAGE:
            match = pattern.search(message)
            if match:
                fields = [match[1]]
                break
    return CrmError(code=code, message=message, fields=tuple(fields))


def first_error(items: Sequence[Any]) -> dict[str, Any]:
    """The entry that explains a failure: the first one not merely "rolled back"."""
    entries = [i for i in items if isinstance(i, dict)]
    for entry in entries:
        if (entry.get("errorCode") or entry.get("statusCode")) not in _ROLLED_BACK:
            return entry
    return entries[0] if entries else {"errorCode": "UNKNOWN_EXCEPTION", "message": ""}


def is_rolled_back(body: Any) -> bool:
    """Whether an error body only says the request was rolled back for another's failure."""
    if not isinstance(body, list) or not body or not isinstance(body[0], dict):
        return False
    return all(
        isinstance(item, dict) and (item.get("errorCode") or item.get("statusCode")) in _ROLLED_BACK
        for item in body
    )


def error_from_items(status: int, body: Any) -> CrmlinkError:
    """The crmlink error for a Salesforce error answer (status and parsed body)."""
    if isinstance(body, list) and body:
        error = crm_error(first_error(body))
    elif isinstance(body, dict) and "error" in body:
        error = CrmError(code=str(body["error"]), message=str(body.get("error_description", "")))
    else:
        text = body if isinstance(body, str) else ""
        error = CrmError(code=f"HTTP_{status}", message=text[:500])
    message = f"Salesforce {error.code}: {error.message}".rstrip(": ")
    code = error.code
    if code == "REQUEST_LIMIT_EXCEEDED":
        return CrmRateLimited(message, crm=error)
    if code in _UNHEALTHY or status == 401:
        return ConnectionUnhealthy(message, crm=error)
    if status == 403 and code != "INSUFFICIENT_ACCESS_OR_READONLY":
        return ConnectionUnhealthy(message, crm=error)
    if status >= 500:
        return CrmUnavailable(message, crm=error)
    if code in _NOT_FOUND or (code == "MALFORMED_ID" and list(error.fields) in ([], ["Id"])):
        return NotFound(message, crm=error)
    if status == 404:
        return NotFound(message, crm=error)
    return CrmValidation(message, crm=error)
