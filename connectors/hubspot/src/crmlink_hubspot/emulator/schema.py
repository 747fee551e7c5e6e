"""The emulated portal's schema: object types, their properties, and value validation.

A portal is loaded from JSON (``data/default_portal.json`` or a user's file): each object type
(``contacts``, ``companies``, ``deals`` and custom ``2-...`` objects) lists its properties in the
shape of HubSpot's properties API, plus the properties the API demands on create
(``requiredProperties``, as custom object schemas declare them) and the unique ones.
Values are validated and normalized the way HubSpot stores them: always strings, dates as
``YYYY-MM-DD``, datetimes as ISO-8601 with milliseconds and ``Z``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from crmlink_hubspot.emulator.errors import PropertyProblem

__all__ = ["EventDefinition", "ObjectSchema", "PortalSchema", "PropertySchema", "load_portal"]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


@dataclass
class PropertySchema:
    """One property of an object type, as the properties API describes it."""

    name: str
    label: str
    type: str
    field_type: str
    group_name: str = ""
    description: str = ""
    options: list[dict[str, Any]] = field(default_factory=list)
    read_only_value: bool = False
    has_unique_value: bool = False
    hubspot_defined: bool = True
    calculated: bool = False
    validation: str | None = None
    display_order: int = -1

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> PropertySchema:
        """Build from a portal file entry (properties-API field names)."""
        options = [
            {
                "label": str(o.get("label", o["value"])),
                "value": str(o["value"]),
                "displayOrder": int(o.get("displayOrder", i)),
                "hidden": bool(o.get("hidden", False)),
                "description": str(o.get("description", "")),
            }
            for i, o in enumerate(raw.get("options", []))
        ]
        return cls(
            name=raw["name"],
            label=raw.get("label", raw["name"]),
            type=raw.get("type", "string"),
            field_type=raw.get("fieldType", "text"),
            group_name=raw.get("groupName", ""),
            description=raw.get("description", ""),
            options=options,
            read_only_value=bool(raw.get("readOnlyValue", False)),
            has_unique_value=bool(raw.get("hasUniqueValue", False)),
            hubspot_defined=bool(raw.get("hubspotDefined", True)),
            calculated=bool(raw.get("calculated", False)),
            validation=raw.get("validation"),
            display_order=int(raw.get("displayOrder", -1)),
        )

    def as_api(self, when: str) -> dict[str, Any]:
        """The property as ``GET /crm/v3/properties/{objectType}`` returns it."""
        return {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "fieldType": self.field_type,
            "description": self.description,
            "groupName": self.group_name,
            "options": self.options,
            "displayOrder": self.display_order,
            "calculated": self.calculated,
            "externalOptions": False,
            "hasUniqueValue": self.has_unique_value,
            "hidden": False,
            "hubspotDefined": self.hubspot_defined,
            "formField": not self.read_only_value,
            "modificationMetadata": {
                "archivable": not self.hubspot_defined,
                "readOnlyDefinition": self.hubspot_defined,
                "readOnlyValue": self.read_only_value,
            },
            "createdAt": when,
            "updatedAt": when,
            "archived": False,
        }

    def normalize(self, value: Any) -> tuple[str, PropertyProblem | None]:
        """Validate one incoming value; return the stored string or the problem."""
        text = _as_text(value)
        if text == "":
            return "", None
        if self.type == "number":
            try:
                number = float(text)
            except ValueError:
                return text, self._problem("INVALID_DECIMAL", f"{text} is not a valid number")
            return (str(int(number)) if number.is_integer() and "." not in text else text), None
        if self.type == "bool":
            if text.lower() not in ("true", "false"):
                return text, self._problem(
                    "INVALID_OPTION", f"{text} was not one of the allowed options: [true, false]"
                )
            return text.lower(), None
        if self.type == "enumeration":
            allowed = [o["value"] for o in self.options]
            chosen = text.split(";") if self.field_type == "checkbox" else [text]
            for choice in chosen:
                if choice not in allowed:
                    return text, self._problem(
                        "INVALID_OPTION",
                        f"{choice} was not one of the allowed options: [{', '.join(allowed)}]",
                    )
            return text, None
        if self.type == "date":
            return self._date(text)
        if self.type == "datetime":
            moment = _parse_moment(text)
            if moment is None:
                return text, self._problem("INVALID_DATETIME", f"{text} is not a valid datetime")
            return format_time(moment), None
        if self.validation == "email" and not _EMAIL.match(text):
            return text, self._problem("INVALID_EMAIL", f"Email address {text} is invalid")
        return text, None

    def _date(self, text: str) -> tuple[str, PropertyProblem | None]:
        moment = _parse_moment(text)
        if moment is None:
            return text, self._problem("INVALID_DATE", f"{text} is not a valid date")
        if (moment.hour, moment.minute, moment.second, moment.microsecond) != (0, 0, 0, 0):
            clock = f"{moment.hour}:{moment.minute}:{moment.second}.{moment.microsecond // 1000}"
            return text, self._problem("INVALID_DATE", f"{text} is at {clock} UTC, not midnight!")
        return moment.date().isoformat(), None

    def _problem(self, code: str, message: str) -> PropertyProblem:
        return PropertyProblem(name=self.name, code=code, message=message)


@dataclass
class ObjectSchema:
    """One object type of the portal."""

    name: str
    object_type_id: str
    singular: str
    plural: str
    properties: dict[str, PropertySchema]
    required: list[str] = field(default_factory=list)
    default_properties: list[str] = field(default_factory=list)
    created_property: str = "hs_createdate"
    modified_property: str = "hs_lastmodifieddate"
    defaults: dict[str, str] = field(default_factory=dict)
    fully_qualified_name: str | None = None

    @property
    def custom(self) -> bool:
        """Custom objects have type ids ``2-...``."""
        return self.object_type_id.startswith("2-")

    def unique_properties(self) -> list[str]:
        """Properties whose values identify one record (``idProperty`` candidates)."""
        return [p.name for p in self.properties.values() if p.has_unique_value]


@dataclass
class EventDefinition:
    """A custom behavioral event the portal accepts on ``/events/v3/send``."""

    name: str
    label: str
    properties: list[str]


@dataclass
class PortalSchema:
    """Every object type of the portal, addressable by name, type id or qualified name."""

    portal_id: int
    objects: dict[str, ObjectSchema]
    events: dict[str, EventDefinition]

    def find(self, object_type: str) -> ObjectSchema | None:
        """Resolve ``contacts`` / ``0-1`` / ``2-123`` / ``p123_cars`` to an object type."""
        key = object_type.lower()
        for schema in self.objects.values():
            names = {schema.name.lower(), schema.object_type_id.lower()}
            if schema.fully_qualified_name:
                names.add(schema.fully_qualified_name.lower())
            if key in names:
                return schema
        return None


def load_portal(path: str | Path | None = None) -> PortalSchema:
    """Load a portal schema from a JSON file (the bundled default portal when ``None``).

    A file with ``"extends": "default"`` adds its ``objects`` (typically custom ``2-...``
    objects) and ``eventDefinitions`` to the default portal instead of replacing it.
    """
    default = json.loads(
        resources.files("crmlink_hubspot.emulator")
        .joinpath("data/default_portal.json")
        .read_text("utf-8")
    )
    raw = default if path is None else json.loads(Path(path).read_text("utf-8"))
    if raw.get("extends") == "default":
        raw = _extend(default, raw)
    portal_id = int(raw.get("portalId", 24681357))
    objects: dict[str, ObjectSchema] = {}
    for entry in raw["objects"]:
        schema = _object_from_json(entry)
        objects[schema.name] = schema
    events = {
        e["name"].replace("{portalId}", str(portal_id)): EventDefinition(
            name=e["name"].replace("{portalId}", str(portal_id)),
            label=e.get("label", e["name"]),
            properties=list(e.get("properties", [])),
        )
        for e in raw.get("eventDefinitions", [])
    }
    return PortalSchema(portal_id=portal_id, objects=objects, events=events)


def _extend(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """The default portal plus a file's objects (replacing same-named ones) and events."""
    merged = dict(base)
    merged["portalId"] = extra.get("portalId", base.get("portalId"))
    objects = {o["name"]: o for o in base["objects"]}
    objects.update({o["name"]: o for o in extra.get("objects", [])})
    merged["objects"] = list(objects.values())
    events = [*base.get("eventDefinitions", []), *extra.get("eventDefinitions", [])]
    merged["eventDefinitions"] = events
    return merged


