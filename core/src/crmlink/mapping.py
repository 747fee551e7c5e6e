"""The end user's mapping: models, validation against the definition and the CRM catalog, and
the compiled plans the engine runs.

A mapping is JSON the end user (or the app on their behalf) saves per connection::

    {"objects": {"opportunity": {
        "crm_object": "Opportunity",
        "fields": {"document_name": {"from": "Name"}, "document_tags": null},
        "events": {"create_opportunity": {"action": "create", "fields": {
            "Name": {"from": "name"}, "StageName": {"value": "Prospecting"}}}}}}}

:func:`compile_mapping` checks it whole (``MappingInvalid`` with every ``{path, error}``) and
returns a :class:`CompiledMapping`: per event an :class:`EventPlan` that renders a payload into
CRM values, and per object a :class:`ReadPlan` that maps a CRM record back into the app's fields.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from crmlink.catalog import CatalogField, CatalogObject, CrmFieldType
from crmlink.definitions import (
    Definition,
    EventType,
    FieldFormat,
    FieldSchema,
    FieldType,
    ObjectDefinition,
)
from crmlink.errors import ErrorItem, MappingInvalid, PayloadInvalid
from crmlink.records import Action
from crmlink.transforms import Transform, TransformError, _to_date, _to_datetime

__all__ = [
    "ALLOWED_ACTIONS",
    "CompiledMapping",
    "EventMapping",
    "EventPlan",
    "FieldRule",
    "MappingDocument",
    "ObjectMapping",
    "ReadPlan",
    "ReadRule",
    "compile_mapping",
    "parse_mapping",
]

ALLOWED_ACTIONS: dict[EventType, tuple[Action, ...]] = {
    EventType.CREATE: (Action.CREATE, Action.NOOP, Action.WORKFLOW),
    EventType.UPDATE: (Action.UPDATE, Action.NOOP, Action.WORKFLOW),
    EventType.DELETE: (Action.DELETE, Action.UPDATE, Action.NOOP, Action.WORKFLOW),
    EventType.SEARCH: (Action.NOOP,),
}


# -- models --------------------------------------------------------------------------------------
class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    from_: str | None = Field(default=None, alias="from", min_length=1)
    value: Any = None
    transform: str | None = None
    map: dict[str, Any] | None = Field(
        default=None, description="Value map: payload value → CRM value (e.g. for picklists)."
    )

    @property
    def is_constant(self) -> bool:
        return "value" in self.model_fields_set

    def _check_one_source(self, *, allow_children: bool = False) -> None:
        sources = int(self.from_ is not None) + int(self.is_constant)
        if sources > 1:
            raise ValueError("give either 'from' or 'value', not both")
        if sources == 0 and not allow_children:
            raise ValueError("give 'from' (a source field) or 'value' (a constant)")
        if self.is_constant and (self.transform or self.map):
            raise ValueError("a constant takes no 'transform' or 'map'")


class FieldRule(_Rule):
    """Write rule: a CRM field gets payload field ``from`` or constant ``value``."""

    @model_validator(mode="after")
    def _one_source(self) -> FieldRule:
        self._check_one_source()
        return self


class ReadRule(_Rule):
    """Read rule: an app field gets CRM field ``from``, a constant, or child rules."""

    fields: dict[str, ReadRule | None] | None = Field(
        default=None, description="Rules for an object field's children."
    )

    @model_validator(mode="after")
    def _one_source(self) -> ReadRule:
        self._check_one_source(allow_children=self.fields is not None)
        if self.fields is not None and (self.from_ is not None or self.is_constant):
            raise ValueError("give 'fields' (child rules) alone, without 'from' or 'value'")
        return self


class EventMapping(BaseModel):
    """What one event does in the CRM."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Action
    fields: dict[str, FieldRule] = Field(default_factory=dict)
    workflow: str | None = Field(
        default=None, description="For action 'workflow': the CRM's workflow event name."
    )
    on_duplicate: Literal["fail", "update"] = Field(
        default="fail",
        description="For action 'create': update the existing record the CRM names as a "
        "duplicate instead of failing (an upsert the end user opts into).",
    )


