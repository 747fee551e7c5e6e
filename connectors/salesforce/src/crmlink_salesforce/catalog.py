"""Salesforce describe JSON → the crmlink catalog."""

from __future__ import annotations

from typing import Any

from crmlink.catalog import CatalogField, CatalogObject, CrmFieldType, ObjectSummary, PicklistValue

__all__ = ["field_from_describe", "object_from_describe", "summary_from_describe"]

_TYPES: dict[str, CrmFieldType] = {
    "id": CrmFieldType.ID,
    "reference": CrmFieldType.REFERENCE,
    "string": CrmFieldType.STRING,
    "encryptedstring": CrmFieldType.STRING,
    "combobox": CrmFieldType.STRING,
    "time": CrmFieldType.STRING,
    "textarea": CrmFieldType.TEXT,
    "email": CrmFieldType.EMAIL,
    "phone": CrmFieldType.PHONE,
    "url": CrmFieldType.URL,
    "int": CrmFieldType.INTEGER,
    "long": CrmFieldType.INTEGER,
    "double": CrmFieldType.NUMBER,
    "currency": CrmFieldType.NUMBER,
    "percent": CrmFieldType.NUMBER,
    "boolean": CrmFieldType.BOOLEAN,
    "date": CrmFieldType.DATE,
    "datetime": CrmFieldType.DATETIME,
    "picklist": CrmFieldType.PICKLIST,
    "multipicklist": CrmFieldType.MULTIPICKLIST,
}


def field_from_describe(spec: dict[str, Any]) -> CatalogField:
    """One ``fields[]`` entry of a describe answer as a catalog field."""
    native = str(spec.get("type", "string"))
    createable = bool(spec.get("createable", False))
    nillable = bool(spec.get("nillable", True))
    defaulted = bool(spec.get("defaultedOnCreate", False))
    values = [
        PicklistValue(value=str(v["value"]), label=str(v.get("label") or v["value"]))
        for v in spec.get("picklistValues") or []
        if v.get("active", True)
    ]
    length = int(spec.get("length") or 0)
    return CatalogField(
        name=str(spec["name"]),
        label=str(spec.get("label") or spec["name"]),
        type=_TYPES.get(native, CrmFieldType.STRING),
        native_type=native,
        required=createable and not nillable and not defaulted and native != "boolean",
        createable=createable,
        updateable=bool(spec.get("updateable", False)),
        nillable=nillable,
        unique=bool(spec.get("unique", False)),
        external_id=bool(spec.get("externalId", False)),
        picklist=values or None,
        restricted_picklist=bool(spec.get("restrictedPicklist", False)),
        references=[str(r) for r in spec.get("referenceTo") or []],
        length=length or None,
    )


def summary_from_describe(spec: dict[str, Any]) -> ObjectSummary:
    """One entry of the ``sobjects`` list."""
    return ObjectSummary(
        name=str(spec["name"]),
        label=str(spec.get("label") or spec["name"]),
        label_plural=spec.get("labelPlural"),
        custom=bool(spec.get("custom", False)),
    )


def object_from_describe(spec: dict[str, Any]) -> CatalogObject:
    """A full ``sobjects/X/describe`` answer as a catalog object."""
    summary = summary_from_describe(spec)
    fields = [field_from_describe(f) for f in spec.get("fields") or []]
    return CatalogObject(**summary.model_dump(), fields={f.name: f for f in fields})
