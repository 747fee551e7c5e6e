"""Python values rendered by a mapping, as HubSpot property strings."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

__all__ = ["to_hubspot", "to_hubspot_properties"]


def to_hubspot(value: Any, native_type: str | None = None) -> str:
    """One value as HubSpot stores it: strings; ``true``/``false``; ``;``-joined multi-values.

    Dates are ``YYYY-MM-DD``; datetimes ISO-8601 UTC with milliseconds; a date given to a
    ``datetime`` property (``native_type`` known from the catalog) becomes midnight UTC.
    ``None`` is the empty string, which clears a property.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        moment = moment.astimezone(UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    if isinstance(value, date):
        text = value.isoformat()
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, Decimal):
        text = format(value, "f")
    elif isinstance(value, list | tuple | set | frozenset):
        return ";".join(to_hubspot(v) for v in value)
    else:
        text = str(value)
    if native_type == "datetime" and len(text) == 10 and text[4] == "-" and text[7] == "-":
        return text + "T00:00:00.000Z"
    return text


def to_hubspot_properties(
    values: Mapping[str, Any], native_types: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Every value of a write as HubSpot property strings."""
    types = native_types or {}
    return {name: to_hubspot(value, types.get(name)) for name, value in values.items()}