def _object_from_json(entry: dict[str, Any]) -> ObjectSchema:
    props = {p["name"]: PropertySchema.from_json(p) for p in entry.get("properties", [])}
    created = entry.get("createdProperty", "hs_createdate")
    modified = entry.get("lastModifiedProperty", "hs_lastmodifieddate")
    system = [
        PropertySchema("hs_object_id", "Record ID", "number", "number", read_only_value=True),
        PropertySchema(created, "Create Date", "datetime", "date", read_only_value=True),
        PropertySchema(modified, "Last Modified Date", "datetime", "date", read_only_value=True),
    ]
    for prop in system:
        props.setdefault(prop.name, prop)
    labels = entry.get("labels", {})
    return ObjectSchema(
        name=entry["name"],
        object_type_id=entry["objectTypeId"],
        singular=labels.get("singular", entry["name"]),
        plural=labels.get("plural", entry["name"]),
        properties=props,
        required=list(entry.get("requiredProperties", [])),
        default_properties=list(entry.get("defaultProperties", [])),
        created_property=created,
        modified_property=modified,
        defaults={k: str(v) for k, v in entry.get("defaults", {}).items()},
        fully_qualified_name=entry.get("fullyQualifiedName"),
    )


def format_time(moment: datetime) -> str:
    """HubSpot's timestamp format: ``2019-10-30T03:30:17.883Z``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _parse_moment(text: str) -> datetime | None:
    if text.lstrip("-").isdigit():
        return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
