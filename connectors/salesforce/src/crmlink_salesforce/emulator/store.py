"""The emulated org's data: records, their validation, unique indexes and transactions.

Every write goes through :meth:`OrgStore.create` / :meth:`OrgStore.update` /
:meth:`OrgStore.delete`, which apply Salesforce's checks in its order: unknown fields, field-level
write access, value types, required fields, restricted picklists, validation rules, unique
values. A transaction journal lets Composite and sObject Collections roll back ``allOrNone``
requests.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

from crmlink_salesforce.emulator.errors import ApiError
from crmlink_salesforce.emulator.ids import IdAllocator, normalize_id
from crmlink_salesforce.emulator.schema import FieldDef, ObjectDef, OrgSchema

__all__ = ["DEFAULT_USER_ID", "DuplicatesDetected", "OrgStore", "format_datetime", "now"]

DEFAULT_USER_ID = "0055g0000000001AAA"
"""The emulated integration user that owns and creates every record."""

_KNOWN_PREFIXES = {"User": "005", "Group": "00G"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TEXT_TYPES = {
    "string",
    "textarea",
    "email",
    "phone",
    "url",
    "picklist",
    "multipicklist",
    "combobox",
}
_STAGE_PROBABILITY = {
    "Prospecting": 10.0,
    "Qualification": 10.0,
    "Needs Analysis": 20.0,
    "Value Proposition": 50.0,
    "Id. Decision Makers": 60.0,
    "Perception Analysis": 70.0,
    "Proposal/Price Quote": 75.0,
    "Negotiation/Review": 90.0,
    "Closed Won": 100.0,
    "Closed Lost": 0.0,
}
_READ_ONLY_MESSAGE = (
    "Unable to create/update fields: {}. Please check the security settings of this field and "
    "verify that it is read/write for your profile or permission set."
)


def now() -> datetime:
    """The current UTC time."""
    return datetime.now(UTC)


def format_datetime(moment: datetime) -> str:
    """Salesforce's date-time format: ``2013-05-20T20:49:32.000+0000``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def _parse_error(field: FieldDef, value: Any) -> ApiError:
    kind = "VALUE_STRING" if isinstance(value, str) else "VALUE_OTHER"
    return ApiError(
        400,
        "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {field.type} from {kind} value {value} "
        "or request may be missing a required field",
    )


