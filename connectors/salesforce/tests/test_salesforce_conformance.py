"""The crmlink connector conformance suite, unchanged, against the Salesforce emulator."""

from __future__ import annotations

from typing import Any

import pytest
from crmlink.testing import ConnectorConformance, CrmControl, CrmProfile
from crmlink_salesforce.emulator import SalesforceEmulator

SALESFORCE_PROFILE = CrmProfile(
    deal_object="Opportunity",
    deal_name_field="Name",
    deal_required_constants={"StageName": "Prospecting"},
    deal_text_field="Description",
    deal_date_field="CloseDate",
    deal_picklist_field="StageName",
    deal_picklist_valid="Qualification",
    deal_picklist_invalid="Signed In Blood",
    contact_object="Contact",
    contact_name_field="LastName",
    contact_required_constants={},
    contact_text_field="Description",
    workflow_event="Crmlink_Event__e",
    workflow_field="Name__c",
    readonly_field="IsClosed",
)


class TestSalesforceConformance(ConnectorConformance):
    connector = "salesforce"
    profile = SALESFORCE_PROFILE

    @pytest.fixture
    def settings(self, emulator: SalesforceEmulator) -> dict[str, Any]:
        return {
            "instance_url": emulator.url,
            "access_token": emulator.token,
            "retry_backoff": 0.001,
            "timeout": 5.0,
        }

    @pytest.fixture
    def crm_control(self, emulator: SalesforceEmulator) -> CrmControl:
        return emulator.control