class ObjectMapping(BaseModel):
    """One app object: its CRM object (``null`` opts out), read rules and event rules."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    crm_object: str | None
    fields: dict[str, ReadRule | None] = Field(default_factory=dict)
    events: dict[str, EventMapping] = Field(default_factory=dict)


class MappingDocument(BaseModel):
    """A connection's whole mapping."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    objects: dict[str, ObjectMapping] = Field(default_factory=dict)


def parse_mapping(raw: Any) -> MappingDocument:
    """Parse mapping JSON; structural problems become ``MappingInvalid`` with paths."""
    try:
        return MappingDocument.model_validate(raw)
    except ValidationError as exc:
        items = [
            ErrorItem(
                ".".join(str(p) for p in err["loc"] if p != "[key]") or "mapping",
                str(err["msg"]).removeprefix("Value error, "),
            )
            for err in exc.errors()
        ]
        raise MappingInvalid(
            f"the mapping was refused: {len(items)} problem(s)", errors=items
        ) from None


# -- type compatibility ---------------------------------------------------------------------------
_TEXTISH = frozenset({CrmFieldType.STRING, CrmFieldType.TEXT})
_WRITE_DIRECT: dict[tuple[FieldType, FieldFormat | None], frozenset[CrmFieldType]] = {
    (FieldType.STRING, None): _TEXTISH
    | {
        CrmFieldType.EMAIL,
        CrmFieldType.PHONE,
        CrmFieldType.URL,
        CrmFieldType.PICKLIST,
        CrmFieldType.REFERENCE,
    },
    (FieldType.STRING, FieldFormat.EMAIL): _TEXTISH | {CrmFieldType.EMAIL},
    (FieldType.STRING, FieldFormat.URI): _TEXTISH | {CrmFieldType.URL},
    (FieldType.STRING, FieldFormat.DATETIME): _TEXTISH | {CrmFieldType.DATETIME},
    (FieldType.STRING, FieldFormat.DATE): _TEXTISH | {CrmFieldType.DATE, CrmFieldType.DATETIME},
    (FieldType.INTEGER, None): frozenset({CrmFieldType.INTEGER, CrmFieldType.NUMBER}),
    (FieldType.NUMBER, None): frozenset({CrmFieldType.NUMBER}),
    (FieldType.BOOLEAN, None): frozenset({CrmFieldType.BOOLEAN}),
}
_READ_DIRECT: dict[tuple[FieldType, FieldFormat | None], frozenset[CrmFieldType]] = {
    (FieldType.STRING, None): frozenset(CrmFieldType) - {CrmFieldType.BOOLEAN},
    (FieldType.STRING, FieldFormat.EMAIL): _TEXTISH | {CrmFieldType.EMAIL},
    (FieldType.STRING, FieldFormat.URI): _TEXTISH | {CrmFieldType.URL},
    (FieldType.STRING, FieldFormat.DATETIME): frozenset({CrmFieldType.DATETIME, CrmFieldType.DATE}),
    (FieldType.STRING, FieldFormat.DATE): frozenset({CrmFieldType.DATE, CrmFieldType.DATETIME}),
    (FieldType.INTEGER, None): frozenset({CrmFieldType.INTEGER}),
    (FieldType.NUMBER, None): frozenset({CrmFieldType.NUMBER, CrmFieldType.INTEGER}),
    (FieldType.BOOLEAN, None): frozenset({CrmFieldType.BOOLEAN}),
}


def _kind(schema: FieldSchema) -> tuple[FieldType, FieldFormat | None]:
    return schema.type, schema.format


def _describe_kind(schema: FieldSchema) -> str:
    return f"{schema.type.value}/{schema.format.value}" if schema.format else schema.type.value


def write_compatible(source: FieldSchema, target: CatalogField) -> bool:
    """Whether a payload field may feed a CRM field directly."""
    if source.type is FieldType.ARRAY and source.items is not None:
        return target.type is CrmFieldType.MULTIPICKLIST and source.items.type is FieldType.STRING
    return target.type in _WRITE_DIRECT.get(_kind(source), frozenset())


def read_compatible(source: CatalogField, target: FieldSchema) -> bool:
    """Whether a CRM field may feed an app field directly."""
    if target.type is FieldType.ARRAY:
        return source.type is CrmFieldType.MULTIPICKLIST
    return source.type in _READ_DIRECT.get(_kind(target), frozenset())


