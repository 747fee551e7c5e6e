"""The memory CRM's default schema: Account, Contact, Lead, Opportunity, like a small CRM org."""

from __future__ import annotations

from crmlink.catalog import CatalogField, CatalogObject, CrmFieldType, PicklistValue

__all__ = ["default_schema"]

T = CrmFieldType


def _picklist(*values: str) -> list[PicklistValue]:
    return [PicklistValue(value=v, label=v) for v in values]


def _system_fields() -> list[CatalogField]:
    return [
        CatalogField(
            name="Id",
            label="Record ID",
            type=T.ID,
            createable=False,
            updateable=False,
            nillable=False,
            unique=True,
        ),
        CatalogField(
            name="CreatedDate",
            label="Created Date",
            type=T.DATETIME,
            createable=False,
            updateable=False,
            nillable=False,
        ),
        CatalogField(
            name="LastModifiedDate",
            label="Last Modified Date",
            type=T.DATETIME,
            createable=False,
            updateable=False,
            nillable=False,
        ),
        CatalogField(
            name="External_Id__c",
            label="External ID",
            type=T.STRING,
            unique=True,
            external_id=True,
            length=255,
        ),
    ]


def _object(name: str, label: str, plural: str, fields: list[CatalogField]) -> CatalogObject:
    every = [*_system_fields(), *fields]
    return CatalogObject(
        name=name, label=label, label_plural=plural, fields={f.name: f for f in every}
    )


def default_schema() -> dict[str, CatalogObject]:
    """A fresh copy of the default schema, keyed by object name."""
    stages = _picklist(
        "Prospecting",
        "Qualification",
        "Needs Analysis",
        "Proposal",
        "Negotiation",
        "Closed Won",
        "Closed Lost",
    )
    objects = [
        _object(
            "Account",
            "Account",
            "Accounts",
            [
                CatalogField(
                    name="Name",
                    label="Account Name",
                    type=T.STRING,
                    required=True,
                    nillable=False,
                    length=255,
                ),
                CatalogField(
                    name="Industry",
                    label="Industry",
                    type=T.PICKLIST,
                    picklist=_picklist("Agriculture", "Banking", "Technology", "Other"),
                ),
                CatalogField(name="Website", label="Website", type=T.URL),
                CatalogField(name="Phone", label="Phone", type=T.PHONE),
                CatalogField(name="AnnualRevenue", label="Annual Revenue", type=T.NUMBER),
                CatalogField(name="NumberOfEmployees", label="Employees", type=T.INTEGER),
                CatalogField(name="Description", label="Description", type=T.TEXT),
            ],
        ),
        _object(
            "Contact",
            "Contact",
            "Contacts",
            [
                CatalogField(name="FirstName", label="First Name", type=T.STRING, length=40),
                CatalogField(
                    name="LastName",
                    label="Last Name",
                    type=T.STRING,
                    required=True,
                    nillable=False,
                    length=80,
                ),
                CatalogField(name="Email", label="Email", type=T.EMAIL),
                CatalogField(name="Phone", label="Phone", type=T.PHONE),
                CatalogField(
                    name="AccountId", label="Account ID", type=T.REFERENCE, references=["Account"]
                ),
                CatalogField(name="Description", label="Description", type=T.TEXT),
                CatalogField(
                    name="Status__c",
                    label="Status",
                    type=T.PICKLIST,
                    picklist=_picklist("Active", "Inactive", "Deleted"),
                    restricted_picklist=True,
                ),
            ],
        ),
        _object(
            "Lead",
            "Lead",
            "Leads",
            [
                CatalogField(name="FirstName", label="First Name", type=T.STRING, length=40),
                CatalogField(
                    name="LastName",
                    label="Last Name",
                    type=T.STRING,
                    required=True,
                    nillable=False,
                    length=80,
                ),
                CatalogField(
                    name="Company",
                    label="Company",
                    type=T.STRING,
                    required=True,
                    nillable=False,
                    length=255,
                ),
                CatalogField(name="Email", label="Email", type=T.EMAIL),
                CatalogField(
                    name="Status",
                    label="Lead Status",
                    type=T.PICKLIST,
                    nillable=False,
                    picklist=_picklist("Open", "Working", "Qualified", "Unqualified"),
                    restricted_picklist=True,
                ),
            ],
        ),
        _object(
            "Opportunity",
            "Opportunity",
            "Opportunities",
            [
                CatalogField(
                    name="Name",
                    label="Opportunity Name",
                    type=T.STRING,
                    required=True,
                    nillable=False,
                    length=120,
                ),
                CatalogField(
                    name="StageName",
                    label="Stage",
                    type=T.PICKLIST,
                    required=True,
                    nillable=False,
                    picklist=stages,
                    restricted_picklist=True,
                ),
                CatalogField(
                    name="CloseDate", label="Close Date", type=T.DATE, required=True, nillable=False
                ),
                CatalogField(name="Amount", label="Amount", type=T.NUMBER),
                CatalogField(name="Probability", label="Probability (%)", type=T.NUMBER),
                CatalogField(name="Description", label="Description", type=T.TEXT),
                CatalogField(
                    name="AccountId", label="Account ID", type=T.REFERENCE, references=["Account"]
                ),
                CatalogField(
                    name="IsClosed",
                    label="Closed",
                    type=T.BOOLEAN,
                    createable=False,
                    updateable=False,
                    nillable=False,
                ),
            ],
        ),
    ]
    return {obj.name: obj for obj in objects}
