"""The catalog: what a connected CRM offers, in CRM-native names.

Connectors describe their CRM with these models; the mapping validator and the mapping page read
them. Field ``type`` is a small normalized vocabulary so that type compatibility can be decided
once, in the core, for every CRM; ``native_type`` keeps the CRM's own word for display.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CatalogField", "CatalogObject", "CrmFieldType", "ObjectSummary", "PicklistValue"]


class CrmFieldType(StrEnum):
    """Normalized CRM field types."""

    STRING = "string"
    TEXT = "text"
    EMAIL = "email"
    PHONE = "phone"
    URL = "url"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    PICKLIST = "picklist"
    MULTIPICKLIST = "multipicklist"
    REFERENCE = "reference"
    ID = "id"


class PicklistValue(BaseModel):
    """One allowed value of a picklist field."""

    model_config = ConfigDict(frozen=True)

    value: str
    label: str


class CatalogField(BaseModel):
    """One field of a CRM object, with what may be done with it."""

    name: str = Field(description="The CRM's API name, e.g. `StageName` or `dealstage`.")
    label: str
    type: CrmFieldType
    native_type: str | None = Field(default=None, description="The CRM's own type name.")
    required: bool = Field(
        default=False, description="Must be given on create (the CRM has no default for it)."
    )
    createable: bool = True
    updateable: bool = True
    nillable: bool = True
    unique: bool = False
    external_id: bool = False
    picklist: list[PicklistValue] | None = None
    restricted_picklist: bool = Field(
        default=False, description="Only the listed picklist values are accepted."
    )
    references: list[str] = Field(
        default_factory=list, description="Objects a reference field points to."
    )
    length: int | None = None

    def allows(self, value: str) -> bool:
        """Whether a constant is acceptable for a restricted picklist (always true otherwise)."""
        if not self.restricted_picklist or self.picklist is None:
            return True
        return any(option.value == value for option in self.picklist)


class ObjectSummary(BaseModel):
    """An entry of the CRM's object list."""

    name: str
    label: str
    label_plural: str | None = None
    custom: bool = False


class CatalogObject(ObjectSummary):
    """A described CRM object: its summary and every field."""

    fields: dict[str, CatalogField] = Field(default_factory=dict)

    def required_on_create(self) -> list[CatalogField]:
        """Fields the CRM demands on create, in catalog order."""
        return [f for f in self.fields.values() if f.required and f.createable]