def _constant_problem(value: Any, target: CatalogField) -> str | None:
    kind = target.type
    if value is None:
        return None
    if isinstance(value, bool):
        ok = kind is CrmFieldType.BOOLEAN
    elif isinstance(value, int):
        ok = kind in (CrmFieldType.INTEGER, CrmFieldType.NUMBER)
    elif isinstance(value, float):
        ok = kind is CrmFieldType.NUMBER
    elif isinstance(value, str):
        if kind is CrmFieldType.DATE:
            return None if _is_date(value) else f"{value!r} is not an ISO 8601 date"
        if kind is CrmFieldType.DATETIME:
            try:
                _to_datetime(value)
            except TransformError as exc:
                return str(exc)
            return None
        ok = kind not in (CrmFieldType.BOOLEAN, CrmFieldType.INTEGER, CrmFieldType.NUMBER)
        if ok and not target.allows(value):
            allowed = ", ".join(repr(o.value) for o in target.picklist or [])
            return f"{value!r} is not an allowed value of picklist {target.name!r} ({allowed})"
    else:
        ok = False
    if not ok:
        return f"a constant {value!r} cannot be written to {target.name!r} ({kind.value})"
    return None


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


# -- compiled plans -------------------------------------------------------------------------------
_MISSING = object()


@dataclass(frozen=True, slots=True)
class _WriteStep:
    target: str
    source: tuple[str, ...] | None
    constant: Any
    convert: Callable[[Any], Any] | None
    value_map: Mapping[str, Any] | None


