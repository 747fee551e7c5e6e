"""crmlink connector for HubSpot, with a local HubSpot emulator."""

from crmlink_hubspot.connector import HubSpotConnector
from crmlink_hubspot.settings import HubSpotSettings

__all__ = ["HubSpotConnector", "HubSpotSettings"]
