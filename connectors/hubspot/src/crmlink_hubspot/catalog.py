"""HubSpot's properties API as a crmlink catalog.

Types are normalized to :class:`crmlink.catalog.CrmFieldType`: ``string`` → string (text for
``textarea``, phone for ``phonenumber``, email for the contact's ``email``), ``number`` → number,
``bool`` → boolean, ``date`` → date, ``datetime`` → datetime, ``enumeration`` → a restricted
picklist (a multipicklist for ``checkbox`` fields, whose values are ``;``-joined),
``phone_number`` → phone. Properties whose ``modificationMetadata.readOnlyValue`` is true (and
calculated ones) are neither createable nor updateable.

The properties API has no "required" flag. What the API itself refuses on create is:

* ``deals``: ``dealname`` and ``dealstage`` (``pipeline`` defaults to ``default``);
* ``contacts`` and ``companies``: nothing (a contact's ``email`` is unique, not required);
* custom objects (``2-...``): the ``requiredProperties`` of the object's schema.

:data:`REQUIRED_ON_CREATE` holds the standard objects; custom objects' lists come from the
schemas API (``GET /crm/v3/schemas/{objectType}``) when reachable, else from settings.
"""

from __future__ import annotations

from typing import Any

from crmlink.catalog import CatalogField, CatalogObject, CrmFieldType, PicklistValue

__all__ = ["REQUIRED_ON_CREATE", "STANDARD_OBJECTS", "catalog_field", "catalog_object"]

STANDARD_OBJECTS: dict[str, tuple[str, str]] = {
    "contacts": ("Contact", "Contacts"),
    "companies": ("Company", "Companies"),
    "deals": ("Deal", "Deals"),
}
"""Object name → (singular, plural) label of the standard objects the catalog offers."""

REQUIRED_ON_CREATE: dict[str, tuple[str, ...]] = {
    "contacts": (),
    "companies": (),
    "deals": ("dealname", "dealstage"),
}

_SIMPLE_TYPES: dict[str, CrmFieldType] = {
    "number": CrmFieldType.NUMBER,
    "bool": CrmFieldType.BOOLEAN,
    "date": CrmFieldType.DATE,
    "datetime": CrmFieldType.DATETIME,
    "phone_number": CrmFieldType.PHONE,
}


def _field_type(prop: dict[str, Any]) -> CrmFieldType:
    native = str(prop.get("type", "string"))
    field_type = str(prop.get("fieldType", ""))
    if native == "enumeration":
        return CrmFieldType.MULTIPICKLIST if field_type == "checkbox" else CrmFieldType.PICKLIST
    if native in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[native]
    if field_type == "phonenumber":
        return CrmFieldType.PHONE
    if field_type == "textarea":
        return CrmFieldType.TEXT
    if prop.get("name") == "email":
        return CrmFieldType.EMAIL
    return CrmFieldType.STRING


def catalog_field(prop: dict[str, Any], required: bool) -> CatalogField:
    """One property of the properties API as a catalog field."""
    meta = prop.get("modificationMetadata") or {}
    writable = not bool(meta.get("readOnlyValue")) and not bool(prop.get("calculated"))
    field_type = _field_type(prop)
    picklist = None
    if field_type in (CrmFieldType.PICKLIST, CrmFieldType.MULTIPICKLIST):
        picklist = [
            PicklistValue(value=str(o["value"]), label=str(o.get("label") or o["value"]))
            for o in prop.get("options") or []
            if not o.get("hidden")
        ]
    elif field_type is CrmFieldType.BOOLEAN:
        picklist = None
    return CatalogField(
        name=str(prop["name"]),
        label=str(prop.get("label") or prop["name"]),
        type=field_type,
        native_type=f"{prop.get('type')}/{prop.get('fieldType')}",
        required=required and writable,
        createable=writable,
        updateable=writable,
        nillable=not required,
        unique=bool(prop.get("hasUniqueValue")),
        external_id=bool(prop.get("hasUniqueValue")),
        picklist=picklist,
        restricted_picklist=picklist is not None,
    )


def catalog_object(
    name: str,
    label: str,
    label_plural: str,
    properties: list[dict[str, Any]],
    required: tuple[str, ...],
    custom: bool,
) -> CatalogObject:
    """A described object from its properties (archived and hidden ones left out)."""
    fields = {
        str(p["name"]): catalog_field(p, str(p["name"]) in required)
        for p in properties
        if not p.get("archived") and not p.get("hidden")
    }
    return CatalogObject(
        name=name, label=label, label_plural=label_plural, custom=custom, fields=fields
    )
