"""The crmlink conformance suite, unchanged, on the HubSpot connector and emulator.

Two profiles run it. ``TestHubSpotConformance`` maps the app's opportunity to a custom object
(``2-9002``, loaded from tests/data/conformance_portal.json) whose schema requires a name and a
close date, as the suite demands. ``TestHubSpotDealsConformance`` maps it to HubSpot's own
``deals``: HubSpot's API requires only ``dealname`` and ``dealstage`` on a deal, which the
profile says with ``deal_date_required=False``.
"""

from __future__ import annotations

from typing import Any

import pytest
from crmlink.testing import ConnectorConformance, CrmControl, CrmProfile
from crmlink_hubspot.emulator import HubSpotEmulator

_PORTAL = 24681357

_CONTACT = {
    "contact_object": "contacts",
    "contact_name_field": "lastname",
    "contact_text_field": "message",
    "workflow_event": f"pe{_PORTAL}_crmlink_event",
    "workflow_field": "name",
}


class _Fixtures:
    @pytest.fixture
    def settings(self, settings_dict: dict[str, Any]) -> dict[str, Any]:
        return settings_dict

    @pytest.fixture
    def crm_control(self, emulator: HubSpotEmulator) -> CrmControl:
        return emulator.control


class TestHubSpotConformance(_Fixtures, ConnectorConformance):
    connector = "hubspot"
    profile = CrmProfile(
        deal_object="2-9002",
        deal_name_field="opportunity_name",
        deal_required_constants={},
        deal_text_field="notes",
        deal_date_field="close_date",
        deal_picklist_field="stage",
        deal_picklist_valid="negotiation",
        deal_picklist_invalid="Not A Stage",
        readonly_field="hs_object_id",
        **_CONTACT,
    )


class TestHubSpotDealsConformance(_Fixtures, ConnectorConformance):
    connector = "hubspot"
    profile = CrmProfile(
        deal_object="deals",
        deal_name_field="dealname",
        deal_required_constants={"dealstage": "appointmentscheduled"},
        deal_text_field="description",
        deal_date_field="closedate",
        deal_picklist_field="dealstage",
        deal_picklist_valid="contractsent",
        deal_picklist_invalid="Not A Stage",
        readonly_field="hs_is_closed",
        deal_date_required=False,  # HubSpot requires dealname and dealstage, not closedate
        **_CONTACT,
    )
