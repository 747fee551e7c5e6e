"""A CRM that lives in process memory: records, validation like a real CRM, faults, an outbox.

Thread-safe. Named instances (:func:`memory_crm`) let a test reach the same CRM a connection
uses; a connection with no instance name gets a CRM of its own.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from crmlink.catalog import CatalogField, CatalogObject, CrmFieldType
from crmlink.errors import (
    ConnectionUnhealthy,
    CrmError,
    CrmRateLimited,
    CrmUnavailable,
    CrmValidation,
    NotFound,
)

from crmlink_memory.schema import default_schema

__all__ = ["MemoryCrm", "memory_crm"]

_TEXT_TYPES = {
    CrmFieldType.STRING,
    CrmFieldType.TEXT,
    CrmFieldType.EMAIL,
    CrmFieldType.PHONE,
    CrmFieldType.URL,
    CrmFieldType.PICKLIST,
    CrmFieldType.REFERENCE,
    CrmFieldType.ID,
}


_KEY_PREFIXES = {"Account": "001", "Contact": "003", "Lead": "00Q", "Opportunity": "006"}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _refuse(code: str, message: str, fields: Sequence[str] = (), **extra: Any) -> CrmValidation:
    return CrmValidation(
        f"the CRM refused the record: {message}",
        crm=CrmError(code, message, tuple(fields), **extra),
    )


class MemoryCrm:
    """The CRM itself. Faults: ``rate_limited``, ``unavailable``, ``credentials_expired``."""

    def __init__(self, extra_objects: Sequence[CatalogObject | Mapping[str, Any]] = ()) -> None:
        self._lock = threading.RLock()
        self.schema: dict[str, CatalogObject] = default_schema()
        for raw in extra_objects:
            obj = raw if isinstance(raw, CatalogObject) else CatalogObject.model_validate(raw)
            self._extend(obj.model_copy(deep=True))
        self._records: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in self.schema}
        self._deleted: set[tuple[str, str]] = set()
        self._ids = itertools.count(1)
        self.outbox: list[tuple[str, dict[str, Any]]] = []
        self.calls = 0
        self.rate_limited = False
        self.unavailable = False
        self.credentials_expired = False

    def _extend(self, obj: CatalogObject) -> None:
        existing = self.schema.get(obj.name)
        if existing is None:
            self.schema[obj.name] = obj
        else:
            existing.fields.update(obj.fields)

    # -- faults --------------------------------------------------------------------------------
    def enter(self) -> None:
        """Every API call starts here: count it and apply switched-on faults."""
        with self._lock:
            self.calls += 1
        if self.credentials_expired:
            raise ConnectionUnhealthy(
                "the CRM refused the credentials: session expired or invalid",
                crm=CrmError("INVALID_SESSION_ID", "Session expired or invalid"),
            )
        if self.rate_limited:
            raise CrmRateLimited(
                "the CRM's API request limit is exhausted",
                crm=CrmError("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
                retry_after=60,
            )
        if self.unavailable:
            raise CrmUnavailable("the CRM is unavailable (503)")

    def reset_faults(self) -> None:
        self.rate_limited = self.unavailable = self.credentials_expired = False

    # -- records -------------------------------------------------------------------------------
    def describe(self, name: str) -> CatalogObject:
        obj = self.schema.get(name)
        if obj is None:
            raise NotFound(
                f"the CRM has no object {name!r}",
                crm=CrmError("NOT_FOUND", f"sObject type '{name}' is not supported."),
            )
        return obj

    def insert(self, name: str, values: Mapping[str, Any]) -> dict[str, Any]:
        obj = self.describe(name)
        with self._lock:
            self._check(obj, values, creating=True)
            self._check_unique(obj, values, None)
            prefix = _KEY_PREFIXES.get(name) or name[:3].upper().ljust(3, "X")
            native = f"{prefix}{next(self._ids):012d}"
            stamp = _now()
            record: dict[str, Any] = {f.name: None for f in obj.fields.values()}
            record.update(values)
            record.update(Id=native, CreatedDate=stamp, LastModifiedDate=stamp)
            for f in obj.fields.values():
                if f.type is CrmFieldType.BOOLEAN and record.get(f.name) is None:
                    record[f.name] = False
            self._records[name][native] = record
            return dict(record)

    def modify(self, name: str, native: str, values: Mapping[str, Any]) -> dict[str, Any]:
        obj = self.describe(name)
        with self._lock:
            record = self._find(name, native)
            self._check(obj, values, creating=False)
            self._check_unique(obj, values, native)
            record.update(values)
            record["LastModifiedDate"] = _now()
            return dict(record)

    def remove(self, name: str, native: str) -> None:
        self.describe(name)
        with self._lock:
            self._find(name, native)
            del self._records[name][native]
            self._deleted.add((name, native))

    def read(self, name: str, native: str) -> dict[str, Any]:
        self.describe(name)
        with self._lock:
            return dict(self._find(name, native))

    def records(self, name: str) -> list[dict[str, Any]]:
        """Every live record of an object (for tests and the demo)."""
        with self._lock:
            return [dict(r) for r in self._records.get(name, {}).values()]

    def _find(self, name: str, native: str) -> dict[str, Any]:
        record = self._records[name].get(native)
        if record is not None:
            return record
        if (name, native) in self._deleted:
            raise NotFound(
                f"{name} {native} was deleted",
                crm=CrmError("ENTITY_IS_DELETED", "entity is deleted"),
            )
        raise NotFound(
            f"the CRM has no {name} {native}",
            crm=CrmError("NOT_FOUND", "The requested resource does not exist"),
        )

    def _check(self, obj: CatalogObject, values: Mapping[str, Any], *, creating: bool) -> None:
        for key, value in values.items():
            spec = obj.fields.get(key)
            if spec is None:
                raise _refuse("INVALID_FIELD", f"No such column '{key}' on {obj.name}", [key])
            if (creating and not spec.createable) or (not creating and not spec.updateable):
                raise _refuse(
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    f"Unable to create/update fields: {key}",
                    [key],
                )
            problem = _type_problem(spec, value)
            if problem:
                raise _refuse(problem[0], problem[1], [key])
        if creating:
            missing = [f.name for f in obj.required_on_create() if values.get(f.name) is None]
            if missing:
                raise _refuse(
                    "REQUIRED_FIELD_MISSING",
                    f"Required fields are missing: [{', '.join(missing)}]",
                    missing,
                )

    def _check_unique(self, obj: CatalogObject, values: Mapping[str, Any], own: str | None) -> None:
        for spec in obj.fields.values():
            value = values.get(spec.name)
            if not spec.unique or spec.type is CrmFieldType.ID or value is None:
                continue
            for native, record in self._records[obj.name].items():
                if native != own and record.get(spec.name) == value:
                    raise _refuse(
                        "DUPLICATE_VALUE",
                        f"duplicate value found: {spec.name} duplicates value on "
                        f"record with id: {native}",
                        [spec.name],
                        existing_id=native,
                    )

    # -- workflow --------------------------------------------------------------------------------
    def publish(self, event: str, values: Mapping[str, Any]) -> str:
        with self._lock:
            self.outbox.append((event, dict(values)))
            return f"evt{len(self.outbox):012d}"


def _type_problem(spec: CatalogField, value: Any) -> tuple[str, str] | None:
    if value is None:
        if not spec.nillable:
            return ("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{spec.name}]")
        return None
    kind = spec.type
    ok = True
    if kind in _TEXT_TYPES:
        ok = isinstance(value, str)
        if ok and spec.length is not None and len(value) > spec.length:
            return ("STRING_TOO_LONG", f"{spec.label}: data value too large (max {spec.length})")
        if ok and kind is CrmFieldType.PICKLIST and not spec.allows(value):
            return (
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"{spec.label}: bad value for restricted picklist field: {value}",
            )
    elif kind is CrmFieldType.BOOLEAN:
        ok = isinstance(value, bool)
    elif kind is CrmFieldType.INTEGER:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind is CrmFieldType.NUMBER:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif kind is CrmFieldType.DATE:
        ok = isinstance(value, str) and _parses(date.fromisoformat, value)
    elif kind is CrmFieldType.DATETIME:
        ok = isinstance(value, str) and _parses(datetime.fromisoformat, value)
    elif kind is CrmFieldType.MULTIPICKLIST:
        ok = isinstance(value, str | list)
    if not ok:
        return ("INVALID_TYPE", f"{spec.label}: value {value!r} is not a valid {kind.value}")
    return None


def _parses(parse: Any, value: str) -> bool:
    try:
        parse(value)
    except ValueError:
        return False
    return True


_instances: dict[str, MemoryCrm] = {}
_instances_lock = threading.Lock()


def memory_crm(
    name: str, extra_objects: Sequence[CatalogObject | Mapping[str, Any]] = ()
) -> MemoryCrm:
    """The named in-process CRM, created on first use (connections naming it share it)."""
    with _instances_lock:
        crm = _instances.get(name)
        if crm is None:
            crm = _instances[name] = MemoryCrm(extra_objects)
        return crm
