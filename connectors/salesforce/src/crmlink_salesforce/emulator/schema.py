"""The emulated org's schema: objects, fields and validation rules, and their describe JSON.

The schema is loaded from ``default_org.json`` (Account, Contact, Lead, Opportunity, Task and the
``Crmlink_Event__e`` platform event) and, optionally, a user file in the same format that adds
custom objects or fields. The loader adds the system fields every Salesforce object has (``Id``,
``OwnerId``, ``CreatedDate``...) so the JSON only lists business fields.

File format::

    {"objects": {"Invoice__c": {"label": "Invoice", "labelPlural": "Invoices",
                                "fields": [{"name": "Amount__c", "type": "currency",
                                            "label": "Amount", "nillable": false}]},
                 "Account": {"fields": [{"name": "Tier__c", "type": "picklist",
                                         "picklist": ["Gold", "Silver"], "restricted": true}]}}}

Field keys: ``name``, ``label``, ``type`` (Salesforce describe types), ``length``, ``nillable``,
``createable``, ``updateable``, ``default`` (a default value; makes the field defaulted on
create), ``defaultedOnCreate``, ``picklist`` (values), ``restricted``, ``referenceTo``,
``relationshipName``, ``unique``, ``externalId``, ``nameField``. Objects may list
``validationRules``: ``{"name", "field", "operator" (< <= > >= = != blank), "value",
"message", "errorDisplayField"}``, and ``duplicateRules``: ``{"name", "matchRule",
"fields", "action" (allow | block)}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = [
    "DuplicateRule",
    "FieldDef",
    "ObjectDef",
    "OrgSchema",
    "ValidationRule",
    "load_schema",
]

_DEFAULT_LENGTHS = {
    "string": 255,
    "textarea": 32000,
    "email": 80,
    "phone": 40,
    "url": 255,
    "picklist": 255,
    "multipicklist": 4099,
    "combobox": 255,
    "id": 18,
    "reference": 18,
}
_SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "int": "xsd:int",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
}


@dataclass
class FieldDef:
    """One field of an emulated object, with the flags describe reports."""

    name: str
    label: str
    type: str
    length: int = 0
    createable: bool = True
    updateable: bool = True
    nillable: bool = True
    defaulted_on_create: bool = False
    default_value: Any = None
    picklist: list[str] = field(default_factory=list)
    restricted: bool = False
    reference_to: list[str] = field(default_factory=list)
    relationship_name: str | None = None
    unique: bool = False
    external_id: bool = False
    name_field: bool = False
    formula: str | None = None
    custom: bool = False

    @property
    def required_on_create(self) -> bool:
        """Createable, not nillable and not defaulted: the caller must supply it."""
        return self.createable and not self.nillable and not self.defaulted_on_create

    def describe(self) -> dict[str, Any]:
        """This field as an entry of describe's ``fields[]`` (keys in Salesforce's order)."""
        is_text = self.type in _DEFAULT_LENGTHS and self.type not in ("id", "reference")
        numeric = self.type in ("double", "currency", "percent")
        return {
            "aggregatable": self.type != "textarea",
            "autoNumber": False,
            "byteLength": self.length * 3 if is_text or self.type in ("id", "reference") else 0,
            "calculated": self.formula is not None and not self.createable,
            "calculatedFormula": None,
            "cascadeDelete": False,
            "caseSensitive": False,
            "compoundFieldName": None,
            "controllerName": None,
            "createable": self.createable,
            "custom": self.custom,
            "defaultValue": self.default_value,
            "defaultValueFormula": None,
            "defaultedOnCreate": self.defaulted_on_create,
            "dependentPicklist": False,
            "deprecatedAndHidden": False,
            "digits": 9 if self.type == "int" else 0,
            "displayLocationInDecimal": False,
            "encrypted": False,
            "externalId": self.external_id,
            "extraTypeInfo": None,
            "filterable": self.type != "textarea",
            "filteredLookupInfo": None,
            "groupable": self.type not in ("textarea", "double", "currency", "percent"),
            "highScaleNumber": False,
            "htmlFormatted": False,
            "idLookup": self.type == "id" or self.external_id,
            "inlineHelpText": None,
            "label": self.label,
            "length": self.length,
            "mask": None,
            "maskType": None,
            "name": self.name,
            "nameField": self.name_field,
            "namePointing": len(self.reference_to) > 1,
            "nillable": self.nillable,
            "permissionable": self.nillable and self.createable,
            "picklistValues": [
                {
                    "active": True,
                    "defaultValue": value == self.default_value,
                    "label": value,
                    "validFor": None,
                    "value": value,
                }
                for value in self.picklist
            ],
            "precision": 18 if numeric else 0,
            "queryByDistance": False,
            "referenceTargetField": None,
            "referenceTo": list(self.reference_to),
            "relationshipName": self.relationship_name,
            "relationshipOrder": None,
            "restrictedDelete": False,
            "restrictedPicklist": self.restricted,
            "scale": 2 if numeric else 0,
            "soapType": _SOAP_TYPES.get(self.type, "xsd:string"),
            "sortable": self.type != "textarea",
            "type": self.type,
            "unique": self.unique,
            "updateable": self.updateable,
            "writeRequiresMasterRead": False,
        }


@dataclass
class ValidationRule:
    """A simple validation rule: refuse the save when ``field <operator> value`` holds."""

    name: str
    field: str
    operator: str
    value: Any
    message: str
    error_display_field: str | None = None

    def violated(self, record: dict[str, Any]) -> bool:
        """Whether the saved record breaks this rule."""
        current = record.get(self.field)
        if self.operator == "blank":
            return current is None or current == ""
        if current is None:
            return False
        try:
            if self.operator == "<":
                return bool(current < self.value)
            if self.operator == "<=":
                return bool(current <= self.value)
            if self.operator == ">":
                return bool(current > self.value)
            if self.operator == ">=":
                return bool(current >= self.value)
        except TypeError:
            return False
        if self.operator == "=":
            return bool(current == self.value)
        if self.operator == "!=":
            return bool(current != self.value)
        return False


@dataclass
class DuplicateRule:
    """A duplicate rule: records matching on every ``fields`` value (case-insensitive, all
    non-empty) are duplicates. ``allow`` rules refuse the save through the API unless the
    request sends ``Sforce-Duplicate-Rule-Header: allowSave=true``; ``block`` rules always do."""

    name: str
    match_rule: str
    fields: list[str]
    action: str = "allow"


@dataclass
class ObjectDef:
    """One sObject: its names, key prefix and fields (by name, in describe order)."""

    name: str
    label: str
    label_plural: str
    key_prefix: str
    custom: bool
    fields: dict[str, FieldDef] = field(default_factory=dict)
    validation_rules: list[ValidationRule] = field(default_factory=list)
    duplicate_rules: list[DuplicateRule] = field(default_factory=list)

    @property
    def is_platform_event(self) -> bool:
        """Platform events (``X__e``) are published, never stored or queried."""
        return self.name.endswith("__e")

    def field(self, name: str) -> FieldDef | None:
        """A field by name, case-insensitively (as Salesforce resolves names)."""
        found = self.fields.get(name)
        if found is not None:
            return found
        lowered = name.lower()
        for candidate in self.fields.values():
            if candidate.name.lower() == lowered:
                return candidate
        return None

    def url(self, version: str) -> str:
        return f"/services/data/v{version}/sobjects/{self.name}"

    def summary(self, version: str) -> dict[str, Any]:
        """This object as an entry of the ``sobjects`` list."""
        event = self.is_platform_event
        base = self.url(version)
        return {
            "activateable": False,
            "createable": True,
            "custom": self.custom,
            "customSetting": False,
            "deepCloneable": False,
            "deletable": not event,
            "deprecatedAndHidden": False,
            "feedEnabled": not event,
            "hasSubtypes": False,
            "isInterface": False,
            "isSubtype": False,
            "keyPrefix": self.key_prefix,
            "label": self.label,
            "labelPlural": self.label_plural,
            "layoutable": not event,
            "mergeable": self.name in ("Account", "Contact", "Lead"),
            "mruEnabled": not event,
            "name": self.name,
            "queryable": not event,
            "replicateable": not event,
            "retrieveable": not event,
            "searchable": not event,
            "triggerable": True,
            "undeletable": not event,
            "updateable": not event,
            "urls": {
                "rowTemplate": f"{base}/{{ID}}",
                "defaultValues": f"{base}/defaultValues?recordTypeId&fields",
                "describe": f"{base}/describe",
                "sobject": base,
            },
        }

    def describe(self, version: str) -> dict[str, Any]:
        """The full describe JSON of this object."""
        body = self.summary(version)
        body.update(
            {
                "actionOverrides": [],
                "childRelationships": [],
                "compactLayoutable": not self.is_platform_event,
                "fields": [f.describe() for f in self.fields.values()],
                "listviewable": None,
                "lookupLayoutable": None,
                "namedLayoutInfos": [],
                "networkScopeFieldName": None,
                "recordTypeInfos": [],
                "searchLayoutable": not self.is_platform_event,
                "supportedScopes": [{"label": "All " + self.label_plural, "name": "everything"}],
            }
        )
        return dict(sorted(body.items()))


@dataclass
class OrgSchema:
    """Every object of the emulated org."""

    objects: dict[str, ObjectDef] = field(default_factory=dict)

    def object(self, name: str) -> ObjectDef | None:
        """An object by API name, case-insensitively."""
        found = self.objects.get(name)
        if found is not None:
            return found
        lowered = name.lower()
        for candidate in self.objects.values():
            if candidate.name.lower() == lowered:
                return candidate
        return None

    def by_prefix(self, key_prefix: str) -> ObjectDef | None:
        """The object whose ids start with ``key_prefix``."""
        for candidate in self.objects.values():
            if candidate.key_prefix == key_prefix:
                return candidate
        return None


def _system_fields(obj_name: str) -> list[FieldDef]:
    if obj_name.endswith("__e"):
        return [
            FieldDef("ReplayId", "Replay ID", "string", 255, createable=False, updateable=False),
            FieldDef(
                "CreatedDate",
                "Created Date",
                "datetime",
                createable=False,
                updateable=False,
                nillable=False,
                defaulted_on_create=True,
            ),
            FieldDef(
                "CreatedById",
                "Created By ID",
                "reference",
                18,
                createable=False,
                updateable=False,
                nillable=False,
                defaulted_on_create=True,
                reference_to=["User"],
                relationship_name="CreatedBy",
            ),
            FieldDef("EventUuid", "Event UUID", "string", 36, createable=False, updateable=False),
        ]
    return [
        FieldDef(
            "Id",
            "Record ID",
            "id",
            18,
            createable=False,
            updateable=False,
            nillable=False,
            defaulted_on_create=True,
        ),
        FieldDef(
            "IsDeleted",
            "Deleted",
            "boolean",
            createable=False,
            updateable=False,
            nillable=False,
            defaulted_on_create=True,
            default_value=False,
        ),
        FieldDef(
            "OwnerId",
            "Owner ID",
            "reference",
            18,
            nillable=False,
            defaulted_on_create=True,
            reference_to=["Group", "User"],
            relationship_name="Owner",
        ),
    ]


def _audit_fields() -> list[FieldDef]:
    out = []
    for name, label in (
        ("CreatedDate", "Created Date"),
        ("LastModifiedDate", "Last Modified Date"),
        ("SystemModstamp", "System Modstamp"),
    ):
        out.append(
            FieldDef(
                name,
                label,
                "datetime",
                createable=False,
                updateable=False,
                nillable=False,
                defaulted_on_create=True,
            )
        )
    for name, label, rel in (
        ("CreatedById", "Created By ID", "CreatedBy"),
        ("LastModifiedById", "Last Modified By ID", "LastModifiedBy"),
    ):
        out.append(
            FieldDef(
                name,
                label,
                "reference",
                18,
                createable=False,
                updateable=False,
                nillable=False,
                defaulted_on_create=True,
                reference_to=["User"],
                relationship_name=rel,
            )
        )
    return out


def _field_from_json(spec: dict[str, Any]) -> FieldDef:
    name = str(spec["name"])
    type_ = str(spec.get("type", "string"))
    has_default = "default" in spec
    picklist = [str(v) for v in spec.get("picklist", [])]
    return FieldDef(
        name=name,
        label=str(spec.get("label", name.removesuffix("__c").replace("_", " "))),
        type=type_,
        length=int(spec.get("length", _DEFAULT_LENGTHS.get(type_, 0))),
        createable=bool(spec.get("createable", True)),
        updateable=bool(spec.get("updateable", spec.get("createable", True))),
        nillable=bool(spec.get("nillable", type_ != "boolean")),
        defaulted_on_create=bool(spec.get("defaultedOnCreate", has_default or type_ == "boolean")),
        default_value=spec.get("default", False if type_ == "boolean" else None),
        picklist=picklist,
        restricted=bool(spec.get("restricted", False)),
        reference_to=[str(v) for v in spec.get("referenceTo", [])],
        relationship_name=spec.get("relationshipName"),
        unique=bool(spec.get("unique", False)),
        external_id=bool(spec.get("externalId", False)),
        name_field=bool(spec.get("nameField", False)),
        formula=spec.get("formula"),
        custom=name.endswith("__c"),
    )


def _merge(schema: OrgSchema, data: dict[str, Any]) -> None:
    objects = data.get("objects")
    if not isinstance(objects, dict):
        raise ValueError("org file must be an object with an 'objects' mapping")
    for obj_name, spec in objects.items():
        obj = schema.objects.get(obj_name)
        if obj is None:
            custom = obj_name.endswith(("__c", "__e"))
            prefix = spec.get("keyPrefix") or _next_custom_prefix(schema, obj_name)
            label = str(spec.get("label", obj_name.removesuffix("__c").replace("_", " ")))
            obj = ObjectDef(
                obj_name, label, str(spec.get("labelPlural", label + "s")), str(prefix), custom
            )
            for system_field in _system_fields(obj_name):
                obj.fields[system_field.name] = system_field
            if obj_name.endswith("__c") and not any(
                f.get("name") == "Name" for f in spec.get("fields", [])
            ):
                obj.fields["Name"] = FieldDef(
                    "Name",
                    label + " Name",
                    "string",
                    80,
                    nillable=False,
                    defaulted_on_create=True,
                    name_field=True,
                    formula="id_if_blank",
                )
            for business in spec.get("fields", []):
                made = _field_from_json(business)
                obj.fields[made.name] = made
            if not obj.is_platform_event:
                for audit in _audit_fields():
                    obj.fields[audit.name] = audit
            schema.objects[obj_name] = obj
        else:
            for business in spec.get("fields", []):
                made = _field_from_json(business)
                obj.fields[made.name] = made
        for dup in spec.get("duplicateRules", []):
            obj.duplicate_rules.append(
                DuplicateRule(
                    name=str(dup["name"]),
                    match_rule=str(dup.get("matchRule", dup["name"] + "_Match")),
                    fields=[str(f) for f in dup["fields"]],
                    action=str(dup.get("action", "allow")),
                )
            )
        for rule in spec.get("validationRules", []):
            obj.validation_rules.append(
                ValidationRule(
                    name=str(rule["name"]),
                    field=str(rule["field"]),
                    operator=str(rule.get("operator", "blank")),
                    value=rule.get("value"),
                    message=str(rule["message"]),
                    error_display_field=rule.get("errorDisplayField"),
                )
            )


def _next_custom_prefix(schema: OrgSchema, obj_name: str) -> str:
    used = {o.key_prefix for o in schema.objects.values()}
    start = "e0" if obj_name.endswith("__e") else "a0"
    for ch in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz":
        if start + ch not in used:
            return start + ch
    raise ValueError("no key prefix left for custom objects")


def load_schema(org_file: str | Path | None = None) -> OrgSchema:
    """The default org plus, if given, the objects and fields of ``org_file``."""
    schema = OrgSchema()
    text = resources.files(__package__).joinpath("default_org.json").read_text("utf-8")
    _merge(schema, json.loads(text))
    if org_file is not None:
        _merge(schema, json.loads(Path(org_file).read_text("utf-8")))
    return schema
