"""What the mapping page may offer, computed on the server from the core's own type rules.

The page never decides type compatibility itself: for one app object and one CRM object this
module lists, per payload field and action, the CRM fields it may feed (and with which
transforms), per read field the CRM fields it may read, the fields constants may target, and the
fields the CRM requires on create. It also suggests CRM objects and fields by name, and strips a
saved mapping down to what the current definition still has.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from crmlink.catalog import CatalogField, CatalogObject, CrmFieldType, ObjectSummary
from crmlink.definitions import (
    Definition,
    EventType,
    FieldSchema,
    FieldType,
    ObjectDefinition,
)
from crmlink.mapping import ALLOWED_ACTIONS, read_compatible, write_compatible
from crmlink.records import Action
from crmlink.transforms import Transform

__all__ = ["object_choices", "strip_mapping", "suggest_objects"]

# Names that mean the same thing across CRMs (the original CRM Link's alias sets).
_ALIASES: tuple[frozenset[str], ...] = (
    frozenset({"account", "company", "organization", "organisation"}),
    frozenset({"deal", "opportunity"}),
    frozenset({"contact", "customer", "person"}),
    frozenset({"lead", "prospect"}),
    frozenset({"meeting", "event"}),
)
_CONSTANT_TYPES = frozenset(CrmFieldType) - {CrmFieldType.ID, CrmFieldType.MULTIPICKLIST}


def _norm(text: str | None) -> str:
    return re.sub(r"[^a-z0-9]", "", (text or "").lower())


def _singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _forms(*names: str | None) -> set[str]:
    """Normalized names and their alias-set companions."""
    found: set[str] = set()
    for name in names:
        norm = _norm(name)
        if not norm:
            continue
        for word in {norm, _singular(norm)}:
            found.add(word)
            for group in _ALIASES:
                if word in group:
                    found |= group
    return found


def suggest_objects(
    definition: Definition, objects: Iterable[ObjectSummary]
) -> dict[str, list[str]]:
    """Per app object, the CRM objects whose name or label matches it (or an alias)."""
    summaries = list(objects)
    suggestions: dict[str, list[str]] = {}
    for slug, obj in definition.objects.items():
        wanted = _forms(slug, obj.label)
        suggestions[slug] = [
            s.name
            for s in summaries
            if {
                _singular(_norm(s.name)),
                _singular(_norm(s.label)),
                _singular(_norm(s.label_plural)),
            }
            & wanted
        ]
    return suggestions


def _field_matches(slug: str, schema: FieldSchema, field: CatalogField) -> bool:
    mine = {_norm(slug), _norm(schema.label)} - {""}
    theirs = {_norm(field.name), _norm(field.label)} - {""}
    return bool(mine & theirs)


def _kind(schema: FieldSchema) -> str:
    if schema.type is FieldType.ARRAY and schema.items is not None:
        return f"array of {_kind(schema.items)}"
    return f"{schema.type.value}/{schema.format.value}" if schema.format else schema.type.value


def _payload_leaves(
    schema: Mapping[str, FieldSchema], prefix: str = ""
) -> list[tuple[str, FieldSchema]]:
    """Payload fields a rule can name: leaves, with ``a.b`` paths into objects."""
    leaves: list[tuple[str, FieldSchema]] = []
    for slug, field_schema in schema.items():
        path = f"{prefix}{slug}"
        if field_schema.type is FieldType.OBJECT and field_schema.properties:
            leaves.extend(_payload_leaves(field_schema.properties, f"{path}."))
        elif field_schema.type is not FieldType.OBJECT:
            leaves.append((path, field_schema))
    return leaves


def _targets(
    slug: str,
    schema: FieldSchema,
    fields: list[CatalogField],
    transforms: Mapping[str, Transform],
    allowed: Callable[[CatalogField], bool],
) -> list[dict[str, Any]]:
    kind = (schema.type, schema.format)
    found: list[dict[str, Any]] = []
    for crm_field in fields:
        if not allowed(crm_field):
            continue
        direct = write_compatible(schema, crm_field)
        usable = sorted(
            t.name
            for t in transforms.values()
            if kind in t.accepts and crm_field.type in t.produces
        )
        if not direct and not usable:
            continue
        found.append(
            {
                "name": crm_field.name,
                "direct": direct,
                "transforms": usable,
                "suggested": _field_matches(slug.rsplit(".", 1)[-1], schema, crm_field),
            }
        )
    found.sort(key=lambda t: (not t["suggested"], not t["direct"]))
    return found


def _read_options(
    slug: str, schema: FieldSchema, fields: list[CatalogField]
) -> list[dict[str, Any]]:
    options = [
        {"name": f.name, "suggested": _field_matches(slug, schema, f)}
        for f in fields
        if read_compatible(f, schema)
    ]
    options.sort(key=lambda o: not o["suggested"])
    return options


def _read_field(slug: str, schema: FieldSchema, fields: list[CatalogField]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "slug": slug,
        "label": schema.label or slug,
        "description": schema.description,
        "kind": _kind(schema),
    }
    if schema.type is FieldType.OBJECT:
        entry["children"] = [
            _read_field(child, child_schema, fields)
            for child, child_schema in (schema.properties or {}).items()
            if child_schema.type is not FieldType.OBJECT
        ]
        entry["additional"] = schema.additional_properties
        if schema.additional_properties:
            entry["additional_options"] = _read_options(
                "", FieldSchema(type=FieldType.STRING), fields
            )
    else:
        entry["options"] = _read_options(slug, schema, fields)
    return entry


def object_choices(
    obj: ObjectDefinition, crm: CatalogObject, transforms: Mapping[str, Transform]
) -> dict[str, Any]:
    """Everything the page offers for mapping app object ``obj`` onto CRM object ``crm``."""
    fields = sorted(crm.fields.values(), key=lambda f: (f.label.lower(), f.name))
    writable: dict[str, Callable[[CatalogField], bool]] = {
        Action.CREATE.value: lambda f: f.createable,
        Action.UPDATE.value: lambda f: f.updateable,
    }
    events: dict[str, Any] = {}
    for event_slug, event in obj.events.items():
        payload = []
        for path, schema in _payload_leaves(event.payload_schema):
            payload.append(
                {
                    "path": path,
                    "label": schema.label or path,
                    "description": schema.description,
                    "kind": _kind(schema),
                    "required": schema.required,
                    "targets": {
                        action: _targets(path, schema, fields, transforms, allowed)
                        for action, allowed in writable.items()
                    },
                }
            )
        events[event_slug] = {
            "type": event.type.value,
            "label": event.label,
            "description": event.description,
            "actions": [a.value for a in ALLOWED_ACTIONS[event.type]],
            "payload": payload,
            "constants": {
                action: [f.name for f in fields if allowed(f) and f.type in _CONSTANT_TYPES]
                for action, allowed in writable.items()
            },
        }
    return {
        "crm_object": crm.model_dump(mode="json"),
        "field_order": [f.name for f in fields],
        "required_on_create": [f.name for f in crm.required_on_create()],
        "read": [_read_field(slug, schema, fields) for slug, schema in obj.fields.items()],
        "events": events,
    }


def _payload_has(schema: Mapping[str, FieldSchema], path: str) -> bool:
    current: Mapping[str, FieldSchema] | None = schema
    for part in path.split("."):
        if current is None or part not in current:
            return False
        found = current[part]
        current = found.properties
    return True


def strip_mapping(
    definition: Definition, mapping: Mapping[str, Any] | None
) -> tuple[dict[str, Any] | None, list[str]]:
    """The saved mapping without what the definition no longer has, and the dropped paths."""
    if not mapping:
        return None, []
    dropped: list[str] = []
    objects_out: dict[str, Any] = {}
    for slug, obj_map in (mapping.get("objects") or {}).items():
        obj_def = definition.objects.get(slug)
        path = f"objects.{slug}"
        if obj_def is None or not isinstance(obj_map, Mapping):
            dropped.append(path)
            continue
        kept: dict[str, Any] = {"crm_object": obj_map.get("crm_object")}
        reads: dict[str, Any] = {}
        for field_slug, rule in (obj_map.get("fields") or {}).items():
            schema = obj_def.fields.get(field_slug)
            if schema is None:
                dropped.append(f"{path}.fields.{field_slug}")
                continue
            if isinstance(rule, Mapping) and isinstance(rule.get("fields"), Mapping):
                children = {}
                for child, child_rule in rule["fields"].items():
                    declared = (schema.properties or {}).get(child)
                    if declared is None and not schema.additional_properties:
                        dropped.append(f"{path}.fields.{field_slug}.fields.{child}")
                        continue
                    children[child] = child_rule
                rule = {"fields": children}
            reads[field_slug] = rule
        kept["fields"] = reads
        events: dict[str, Any] = {}
        for event_slug, event_map in (obj_map.get("events") or {}).items():
            event_def = obj_def.events.get(event_slug)
            event_path = f"{path}.events.{event_slug}"
            if event_def is None or not isinstance(event_map, Mapping):
                dropped.append(event_path)
                continue
            allowed = {a.value for a in ALLOWED_ACTIONS[EventType(event_def.type)]}
            if event_map.get("action") not in allowed:
                dropped.append(f"{event_path}.action")
                continue
            rules = {}
            for target, rule in (event_map.get("fields") or {}).items():
                source = rule.get("from") if isinstance(rule, Mapping) else None
                if source is not None and not _payload_has(event_def.payload_schema, source):
                    dropped.append(f"{event_path}.fields.{target}")
                    continue
                rules[target] = rule
            events[event_slug] = {**event_map, "fields": rules}
        kept["events"] = events
        objects_out[slug] = kept
    return {"objects": objects_out}, dropped
