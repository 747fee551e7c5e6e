"""The emulated portal's records and associations, with HubSpot's write rules.

Records are kept per object type as HubSpot returns them: numeric-string ids, string property
values, ISO timestamps. Every write goes through property validation (unknown property, bad
email, option outside an enumeration, read-only value, required on create) and the unique
properties (a duplicate contact email is HubSpot's 409 ``Contact already exists``).
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from crmlink_hubspot.emulator.errors import ApiError, PropertyProblem, property_validation_error
from crmlink_hubspot.emulator.schema import ObjectSchema, PortalSchema, format_time

__all__ = ["Association", "PortalStore", "StoredRecord", "not_found"]

_FIRST_ID = 100_001
_ALWAYS_RETURNED = (
    "hs_object_id",
    "createdate",
    "hs_createdate",
    "lastmodifieddate",
    "hs_lastmodifieddate",
)


@dataclass
class StoredRecord:
    """One record as HubSpot keeps it."""

    id: str
    properties: dict[str, str]
    created_at: str
    updated_at: str

    def as_api(self, names: Iterable[str] | None = None) -> dict[str, Any]:
        """``SimplePublicObject``: every stored property, or only ``names`` (null if unset)."""
        if names is None:
            props: dict[str, str | None] = dict(self.properties)
        else:
            props = {n: self.properties.get(n) for n in names}
            for always in _ALWAYS_RETURNED:
                if always in self.properties:
                    props.setdefault(always, self.properties[always])
        return {
            "id": self.id,
            "properties": props,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "archived": False,
        }


@dataclass(frozen=True)
class Association:
    """One labelled edge between two records (stored in both directions)."""

    from_type: str
    from_id: str
    to_type: str
    to_id: str
    category: str
    type_id: int


@dataclass
class _TypeStore:
    records: dict[str, StoredRecord] = field(default_factory=dict)


# HubSpot-defined association type ids between the standard objects, and their inverses.
_DEFAULT_TYPES: dict[tuple[str, str], int] = {
    ("contacts", "companies"): 279,
    ("companies", "contacts"): 280,
    ("deals", "contacts"): 3,
    ("contacts", "deals"): 4,
    ("deals", "companies"): 341,
    ("companies", "deals"): 342,
}
_INVERSE: dict[int, int] = {
    1: 2,
    2: 1,
    3: 4,
    4: 3,
    5: 6,
    6: 5,
    279: 280,
    280: 279,
    341: 342,
    342: 341,
}


def not_found(object_id: str) -> ApiError:
    """HubSpot's 404 for a record id it does not know."""
    return ApiError(
        status=404,
        category="OBJECT_NOT_FOUND",
        message="Object not found.  objectId are usually numeric.",
        context={"id": [object_id]},
    )