class OrgStore:
    """Records of every object of one emulated org; thread-safe."""

    def __init__(self, schema: OrgSchema) -> None:
        self.schema = schema
        self.lock = threading.RLock()
        self._ids = IdAllocator()
        self._records: dict[str, dict[str, dict[str, Any]]] = {}
        self._deleted: dict[str, tuple[str, dict[str, Any]]] = {}
        self._unique: dict[tuple[str, str], dict[str, str]] = {}
        self._journal: list[tuple[str, str, dict[str, Any] | None, bool]] | None = None
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.allow_duplicate_save = False
        """Set while a request carries ``Sforce-Duplicate-Rule-Header: allowSave=true``."""

    # -- state ------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget every record and published event."""
        with self.lock:
            self._ids.reset()
            self._records.clear()
            self._deleted.clear()
            self._unique.clear()
            self._journal = None
            self.events.clear()

    def live(self, obj: ObjectDef) -> Iterator[dict[str, Any]]:
        """The live records of ``obj`` in creation order."""
        yield from self._records.get(obj.name, {}).values()

    def deleted(self, obj: ObjectDef) -> Iterator[dict[str, Any]]:
        """The records of ``obj`` in the recycle bin."""
        for name, record in self._deleted.values():
            if name == obj.name:
                yield record

    # -- transactions -----------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[_Savepoint]:
        """A savepoint; call ``rollback()`` on the yielded object to undo what followed it."""
        with self.lock:
            outer = self._journal
            if outer is None:
                self._journal = []
            assert self._journal is not None
            point = _Savepoint(self, len(self._journal))
            try:
                yield point
            finally:
                if outer is None:
                    self._journal = None

    def _remember(self, obj: str, id_: str) -> None:
        if self._journal is None:
            return
        before = self._records.get(obj, {}).get(id_)
        was_deleted = id_ in self._deleted
        self._journal.append((obj, id_, dict(before) if before is not None else None, was_deleted))

    def _rollback_to(self, mark: int) -> None:
        assert self._journal is not None
        while len(self._journal) > mark:
            obj, id_, before, was_deleted = self._journal.pop()
            current = self._records.get(obj, {}).get(id_)
            if current is not None:
                self._unindex(obj, current)
            if before is None:
                self._records.get(obj, {}).pop(id_, None)
            else:
                self._records.setdefault(obj, {})[id_] = before
                self._index(obj, before)
            if not was_deleted:
                self._deleted.pop(id_, None)

    # -- unique indexes ---------------------------------------------------------------------
    def _unique_fields(self, obj: str) -> list[str]:
        definition = self.schema.objects[obj]
        return [f.name for f in definition.fields.values() if f.unique]

    def _index(self, obj: str, record: Mapping[str, Any]) -> None:
        for name in self._unique_fields(obj):
            value = record.get(name)
            if value is not None:
                self._unique.setdefault((obj, name), {})[str(value).lower()] = record["Id"]

    def _unindex(self, obj: str, record: Mapping[str, Any]) -> None:
        for name in self._unique_fields(obj):
            value = record.get(name)
            if value is not None:
                self._unique.get((obj, name), {}).pop(str(value).lower(), None)

    # -- reads ------------------------------------------------------------------------------
    def resolve_id(self, obj: ObjectDef, raw_id: str, *, for_write: bool) -> str:
        """The canonical id of a record of ``obj`` named in a URL; errors as Salesforce's."""
        canonical = normalize_id(raw_id)
        if canonical is None or not canonical.startswith(obj.key_prefix):
            if for_write:
                raise ApiError(
                    400,
                    "MALFORMED_ID",
                    f"{obj.label} ID: id value of incorrect type: {raw_id}",
                    ["Id"],
                )
            raise ApiError(
                404,
                "NOT_FOUND",
                f"Provided external ID field does not exist or is not accessible: {raw_id}",
            )
        return canonical

    def find(self, obj: ObjectDef, id_: str) -> dict[str, Any] | None:
        """The live record with this canonical id, or ``None``."""
        return self._records.get(obj.name, {}).get(id_)

    def get(self, obj: ObjectDef, id_: str) -> dict[str, Any]:
        """The stored record; ``ENTITY_IS_DELETED`` / ``NOT_FOUND`` as 404."""
        record = self._records.get(obj.name, {}).get(id_)
        if record is not None:
            return record
        if id_ in self._deleted:
            raise ApiError(404, "ENTITY_IS_DELETED", "entity is deleted", [])
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")

    def find_by(self, obj: ObjectDef, field: FieldDef, value: str) -> list[str]:
        """Ids of live records whose ``field`` equals ``value`` (case-insensitive)."""
        if field.unique:
            found = self._unique.get((obj.name, field.name), {}).get(value.lower())
            return [found] if found else []
        return [
            r["Id"]
            for r in self.live(obj)
            if r.get(field.name) is not None and str(r[field.name]).lower() == value.lower()
        ]

    # -- writes -----------------------------------------------------------------------------
    def create(self, obj: ObjectDef, values: Mapping[str, Any]) -> str:
        """Validate and insert a record; returns its new 18-character id."""
        with self.lock:
            clean = self._check_values(obj, values, creating=True)
            new_id = self._ids.new(obj.key_prefix)
            stamp = format_datetime(now())
            record: dict[str, Any] = {}
            for field in obj.fields.values():
                if field.name in clean:
                    record[field.name] = clean[field.name]
                elif field.defaulted_on_create:
                    record[field.name] = field.default_value
                else:
                    record[field.name] = None
            record.update({"Id": new_id, "IsDeleted": False})
            for audit in ("CreatedDate", "LastModifiedDate", "SystemModstamp"):
                if audit in obj.fields:
                    record[audit] = stamp
            for audit in ("CreatedById", "LastModifiedById"):
                if audit in obj.fields:
                    record[audit] = DEFAULT_USER_ID
            if record.get("OwnerId") is None and "OwnerId" in obj.fields:
                record["OwnerId"] = DEFAULT_USER_ID
            self._apply_formulas(obj, record, clean, creating=True)
            self._check_record(obj, record, None)
            self._remember(obj.name, new_id)
            self._records.setdefault(obj.name, {})[new_id] = record
            self._index(obj.name, record)
            return new_id

    def update(self, obj: ObjectDef, id_: str, values: Mapping[str, Any]) -> None:
        """Validate and apply changes to a live record."""
        with self.lock:
            current = self.get(obj, id_)
            clean = self._check_values(obj, values, creating=False)
            record = dict(current)
            record.update(clean)
            stamp = format_datetime(now())
            for audit in ("LastModifiedDate", "SystemModstamp"):
                if audit in obj.fields:
                    record[audit] = stamp
            self._apply_formulas(obj, record, clean, creating=False)
            self._check_record(obj, record, id_)
            self._remember(obj.name, id_)
            self._unindex(obj.name, current)
            self._records[obj.name][id_] = record
            self._index(obj.name, record)

    def delete(self, obj: ObjectDef, id_: str) -> None:
        """Move a live record to the recycle bin."""
        with self.lock:
            current = self.get(obj, id_)
            self._remember(obj.name, id_)
            self._unindex(obj.name, current)
            del self._records[obj.name][id_]
            self._deleted[id_] = (obj.name, {**current, "IsDeleted": True})

    def publish(self, obj: ObjectDef, values: Mapping[str, Any]) -> tuple[str, str]:
        """Publish a platform event; returns its id and the ``OPERATION_ENQUEUED`` uuid."""
        with self.lock:
            clean = self._check_values(obj, values, creating=True)
            event_uuid = str(uuid.uuid4())
            record = {f.name: clean.get(f.name) for f in obj.fields.values()}
            record.update(
                {
                    "CreatedDate": format_datetime(now()),
                    "CreatedById": DEFAULT_USER_ID,
                    "EventUuid": event_uuid,
                    "ReplayId": str(len(self.events) + 1),
                }
            )
            self._check_record(obj, record, None)
            self.events.append((obj.name, record))
            return self._ids.new(obj.key_prefix), event_uuid

    # -- validation -------------------------------------------------------------------------
    def _check_values(
        self, obj: ObjectDef, values: Mapping[str, Any], *, creating: bool
    ) -> dict[str, Any]:
        if not isinstance(values, Mapping):
            raise ApiError(
                400,
                "JSON_PARSER_ERROR",
                "Cannot deserialize instance of sObject from a non-object value",
            )
        resolved: list[tuple[FieldDef, Any]] = []
        for key, value in values.items():
            if key == "attributes":
                continue
            if key.lower() == "id":
                raise ApiError(
                    400,
                    "INVALID_FIELD",
                    "The Id field should not be specified in the sobject data.",
                )
            field = obj.field(key)
            if field is None:
                raise ApiError(
                    400, "INVALID_FIELD", f"No such column '{key}' on sobject of type {obj.name}"
                )
            resolved.append((field, value))
        read_only = [
            f.name for f, _ in resolved if not (f.createable if creating else f.updateable)
        ]
        if read_only:
            raise ApiError(
                400,
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                _READ_ONLY_MESSAGE.format(", ".join(read_only)),
                read_only,
            )
        return {field.name: self._coerce(field, value) for field, value in resolved}

    def _coerce(self, field: FieldDef, value: Any) -> Any:
        if value is None:
            return False if field.type == "boolean" else None
        kind = field.type
        if kind in _TEXT_TYPES:
            return self._coerce_text(field, value)
        if kind == "boolean":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return value.lower() == "true"
            raise _parse_error(field, value)
        if kind in ("int", "double", "currency", "percent"):
            return self._coerce_number(field, value)
        if kind == "date":
            if isinstance(value, str) and _DATE.match(value):
                try:
                    date.fromisoformat(value)
                except ValueError:
                    raise _parse_error(field, value) from None
                return value
            raise _parse_error(field, value)
        if kind == "datetime":
            if isinstance(value, str):
                try:
                    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
                except ValueError:
                    raise _parse_error(field, value) from None
                if parsed.tzinfo is None:
                    parsed = parsed.replace(tzinfo=UTC)
                return format_datetime(parsed)
            raise _parse_error(field, value)
        if kind == "reference":
            return self._coerce_reference(field, value)
        return value

    def _coerce_text(self, field: FieldDef, value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise _parse_error(field, value)
        text = str(value)
        if text == "":
            return None
        if field.length and len(text) > field.length:
            raise ApiError(
                400,
                "STRING_TOO_LONG",
                f"{field.label}: data value too large: {text[:40]} (max length={field.length})",
                [field.name],
            )
        if field.type == "email" and not _EMAIL.match(text):
            raise ApiError(
                400,
                "INVALID_EMAIL_ADDRESS",
                f"{field.label}: invalid email address: {text}",
                [field.name],
            )
        if field.restricted:
            chosen = text.split(";") if field.type == "multipicklist" else [text]
            for item in chosen:
                if item not in field.picklist:
                    raise ApiError(
                        400,
                        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                        f"{field.label}: bad value for restricted picklist field: {item}",
                        [field.name],
                    )
        return text

    @staticmethod
    def _coerce_number(field: FieldDef, value: Any) -> int | float:
        if isinstance(value, bool):
            raise _parse_error(field, value)
        try:
            number = float(value) if isinstance(value, str) else value
        except ValueError:
            raise _parse_error(field, value) from None
        if not isinstance(number, int | float):
            raise _parse_error(field, value)
        if field.type == "int":
            if float(number) != int(number):
                raise _parse_error(field, value)
            return int(number)
        return float(number)

    def _coerce_reference(self, field: FieldDef, value: Any) -> str:
        canonical = normalize_id(value) if isinstance(value, str) else None
        targets: dict[str, ObjectDef | None] = {}
        for name in field.reference_to:
            target = self.schema.object(name)
            prefix = target.key_prefix if target is not None else _KNOWN_PREFIXES.get(name)
            if prefix is not None:
                targets[prefix] = target
        if canonical is None or canonical[:3] not in targets:
            raise ApiError(
                400,
                "MALFORMED_ID",
                f"{field.label}: id value of incorrect type: {value}",
                [field.name],
            )
        target = targets[canonical[:3]]
        if target is not None:
            if canonical in self._deleted:
                raise ApiError(400, "ENTITY_IS_DELETED", "entity is deleted", [field.name])
            if canonical not in self._records.get(target.name, {}):
                raise ApiError(
                    400,
                    "INVALID_CROSS_REFERENCE_KEY",
                    f"{field.label}: invalid cross reference id",
                    [field.name],
                )
        return canonical

    def _check_record(self, obj: ObjectDef, record: dict[str, Any], own_id: str | None) -> None:
        missing = [
            f.name
            for f in obj.fields.values()
            if not f.nillable and f.createable and record.get(f.name) is None
        ]
        if missing:
            raise ApiError(
                400,
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{', '.join(missing)}]",
                missing,
            )
        for rule in obj.validation_rules:
            if rule.violated(record):
                shown = [rule.error_display_field] if rule.error_display_field else []
                raise ApiError(400, "FIELD_CUSTOM_VALIDATION_EXCEPTION", rule.message, shown)
        self._check_duplicates(obj, record, own_id)
        for field in obj.fields.values():
            value = record.get(field.name)
            if not field.unique or value is None:
                continue
            holder = self._unique.get((obj.name, field.name), {}).get(str(value).lower())
            if holder is not None and holder != own_id:
                raise ApiError(
                    400,
                    "DUPLICATE_VALUE",
                    f"duplicate value found: {field.name} duplicates value on record "
                    f"with id: {holder}",
                    [],
                )

    def _check_duplicates(self, obj: ObjectDef, record: dict[str, Any], own_id: str | None) -> None:
        for rule in obj.duplicate_rules:
            if rule.action != "block" and self.allow_duplicate_save:
                continue
            wanted = [record.get(name) for name in rule.fields]
            if any(value in (None, "") for value in wanted):
                continue
            keys = [str(value).lower() for value in wanted]
            matches = [
                other["Id"]
                for other in self.live(obj)
                if other["Id"] != own_id
                and [str(other.get(name) or "").lower() for name in rule.fields] == keys
            ]
            if matches:
                raise DuplicatesDetected(obj, rule, matches[:10])

    @staticmethod
    def _apply_formulas(
        obj: ObjectDef, record: dict[str, Any], given: Mapping[str, Any], *, creating: bool
    ) -> None:
        for field in obj.fields.values():
            if field.formula == "full_name":
                parts = [record.get("FirstName"), record.get("LastName")]
                record[field.name] = " ".join(p for p in parts if p) or None
            elif field.formula == "is_closed":
                record[field.name] = str(record.get("StageName", "")).startswith("Closed")
            elif field.formula == "is_won":
                record[field.name] = record.get("StageName") == "Closed Won"
            elif field.formula == "stage_probability":
                stage_changed = creating or "StageName" in given
                if field.name not in given and stage_changed:
                    record[field.name] = _STAGE_PROBABILITY.get(str(record.get("StageName")))
            elif field.formula == "id_if_blank" and record.get(field.name) is None:
                record[field.name] = record.get("Id")


