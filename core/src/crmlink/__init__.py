"""crmlink: an open Universal CRM API.

Declare objects and events once; each end user maps them onto their own CRM; invoke events
in-process with :class:`Engine` or over HTTP with :class:`Client`.
"""

from crmlink.catalog import CatalogField, CatalogObject, CrmFieldType, ObjectSummary, PicklistValue
from crmlink.client import AsyncClient, Client
from crmlink.connector import Capability, Connector, ConnectorSettings, Health, count_crm_call
from crmlink.definitions import Definition, parse_definition
from crmlink.engine import Engine
from crmlink.errors import (
    BadRequest,
    Conflict,
    ConnectionUnhealthy,
    CrmError,
    CrmlinkError,
    CrmRateLimited,
    CrmUnavailable,
    CrmValidation,
    DefinitionInvalid,
    ErrorItem,
    MappingInvalid,
    NotFound,
    NotMapped,
    PayloadInvalid,
    PayloadTooLarge,
    SettingsInvalid,
    Unauthorized,
)
from crmlink.hookspecs import hookimpl
from crmlink.invocations import InvocationLog
from crmlink.plugins import PluginHost
from crmlink.records import Action, BatchResult, CrmRecord, InvocationResult, Record
from crmlink.store import MemoryStore, Store
from crmlink.transforms import Transform

__version__ = "0.1.0"

__all__ = [
    "Action",
    "AsyncClient",
    "BadRequest",
    "BatchResult",
    "Capability",
    "CatalogField",
    "CatalogObject",
    "Client",
    "Conflict",
    "ConnectionUnhealthy",
    "Connector",
    "ConnectorSettings",
    "CrmError",
    "CrmFieldType",
    "CrmRateLimited",
    "CrmRecord",
    "CrmUnavailable",
    "CrmValidation",
    "CrmlinkError",
    "Definition",
    "DefinitionInvalid",
    "Engine",
    "ErrorItem",
    "Health",
    "InvocationLog",
    "InvocationResult",
    "MappingInvalid",
    "MemoryStore",
    "NotFound",
    "NotMapped",
    "ObjectSummary",
    "PayloadInvalid",
    "PayloadTooLarge",
    "PicklistValue",
    "PluginHost",
    "Record",
    "SettingsInvalid",
    "Store",
    "Transform",
    "Unauthorized",
    "count_crm_call",
    "hookimpl",
    "parse_definition",
]
