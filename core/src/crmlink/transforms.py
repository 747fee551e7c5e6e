"""Mapping transforms: named conversions a field rule may apply to a value.

The built-ins (``date``, ``datetime``, ``string``) are registered through the same
``register_transforms`` hook that plugins use (see :mod:`crmlink.plugins`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from crmlink.catalog import CrmFieldType
from crmlink.definitions import FieldFormat, FieldType
from crmlink.hookspecs import hookimpl

__all__ = ["Transform", "TransformError"]

InputKind = tuple[FieldType, FieldFormat | None]


class TransformError(ValueError):
    """A value the transform cannot convert; the message says why."""


@dataclass(frozen=True)
class Transform:
    """A named conversion and the types it connects.

    ``accepts`` lists the payload kinds (type, format) it takes; ``produces`` the CRM field types
    its result may be written to.
    """

    name: str
    description: str
    accepts: frozenset[InputKind]
    produces: frozenset[CrmFieldType]
    apply: Callable[[Any], Any]


def _parse_moment(value: Any) -> datetime | date:
    if isinstance(value, datetime | date):
        return value
    if not isinstance(value, str):
        raise TransformError(f"{value!r} is not an ISO 8601 date or date-time")
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value.replace("+0000", "+00:00"))
    except ValueError:
        raise TransformError(f"{value!r} is not an ISO 8601 date or date-time") from None


def _to_date(value: Any) -> str:
    moment = _parse_moment(value)
    if isinstance(moment, datetime):
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
        return moment.date().isoformat()
    return moment.isoformat()


def _to_datetime(value: Any) -> str:
    moment = _parse_moment(value)
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _to_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_MOMENTS: frozenset[InputKind] = frozenset(
    {(FieldType.STRING, FieldFormat.DATETIME), (FieldType.STRING, FieldFormat.DATE)}
)
_TEXTS = frozenset({CrmFieldType.STRING, CrmFieldType.TEXT})

BUILTIN_TRANSFORMS = (
    Transform(
        "date",
        "Convert an ISO 8601 date-time to a date (UTC).",
        _MOMENTS,
        frozenset({CrmFieldType.DATE}) | _TEXTS,
        _to_date,
    ),
    Transform(
        "datetime",
        "Normalize an ISO 8601 date or date-time to a UTC date-time.",
        _MOMENTS,
        frozenset({CrmFieldType.DATETIME}) | _TEXTS,
        _to_datetime,
    ),
    Transform(
        "string",
        "Write a number or boolean as text.",
        frozenset({(FieldType.NUMBER, None), (FieldType.INTEGER, None), (FieldType.BOOLEAN, None)}),
        _TEXTS,
        _to_string,
    ),
)


@hookimpl
def register_transforms(register: Callable[[Transform], None]) -> None:
    """Register the built-in transforms."""
    for transform in BUILTIN_TRANSFORMS:
        register(transform)
