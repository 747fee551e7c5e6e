"""``POST /crm/v3/objects/{objectType}/search``: filter groups, sorts, paging.

Filters in one group are ANDed, groups are ORed (at most 5 groups, 6 filters each, as HubSpot
documents). Values compare as numbers when both sides are numeric, else as case-insensitive
strings; datetime values given as epoch milliseconds are compared as instants.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from crmlink_hubspot.emulator.errors import ApiError
from crmlink_hubspot.emulator.schema import ObjectSchema, format_time
from crmlink_hubspot.emulator.store import PortalStore, StoredRecord

__all__ = ["search_records"]

_MAX_LIMIT = 200


def _key(value: str, prop_type: str) -> tuple[int, Any]:
    if prop_type in ("datetime", "date") and value.lstrip("-").isdigit():
        value = format_time(datetime.fromtimestamp(int(value) / 1000, tz=UTC))
        return (1, value[: 10 if prop_type == "date" else None])
    try:
        return (0, float(value))
    except ValueError:
        return (1, value.lower())


def _matches(record: StoredRecord, schema: ObjectSchema, flt: dict[str, Any]) -> bool:
    name = str(flt.get("propertyName", ""))
    operator = str(flt.get("operator", "EQ"))
    prop = schema.properties.get(name)
    if prop is None:
        raise ApiError(
            400,
            "VALIDATION_ERROR",
            f"There was a problem with the request. Property {name} does not exist",
        )
    stored = record.properties.get(name)
    if name == "hs_object_id":
        stored = record.id
    if operator == "HAS_PROPERTY":
        return bool(stored)
    if operator == "NOT_HAS_PROPERTY":
        return not stored
    if stored is None:
        return operator in ("NEQ", "NOT_IN")
    left = _key(stored, prop.type)
    if operator in ("IN", "NOT_IN"):
        values = {_key(str(v), prop.type) for v in flt.get("values") or []}
        return (left in values) == (operator == "IN")
    if operator == "CONTAINS_TOKEN":
        token = str(flt.get("value", "")).lower().strip("*")
        return token in stored.lower()
    if operator == "NOT_CONTAINS_TOKEN":
        return str(flt.get("value", "")).lower().strip("*") not in stored.lower()
    right = _key(str(flt.get("value", "")), prop.type)
    if operator == "BETWEEN":
        high = _key(str(flt.get("highValue", "")), prop.type)
        return _cmp(right, left) <= 0 <= _cmp(high, left)
    checks: dict[str, Callable[[int], bool]] = {
        "EQ": lambda c: c == 0,
        "NEQ": lambda c: c != 0,
        "LT": lambda c: c < 0,
        "LTE": lambda c: c <= 0,
        "GT": lambda c: c > 0,
        "GTE": lambda c: c >= 0,
    }
    if operator not in checks:
        raise ApiError(400, "VALIDATION_ERROR", f"Unsupported operator {operator}")
    return checks[operator](_cmp(left, right))


def _cmp(a: tuple[int, Any], b: tuple[int, Any]) -> int:
    if a[0] != b[0]:
        a, b = (1, str(a[1])), (1, str(b[1]))
    return int(a[1] > b[1]) - int(a[1] < b[1])


def _sort_key(name: str, prop_type: str, record: StoredRecord) -> tuple[int, Any]:
    return _key(record.properties.get(name, ""), prop_type)


def search_records(
    store: PortalStore, schema: ObjectSchema, body: dict[str, Any]
) -> dict[str, Any]:
    """Run one search request; the body of HubSpot's 200 answer."""
    groups = body.get("filterGroups") or []
    if len(groups) > 5 or any(len(g.get("filters") or []) > 6 for g in groups):
        raise ApiError(400, "VALIDATION_ERROR", "Too many filter groups or filters")
    limit = int(body.get("limit") or 10)
    if limit > _MAX_LIMIT:
        raise ApiError(400, "VALIDATION_ERROR", f"limit must be at most {_MAX_LIMIT}")
    query = str(body.get("query") or "").lower()
    hits = []
    for record in store.all(schema):
        if groups and not any(
            all(_matches(record, schema, f) for f in g.get("filters") or []) for g in groups
        ):
            continue
        if query and not any(query in v.lower() for v in record.properties.values()):
            continue
        hits.append(record)
    for sort in reversed(body.get("sorts") or []):
        name = str(sort.get("propertyName", ""))
        prop_type = schema.properties[name].type if name in schema.properties else "string"
        hits.sort(
            key=partial(_sort_key, name, prop_type),
            reverse=str(sort.get("direction", "ASCENDING")).upper() == "DESCENDING",
        )
    start = int(body.get("after") or 0)
    page = hits[start : start + limit]
    names = body.get("properties") or schema.default_properties
    out: dict[str, Any] = {"total": len(hits), "results": [r.as_api(names) for r in page]}
    if start + limit < len(hits):
        out["paging"] = {"next": {"after": str(start + limit)}}
    return out