class PortalStore:
    """Records and associations of one emulated portal (thread-safe)."""

    def __init__(self, schema: PortalSchema) -> None:
        self.schema = schema
        self._lock = threading.RLock()
        self._ids = itertools.count(_FIRST_ID)
        self._types: dict[str, _TypeStore] = {}
        self._assocs: set[Association] = set()

    # -- lookup --------------------------------------------------------------------------------
    def object_schema(self, object_type: str) -> ObjectSchema:
        """The object type named in a path, or HubSpot's 400 for an unknown type."""
        schema = self.schema.find(object_type)
        if schema is None:
            raise ApiError(
                status=400,
                category="VALIDATION_ERROR",
                message=f"Unable to infer object type from: {object_type}",
            )
        return schema

    def _bucket(self, schema: ObjectSchema) -> _TypeStore:
        return self._types.setdefault(schema.name, _TypeStore())

    def records(self, object_type: str) -> list[StoredRecord]:
        """Every live record of a type, oldest first (copies)."""
        with self._lock:
            bucket = self._bucket(self.object_schema(object_type))
            return [copy.deepcopy(r) for r in bucket.records.values()]

    def find(
        self, schema: ObjectSchema, object_id: str, id_property: str | None = None
    ) -> StoredRecord:
        """A record by id (or by a unique ``idProperty``); 404 if it does not exist."""
        with self._lock:
            bucket = self._bucket(schema)
            if id_property and id_property != "hs_object_id":
                self._check_id_property(schema, id_property)
                match = self._by_unique(schema, id_property, object_id)
                if match is None:
                    raise not_found(object_id)
                return match
            record = bucket.records.get(object_id)
            if record is None:
                raise not_found(object_id)
            return record

    def _check_id_property(self, schema: ObjectSchema, id_property: str) -> None:
        if id_property not in schema.unique_properties():
            raise ApiError(
                status=400,
                category="VALIDATION_ERROR",
                message=f"Property {id_property} is not a unique identifier property",
            )

    def _by_unique(self, schema: ObjectSchema, name: str, value: str) -> StoredRecord | None:
        wanted = value.lower() if name == "email" else value
        for record in self._bucket(schema).records.values():
            stored = record.properties.get(name, "")
            if (stored.lower() if name == "email" else stored) == wanted and stored:
                return record
        return None

    # -- writes --------------------------------------------------------------------------------
    def validate(
        self, schema: ObjectSchema, values: Mapping[str, Any], *, creating: bool
    ) -> dict[str, str]:
        """Validate and normalize property values; raise HubSpot's 400 listing every problem."""
        if not isinstance(values, Mapping):
            raise ApiError(status=400, category="VALIDATION_ERROR", message="Invalid input JSON")
        problems: list[PropertyProblem] = []
        clean: dict[str, str] = {}
        for name, raw in values.items():
            prop = schema.properties.get(name)
            if prop is None:
                message = f'Property "{name}" does not exist'
                problems.append(PropertyProblem(name, "PROPERTY_DOESNT_EXIST", message))
                continue
            if prop.read_only_value:
                message = f'"{name}" is a read only property; its value cannot be set.'
                problems.append(PropertyProblem(name, "READ_ONLY_VALUE", message))
                continue
            text, problem = prop.normalize(raw)
            if problem is not None:
                problems.append(problem)
            else:
                clean[name] = text
        if creating:
            for name in schema.required:
                refused = any(p.name == name for p in problems)
                if not refused and not clean.get(name) and not schema.defaults.get(name):
                    message = f"Property {name} is required"
                    problems.append(PropertyProblem(name, "REQUIRED_PROPERTY", message))
        if problems:
            raise property_validation_error(problems, self.schema.portal_id)
        return clean

    def _check_unique(
        self, schema: ObjectSchema, clean: Mapping[str, str], own_id: str | None
    ) -> None:
        for name in schema.unique_properties():
            value = clean.get(name)
            if not value:
                continue
            other = self._by_unique(schema, name, value)
            if other is not None and other.id != own_id:
                if schema.name == "contacts":
                    message = f"Contact already exists. Existing ID: {other.id}"
                else:
                    message = (
                        f"Duplicate value {value!r} for unique property {name}. "
                        f"Existing ID: {other.id}"
                    )
                raise ApiError(status=409, category="CONFLICT", message=message)

    def create(self, schema: ObjectSchema, values: Mapping[str, Any]) -> StoredRecord:
        """Create one record (validated); 400/409 as HubSpot answers."""
        with self._lock:
            clean = self.validate(schema, values, creating=True)
            self._check_unique(schema, clean, None)
            return self._insert(schema, clean)

    def _insert(self, schema: ObjectSchema, clean: Mapping[str, str]) -> StoredRecord:
        now = format_time(datetime.now(UTC))
        record_id = str(next(self._ids))
        props = {k: v for k, v in schema.defaults.items()}
        props.update({k: v for k, v in clean.items() if v != ""})
        props["hs_object_id"] = record_id
        props[schema.created_property] = now
        props[schema.modified_property] = now
        record = StoredRecord(id=record_id, properties=props, created_at=now, updated_at=now)
        self._bucket(schema).records[record_id] = record
        return record

    def update(
        self,
        schema: ObjectSchema,
        object_id: str,
        values: Mapping[str, Any],
        id_property: str | None = None,
    ) -> StoredRecord:
        """Patch one record; HubSpot refuses an empty patch."""
        with self._lock:
            record = self.find(schema, object_id, id_property)
            if not values:
                raise ApiError(
                    status=400,
                    category="VALIDATION_ERROR",
                    message="No properties found to update, please provide at least one.",
                )
            clean = self.validate(schema, values, creating=False)
            self._check_unique(schema, clean, record.id)
            self._apply(schema, record, clean)
            return record

    def _apply(self, schema: ObjectSchema, record: StoredRecord, clean: Mapping[str, str]) -> None:
        for name, value in clean.items():
            if value == "":
                record.properties.pop(name, None)
            else:
                record.properties[name] = value
        now = format_time(datetime.now(UTC))
        record.properties[schema.modified_property] = now
        record.updated_at = now

    def upsert(
        self, schema: ObjectSchema, id_value: str, id_property: str, values: Mapping[str, Any]
    ) -> tuple[StoredRecord, bool]:
        """Update the record whose unique ``id_property`` equals ``id_value``, or create it."""
        with self._lock:
            self._check_id_property(schema, id_property)
            existing = self._by_unique(schema, id_property, id_value)
            if existing is not None:
                clean = self.validate(schema, values, creating=False)
                self._check_unique(schema, clean, existing.id)
                self._apply(schema, existing, clean)
                return existing, False
            merged = dict(values)
            merged[id_property] = id_value
            clean = self.validate(schema, merged, creating=True)
            self._check_unique(schema, clean, None)
            return self._insert(schema, clean), True

    def archive(self, schema: ObjectSchema, object_id: str) -> None:
        """Archive a record. HubSpot answers 204 even for an id it does not know."""
        with self._lock:
            record = self._bucket(schema).records.pop(object_id, None)
            if record is not None:
                self._assocs = {
                    a
                    for a in self._assocs
                    if not (
                        (a.from_type == schema.name and a.from_id == object_id)
                        or (a.to_type == schema.name and a.to_id == object_id)
                    )
                }

    def page(
        self, schema: ObjectSchema, limit: int, after: str | None
    ) -> tuple[list[StoredRecord], str | None]:
        """Records in id order from ``after`` (an id), and the next ``after``."""
        with self._lock:
            ordered = sorted(self._bucket(schema).records.values(), key=lambda r: int(r.id))
            start = int(after) if after and after.isdigit() else 0
            chosen = [r for r in ordered if int(r.id) >= start]
            page, rest = chosen[:limit], chosen[limit:]
            return page, (rest[0].id if rest else None)

    def all(self, schema: ObjectSchema) -> list[StoredRecord]:
        """Every record of a type, in id order (live objects, for search)."""
        with self._lock:
            return sorted(self._bucket(schema).records.values(), key=lambda r: int(r.id))

    # -- associations --------------------------------------------------------------------------
    def associate(
        self,
        from_schema: ObjectSchema,
        from_id: str,
        to_schema: ObjectSchema,
        to_id: str,
        specs: list[tuple[str, int]] | None,
    ) -> list[tuple[str, int]]:
        """Link two records with the given (category, type id) labels (default label if None)."""
        with self._lock:
            self.find(from_schema, from_id)
            self.find(to_schema, to_id)
            if not specs:
                specs = [("HUBSPOT_DEFINED", self.default_type(from_schema, to_schema))]
            for category, type_id in specs:
                if category not in ("HUBSPOT_DEFINED", "USER_DEFINED", "INTEGRATOR_DEFINED"):
                    raise ApiError(
                        status=400,
                        category="VALIDATION_ERROR",
                        message=f"Invalid association category {category}",
                    )
                self._assocs.add(
                    Association(from_schema.name, from_id, to_schema.name, to_id, category, type_id)
                )
                inverse = _INVERSE.get(type_id, type_id)
                self._assocs.add(
                    Association(to_schema.name, to_id, from_schema.name, from_id, category, inverse)
                )
            return specs

    def default_type(self, from_schema: ObjectSchema, to_schema: ObjectSchema) -> int:
        """The HubSpot-defined default association type between two object types."""
        type_id = _DEFAULT_TYPES.get((from_schema.name, to_schema.name))
        if type_id is None:
            raise ApiError(
                status=400,
                category="VALIDATION_ERROR",
                message=(
                    f"No default association type exists between {from_schema.object_type_id} "
                    f"and {to_schema.object_type_id}"
                ),
            )
        return type_id

    def associations(
        self, from_schema: ObjectSchema, from_id: str, to_schema: ObjectSchema
    ) -> dict[str, list[tuple[str, int]]]:
        """``{to_id: [(category, type id), ...]}`` for one record towards one type."""
        with self._lock:
            found: dict[str, list[tuple[str, int]]] = {}
            for a in sorted(self._assocs, key=lambda a: (int(a.to_id), a.type_id)):
                if (a.from_type, a.from_id, a.to_type) == (
                    from_schema.name,
                    from_id,
                    to_schema.name,
                ):
                    found.setdefault(a.to_id, []).append((a.category, a.type_id))
            return found

    def dissociate(
        self, from_schema: ObjectSchema, from_id: str, to_schema: ObjectSchema, to_id: str
    ) -> None:
        """Remove every label between two records (both directions)."""
        with self._lock:
            pair = {(from_schema.name, from_id), (to_schema.name, to_id)}
            self._assocs = {
                a for a in self._assocs if {(a.from_type, a.from_id), (a.to_type, a.to_id)} != pair
            }

    def clear(self) -> None:
        """Forget every record and association."""
        with self._lock:
            self._types.clear()
            self._assocs.clear()
