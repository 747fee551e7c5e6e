"""HubSpot failures normalized to the crmlink error taxonomy.

hubspot-api-client has one ``ApiException`` hierarchy per sub-package (``crm.objects``,
``crm.properties``, ``events.send``, ``oauth``...), with no common base but ``Exception``
(crm-apis.md B5). They all carry ``status``, ``reason``, ``body`` (a str) and ``headers``, so
:func:`is_api_exception` duck-types on those; urllib3 transport errors (refused connections,
timeouts) arrive unwrapped and are :func:`is_transport_error`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import urllib3.exceptions
from crmlink.errors import (
    ConnectionUnhealthy,
    CrmError,
    CrmlinkError,
    CrmRateLimited,
    CrmUnavailable,
    CrmValidation,
    NotFound,
)

__all__ = ["HubSpotFailure", "is_api_exception", "is_transport_error", "normalize", "parse_failure"]

_EXISTING_ID = re.compile(r"Existing ID: (\d+)")
_INNER = re.compile(r"^[^\[]*(\[.*\])\s*$", re.DOTALL)


@dataclass
class HubSpotFailure:
    """What one HubSpot error answer said."""

    status: int
    category: str
    message: str
    codes: list[str]
    fields: list[str]
    policy: str | None
    headers: Mapping[str, str]
    body: dict[str, Any]


def is_api_exception(exc: BaseException) -> bool:
    """Whether ``exc`` is an ``ApiException`` of any hubspot-api-client sub-package."""
    return (
        type(exc).__module__.startswith("hubspot.")
        and hasattr(exc, "status")
        and hasattr(exc, "body")
    )


def is_transport_error(exc: BaseException) -> bool:
    """Whether ``exc`` is a network failure below the client (refused, reset, timed out)."""
    return isinstance(exc, urllib3.exceptions.HTTPError | OSError)


def parse_failure(exc: Any) -> HubSpotFailure:
    """Read status, category, codes, named properties and policy from an ``ApiException``."""
    status = int(getattr(exc, "status", 0) or 0)
    raw = getattr(exc, "body", None)
    try:
        body = json.loads(raw) if raw else {}
    except (TypeError, ValueError):
        body = {}
    if not isinstance(body, dict):
        body = {}
    message = str(body.get("message") or getattr(exc, "reason", "") or f"HTTP {status}")
    codes: list[str] = []
    fields: list[str] = []
    for item in body.get("errors") or []:
        if not isinstance(item, dict):
            continue
        if item.get("code"):
            codes.append(str(item["code"]))
        context = item.get("context") or {}
        for name in context.get("propertyName") or []:
            if name not in fields:
                fields.append(str(name))
        if item.get("in") and item["in"] not in fields:
            fields.append(str(item["in"]))
    if not codes:
        for inner in _inner_problems(message):
            codes.append(str(inner.get("error", "")))
            if inner.get("name") and inner["name"] not in fields:
                fields.append(str(inner["name"]))
    headers = getattr(exc, "headers", None) or {}
    return HubSpotFailure(
        status=status,
        category=str(body.get("category") or body.get("errorType") or ""),
        message=message,
        codes=[c for c in codes if c],
        fields=fields,
        policy=body.get("policyName"),
        headers=headers,
        body=body,
    )


def _inner_problems(message: str) -> list[dict[str, Any]]:
    match = _INNER.match(message)
    if not match:
        return []
    try:
        items = json.loads(match.group(1))
    except ValueError:
        return []
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def normalize(
    failure: HubSpotFailure, *, object: str | None = None, retry_after: float | None = None
) -> CrmlinkError:
    """The crmlink error for a HubSpot error answer (after any retries were spent)."""
    code = failure.codes[0] if len(set(failure.codes)) == 1 else failure.category or "ERROR"
    crm = CrmError(
        code=code or f"HTTP_{failure.status}", message=failure.message, fields=tuple(failure.fields)
    )
    status = failure.status
    if status == 409:
        match = _EXISTING_ID.search(failure.message)
        existing = match.group(1) if match else None
        fields = tuple(failure.fields) or (("email",) if object == "contacts" else ())
        crm = CrmError(
            code=failure.category or "CONFLICT",
            message=failure.message,
            fields=fields,
            existing_id=existing,
        )
        named = f" ({object}:{existing})" if existing and object else ""
        return CrmValidation(f"HubSpot refused a duplicate: {failure.message}{named}", crm=crm)
    if status == 404 or (status == 400 and "Unable to infer object type" in failure.message):
        return NotFound(f"HubSpot: {failure.message}", crm=crm)
    if status in (401, 403):
        return ConnectionUnhealthy(
            f"HubSpot refused the connection's credentials ({failure.category or status}): "
            f"{failure.message}",
            crm=crm,
        )
    if status == 429:
        return CrmRateLimited(
            f"HubSpot rate limit ({failure.policy or 'unknown policy'}): {failure.message}",
            crm=CrmError(code=failure.policy or "RATE_LIMIT", message=failure.message),
            retry_after=retry_after,
        )
    if status >= 500 or status == 0:
        return CrmUnavailable(f"HubSpot failed (HTTP {status}): {failure.message}", crm=crm)
    return CrmValidation(f"HubSpot refused the data: {failure.message}", crm=crm)