@dataclass(frozen=True)
class EventPlan:
    """How one event runs: the action, the CRM object and the rendering of its values."""

    object: str
    event: str
    event_type: EventType
    action: Action
    crm_object: str
    mapping_path: str
    workflow: str | None = None
    on_duplicate: str = "fail"
    steps: tuple[_WriteStep, ...] = ()

    def render(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """The CRM field values for a (validated) payload. Absent payload fields are not sent."""
        values: dict[str, Any] = {}
        for step in self.steps:
            if step.source is None:
                values[step.target] = step.constant
                continue
            value: Any = payload
            for part in step.source:
                value = value.get(part, _MISSING) if isinstance(value, Mapping) else _MISSING
                if value is _MISSING:
                    break
            if value is _MISSING:
                continue
            if value is not None:
                if step.value_map is not None:
                    value = step.value_map.get(
                        value if isinstance(value, str) else str(value), value
                    )
                if step.convert is not None:
                    try:
                        value = step.convert(value)
                    except TransformError as exc:
                        path = "payload." + ".".join(step.source)
                        raise PayloadInvalid(
                            f"the payload cannot be converted for {step.target!r}",
                            errors=[ErrorItem(path, str(exc))],
                        ) from None
            values[step.target] = value
        return values

    def path_of(self, crm_field: str) -> str:
        """The mapping row an end user fixes when the CRM refuses ``crm_field``."""
        return f"{self.mapping_path}.fields.{crm_field}"


@dataclass(frozen=True, slots=True)
class _ReadStep:
    target: str
    source: str | None
    constant: Any
    convert: Callable[[Any], Any] | None
    children: tuple[_ReadStep, ...] | None = None


def _read_value(step: _ReadStep, record: Mapping[str, Any]) -> Any:
    if step.children is not None:
        return {child.target: _read_value(child, record) for child in step.children}
    if step.source is None:
        return step.constant
    value = record.get(step.source)
    if value is not None and step.convert is not None:
        # On a value it cannot convert, keep the CRM's value rather than lose it.
        with contextlib.suppress(TransformError, ValueError, TypeError):
            value = step.convert(value)
    return value


@dataclass(frozen=True)
class ReadPlan:
    """Maps a CRM record's fields back to the app object's fields."""

    steps: tuple[_ReadStep, ...] = ()
    returning: tuple[str, ...] = ()

    def apply(self, record: Mapping[str, Any]) -> dict[str, Any]:
        return {step.target: _read_value(step, record) for step in self.steps}


@dataclass(frozen=True)
class CompiledMapping:
    """A validated mapping, ready to run."""

    document: MappingDocument
    crm_objects: dict[str, str | None] = field(default_factory=dict)
    events: dict[tuple[str, str], EventPlan] = field(default_factory=dict)
    reads: dict[str, ReadPlan] = field(default_factory=dict)
    broken: dict[tuple[str, str], list[ErrorItem]] = field(default_factory=dict)
    """Lenient compilation only: events left out because their rules no longer fit."""


# -- validation + compilation ---------------------------------------------------------------------
CatalogLookup = Callable[[str], CatalogObject | None]


def _coerce_number(value: Any) -> Any:
    if isinstance(value, str):
        number = float(value)
        return int(number) if number.is_integer() and "." not in value else number
    return value


def _coerce_integer(value: Any) -> Any:
    return int(float(value)) if isinstance(value, str) else value


def _coerce_boolean(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return value


def _read_converter(
    target: FieldSchema, transform: Transform | None
) -> Callable[[Any], Any] | None:
    if transform is not None:
        return transform.apply
    if target.format is FieldFormat.DATETIME:
        return _to_datetime
    if target.format is FieldFormat.DATE:
        return _to_date
    return {
        FieldType.NUMBER: _coerce_number,
        FieldType.INTEGER: _coerce_integer,
        FieldType.BOOLEAN: _coerce_boolean,
    }.get(target.type)


class _Compiler:
    def __init__(
        self,
        definition: Definition,
        catalog: CatalogLookup,
        transforms: Mapping[str, Transform],
        strict: bool,
    ) -> None:
        self.strict = strict
        self.definition = definition
        self.catalog = catalog
        self.transforms = transforms
        self.errors: list[ErrorItem] = []

    def problem(self, path: str, message: str) -> None:
        self.errors.append(ErrorItem(path, message))

    def run(self, document: MappingDocument) -> CompiledMapping:
        compiled = CompiledMapping(document=document)
        for slug in document.objects:
            if slug not in self.definition.objects:
                self.problem(f"objects.{slug}", "no such object in the definition")
        for slug, obj_def in self.definition.objects.items():
            path = f"objects.{slug}"
            obj_map = document.objects.get(slug)
            if obj_map is None:
                self.problem(
                    path,
                    "no choice made: choose a CRM object for it, or opt out (crm_object: null)",
                )
                continue
            compiled.crm_objects[slug] = obj_map.crm_object
            if obj_map.crm_object is None:
                continue
            crm = self.catalog(obj_map.crm_object)
            if crm is None:
                self.problem(f"{path}.crm_object", f"the CRM has no object {obj_map.crm_object!r}")
                continue
            compiled.reads[slug] = self.read_plan(path, obj_def, obj_map, crm)
            for event_slug in obj_map.events:
                if event_slug not in obj_def.events:
                    self.problem(f"{path}.events.{event_slug}", "no such event in the definition")
            for event_slug, event_def in obj_def.events.items():
                event_map = obj_map.events.get(event_slug)
                event_path = f"{path}.events.{event_slug}"
                if event_map is None:
                    self.problem(event_path, "no action chosen for this event")
                    continue
                before = len(self.errors)
                plan = self.event_plan(
                    event_path,
                    slug,
                    event_slug,
                    event_def.type,
                    event_def.payload_schema,
                    event_map,
                    crm,
                )
                if len(self.errors) > before:
                    compiled.broken[(slug, event_slug)] = self.errors[before:]
                elif plan is not None:
                    compiled.events[(slug, event_slug)] = plan
        if self.errors and self.strict:
            noun = "problem" if len(self.errors) == 1 else "problems"
            raise MappingInvalid(
                f"the mapping was refused: {len(self.errors)} {noun}", errors=self.errors
            )
        return compiled

    def transform(self, path: str, name: str | None) -> Transform | None:
        if name is None:
            return None
        found = self.transforms.get(name)
        if found is None:
            known = ", ".join(sorted(self.transforms))
            self.problem(f"{path}.transform", f"unknown transform {name!r} (known: {known})")
        return found

    def read_plan(
        self, path: str, obj_def: ObjectDefinition, obj_map: ObjectMapping, crm: CatalogObject
    ) -> ReadPlan:
        for slug in obj_map.fields:
            if slug not in obj_def.fields:
                self.problem(f"{path}.fields.{slug}", "no such field in the definition")
        returning: list[str] = []
        steps = tuple(
            step
            for slug, schema in obj_def.fields.items()
            if (
                step := self.read_step(
                    f"{path}.fields.{slug}", slug, schema, obj_map.fields, crm, returning
                )
            )
            is not None
        )
        return ReadPlan(steps=steps, returning=tuple(dict.fromkeys(returning)))

    def read_step(
        self,
        path: str,
        slug: str,
        schema: FieldSchema,
        rules: Mapping[str, ReadRule | None],
        crm: CatalogObject,
        returning: list[str],
    ) -> _ReadStep | None:
        if slug not in rules:
            self.problem(path, "no choice made: map a CRM field, a constant, or null")
            return None
        rule = rules[slug]
        if rule is None:
            if schema.type is FieldType.OBJECT:
                return _ReadStep(slug, None, None, None, children=())
            return _ReadStep(slug, None, None, None)
        if rule.fields is not None:
            if schema.type is not FieldType.OBJECT:
                self.problem(f"{path}.fields", "child rules apply to object fields only")
                return None
            declared = schema.properties or {}
            children = []
            for child_slug, _child_rule in rule.fields.items():
                child_schema = declared.get(child_slug)
                if child_schema is None:
                    if not schema.additional_properties:
                        self.problem(f"{path}.fields.{child_slug}", "no such child field")
                        continue
                    child_schema = FieldSchema(type=FieldType.STRING)
                elif child_schema.type is FieldType.OBJECT:
                    self.problem(f"{path}.fields.{child_slug}", "nested children go one level deep")
                    continue
                step = self.read_step(
                    f"{path}.fields.{child_slug}",
                    child_slug,
                    child_schema,
                    rule.fields,
                    crm,
                    returning,
                )
                if step is not None:
                    children.append(step)
            return _ReadStep(slug, None, None, None, children=tuple(children))
        if rule.is_constant:
            return _ReadStep(slug, None, rule.value, None)
        assert rule.from_ is not None
        source = crm.fields.get(rule.from_)
        if source is None:
            self.problem(f"{path}.from", f"{crm.name} has no field {rule.from_!r}")
            return None
        transform = self.transform(path, rule.transform)
        if rule.transform is None and not read_compatible(source, schema):
            self.problem(
                f"{path}.from",
                f"{crm.name}.{source.name} ({source.type.value}) cannot be read into a "
                f"{_describe_kind(schema)} field",
            )
            return None
        returning.append(source.name)
        return _ReadStep(slug, source.name, None, _read_converter(schema, transform))

    def event_plan(
        self,
        path: str,
        obj_slug: str,
        event_slug: str,
        event_type: EventType,
        payload_schema: Mapping[str, FieldSchema],
        event_map: EventMapping,
        crm: CatalogObject,
    ) -> EventPlan | None:
        allowed = ALLOWED_ACTIONS[event_type]
        if event_map.action not in allowed:
            choices = ", ".join(a.value for a in allowed)
            self.problem(
                f"{path}.action",
                f"{_article(event_type.value)} {event_type.value} event cannot "
                f"{event_map.action.value!r} (choose {choices})",
            )
            return None
        action = event_map.action
        steps: list[_WriteStep] = []
        if action in (Action.NOOP, Action.DELETE):
            if event_map.fields:
                self.problem(f"{path}.fields", f"action {action.value!r} takes no field rules")
        elif action is Action.WORKFLOW:
            if not event_map.workflow:
                self.problem(f"{path}.workflow", "name the CRM workflow event to publish")
            for target, rule in event_map.fields.items():
                step = self.write_step(
                    f"{path}.fields.{target}", target, rule, payload_schema, None
                )
                if step is not None:
                    steps.append(step)
        else:
            for target, rule in event_map.fields.items():
                rule_path = f"{path}.fields.{target}"
                crm_field = crm.fields.get(target)
                if crm_field is None:
                    self.problem(rule_path, f"{crm.name} has no field {target!r}")
                    continue
                if action is Action.CREATE and not crm_field.createable:
                    self.problem(rule_path, f"{crm.name}.{target} cannot be set on create")
                    continue
                if action is Action.UPDATE and not crm_field.updateable:
                    self.problem(rule_path, f"{crm.name}.{target} cannot be updated")
                    continue
                step = self.write_step(rule_path, target, rule, payload_schema, crm_field)
                if step is not None:
                    steps.append(step)
            if action is Action.CREATE:
                missing = [
                    f.name for f in crm.required_on_create() if f.name not in event_map.fields
                ]
                for name in missing:
                    label = crm.fields[name].label
                    self.problem(
                        f"{path}.fields.{name}",
                        f"{crm.name}.{name} ({label}) is required on create: map it",
                    )
        if event_map.on_duplicate == "update" and action is not Action.CREATE:
            self.problem(f"{path}.on_duplicate", "on_duplicate applies to action 'create' only")
        return EventPlan(
            object=obj_slug,
            event=event_slug,
            event_type=event_type,
            action=action,
            crm_object=crm.name,
            mapping_path=path,
            workflow=event_map.workflow,
            on_duplicate=event_map.on_duplicate,
            steps=tuple(steps),
        )

    def write_step(
        self,
        path: str,
        target: str,
        rule: FieldRule,
        payload_schema: Mapping[str, FieldSchema],
        crm_field: CatalogField | None,
    ) -> _WriteStep | None:
        if rule.is_constant:
            if crm_field is not None:
                problem = _constant_problem(rule.value, crm_field)
                if problem:
                    self.problem(f"{path}.value", problem)
                    return None
            value = rule.value
            if isinstance(value, str) and crm_field is not None:
                # A date constant is written in the form the CRM field takes.
                if crm_field.type is CrmFieldType.DATE:
                    value = _to_date(value)
                elif crm_field.type is CrmFieldType.DATETIME:
                    value = _to_datetime(value)
            return _WriteStep(target, None, value, None, None)
        assert rule.from_ is not None
        parts = tuple(rule.from_.split("."))
        source = _lookup(payload_schema, parts)
        if source is None:
            self.problem(f"{path}.from", f"the payload has no field {rule.from_!r}")
            return None
        transform = self.transform(path, rule.transform)
        if rule.transform is not None and transform is None:
            return None
        convert: Callable[[Any], Any] | None = None
        if crm_field is not None:
            if rule.map is not None:
                for key, mapped in rule.map.items():
                    problem = _constant_problem(mapped, crm_field)
                    if problem:
                        self.problem(f"{path}.map.{key}", problem)
            elif transform is not None:
                if _kind(source) not in transform.accepts:
                    self.problem(
                        f"{path}.transform",
                        f"transform {transform.name!r} does not take a {_describe_kind(source)}",
                    )
                elif crm_field.type not in transform.produces:
                    self.problem(
                        f"{path}.transform",
                        f"transform {transform.name!r} cannot feed {crm_field.name!r} "
                        f"({crm_field.type.value})",
                    )
            elif not write_compatible(source, crm_field):
                hint = ""
                if source.format is FieldFormat.DATETIME and crm_field.type is CrmFieldType.DATE:
                    hint = ' (add "transform": "date")'
                self.problem(
                    f"{path}.from",
                    f"payload field {rule.from_!r} ({_describe_kind(source)}) cannot be written "
                    f"to {crm_field.name!r} ({crm_field.type.value}){hint}",
                )
                return None
            if (
                transform is None
                and rule.map is None
                and crm_field.type is CrmFieldType.DATETIME
                and source.format is FieldFormat.DATE
            ):
                convert = _to_datetime
        if transform is not None:
            convert = transform.apply
        return _WriteStep(target, parts, None, convert, rule.map)


def _lookup(schema: Mapping[str, FieldSchema], parts: tuple[str, ...]) -> FieldSchema | None:
    current: Mapping[str, FieldSchema] | None = schema
    found: FieldSchema | None = None
    for part in parts:
        if current is None:
            return None
        found = current.get(part)
        if found is None:
            return None
        current = found.properties
    return found


def compile_mapping(
    definition: Definition,
    mapping: Any,
    catalog: CatalogLookup,
    transforms: Mapping[str, Transform],
    *,
    strict: bool = True,
) -> CompiledMapping:
    """Validate ``mapping`` against ``definition`` and the CRM ``catalog``; compile it.

    ``strict`` (saving a mapping) refuses it whole on any problem. Lenient compilation (running
    a saved mapping after the definition changed) leaves out what no longer fits: such events
    are listed in ``broken`` and answer ``not_mapped`` when invoked.
    """
    document = mapping if isinstance(mapping, MappingDocument) else parse_mapping(mapping)
    return _Compiler(definition, catalog, transforms, strict).run(document)


def _article(word: str) -> str:
    return "An" if word[:1] in "aeiou" else "A"
