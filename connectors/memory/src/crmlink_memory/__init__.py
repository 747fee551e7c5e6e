"""crmlink connector: a CRM in memory, the reference CRM and the conformance suite's first."""

from crmlink_memory.connector import MemoryConnector, MemorySettings
from crmlink_memory.crm import MemoryCrm, memory_crm

__all__ = ["MemoryConnector", "MemoryCrm", "MemorySettings", "memory_crm"]
