"""Payload validation against an event's ``payloadSchema``, before anything touches a CRM.

Every violation is collected with its dotted path; unknown keys are refused rather than dropped.
Hand-written (not a generated pydantic model) because it runs on every invocation and must stay
within the engine's per-event overhead budget.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

from crmlink.definitions import FieldFormat, FieldSchema, FieldType
from crmlink.errors import ErrorItem, PayloadInvalid

__all__ = ["validate_payload"]


def validate_payload(schema: Mapping[str, FieldSchema], payload: Any, *, where: str) -> None:
    """Raise ``PayloadInvalid`` listing every violation of ``schema`` by ``payload``."""
    errors: list[ErrorItem] = []
    if not isinstance(payload, Mapping):
        errors.append(ErrorItem("payload", f"expected an object, got {_json_type(payload)}"))
    else:
        _check_object(schema, payload, "payload", errors, additional=False)
    if errors:
        noun = "violation" if len(errors) == 1 else "violations"
        raise PayloadInvalid(
            f"the payload does not match the schema of {where}: {len(errors)} {noun}",
            errors=errors,
        )


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list):
        return "array"
    return type(value).__name__


def _check_object(
    schema: Mapping[str, FieldSchema],
    value: Mapping[str, Any],
    path: str,
    errors: list[ErrorItem],
    *,
    additional: bool,
) -> None:
    for key, item in value.items():
        field = schema.get(key)
        if field is None:
            if not additional:
                errors.append(ErrorItem(f"{path}.{key}", "unknown field"))
            continue
        _check_value(field, item, f"{path}.{key}", errors)
    for key, field in schema.items():
        if field.required and key not in value:
            errors.append(ErrorItem(f"{path}.{key}", "required field is missing"))


def _check_value(field: FieldSchema, value: Any, path: str, errors: list[ErrorItem]) -> None:
    if value is None:
        if field.required:
            errors.append(ErrorItem(path, "required field is null"))
        return
    kind = field.type
    if kind is FieldType.STRING:
        if not isinstance(value, str):
            errors.append(ErrorItem(path, f"expected a string, got {_json_type(value)}"))
            return
        if field.format is not None:
            problem = _FORMAT_CHECKS[field.format](value)
            if problem:
                errors.append(ErrorItem(path, problem))
    elif kind is FieldType.INTEGER:
        if not isinstance(value, int) or isinstance(value, bool):
            if isinstance(value, float) and value.is_integer():
                pass
            else:
                errors.append(ErrorItem(path, f"expected an integer, got {_json_type(value)}"))
                return
    elif kind is FieldType.NUMBER:
        if not isinstance(value, int | float) or isinstance(value, bool):
            errors.append(ErrorItem(path, f"expected a number, got {_json_type(value)}"))
            return
    elif kind is FieldType.BOOLEAN:
        if not isinstance(value, bool):
            errors.append(ErrorItem(path, f"expected a boolean, got {_json_type(value)}"))
            return
    elif kind is FieldType.OBJECT:
        if not isinstance(value, Mapping):
            errors.append(ErrorItem(path, f"expected an object, got {_json_type(value)}"))
            return
        _check_object(
            field.properties or {}, value, path, errors, additional=field.additional_properties
        )
    elif kind is FieldType.ARRAY:
        if not isinstance(value, list):
            errors.append(ErrorItem(path, f"expected an array, got {_json_type(value)}"))
            return
        if field.items is not None:
            for index, item in enumerate(value):
                _check_value(field.items, item, f"{path}.{index}", errors)
    if field.enum is not None and value not in field.enum:
        errors.append(ErrorItem(path, f"{value!r} is not one of {field.enum!r}"))


def _datetime_problem(value: str) -> str | None:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return f"{value!r} is not an ISO 8601 date-time (e.g. 2022-05-17T23:17:53Z)"
    if "T" not in value.upper() and " " not in value:
        return f"{value!r} is a date, not a date-time (e.g. 2022-05-17T23:17:53Z)"
    del parsed
    return None


def _date_problem(value: str) -> str | None:
    try:
        date.fromisoformat(value)
    except ValueError:
        return f"{value!r} is not an ISO 8601 date (e.g. 2022-05-17)"
    return None


def _email_problem(value: str) -> str | None:
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        return f"{value!r} is not an email address: {exc}"
    return None


def _uri_problem(value: str) -> str | None:
    parts = urlsplit(value)
    if not parts.scheme or not (parts.netloc or parts.path):
        return f"{value!r} is not an absolute URI"
    return None


_FORMAT_CHECKS = {
    FieldFormat.DATETIME: _datetime_problem,
    FieldFormat.DATE: _date_problem,
    FieldFormat.EMAIL: _email_problem,
    FieldFormat.URI: _uri_problem,
}