class DuplicatesDetected(ApiError):
    """``DUPLICATES_DETECTED``, with Salesforce's ``duplicateResut`` (sic) body."""

    MESSAGE = "You're creating a duplicate record. We recommend you use an existing record instead."

    def __init__(self, obj: ObjectDef, rule: Any, matches: list[str]) -> None:
        super().__init__(400, "DUPLICATES_DETECTED", self.MESSAGE, [])
        self.obj = obj
        self.rule = rule
        self.matches = matches

    def as_body(self) -> list[dict[str, Any]]:
        url = f"/services/data/v59.0/sobjects/{self.obj.name}"
        match_records = [
            {
                "additionalInformation": [],
                "fieldDiffs": [],
                "matchConfidence": 100.0,
                "record": {"attributes": {"type": self.obj.name, "url": f"{url}/{id_}"}, "Id": id_},
            }
            for id_ in self.matches
        ]
        return [
            {
                "duplicateResut": {
                    "allowSave": self.rule.action != "block",
                    "duplicateRule": self.rule.name,
                    "duplicateRuleEntityType": self.obj.name,
                    "errorMessage": self.MESSAGE,
                    "matchResults": [
                        {
                            "entityType": self.obj.name,
                            "errors": [],
                            "matchEngine": "ExactMatchEngine",
                            "matchRecords": match_records,
                            "rule": self.rule.match_rule,
                            "size": len(match_records),
                            "success": True,
                        }
                    ],
                },
                "errorCode": self.code,
                "message": self.message,
            }
        ]

    def as_status(self) -> dict[str, Any]:
        return {"statusCode": self.code, "message": "Use one of these records?", "fields": []}


class _Savepoint:
    """A point in the store's journal that a failed all-or-none request rolls back to."""

    def __init__(self, store: OrgStore, mark: int) -> None:
        self._store = store
        self._mark = mark

    def rollback(self) -> None:
        """Undo every write made since this savepoint."""
        with self._store.lock:
            self._store._rollback_to(self._mark)
