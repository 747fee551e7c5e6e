"""The memory CRM's side of the conformance suite: its profile and its fault switches."""

from __future__ import annotations

from typing import Any

from crmlink.testing.profile import CrmProfile

from crmlink_memory.crm import MemoryCrm

__all__ = ["MEMORY_PROFILE", "MemoryControl"]

MEMORY_PROFILE = CrmProfile(
    deal_object="Opportunity",
    deal_name_field="Name",
    deal_required_constants={"StageName": "Prospecting"},
    deal_text_field="Description",
    deal_date_field="CloseDate",
    deal_picklist_field="StageName",
    deal_picklist_valid="Qualification",
    deal_picklist_invalid="Sold Out",
    contact_object="Contact",
    contact_name_field="LastName",
    contact_text_field="Description",
    workflow_event="Crmlink_Event__e",
    workflow_field="Name__c",
    readonly_field="IsClosed",
)


class MemoryControl:
    """Fault switches and the workflow outbox of a :class:`MemoryCrm`."""

    def __init__(self, crm: MemoryCrm) -> None:
        self.crm = crm

    def reset(self) -> None:
        self.crm.reset_faults()

    def rate_limit(self) -> None:
        self.crm.rate_limited = True

    def unavailable(self) -> None:
        self.crm.unavailable = True

    def expire_credentials(self) -> None:
        self.crm.credentials_expired = True

    def workflow_events(self) -> list[tuple[str, dict[str, Any]]]:
        return list(self.crm.outbox)
