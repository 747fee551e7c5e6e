"""The app's definition: objects, their fields and events, in Xkit-flavored JSON.

Accepted exactly as the seed page writes them (camelCase ``payloadSchema``; ``label`` or its
alias ``name``). :func:`parse_definition` refuses a bad definition whole, with every problem as a
``{path, error}`` item. Payloads are checked against an event's schema by
:mod:`crmlink.payloads`.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)

from crmlink.errors import DefinitionInvalid, ErrorItem

__all__ = [
    "MAX_NESTING",
    "Definition",
    "EventDefinition",
    "EventType",
    "FieldFormat",
    "FieldSchema",
    "FieldType",
    "ObjectDefinition",
    "parse_definition",
]

MAX_NESTING = 5
"""Deepest allowed nesting of ``properties``/``items`` under one field."""

_SLUG = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class FieldType(StrEnum):
    STRING = "string"
    NUMBER = "number"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    OBJECT = "object"
    ARRAY = "array"


class FieldFormat(StrEnum):
    DATETIME = "datetime"
    DATE = "date"
    EMAIL = "email"
    URI = "uri"


class EventType(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    SEARCH = "search"


def _check_slug(value: str) -> str:
    if not _SLUG.match(value) or keyword.iskeyword(value):
        raise ValueError(
            f"{value!r} is not a valid slug: use letters, digits and underscores, "
            "not starting with a digit"
        )
    return value


Slug = Annotated[str, AfterValidator(_check_slug)]


def _no_case_twins(names: Mapping[str, Any]) -> None:
    seen: dict[str, str] = {}
    for name in names:
        twin = seen.setdefault(name.lower(), name)
        if twin != name:
            raise ValueError(f"slugs {twin!r} and {name!r} differ only in case")


_JSON_TYPES: dict[FieldType, tuple[type, ...]] = {
    FieldType.STRING: (str,),
    FieldType.NUMBER: (int, float),
    FieldType.INTEGER: (int,),
    FieldType.BOOLEAN: (bool,),
}


class FieldSchema(BaseModel):
    """One field of an object or of an event payload."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    type: FieldType
    format: FieldFormat | None = None
    label: str | None = None
    description: str | None = None
    required: StrictBool = False
    enum: list[Any] | None = Field(default=None, min_length=1)
    properties: dict[Slug, FieldSchema] | None = None
    items: FieldSchema | None = None
    additional_properties: StrictBool = Field(
        default=False,
        validation_alias=AliasChoices("additionalProperties", "additional_properties"),
        serialization_alias="additionalProperties",
    )

    @field_validator("properties")
    @classmethod
    def _properties_unique(cls, value: dict[str, FieldSchema] | None) -> Any:
        if value is not None:
            _no_case_twins(value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> FieldSchema:
        problems = []
        if self.format is not None and self.type is not FieldType.STRING:
            problems.append(f"'format' applies to strings only, not to type {self.type.value!r}")
        if self.enum is not None:
            allowed = _JSON_TYPES.get(self.type)
            if allowed is None:
                problems.append(f"'enum' is not allowed for type {self.type.value!r}")
            else:
                wrong = [
                    v
                    for v in self.enum
                    if not isinstance(v, allowed)
                    or (isinstance(v, bool) and self.type is not FieldType.BOOLEAN)
                ]
                if wrong:
                    problems.append(f"'enum' values {wrong!r} are not of type {self.type.value!r}")
        if self.properties is not None and self.type is not FieldType.OBJECT:
            problems.append("'properties' applies to type 'object' only")
        if self.additional_properties and self.type is not FieldType.OBJECT:
            problems.append("'additionalProperties' applies to type 'object' only")
        if self.items is not None and self.type is not FieldType.ARRAY:
            problems.append("'items' applies to type 'array' only")
        if self.type is FieldType.ARRAY and self.items is None:
            problems.append("type 'array' needs 'items'")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def depth(self) -> int:
        """Levels of nesting under and including this field."""
        children = list((self.properties or {}).values())
        if self.items is not None:
            children.append(self.items)
        return 1 + max((child.depth() for child in children), default=0)


def _check_nesting(fields: dict[str, FieldSchema]) -> dict[str, FieldSchema]:
    for name, schema in fields.items():
        if schema.depth() > MAX_NESTING:
            raise ValueError(f"field {name!r} nests deeper than {MAX_NESTING} levels")
    return fields


Fields = Annotated[dict[Slug, FieldSchema], AfterValidator(_check_nesting)]


class EventDefinition(BaseModel):
    """An event the app invokes on an object: create, update, delete (or search)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    type: EventType
    label: str = Field(min_length=1, validation_alias=AliasChoices("label", "name"))
    description: str | None = None
    payload_schema: Fields = Field(
        default_factory=dict,
        validation_alias=AliasChoices("payloadSchema", "payload_schema"),
        serialization_alias="payloadSchema",
    )

    @field_validator("payload_schema")
    @classmethod
    def _payload_unique(cls, value: dict[str, FieldSchema]) -> dict[str, FieldSchema]:
        _no_case_twins(value)
        return value


class ObjectDefinition(BaseModel):
    """An app object ("your app's view of a generic CRM object"): fields to read, events."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    label: str | None = Field(default=None, validation_alias=AliasChoices("label", "name"))
    description: str | None = None
    fields: Fields = Field(default_factory=dict)
    events: dict[Slug, EventDefinition] = Field(default_factory=dict)

    @field_validator("fields", "events")
    @classmethod
    def _unique(cls, value: dict[str, Any]) -> dict[str, Any]:
        _no_case_twins(value)
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> ObjectDefinition:
        if not self.fields and not self.events:
            raise ValueError("an object needs at least one field or one event")
        return self


class Definition(BaseModel):
    """All objects of one connection's definition, keyed by object slug."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    objects: dict[Slug, ObjectDefinition] = Field(min_length=1)

    @field_validator("objects")
    @classmethod
    def _unique(cls, value: dict[str, ObjectDefinition]) -> dict[str, ObjectDefinition]:
        _no_case_twins(value)
        return value

    def to_json(self) -> dict[str, Any]:
        """The definition as Xkit-flavored JSON (the ``objects`` map)."""
        dumped: dict[str, Any] = self.model_dump(mode="json", by_alias=True, exclude_defaults=True)[
            "objects"
        ]
        return dumped


def _path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc if part != "[key]")


def _message(error: Mapping[str, Any]) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key"
    if error["type"] == "missing":
        return "required key is missing"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def parse_definition(objects: Any) -> Definition:
    """Validate the ``objects`` map of a definition; ``DefinitionInvalid`` lists every problem."""
    if not isinstance(objects, Mapping):
        raise DefinitionInvalid(
            "the definition must be an object keyed by object slug",
            errors=[ErrorItem("objects", f"expected an object, got {type(objects).__name__}")],
        )
    try:
        return Definition.model_validate({"objects": objects})
    except ValidationError as exc:
        items = [ErrorItem(_path(err["loc"]), _message(err)) for err in exc.errors()]
        noun = "problem" if len(items) == 1 else "problems"
        raise DefinitionInvalid(
            f"the definition was refused: {len(items)} {noun}", errors=items
        ) from None
